"""The sandbox answers like the Onurix contract says, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from onurix_sandbox import DIALECTS, GROUPS, SandboxConfig, start_sandbox
from tests.onurix_fixtures import CANARY_KEY

# Numbers ending in these digits are lines that do not exist, in this file's sandboxes
# (the sandbox's default is none).
INVALID_SUFFIX = "00000"


@pytest.fixture
def make_sandbox(make_sandbox):
    """The shared factory, with INVALID_SUFFIX unless a test says otherwise."""

    def make(**config):
        config.setdefault("invalid_phone_suffix", INVALID_SUFFIX)
        return make_sandbox(**config)

    return make


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox()


ROOT = Path(__file__).resolve().parent.parent
SEND_KEYS = {"status", "id", "data"}
ITEM_KEYS = {"id", "state", "credits", "message", "phone", "voice"}
AUTH = {"client": "1000", "key": "sandbox-key"}
MESSAGE = {**AUTH, "phone": "573150123456", "voice": "Mariana", "message": "Hola"}


def post_send(sandbox, **fields: str) -> requests.Response:
    return requests.post(sandbox.url + "/call/send", data=fields, timeout=5)


def assert_documented_send_shape(body: dict, phones: list[str]) -> None:
    assert set(body) == SEND_KEYS
    assert body["status"] == "1"
    assert isinstance(body["id"], str)
    assert body["id"]
    assert [item["phone"] for item in body["data"]] == phones
    for item in body["data"]:
        assert set(item) == ITEM_KEYS
        assert item["state"] == "Enviado"
        assert item["credits"] == 1
        assert item["voice"] == "Mariana"


# -- the documentation's own examples ------------------------------------------------------


def test_documented_curl_example(sandbox):
    completed = subprocess.run(
        [
            "/usr/bin/curl",
            "--silent",
            "--show-error",
            "-X",
            "POST",
            sandbox.url + "/call/send",
            "-d",
            "key=sandbox-key",
            "-d",
            "client=1000",
            "-d",
            "phone=573150123456",
            "-d",
            "message=Hola, este es un mensaje de prueba",
            "-d",
            "voice=Mariana",
            "--write-out",
            "\n%{http_code}",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    body_text, status = completed.stdout.rsplit("\n", 1)

    assert status == "200"
    body = json.loads(body_text)
    assert_documented_send_shape(body, ["573150123456"])
    assert body["data"][0]["message"] == "Hola, este es un mensaje de prueba"


def test_documented_requests_example(sandbox):
    response = requests.post(
        sandbox.url + "/call/send",
        data={
            "client": "1000",
            "key": "sandbox-key",
            "phone": "573150123456,573150123457",
            "message": "Hola, este es un mensaje de prueba",
            "voice": "Mariana",
        },
        timeout=5,
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert_documented_send_shape(body, ["573150123456", "573150123457"])
    assert body["data"][0]["id"] != body["data"][1]["id"]
    assert sandbox.state.balance == 100000 - 2


# -- every validation rule: HTTP 400, a distinct code, a Spanish message -------------------

SEND_RULES = {
    # rule: (fields, code, a word of the Spanish message)
    "client missing": ({**MESSAGE, "client": ""}, 1001, "obligatorios"),
    "key missing": ({k: v for k, v in MESSAGE.items() if k != "key"}, 1001, "obligatorios"),
    "bad key": ({**MESSAGE, "key": "nope"}, 1003, "Credenciales"),
    "bad client": ({**MESSAGE, "client": "999"}, 1003, "Credenciales"),
    "phone missing": ({k: v for k, v in MESSAGE.items() if k != "phone"}, 1010, "obligatorio"),
    "phone with plus": ({**MESSAGE, "phone": "+573150123456"}, 1011, "dígitos"),
    "phone with letters": ({**MESSAGE, "phone": "57315012345a"}, 1011, "dígitos"),
    "one bad phone of two": ({**MESSAGE, "phone": "573150123456,12"}, 1011, "dígitos"),
    "phone and groups": ({**MESSAGE, "groups": "1"}, 1013, "a la vez"),
    "unknown group": (
        {**{k: v for k, v in MESSAGE.items() if k != "phone"}, "groups": "99"},
        1014,
        "no existe",
    ),
    "voice not in the list": ({**MESSAGE, "voice": "Pedro"}, 1020, "voz"),
    "voice missing": ({k: v for k, v in MESSAGE.items() if k != "voice"}, 1020, "voz"),
    "message missing": ({k: v for k, v in MESSAGE.items() if k != "message"}, 1021, "obligatorio"),
    "audio-code with voice": (
        {**{k: v for k, v in MESSAGE.items() if k != "message"}, "audio-code": "a1"},
        1030,
        "combinar",
    ),
    "audio-code with message": (
        {**{k: v for k, v in MESSAGE.items() if k != "voice"}, "audio-code": "a1"},
        1030,
        "combinar",
    ),
    "retries 0": ({**MESSAGE, "retries": "0"}, 1040, "entero"),
    "retries 4": ({**MESSAGE, "retries": "4"}, 1040, "entero"),
    "retries text": ({**MESSAGE, "retries": "dos"}, 1040, "entero"),
    "retries decimal": ({**MESSAGE, "retries": "1.5"}, 1040, "entero"),
    "leave-voicemail not boolean": ({**MESSAGE, "leave-voicemail": "quizás"}, 1041, "true o false"),
}


@pytest.mark.parametrize(("fields", "code", "word"), SEND_RULES.values(), ids=SEND_RULES.keys())
def test_send_validation_rules(sandbox, fields, code, word):
    response = post_send(sandbox, **fields)

    assert response.status_code == 400
    assert set(response.json()) == {"error", "msg"}
    assert response.json()["error"] == code
    assert word in response.json()["msg"]
    assert sandbox.state.call_count == 0
    assert sandbox.state.balance == 100000


def test_each_rule_has_its_own_code(make_sandbox):
    # One code per rule of the contract, plus our own extra rules.
    codes = {code for _, code, _ in SEND_RULES.values()}
    codes.add(
        post_send(
            make_sandbox(max_phones_per_request=1),
            **{**MESSAGE, "phone": "573150123456,573150123457"},
        ).json()["error"]
    )
    codes.add(post_send(make_sandbox(balance=0), **MESSAGE).json()["error"])
    assert len(codes) == 13


def test_too_many_phones(make_sandbox):
    sandbox = make_sandbox(max_phones_per_request=2)

    refused = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457,573150123458"})
    accepted = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457"})

    assert (refused.status_code, refused.json()["error"]) == (400, 1012)
    assert "máximo 2" in refused.json()["msg"]
    assert accepted.status_code == 200
    assert sandbox.state.call_count == 2


def test_not_enough_credits_charges_nothing(make_sandbox):
    sandbox = make_sandbox(balance=2, credits_per_call=1)

    response = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457,573150123458"})

    assert (response.status_code, response.json()["error"]) == (400, 1050)
    assert "insuficiente" in response.json()["msg"]
    assert sandbox.state.balance == 2
    assert sandbox.state.call_count == 0


def test_credits_per_call_is_charged_per_phone(make_sandbox):
    sandbox = make_sandbox(balance=10, credits_per_call=1.5)

    body = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457"}).json()

    assert [item["credits"] for item in body["data"]] == [1.5, 1.5]
    assert sandbox.state.balance == 7


@pytest.mark.parametrize(
    ("text", "expected"), [("TRUE", True), ("false", False), ("1", True), ("0", False)]
)
def test_leave_voicemail_booleans(sandbox, text, expected):
    assert post_send(sandbox, **MESSAGE, **{"leave-voicemail": text}).status_code == 200
    assert sandbox.state.calls()[0].leave_voicemail is expected


def test_defaults_retries_1_and_leave_voicemail_true(sandbox):
    post_send(sandbox, **MESSAGE)
    (call,) = sandbox.state.calls()
    assert (call.retries, call.leave_voicemail) == (1, True)


def test_audio_code_send_items_carry_the_audio_code(sandbox):
    fields = {k: v for k, v in MESSAGE.items() if k not in ("voice", "message")}
    body = post_send(sandbox, **fields, **{"audio-code": "5f0c"}).json()
    assert body["data"][0]["audio-code"] == "5f0c"
    assert "voice" not in body["data"][0]
    assert "message" not in body["data"][0]


@pytest.mark.parametrize("name", ["groups", "group"])
def test_groups_and_the_documented_group_alias(sandbox, name):
    fields = {k: v for k, v in MESSAGE.items() if k != "phone"}

    body = post_send(sandbox, **fields, **{name: "1,2"}).json()

    assert [item["phone"] for item in body["data"]] == [*GROUPS["1"], *GROUPS["2"]]


def test_post_credentials_must_be_in_the_body(sandbox):
    fields = {k: v for k, v in MESSAGE.items() if k not in ("client", "key")}
    response = requests.post(sandbox.url + "/call/send", params=AUTH, data=fields, timeout=5)
    assert response.json()["error"] == 1001


# -- messages-state and balance ------------------------------------------------------------


def test_messages_state_by_dispatch_and_call_id(make_sandbox):
    sandbox = make_sandbox(settle_seconds=0.1, seed=3)
    body = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457"}).json()
    url = sandbox.url + "/messages-state"

    pending = requests.get(url, params={**AUTH, "id": body["id"]}, timeout=5).json()
    time.sleep(0.15)
    settled = requests.get(url, params={**AUTH, "id": body["id"]}, timeout=5).json()
    one = requests.get(url, params={**AUTH, "id": body["data"][1]["id"]}, timeout=5).json()

    assert [item["state"] for item in pending] == ["Enviado", "Enviado"]
    assert {tuple(sorted(item)) for item in settled} == {
        ("credits", "dispatch_id", "id", "phone", "state")
    }
    assert {item["dispatch_id"] for item in settled} == {body["id"]}
    assert one == [settled[1]]


@pytest.mark.parametrize(
    ("params", "code"),
    [({**AUTH, "id": "nope"}, 1060), (AUTH, 1061), ({"client": "1000", "id": "x"}, 1001)],
)
def test_messages_state_errors(sandbox, params, code):
    response = requests.get(sandbox.url + "/messages-state", params=params, timeout=5)
    assert (response.status_code, response.json()["error"]) == (400, code)


def test_balance_endpoint(sandbox):
    ok = requests.get(sandbox.url + "/balance", params=AUTH, timeout=5)
    refused = requests.get(sandbox.url + "/balance", params={**AUTH, "key": "wrong"}, timeout=5)
    assert ok.json() == {"balance": 100000}
    assert (refused.status_code, refused.json()["error"]) == (400, 1003)


def test_unknown_path_and_wrong_method(sandbox):
    missing = requests.get(sandbox.url + "/nothing", timeout=5)
    outside = requests.get(sandbox.root_url + "/", timeout=5)
    wrong_method = requests.get(sandbox.url + "/call/send", params=AUTH, timeout=5)
    assert (missing.status_code, missing.json()["error"]) == (404, 404)
    assert outside.status_code == 404
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, 405)


# -- faults --------------------------------------------------------------------------------


def test_520_before_recording_anything(make_sandbox):
    sandbox = make_sandbox(error_520_rate=1)
    response = post_send(sandbox, **MESSAGE)
    assert response.status_code == 520
    assert response.json() == {"error": 500, "msg": "Error interno"}
    assert sandbox.state.call_count == 0
    assert sandbox.state.balance == 100000


def test_hang_records_then_answers_late(make_sandbox):
    sandbox = make_sandbox(hang_rate=1, hang_seconds=0.3)
    started = time.monotonic()
    response = post_send(sandbox, **MESSAGE)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3
    assert sandbox.state.call_count == 1


def test_drop_records_then_closes_without_answer(make_sandbox):
    sandbox = make_sandbox(drop_rate=1)
    with pytest.raises(requests.ConnectionError):
        post_send(sandbox, **MESSAGE)
    assert sandbox.state.call_count == 1
    assert sandbox.state.balance == 100000 - 1


def test_fault_rates_are_seeded(make_sandbox):
    def statuses(seed: int) -> list[int]:
        sandbox = make_sandbox(error_520_rate=0.5, seed=seed)
        return [post_send(sandbox, **MESSAGE).status_code for _ in range(20)]

    first = statuses(5)
    assert first == statuses(5)
    assert set(first) == {200, 520}


# -- inspection endpoints ------------------------------------------------------------------


def test_inspection_calls_reset_config_health(sandbox):
    post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457"})
    root = sandbox.root_url

    calls = requests.get(root + "/_sandbox/calls", timeout=5).json()
    assert calls["count"] == 2
    assert [call["phone"] for call in calls["calls"]] == ["573150123456", "573150123457"]
    assert set(calls["calls"][0]) == {"phone", "dispatch_id", "call_id", "at"}

    assert requests.post(root + "/_sandbox/reset", timeout=5).json() == {"ok": True}
    assert requests.get(root + "/_sandbox/calls", timeout=5).json() == {"calls": [], "count": 0}
    assert sandbox.state.balance == 100000

    changed = requests.post(root + "/_sandbox/config", json={"error_520_rate": 1.0}, timeout=5)
    assert changed.json()["config"]["error_520_rate"] == 1.0
    assert "key" not in changed.json()["config"]
    assert post_send(sandbox, **MESSAGE).status_code == 520
    requests.post(root + "/_sandbox/config", json={"error_520_rate": 0, "balance": 3}, timeout=5)
    assert requests.get(sandbox.url + "/balance", params=AUTH, timeout=5).json() == {"balance": 3}

    for bad in ({"no_such_field": 1}, {"hang_rate": 2}, [1]):
        response = requests.post(root + "/_sandbox/config", json=bad, timeout=5)
        assert response.status_code == 400

    assert requests.get(root + "/_sandbox/health", timeout=5).json() == {"ok": True}


def test_config_validation():
    with pytest.raises(ValueError, match="error_520_rate"):
        SandboxConfig(error_520_rate=1.5)
    with pytest.raises(ValueError, match="latency"):
        SandboxConfig(latency=-1)
    assert "sandbox-key" not in repr(SandboxConfig())


# -- logging -------------------------------------------------------------------------------


def test_log_lines_never_contain_the_key(make_sandbox, caplog):
    caplog.set_level(logging.DEBUG, logger="onurix_sandbox")
    sandbox = make_sandbox(key=CANARY_KEY)
    auth = {"client": "1000", "key": CANARY_KEY}

    sent = post_send(sandbox, **{**MESSAGE, **auth, "phone": "573150123456,573150123457"})
    requests.get(
        sandbox.url + "/messages-state", params={**auth, "id": sent.json()["id"]}, timeout=5
    )
    requests.get(sandbox.url + "/balance", params=auth, timeout=5)
    requests.get(sandbox.url + f"/balance?client=1000&key={CANARY_KEY}&x=1", timeout=5)
    post_send(sandbox, **{**MESSAGE, **auth, "voice": "Pedro"})
    requests.get(sandbox.url + f"/nothing/{CANARY_KEY}", timeout=5)

    lines = [r.getMessage() for r in caplog.records if r.name == "onurix_sandbox"]
    assert len(lines) == 6
    assert re.fullmatch(r"POST /api/v1/call/send 200 phones=2 \d+\.\dms", lines[0])
    assert "key=***" in lines[1]
    assert "400" in lines[4]
    for line in lines:
        assert CANARY_KEY not in line


# -- running it ----------------------------------------------------------------------------


def test_start_sandbox_is_a_context_manager():
    with start_sandbox(SandboxConfig(client_id="2000")) as sandbox:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1", sandbox.url)
        assert sandbox.url == sandbox.root_url + "/api/v1"
        response = requests.get(
            sandbox.url + "/balance", params={"client": "2000", "key": "sandbox-key"}, timeout=5
        )
        assert response.status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.root_url + "/_sandbox/health", timeout=2)


def test_command_line_flags_env_and_sigterm():
    env = {
        **os.environ,
        "ONURIX_SANDBOX_CLIENT_ID": "3000",
        "ONURIX_SANDBOX_KEY": "from-env",
        "ONURIX_SANDBOX_BALANCE": "42",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "onurix_sandbox", "--port", "0", "--key", "from-flag"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(
            r"Onurix sandbox listening on (http://127\.0\.0\.1:\d+/api/v1) \(client 3000\)", line
        )
        assert match, line
        url = match.group(1)
        flag = requests.get(
            url + "/balance", params={"client": "3000", "key": "from-flag"}, timeout=5
        )
        env_key = requests.get(
            url + "/balance", params={"client": "3000", "key": "from-env"}, timeout=5
        )
        assert flag.json() == {"balance": 42}
        assert env_key.json()["error"] == 1003
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "from-flag" not in stderr


# -- invalid numbers and a blocked IP ------------------------------------------------------

INVALID = "573150100000"  # ends with INVALID_SUFFIX
IP_REFUSAL = {
    "error": 1003,
    "msg": "IP no autorizada: agregue la IP del servidor en el menú Seguridad",
}


def get_state(sandbox, call_or_dispatch_id: str, **auth: str) -> requests.Response:
    params = {**AUTH, **auth, "id": call_or_dispatch_id}
    return requests.get(sandbox.url + "/messages-state", params=params, timeout=5)


def get_balance(sandbox, **auth: str) -> requests.Response:
    return requests.get(sandbox.url + "/balance", params={**AUTH, **auth}, timeout=5)


def test_invalid_number_is_accepted_as_rechazado_and_not_charged(sandbox):
    body = post_send(sandbox, **{**MESSAGE, "phone": f"573150123456,{INVALID}"}).json()

    valid, invalid = body["data"]
    assert (valid["state"], valid["credits"]) == ("Enviado", 1)
    assert (invalid["state"], invalid["credits"], invalid["phone"]) == ("Rechazado", 0, INVALID)
    assert sandbox.state.balance == 100000 - 1
    assert get_state(sandbox, invalid["id"]).json() == [
        {
            "id": invalid["id"],
            "state": "Rechazado",
            "credits": 0,
            "phone": INVALID,
            "dispatch_id": body["id"],
        }
    ]
    assert [item["state"] for item in get_state(sandbox, body["id"]).json()] == [
        "Enviado",
        "Rechazado",
    ]


def test_an_empty_invalid_phone_suffix_makes_every_number_valid(make_sandbox):
    sandbox = make_sandbox(invalid_phone_suffix="")
    (item,) = post_send(sandbox, **{**MESSAGE, "phone": INVALID}).json()["data"]
    assert (item["state"], item["credits"]) == ("Enviado", 1)


@pytest.mark.parametrize(
    ("dialect", "code"), [("batch_reject", 1011), ("batch_reject,spanish_refusals", 1096)]
)
def test_batch_reject_refuses_the_whole_send_for_one_invalid_number(make_sandbox, dialect, code):
    sandbox = make_sandbox(dialect=dialect)

    response = post_send(sandbox, **{**MESSAGE, "phone": f"573150123456, {INVALID},573150123457"})

    assert response.status_code == 400
    assert response.json() == {"error": code, "msg": f"El número {INVALID} no es válido"}
    assert sandbox.state.call_count == 0
    assert sandbox.state.balance == 100000
    assert post_send(sandbox, **MESSAGE).status_code == 200


@pytest.mark.parametrize(
    ("dialect", "refusal"),
    [
        ("standard", IP_REFUSAL),
        ("spanish_refusals", {"error": 1097, "msg": "La IP no está autorizada"}),
        ("numbers_as_strings", {**IP_REFUSAL, "error": "1003"}),
    ],
)
def test_a_blocked_ip_refuses_every_api_request(make_sandbox, dialect, refusal):
    sandbox = make_sandbox(ip_blocked=True, dialect=dialect)

    answers = [
        post_send(sandbox, **MESSAGE),
        post_send(sandbox, **{**MESSAGE, "key": ""}),  # before credentials are even looked at
        get_state(sandbox, "any"),
        get_balance(sandbox),
    ]

    assert [(answer.status_code, answer.json()) for answer in answers] == [(400, refusal)] * 4
    assert sandbox.state.call_count == 0


# -- dialects: each one's answers over HTTP ------------------------------------------------


def test_standard_dialect_is_the_default_and_shown_by_the_config_endpoint(sandbox):
    config = requests.get(sandbox.root_url + "/_sandbox/config", timeout=5).json()["config"]
    assert config["dialect"] == "standard"
    assert config["invalid_phone_suffix"] == INVALID_SUFFIX
    assert config["ip_blocked"] is False


@pytest.mark.parametrize(
    ("dialect", "echoed"),
    [
        ("phones_national", ["3150123456", "13055550123"]),
        ("phones_plus", ["+573150123456", "+13055550123"]),
    ],
)
def test_phone_dialects_echo_phones_in_send_and_messages_state(make_sandbox, dialect, echoed):
    sandbox = make_sandbox(dialect=dialect)

    body = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,13055550123"}).json()

    assert [item["phone"] for item in body["data"]] == echoed
    assert [item["phone"] for item in get_state(sandbox, body["id"]).json()] == echoed
    calls = requests.get(sandbox.root_url + "/_sandbox/calls", timeout=5).json()["calls"]
    assert [call["phone"] for call in calls] == ["573150123456", "13055550123"]


def test_numbers_as_strings(make_sandbox):
    sandbox = make_sandbox(dialect="numbers_as_strings", balance=2, settle_seconds=60)

    body = post_send(sandbox, **{**MESSAGE, "phone": f"573150123456,{INVALID}"}).json()
    refused = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457"})

    assert body["status"] == "1"
    assert [item["credits"] for item in body["data"]] == ["1", "0"]
    assert [item["credits"] for item in get_state(sandbox, body["id"]).json()] == ["1", "0"]
    assert get_balance(sandbox).json() == {"balance": "1"}
    assert (refused.status_code, refused.json()["error"]) == (400, "1050")
    assert get_balance(sandbox, key="wrong").json()["error"] == "1003"
    assert requests.get(sandbox.url + "/nothing", timeout=5).json()["error"] == "404"


def test_numbers_as_strings_keeps_fractional_credits(make_sandbox):
    sandbox = make_sandbox(dialect="numbers_as_strings", credits_per_call=1.5)
    assert post_send(sandbox, **MESSAGE).json()["data"][0]["credits"] == "1.5"
    assert get_balance(sandbox).json() == {"balance": "99998.5"}


def test_status_number(make_sandbox):
    sandbox = make_sandbox(dialect="status_number")

    body = post_send(sandbox, **MESSAGE).json()

    assert type(body["status"]) is int
    assert body["status"] == 1
    assert body["data"][0]["credits"] == 1
    assert get_balance(sandbox).json() == {"balance": 99999}


def test_spanish_refusals_use_unknown_codes_and_keep_parameter_codes(make_sandbox):
    sandbox = make_sandbox(dialect="spanish_refusals", balance=0)

    answers = {
        "bad key": post_send(sandbox, **{**MESSAGE, "key": "nope"}),
        "bad client": get_balance(sandbox, client="999"),
        "bad key on messages-state": get_state(sandbox, "x", key="nope"),
        "no credits": post_send(sandbox, **MESSAGE),
        "key missing": post_send(sandbox, **{**MESSAGE, "key": ""}),
        "bad voice": post_send(sandbox, **{**MESSAGE, "voice": "Pedro"}),
    }

    assert {name: (r.status_code, r.json()["error"]) for name, r in answers.items()} == {
        "bad key": (400, 1098),
        "bad client": (400, 1098),
        "bad key on messages-state": (400, 1098),
        "no credits": (400, 1099),
        "key missing": (400, 1001),
        "bad voice": (400, 1020),
    }
    assert answers["bad key"].json()["msg"] == "Key inválida"
    assert answers["no credits"].json()["msg"] == "No tiene créditos suficientes"
    assert sandbox.state.call_count == 0


def test_states_object(make_sandbox):
    sandbox = make_sandbox(dialect="states_object")
    body = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457"}).json()
    first, second = (item["id"] for item in body["data"])

    by_dispatch = get_state(sandbox, body["id"]).json()
    by_call = get_state(sandbox, second).json()

    assert list(by_dispatch) == [first, second]
    assert by_dispatch[first] == {
        "state": "Enviado",
        "credits": 1,
        "phone": "573150123456",
        "dispatch_id": body["id"],
    }
    assert by_call == {second: by_dispatch[second]}
    assert isinstance(post_send(sandbox, **MESSAGE).json()["data"], list)


@pytest.mark.parametrize(
    ("outcome", "settled"),
    [
        ("answered_rate", "ENTREGADO"),
        ("rejected_rate", "rechazado"),
        ("error_rate", "ERROR:1081 MSG: DESTINO INACCESIBLE"),
    ],
)
def test_states_caps(make_sandbox, outcome, settled):
    rates = {"answered_rate": 0, "rejected_rate": 0, "error_rate": 0, outcome: 1}
    sandbox = make_sandbox(dialect="states_caps", settle_seconds=0.1, **rates)
    body = post_send(sandbox, **{**MESSAGE, "phone": f"573150123456,{INVALID}"}).json()

    pending = get_state(sandbox, body["id"]).json()
    time.sleep(0.15)
    final = get_state(sandbox, body["id"]).json()

    assert [item["state"] for item in body["data"]] == ["ENVIADO", "rechazado"]
    assert [item["state"] for item in pending] == ["ENVIADO", "rechazado"]
    assert [item["state"] for item in final] == [settled, "rechazado"]


def test_balance_in_data(make_sandbox):
    sandbox = make_sandbox(dialect="balance_in_data")
    assert get_balance(sandbox).json() == {"status": "1", "data": {"balance": 100000}}
    assert get_balance(sandbox, key="nope").json()["error"] == 1003


def test_dialects_combine(make_sandbox):
    sandbox = make_sandbox(
        dialect="phones_national,spanish_refusals,numbers_as_strings,status_number,"
        "states_object,states_caps,balance_in_data",
        balance=3,
    )

    body = post_send(sandbox, **{**MESSAGE, "phone": f"573150123456,{INVALID}"}).json()
    states = get_state(sandbox, body["id"]).json()
    refused = post_send(sandbox, **{**MESSAGE, "phone": "573150123456,573150123457,573150123458"})

    assert body["status"] == 1
    assert [(i["phone"], i["state"], i["credits"]) for i in body["data"]] == [
        ("3150123456", "ENVIADO", "1"),
        ("3150100000", "rechazado", "0"),
    ]
    assert states == {
        body["data"][0]["id"]: {
            "state": "ENVIADO",
            "credits": "1",
            "phone": "3150123456",
            "dispatch_id": body["id"],
        },
        body["data"][1]["id"]: {
            "state": "rechazado",
            "credits": "0",
            "phone": "3150100000",
            "dispatch_id": body["id"],
        },
    }
    assert refused.json() == {"error": "1099", "msg": "No tiene créditos suficientes"}
    assert get_balance(sandbox).json() == {"status": 1, "data": {"balance": "2"}}


def test_dialect_names_are_validated_and_normalised():
    with pytest.raises(ValueError, match="klingon") as raised:
        SandboxConfig(dialect="phones_national,klingon")
    for name in DIALECTS:
        assert name in str(raised.value)
    with pytest.raises(ValueError, match="cannot be combined"):
        SandboxConfig(dialect="phones_national,phones_plus")
    with pytest.raises(ValueError, match="invalid_phone_suffix"):
        SandboxConfig(invalid_phone_suffix="+57")
    with pytest.raises(ValueError, match="ip_blocked"):
        SandboxConfig(ip_blocked="maybe")

    assert SandboxConfig(dialect=" states_caps, standard,phones_plus ").dialect == (
        "phones_plus,states_caps"
    )
    assert SandboxConfig(dialect=["batch_reject", "phones_plus"]).dialect == (
        "phones_plus,batch_reject"
    )
    assert SandboxConfig(dialect="").dialect == "standard"
    assert SandboxConfig(ip_blocked="true").ip_blocked is True


def test_dialect_ip_block_and_suffix_change_at_runtime(sandbox):
    config_url = sandbox.root_url + "/_sandbox/config"

    changed = requests.post(
        config_url, json={"dialect": "states_object,phones_plus", "ip_blocked": True}, timeout=5
    )
    assert changed.status_code == 200
    assert changed.json()["config"]["dialect"] == "phones_plus,states_object"
    assert requests.get(config_url, timeout=5).json()["config"]["ip_blocked"] is True
    assert post_send(sandbox, **MESSAGE).json() == IP_REFUSAL

    requests.post(config_url, json={"ip_blocked": False, "invalid_phone_suffix": ""}, timeout=5)
    body = post_send(sandbox, **{**MESSAGE, "phone": INVALID}).json()
    assert (body["data"][0]["phone"], body["data"][0]["state"]) == ("+" + INVALID, "Enviado")
    assert list(get_state(sandbox, body["id"]).json()) == [body["data"][0]["id"]]

    requests.post(config_url, json={"dialect": "standard"}, timeout=5)
    assert post_send(sandbox, **MESSAGE).json()["data"][0]["phone"] == "573150123456"

    for bad in ({"dialect": "nope"}, {"ip_blocked": "maybe"}, {"invalid_phone_suffix": 0}):
        refused = requests.post(config_url, json=bad, timeout=5)
        assert refused.status_code == 400, bad
    assert "phones_national" in requests.post(config_url, json={"dialect": "x"}, timeout=5).text
    assert requests.get(config_url, timeout=5).json()["config"]["dialect"] == "standard"


def test_command_line_help_lists_every_dialect():
    completed = subprocess.run(
        [sys.executable, "-m", "onurix_sandbox", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    for name, description in DIALECTS.items():
        assert re.search(rf"^  {name} +{re.escape(description)}$", completed.stdout, re.M), name
    for flag in ("--dialect", "--invalid-phone-suffix", "--ip-blocked"):
        assert flag in completed.stdout


def test_command_line_unknown_dialect_is_refused():
    completed = subprocess.run(
        [sys.executable, "-m", "onurix_sandbox", "--port", "0", "--dialect", "klingon"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert completed.returncode == 2
    assert "klingon" in completed.stderr
    assert "phones_national" in completed.stderr


def test_command_line_dialect_flags_win_over_the_environment():
    env = {
        **os.environ,
        "ONURIX_SANDBOX_DIALECT": "numbers_as_strings",
        "ONURIX_SANDBOX_IP_BLOCKED": "true",
        "ONURIX_SANDBOX_INVALID_PHONE_SUFFIX": "99",
    }
    command = [sys.executable, "-m", "onurix_sandbox", "--port", "0"]
    flags = ["--dialect", "states_caps", "--dialect", "balance_in_data,phones_plus"]
    configs = []
    for argv in (command, [*command, *flags, "--no-ip-blocked"]):
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            url = process.stdout.readline().split(" on ")[1].split()[0]
            root = url.removesuffix("/api/v1")
            configs.append(requests.get(root + "/_sandbox/config", timeout=5).json()["config"])
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=10)

    from_env, from_flags = configs
    assert (from_env["dialect"], from_env["ip_blocked"]) == ("numbers_as_strings", True)
    assert from_env["invalid_phone_suffix"] == "99"
    assert (from_flags["dialect"], from_flags["ip_blocked"]) == (
        "phones_plus,states_caps,balance_in_data",
        False,
    )
