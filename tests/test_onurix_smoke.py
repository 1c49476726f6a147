"""`manage.py onurix_smoke`: the operator's first run against a real Onurix account, here
against the sandbox over HTTP in every dialect it speaks. Every assumption holds in each;
every request and answer is recorded without the key; nothing is sent without a "yes";
an assumption that does not hold is reported and exits 2."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from campaigns import onurix_codes
from campaigns.onurix_smoke import WRONG_KEY, TrafficRecorder
from onurix_sandbox import DIALECTS
from tests.onurix_fixtures import SANDBOX_CLIENT_ID, SANDBOX_KEY

PHONES = ["573001234567", "3001234568"]  # the second typed without the country code
CHECKS = {
    "echoed_phones",
    "status_type",
    "calls_matched",
    "balance_shape",
    "error_shape",
    "wrong_key_classified",
    "state_names",
    "credits",
    "final_states",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def onurix_at(settings, make_sandbox):
    """Start a sandbox with options (calls settle in 0.3 s) and point the settings at it."""

    def start(**options):
        options.setdefault("settle_seconds", 0.3)
        sandbox = make_sandbox(**options)
        settings.ONURIX_BASE_URL = sandbox.url
        settings.ONURIX_CLIENT_ID = SANDBOX_CLIENT_ID
        settings.ONURIX_KEY = SANDBOX_KEY
        settings.ONURIX_TIMEOUT = 2
        return sandbox

    return start


def smoke(tmp_path, *args, stdin=None, phones=PHONES):
    """Run the command; returns (exit code, output, the record's text or None)."""
    output = tmp_path / "smoke.json"
    out = io.StringIO()
    argv = [arg for phone in phones for arg in ("--phone", phone)]
    argv += ["--output", str(output), "--poll-seconds", "0.05", "--timeout-minutes", "0.2"]
    if stdin is None:
        argv.append("--yes")
    options = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    try:
        call_command("onurix_smoke", *argv, *args, stdout=out, **options)
        code = 0
    except CommandError as error:
        out.write(str(error))
        code = error.returncode
    record = output.read_text(encoding="utf-8") if output.exists() else None
    return code, out.getvalue(), record


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_assumption_holds_in_every_dialect(onurix_at, tmp_path, dialect):
    sandbox = onurix_at(dialect=dialect)

    code, output, text = smoke(tmp_path)

    record = json.loads(text)
    failed = [check["text"] for check in record["checks"] if not check["held"]]
    assert code == 0, failed
    assert failed == [] and record["all_held"]
    assert {check["name"] for check in record["checks"]} == CHECKS
    assert output.count("✔") == len(CHECKS) and "✘" not in output
    # One send, to both phones, with the smoke test's settings.
    calls = sandbox.state.calls()
    assert sorted(call.phone for call in calls) == sorted(["573001234567", "573001234568"])
    assert {(c.voice, c.retries, c.leave_voicemail) for c in calls} == {("Mariana", 1, False)}
    assert len({call.dispatch_id for call in calls}) == 1


def test_the_record_holds_every_request_and_never_the_key(onurix_at, tmp_path):
    onurix_at(dialect="phones_plus,numbers_as_strings")

    code, _output, text = smoke(tmp_path)

    assert code == 0
    assert SANDBOX_KEY not in text and WRONG_KEY not in text
    exchanges = json.loads(text)["exchanges"]
    steps = [exchange["step"] for exchange in exchanges]
    assert steps[:2] == ["balance_before", "send"]
    assert steps[-2:] == ["balance_after", "wrong_key"]
    assert "states_by_dispatch_id" in steps and "state_by_call_id" in steps
    assert [exchange["n"] for exchange in exchanges] == list(range(1, len(exchanges) + 1))
    send = exchanges[1]
    assert send["method"] == "POST" and send["path"] == "/api/v1/call/send"
    assert send["form"]["key"] == "***" and send["form"]["client"] == SANDBOX_CLIENT_ID
    assert send["form"]["phone"] == "573001234567,573001234568"
    assert send["form"]["leave-voicemail"] == "false" and send["form"]["retries"] == "1"
    assert json.loads(send["body"])["data"][0]["phone"].startswith("+57")
    for exchange in exchanges:
        assert exchange["status"] == (400 if exchange["step"] == "wrong_key" else 200)
        assert exchange["body"] and "Content-Type" in exchange["response_headers"]
        if exchange["method"] == "GET":
            assert exchange["query"]["key"] == "***" and "key=***" in exchange["url"]
    assert json.loads(exchanges[-1]["body"])["msg"] == "Credenciales inválidas"


def test_the_recorder_removes_the_key_in_every_form_it_takes():
    recorder = TrafficRecorder("a+b/c=é")

    assert recorder.redact("?client=1&key=a%2Bb%2Fc%3D%C3%A9&id=9") == "?client=1&key=***&id=9"
    assert "a+b" not in recorder.redact("echo a+b/c=é, a%2Bb%2Fc%3D%C3%A9, a+b/c=\\u00e9")


@pytest.mark.parametrize("answer", ["no\n", "\n", ""])
def test_without_yes_nothing_is_sent_unless_the_operator_types_yes(onurix_at, tmp_path, answer):
    sandbox = onurix_at()

    code, output, text = smoke(tmp_path, stdin=answer)

    assert code == 1 and "Aborted: nothing was sent." in output
    assert "spends credits" in output and sandbox.url in output  # the plan was shown
    assert sandbox.state.calls() == [] and text is None

    code, _output, _text = smoke(tmp_path, stdin="yes\n")
    assert code == 0 and len(sandbox.state.calls()) == 2


def test_an_invalid_phone_is_named_and_nothing_is_sent(onurix_at, tmp_path):
    sandbox = onurix_at()

    code, output, text = smoke(tmp_path, phones=["573001234567", "30012"])

    assert code == 1 and "Invalid phone “30012”" in output
    assert sandbox.state.calls() == [] and text is None


def test_a_refusal_we_would_misread_is_reported_and_exits_2(onurix_at, tmp_path, monkeypatch):
    # "Key inválida" with a code nobody taught us: only the wording says it is the key.
    monkeypatch.setattr(onurix_codes, "AUTH_TEXT", onurix_codes.re.compile("(?!)"))
    onurix_at(dialect="spanish_refusals")

    code, output, text = smoke(tmp_path)

    assert code == 2
    assert "✘ A wrong key is read as OnurixRefused" in output
    assert "add 1098 to ONURIX_AUTH_CODES" in output
    assert "send" in output and "smoke.json" in output and "to the developers" in output
    record = json.loads(text)
    assert not record["all_held"]
    failed = {check["name"] for check in record["checks"] if not check["held"]}
    assert failed == {"wrong_key_classified"}


def test_an_account_onurix_refuses_sends_nothing_and_exits_2(onurix_at, tmp_path):
    sandbox = onurix_at(ip_blocked=True)

    code, output, text = smoke(tmp_path)

    assert code == 2 and sandbox.state.calls() == []
    assert "IP no autorizada" in output
    record = json.loads(text)
    assert [exchange["step"] for exchange in record["exchanges"]] == [
        "balance_before",
        "wrong_key",
    ]
    assert record["observations"]["balance_before_error"]["class"] == "OnurixAuthError"
    assert SANDBOX_KEY not in text


def test_calls_still_pending_at_the_timeout_are_reported(onurix_at, tmp_path):
    sandbox = onurix_at(settle_seconds=60)

    code, output, text = smoke(tmp_path, "--timeout-minutes", "0.005")

    assert code == 2 and len(sandbox.state.calls()) == 2
    failed = {check["name"] for check in json.loads(text)["checks"] if not check["held"]}
    # Still Enviado: nothing final, and the charge not yet settled either way.
    assert "final_states" in failed
    assert "✘ Not every call was final" in output


def test_calls_not_tied_at_send_are_resolved_by_polling_and_reported(
    onurix_at, tmp_path, monkeypatch
):
    # Onurix lists calls we cannot tie to our phones: the dispatch id still gives their
    # states and credits, as polling does; the line about matching says how many were left.
    from campaigns import onurix

    monkeypatch.setattr(onurix, "match_calls", lambda phones, calls: {})
    onurix_at()

    code, output, text = smoke(tmp_path)

    assert code == 2
    assert "✘ 0 of 2 phones are tied to a call of the answer" in output
    failed = {check["name"] for check in json.loads(text)["checks"] if not check["held"]}
    assert failed == {"calls_matched", "echoed_phones"}  # credits and final states held
