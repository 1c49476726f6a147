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

from onurix_sandbox import GROUPS, SandboxConfig, start_sandbox
from tests.onurix_fixtures import CANARY_KEY

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
