"""OnurixClient against the sandbox over real HTTP on 127.0.0.1 (never a mocked requests).

A tiny canned HTTP server stands in where the sandbox cannot misbehave the way a test needs
(odd but valid bodies, proxy answers, non-JSON).
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from campaigns.onurix import (
    VOICES,
    Balance,
    CallItem,
    OnurixAuthError,
    OnurixClient,
    OnurixError,
    OnurixInsufficientCredits,
    OnurixInvalidRequest,
    OnurixNotReached,
    OnurixRefused,
    OnurixUnknownOutcome,
    match_calls,
)
from campaigns.onurix_codes import named_phone
from tests.onurix_fixtures import CANARY_KEY, SANDBOX_CLIENT_ID

PHONES = ["573150123456", "573150123457", "573150123458"]
FINAL_STATES = {"Entregado", "Rechazado", "Error:1081 msg: Destino inaccesible"}


# -- helpers -------------------------------------------------------------------------------


class CannedServer:
    """Answers every request with `status` and `body`; counts the requests it got."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"
        self.content_type = "application/json"
        self.requests: list[str] = []
        canned = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                canned.requests.append(f"{self.command} {self.path}")
                self.send_response(canned.status)
                self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def answer(self, status: int, body: object, content_type: str = "application/json") -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.content_type = content_type

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def canned() -> Iterator[CannedServer]:
    server = CannedServer()
    yield server
    server.close()


@pytest.fixture
def canned_client(canned: CannedServer) -> Iterator[OnurixClient]:
    client = OnurixClient(canned.url, SANDBOX_CLIENT_ID, CANARY_KEY, timeout=2)
    yield client
    client.close()


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_no_canary(exc: BaseException) -> None:
    """The key is in none of the texts an exception can end up in."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, OnurixError):
        texts.append(exc.message)
    for text in texts:
        assert CANARY_KEY not in text


def send(client: OnurixClient, phones: list[str] | None = None) -> object:
    return client.send_call(phones=phones or PHONES[:1], voice="Mariana", message="Hola")


# -- sending -------------------------------------------------------------------------------


def test_send_call_several_phones_one_item_each(sandbox, onurix_client):
    before = onurix_client.balance().credits

    result = onurix_client.send_call(
        phones=PHONES, voice="Mariana", message="Su cita es mañana", retries=2
    )

    assert result.dispatch_id
    assert [item.phone for item in result.calls] == PHONES
    assert len({item.call_id for item in result.calls}) == len(PHONES)
    assert all(item.state == "Enviado" for item in result.calls)
    assert all(isinstance(item.credits, Decimal) for item in result.calls)
    charged = sum((item.credits for item in result.calls), Decimal(0))
    assert charged == Decimal(len(PHONES))
    assert onurix_client.balance().credits == before - charged
    assert result.raw["status"] == "1"
    assert result.raw["data"][0]["voice"] == "Mariana"
    recorded = sandbox.state.calls()
    assert [call.phone for call in recorded] == PHONES
    assert {call.retries for call in recorded} == {2}


def test_send_call_with_audio_code(sandbox, onurix_client):
    result = onurix_client.send_call(
        phones=PHONES[:2], audio_code="0c6f1f7e-3b7a-4c61-9f3e-1a2b3c4d5e6f", leave_voicemail=False
    )

    assert len(result.calls) == 2
    assert result.raw["data"][0]["audio-code"] == "0c6f1f7e-3b7a-4c61-9f3e-1a2b3c4d5e6f"
    recorded = sandbox.state.calls()
    assert {call.audio_code for call in recorded} == {"0c6f1f7e-3b7a-4c61-9f3e-1a2b3c4d5e6f"}
    assert {call.voice for call in recorded} == {None}
    assert {call.leave_voicemail for call in recorded} == {False}


def test_send_call_to_groups_calls_their_members(sandbox, onurix_client):
    result = onurix_client.send_call(groups=[1, "2"], voice="Miguel", message="Hola")

    assert len(result.calls) == 5
    assert sandbox.state.call_count == 5


def test_single_object_data_and_numbers_as_strings(canned, canned_client):
    canned.answer(
        200,
        {
            "status": "1",
            "id": 991,
            "data": {"id": 5, "state": "Enviado", "credits": "1.5", "phone": 573150123456},
        },
    )
    result = send(canned_client)
    assert result.dispatch_id == "991"
    assert len(result.calls) == 1
    assert result.calls[0].call_id == "5"
    assert result.calls[0].phone == "573150123456"
    assert result.calls[0].credits == Decimal("1.5")

    canned.answer(200, {"balance": "12.75"})
    assert canned_client.balance() == Balance(credits=Decimal("12.75"), raw={"balance": "12.75"})

    canned.answer(200, {"id": "5", "state": "Rechazado", "credits": "0", "phone": "573150123456"})
    (state,) = canned_client.messages_state(id="5")
    assert (state.state, state.credits) == ("Rechazado", Decimal(0))

    canned.answer(200, [{"id": "6", "state": "Enviado"}])
    (state,) = canned_client.messages_state(id="6")
    assert state.credits == Decimal(0)  # missing credits


def test_send_sends_the_documented_form_fields(canned, canned_client):
    canned.answer(200, {"status": "1", "id": "1", "data": []})
    send(canned_client)
    canned_client.send_call(groups=["1", "2"], audio_code="abc")
    # POST credentials travel in the body, never in the URL.
    assert canned.requests == ["POST /api/v1/call/send", "POST /api/v1/call/send"]


# -- client-side validation ----------------------------------------------------------------

VALID = {"phones": PHONES[:1], "voice": "Mariana", "message": "Hola"}
INVALID_SENDS = {
    "unknown voice": {**VALID, "voice": "Pedro"},
    "voice lowercase": {**VALID, "voice": "mariana"},
    "audio code with voice": {"phones": PHONES[:1], "audio_code": "a1", "voice": "Mariana"},
    "audio code with message": {"phones": PHONES[:1], "audio_code": "a1", "message": "Hola"},
    "blank audio code": {"phones": PHONES[:1], "audio_code": " "},
    "nothing to play": {"phones": PHONES[:1]},
    "voice without message": {"phones": PHONES[:1], "voice": "Mariana"},
    "message without voice": {"phones": PHONES[:1], "message": "Hola"},
    "blank message": {**VALID, "message": "  "},
    "retries 0": {**VALID, "retries": 0},
    "retries 4": {**VALID, "retries": 4},
    "retries as text": {**VALID, "retries": "2"},
    "retries as bool": {**VALID, "retries": True},
    "retries as float": {**VALID, "retries": 2.0},
    "phone with plus": {**VALID, "phones": ["+573150123456"]},
    "phone with leading zero": {**VALID, "phones": ["0573150123456"]},
    "phone with letters": {**VALID, "phones": ["57315012345a"]},
    "phone with spaces": {**VALID, "phones": ["57 315 012 3456"]},
    "phone too short": {**VALID, "phones": ["5731501"]},
    "phone too long": {**VALID, "phones": ["5731501234567890"]},
    "phone as int": {**VALID, "phones": [573150123456]},
    "phones as one string": {**VALID, "phones": "573150123456"},
    "no phones no groups": {"voice": "Mariana", "message": "Hola"},
    "phones and groups": {**VALID, "groups": ["1"]},
    "group with comma": {"groups": ["1,2"], "voice": "Mariana", "message": "Hola"},
    "leave voicemail as text": {**VALID, "leave_voicemail": "false"},
}


@pytest.mark.parametrize("kwargs", INVALID_SENDS.values(), ids=INVALID_SENDS.keys())
def test_invalid_send_is_refused_before_any_request(kwargs, sandbox, onurix_client, caplog):
    caplog.set_level(logging.DEBUG)

    with pytest.raises(OnurixInvalidRequest):
        onurix_client.send_call(**kwargs)

    assert sandbox.state.call_count == 0
    assert not [r for r in caplog.records if r.name in ("campaigns.onurix", "onurix_sandbox")]


def test_voices_are_the_documented_seven():
    assert VOICES == ("Mariana", "Penelope", "Conchita", "Mia", "Lucia", "Enrique", "Miguel")


def test_blank_id_is_refused_before_any_request(onurix_client):
    with pytest.raises(OnurixInvalidRequest):
        onurix_client.messages_state(id=" ")


# -- refusals ------------------------------------------------------------------------------


def test_bad_key_raises_auth_error(make_sandbox):
    sandbox = make_sandbox(key="the-right-key")
    client = OnurixClient(sandbox.url, "1000", CANARY_KEY, timeout=2)

    with pytest.raises(OnurixAuthError) as send_error:
        send(client)
    with pytest.raises(OnurixAuthError) as balance_error:
        client.balance()

    assert send_error.value.code == 1003
    assert send_error.value.status == 400
    assert "Credenciales" in send_error.value.message
    assert str(send_error.value) == (
        "Onurix refused the request (400, code 1003): Credenciales inválidas"
    )
    assert sandbox.state.call_count == 0
    assert_no_canary(send_error.value)
    assert_no_canary(balance_error.value)


def test_not_enough_credits_charges_nothing(make_sandbox):
    sandbox = make_sandbox(balance=2)
    client = OnurixClient(sandbox.url, "1000", "sandbox-key", timeout=2)

    with pytest.raises(OnurixInsufficientCredits) as error:
        send(client, PHONES)

    assert error.value.code == 1050
    assert isinstance(error.value, OnurixRefused)
    assert client.balance().credits == Decimal(2)
    assert sandbox.state.call_count == 0


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (200, {"error": 1099, "msg": "Algo salió mal"}, OnurixRefused, 1099),
        (200, {"error": "1003", "msg": "Credenciales inválidas"}, OnurixAuthError, 1003),
        (200, {"error": 7, "msg": "La IP 10.0.0.1 no está autorizada"}, OnurixAuthError, 7),
        (400, {"error": 77, "msg": "Saldo insuficiente"}, OnurixInsufficientCredits, 77),
        (400, {"error": 1011, "msg": "Teléfono no válido"}, OnurixRefused, 1011),
        (403, {"title": "Forbidden", "detail": "Access denied"}, OnurixAuthError, None),
        (429, {"title": "Too Many Requests", "detail": "Slow down"}, OnurixRefused, None),
        (200, {"title": "Bad Request", "detail": "Invalid body"}, OnurixRefused, None),
        (404, "Not Found", OnurixRefused, None),
    ],
)
def test_error_answers_are_refusals(canned, canned_client, status, body, expected, code):
    canned.answer(status, body, "application/json" if isinstance(body, dict) else "text/plain")

    with pytest.raises(expected) as error:
        send(canned_client)

    assert type(error.value) is expected
    assert (error.value.status, error.value.code) == (status, code)
    assert error.value.message
    assert_no_canary(error.value)


def test_proxy_shape_message_carries_title_and_detail(canned, canned_client):
    canned.answer(429, {"title": "Too Many Requests", "detail": "Slow down"})
    with pytest.raises(OnurixRefused) as error:
        canned_client.balance()
    assert "Too Many Requests: Slow down" in str(error.value)


def test_unknown_id_is_refused(onurix_client):
    with pytest.raises(OnurixRefused) as error:
        onurix_client.messages_state(id="no-such-id")
    assert error.value.code == 1060


# -- unknown outcomes and unreachable ------------------------------------------------------


def test_520_is_an_unknown_outcome(make_sandbox):
    sandbox = make_sandbox(error_520_rate=1)
    client = OnurixClient(sandbox.url, "1000", "sandbox-key", timeout=2)

    with pytest.raises(OnurixUnknownOutcome) as error:
        send(client)

    assert (error.value.status, error.value.code) == (520, 500)
    assert "Error interno" in str(error.value)
    assert sandbox.state.call_count == 0


@pytest.mark.parametrize(
    ("status", "body"), [(200, "<html>OK</html>"), (502, "<html>Bad gateway</html>"), (200, "")]
)
def test_non_json_body_is_an_unknown_outcome(canned, canned_client, status, body):
    canned.answer(status, body, "text/html")

    with pytest.raises(OnurixUnknownOutcome) as error:
        send(canned_client)

    assert error.value.status == status
    assert_no_canary(error.value)


@pytest.mark.parametrize("body", [[], {"status": "1"}, "[1, 2]"])
def test_unexpected_json_shape_is_an_unknown_outcome(canned, canned_client, body):
    canned.answer(200, body)
    with pytest.raises(OnurixUnknownOutcome):
        send(canned_client)


def test_hang_past_timeout_is_an_unknown_outcome_sent_once(make_sandbox):
    sandbox = make_sandbox(hang_rate=1, hang_seconds=5)
    client = OnurixClient(sandbox.url, "1000", "sandbox-key", timeout=0.5)

    with pytest.raises(OnurixUnknownOutcome) as error:
        send(client, PHONES)

    assert error.value.status is None
    # No automatic retry: each phone was called exactly once.
    assert sorted(call.phone for call in sandbox.state.calls()) == PHONES


def test_dropped_connection_is_an_unknown_outcome(make_sandbox):
    sandbox = make_sandbox(drop_rate=1)
    client = OnurixClient(sandbox.url, "1000", "sandbox-key", timeout=2)

    with pytest.raises(OnurixUnknownOutcome):
        send(client, PHONES[:2])

    assert [call.phone for call in sandbox.state.calls()] == PHONES[:2]


def test_refused_connection_is_not_reached():
    client = OnurixClient(f"http://127.0.0.1:{closed_port()}/api/v1", "1000", CANARY_KEY, 2)

    with pytest.raises(OnurixNotReached) as send_error:
        send(client)
    # A GET carries the key in its URL, which requests puts in its exception text.
    with pytest.raises(OnurixNotReached) as balance_error:
        client.balance()

    assert send_error.value.status is None
    assert balance_error.value.safe_to_retry
    assert_no_canary(send_error.value)
    assert_no_canary(balance_error.value)


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A listening socket whose accept queue is full: new connections time out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # the handshake completes in the kernel
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    yield port
    for sock in [*fillers, server]:
        sock.close()


def test_connect_timeout_is_not_reached(full_backlog_port):
    client = OnurixClient(
        f"http://127.0.0.1:{full_backlog_port}/api/v1", "1000", CANARY_KEY, timeout=(0.3, 2)
    )

    with pytest.raises(OnurixNotReached) as error:
        client.balance()

    assert "timed out" in str(error.value)
    assert_no_canary(error.value)


# -- states and balance --------------------------------------------------------------------


def outcomes(sandbox, phones: list[str]) -> list[str]:
    client = OnurixClient(sandbox.url, "1000", "sandbox-key", timeout=2)
    result = send(client, phones)
    pending = client.messages_state(id=result.dispatch_id)
    assert [state.state for state in pending] == ["Enviado"] * len(phones)
    time.sleep(0.25)
    settled = client.messages_state(id=result.dispatch_id)
    assert [state.phone for state in settled] == phones
    assert {state.state for state in settled} <= FINAL_STATES
    (one,) = client.messages_state(id=result.calls[1].call_id)
    assert (one.id, one.state) == (settled[1].id, settled[1].state)
    assert one.raw["dispatch_id"] == result.dispatch_id
    return [state.state for state in settled]


def test_states_settle_deterministically_for_a_seed(make_sandbox):
    phones = [f"5731500000{n:02d}" for n in range(12)]

    first = outcomes(make_sandbox(seed=42, settle_seconds=0.2), phones)
    second = outcomes(make_sandbox(seed=42, settle_seconds=0.2), phones)

    assert first == second
    assert len(set(first)) > 1  # 12 calls with 70/15/15 weights: not all alike


def test_rejected_calls_are_refunded(make_sandbox):
    sandbox = make_sandbox(
        settle_seconds=0.2, answered_rate=0, rejected_rate=1, error_rate=0, balance=10
    )
    client = OnurixClient(sandbox.url, "1000", "sandbox-key", timeout=2)

    result = send(client, PHONES)
    assert client.balance().credits == Decimal(7)
    time.sleep(0.25)

    states = client.messages_state(id=result.dispatch_id)
    assert {(state.state, state.credits) for state in states} == {("Rechazado", Decimal(0))}
    assert client.balance().credits == Decimal(10)


def test_balance(onurix_client):
    balance = onurix_client.balance()
    assert balance == Balance(credits=Decimal(100000), raw={"balance": 100000})


# -- the key never leaks -------------------------------------------------------------------


def test_canary_key_never_leaks(make_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    sandbox = make_sandbox(key=CANARY_KEY, settle_seconds=0)
    client = OnurixClient(sandbox.url, "1000", CANARY_KEY, timeout=0.5)
    raised: list[OnurixError] = []
    bodies: list[object] = []

    result = send(client, PHONES)
    bodies.append(result.raw)
    bodies.extend(state.raw for state in client.messages_state(id=result.dispatch_id))
    bodies.append(client.balance().raw)
    for faults in ({"error_520_rate": 1}, {"drop_rate": 1}, {"hang_rate": 1, "hang_seconds": 2}):
        sandbox.state.configure(**faults)
        for action in (lambda: send(client), client.balance):
            with pytest.raises(OnurixUnknownOutcome) as error:
                action()
            raised.append(error.value)
        sandbox.state.configure(error_520_rate=0, drop_rate=0, hang_rate=0)
    wrong = OnurixClient(sandbox.url, "1000", "wrong-key", timeout=2)
    with pytest.raises(OnurixAuthError) as error:
        wrong.balance()
    raised.append(error.value)
    unreachable = OnurixClient(f"http://127.0.0.1:{closed_port()}/api/v1", "1000", CANARY_KEY, 2)
    with pytest.raises(OnurixNotReached) as error:
        unreachable.messages_state(id="x")
    raised.append(error.value)

    assert CANARY_KEY not in repr(client)
    for exc in raised:
        assert_no_canary(exc)
    for body in bodies:
        assert CANARY_KEY not in json.dumps(body)
    # The urllib3 request lines were logged, with the key redacted.
    assert any("key=***" in record.getMessage() for record in caplog.records)
    assert any(record.name == "onurix_sandbox" for record in caplog.records)
    assert CANARY_KEY not in caplog.text
    for record in caplog.records:
        assert CANARY_KEY not in record.getMessage()


def test_key_echoed_in_a_body_is_scrubbed(canned, canned_client):
    canned.answer(200, {"balance": 5, "key": CANARY_KEY, "note": f"key is {CANARY_KEY}"})
    balance = canned_client.balance()
    assert CANARY_KEY not in json.dumps(balance.raw)


# -- factory (the one place that reads Django settings) ------------------------------------


def test_factory_reads_settings_and_reuses_the_client():
    django_conf = pytest.importorskip("django.conf")
    from django.test import override_settings

    from campaigns.onurix import get_onurix_client

    if not django_conf.settings.configured:  # run without pytest-django
        django_conf.settings.configure()
    onurix = {
        "ONURIX_BASE_URL": "http://127.0.0.1:9/api/v1",
        "ONURIX_CLIENT_ID": 1000,
        "ONURIX_KEY": CANARY_KEY,
    }
    with override_settings(**onurix, ONURIX_TIMEOUT=5):
        client = get_onurix_client()
        assert get_onurix_client() is client
        assert client.timeout == (3.05, 5.0)
        assert client.client_id == "1000"
        assert CANARY_KEY not in repr(client)
    with override_settings(**onurix, ONURIX_TIMEOUT=1):
        other = get_onurix_client()
        assert other is not client
        assert other.timeout == (1.0, 1.0)


def test_exceptions_survive_pickling():
    error = OnurixInsufficientCredits("Onurix refused", status=400, code=1050)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (type(copy), copy.message, copy.status, copy.code) == (
        OnurixInsufficientCredits,
        "Onurix refused",
        400,
        1050,
    )


def test_messages_state_without_states_is_an_unknown_outcome(canned, canned_client):
    canned.answer(200, {"status": "1"})
    with pytest.raises(OnurixUnknownOutcome):
        canned_client.messages_state(id="5")
    canned.answer(200, {"data": [{"id": "5", "state": "Entregado", "credits": 1}]})
    assert canned_client.messages_state(id="5")[0].state == "Entregado"
    canned.answer(200, [])
    assert canned_client.messages_state(id="5") == ()


# -- reading answers as the real Onurix may give them ---------------------------------------


def _call(phone: str, call_id: str = "c") -> CallItem:
    return CallItem(call_id=call_id, phone=phone, state="Enviado", credits=Decimal(1))


@pytest.mark.parametrize(
    "echoed",
    ["573150123456", "3150123456", "+573150123456", "+57 315 012 3456", "57 3150123456"],
)
def test_a_returned_call_matches_its_phone_in_any_format(echoed):
    phones = ["573001112233", "573150123456"]
    matched = match_calls(phones, [_call("3001112233", "a"), _call(echoed, "b")])
    assert {phone: call.call_id for phone, call in matched.items()} == {
        "573001112233": "a",
        "573150123456": "b",
    }


def test_calls_match_by_position_when_the_phones_say_nothing_but_the_counts_agree():
    phones = ["573001112233", "573150123456"]
    matched = match_calls(phones, [_call("****2233", "a"), _call("", "b")])
    assert {phone: call.call_id for phone, call in matched.items()} == {
        "573001112233": "a",
        "573150123456": "b",
    }
    # Counts disagree: only what matches by meaning, nothing guessed.
    only_one = match_calls(phones, [_call("3150123456", "b")])
    assert {phone: call.call_id for phone, call in only_one.items()} == {"573150123456": "b"}
    assert match_calls(phones, [_call("", "z")]) == {}


@pytest.mark.parametrize("status", ["1", 1, "OK", True, None])
def test_status_as_number_or_string_is_a_success(canned, canned_client, status):
    body = {"id": "d1", "data": [{"id": "c1", "state": "Enviado", "phone": "573150123456"}]}
    if status is not None:
        body["status"] = status
    canned.answer(200, body)
    assert send(canned_client).dispatch_id == "d1"


@pytest.mark.parametrize("status", ["0", 0, "false", "error"])
def test_a_200_that_says_it_failed_and_lists_no_call_is_a_refusal(canned, canned_client, status):
    canned.answer(200, {"status": status, "id": "d1", "msg": "No se pudo enviar"})
    with pytest.raises(OnurixRefused, match="No se pudo enviar"):
        send(canned_client)


@pytest.mark.parametrize(
    "body",
    [
        {"balance": 12.5},
        {"balance": "12.5"},
        {"status": "1", "data": {"balance": "12.5"}},
        {"saldo": "12,5".replace(",", ".")},
        {"data": {"credits": 12.5}},
    ],
)
def test_the_balance_is_found_wherever_onurix_puts_it(canned, canned_client, body):
    canned.answer(200, body)
    assert canned_client.balance().credits == Decimal("12.5")


def test_a_balance_onurix_does_not_tell_is_unknown_not_an_error(canned, canned_client):
    canned.answer(200, {"status": "1", "account": "clinica"})
    assert canned_client.balance().credits is None
    canned.answer(200, {"status": "0", "msg": "Key inválida"})
    with pytest.raises(OnurixAuthError):
        canned_client.balance()


def test_messages_state_as_an_object_keyed_by_call_id(canned, canned_client):
    canned.answer(
        200,
        {
            "c1": {"state": "ENTREGADO", "credits": "1", "phone": "3150123456"},
            "c2": {"state": "rechazado", "credits": 0, "phone": "3001112233"},
        },
    )
    states = {state.id: state.state for state in canned_client.messages_state(id="d1")}
    assert states == {"c1": "ENTREGADO", "c2": "rechazado"}


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (1099, "No tiene créditos suficientes", OnurixInsufficientCredits),
        (1098, "Key inválida", OnurixAuthError),
        (1097, "La IP no está autorizada", OnurixAuthError),
        (1095, "Algo pasó", OnurixRefused),
    ],
)
def test_unknown_codes_are_read_by_their_wording(canned, canned_client, code, message, expected):
    canned.answer(400, {"error": str(code), "msg": message})
    with pytest.raises(OnurixRefused) as error:
        send(canned_client)
    assert type(error.value) is expected
    assert error.value.onurix_message == message


def test_operators_teach_the_client_new_codes(canned):
    client = OnurixClient(
        canned.url, "1000", "k", timeout=2, auth_codes=[2001], credits_codes=[2002]
    )
    canned.answer(400, {"error": 2002, "msg": "Operación no permitida"})
    with pytest.raises(OnurixInsufficientCredits):
        send(client)
    canned.answer(400, {"error": 2001, "msg": "Operación no permitida"})
    with pytest.raises(OnurixAuthError):
        send(client)
    client.close()


def test_a_refusal_that_names_one_requested_phone_names_it():
    phones = ["573001112233", "573150123456"]
    assert named_phone("El número 3150123456 no es válido", phones) == "573150123456"
    assert named_phone("El número +57 300 111 2233 no es válido", phones) == "573001112233"
    assert named_phone("Números inválidos: 3150123456, 3001112233", phones) is None
    assert named_phone("Error 1050: saldo", phones) is None
