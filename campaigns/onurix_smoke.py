"""The first contact with a real Onurix account (``manage.py onurix_smoke``).

One short call to the operator's own phones, its states read until every call is final,
the balance before and after, and one balance request with a wrong key (it spends
nothing); then, line by line, which of our assumptions about Onurix's answers held.
docs/onurix-api.md lists those assumptions and the code that relies on each.

Every request and answer is recorded raw for the developers without changing the client:
`TrafficRecorder.installed` wraps the transport adapters of a client's session for the
run (so requests still go through the client's own pool, timeouts and no-retry policy)
and puts them back after. The key never reaches the record: ``key=`` values in URLs and
form bodies, and the literal key anywhere (also URL- or JSON-escaped), become ``***``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import requests
from django.utils.translation import gettext as _
from requests.adapters import BaseAdapter

from . import onurix
from .models import CallResult
from .onurix_codes import phone_digits, same_phone
from .onurix_states import map_onurix_state

WRONG_KEY = "wrong-key-onurix-smoke"
DEFAULT_MESSAGE = "Prueba de Onurix Campaigns. No responda."
VOICE = "Mariana"
REDACTED = "***"
# Headers that may carry a session or credentials: their values are never recorded.
_PRIVATE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

# Steps, as named in the record.
STEP_BALANCE_BEFORE = "balance_before"
STEP_SEND = "send"
STEP_STATES = "states_by_dispatch_id"
STEP_STATE_BY_CALL = "state_by_call_id"
STEP_BALANCE_AFTER = "balance_after"
STEP_WRONG_KEY = "wrong_key"


# -- the raw record --------------------------------------------------------------------------


class TrafficRecorder:
    """Every request and answer of the sessions it is installed on, with the key removed."""

    def __init__(self, secret: str) -> None:
        self.exchanges: list[dict] = []
        self.step = ""
        variants = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
        self._secrets = sorted((v for v in variants if v), key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` without the key: the client's own rule (``key=`` values), then the
        literal key in any of its escaped forms."""
        text = onurix._redact_query_keys(text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    @contextmanager
    def installed(self, *sessions: requests.Session) -> Iterator[TrafficRecorder]:
        """Record what goes through `sessions` until the block ends."""
        originals = [
            (session, prefix, adapter)
            for session in sessions
            for prefix, adapter in list(session.adapters.items())
        ]
        for session, prefix, adapter in originals:
            session.mount(prefix, _RecordingAdapter(adapter, self))
        try:
            yield self
        finally:
            for session, prefix, adapter in originals:
                session.mount(prefix, adapter)

    def last(self, step: str) -> dict | None:
        return next((entry for entry in reversed(self.exchanges) if entry["step"] == step), None)

    def record(
        self,
        request: requests.PreparedRequest,
        *,
        elapsed: float,
        response: requests.Response | None = None,
        error: Exception | None = None,
    ) -> None:
        split = urlsplit(request.url or "")
        entry: dict[str, object] = {
            "n": len(self.exchanges) + 1,
            "step": self.step,
            "method": request.method,
            "url": self.redact(request.url or ""),
            "path": split.path,
            "query": self._pairs(split.query),
            **self._sent_body(request),
            "request_headers": self._headers(request.headers),
            "elapsed_ms": round(elapsed * 1000),
        }
        if response is not None:
            entry["status"] = response.status_code
            entry["reason"] = response.reason
            entry["response_headers"] = self._headers(response.headers)
            entry["body"] = self.redact(response.text)
        else:
            entry["status"] = None
            entry["error"] = self.redact(f"{type(error).__name__}: {error}")
        self.exchanges.append(entry)

    def _pairs(self, text: str) -> dict[str, str]:
        return {
            name: REDACTED if name == "key" else self.redact(value)
            for name, value in parse_qsl(text, keep_blank_values=True)
        }

    def _sent_body(self, request: requests.PreparedRequest) -> dict[str, object]:
        body = request.body
        if body is None:
            return {"form": None}
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        if "x-www-form-urlencoded" in request.headers.get("Content-Type", ""):
            return {"form": self._pairs(text)}
        return {"form": None, "request_body": self.redact(text)}

    def _headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: "(not recorded)" if name.lower() in _PRIVATE_HEADERS else self.redact(value)
            for name, value in headers.items()
        }


class _RecordingAdapter(BaseAdapter):
    """Sends through the session's own adapter and records what went and what came back."""

    def __init__(self, inner: BaseAdapter, recorder: TrafficRecorder) -> None:
        super().__init__()
        self._inner = inner
        self._recorder = recorder

    def send(  # type: ignore[override]
        self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None
    ):
        started = time.perf_counter()
        try:
            response = self._inner.send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
            if not stream:
                # Read now to record it; the session would read it right after anyway.
                response.content  # noqa: B018
        except requests.RequestException as error:
            self._recorder.record(request, elapsed=time.perf_counter() - started, error=error)
            raise
        self._recorder.record(request, elapsed=time.perf_counter() - started, response=response)
        return response

    def close(self) -> None:
        self._inner.close()


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Observations:
    """What the smoke run saw, for the checks and the record."""

    phones: list[str]
    balance_before: onurix.Balance | None = None
    balance_before_error: onurix.OnurixError | None = None
    send: onurix.SendResult | None = None
    send_error: onurix.OnurixError | None = None
    skipped_send: str = ""  # why the call was not sent, when it was not
    matched: dict[str, onurix.CallItem] = field(default_factory=dict)  # by requested phone
    # Latest state text of each requested phone (from the send answer, then messages-state).
    latest: dict[str, str] = field(default_factory=dict)
    latest_credits: dict[str, Decimal] = field(default_factory=dict)  # from messages-state
    # Every phone Onurix wrote back, with the requested phone it was read for ("" if none).
    echoes: list[tuple[str, str]] = field(default_factory=list)
    state_texts: list[str] = field(default_factory=list)  # every state text seen, once each
    poll_errors: list[onurix.OnurixError] = field(default_factory=list)
    polls: int = 0
    waited_seconds: float = 0.0
    timed_out: bool = False
    interrupted: bool = False
    timeout_seconds: float = 0.0
    by_call_id: str = ""  # what reading one call's state by its call id gave
    balance_after: onurix.Balance | None = None
    balance_after_error: onurix.OnurixError | None = None
    wrong_key_error: onurix.OnurixError | None = None
    wrong_key_accepted: bool = False
    wrong_key_exchange: dict | None = None

    def is_final(self, phone: str) -> bool:
        text = self.latest.get(phone)
        return text is not None and map_onurix_state(text).state != CallResult.State.SENT

    def saw_state(self, text: str) -> None:
        if text not in self.state_texts:
            self.state_texts.append(text)


def wrong_key_client(client: onurix.OnurixClient) -> onurix.OnurixClient:
    """A client of the same account and settings whose key is WRONG_KEY."""
    return onurix.OnurixClient(
        client.base_url,
        client.client_id,
        WRONG_KEY,
        timeout=client.timeout,
        auth_codes=sorted(client.auth_codes),
        credits_codes=sorted(client.credits_codes),
    )


def onurix_smoke_run(
    *,
    obs: Observations,
    client: onurix.OnurixClient,
    recorder: TrafficRecorder,
    message: str,
    poll_seconds: float,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run the smoke test, filling `obs` as it goes (so that an interrupted run still
    leaves what it saw): balance, one call to `obs.phones`, its states until final or
    `obs.timeout_seconds`, balance again, a wrong-key balance request. Every request goes
    through `recorder`; `say` gets a sentence per step. Never raises for an Onurix failure
    (it is observed); Ctrl-C while waiting for states stops the wait only."""
    wrong = wrong_key_client(client)
    try:
        with recorder.installed(client._session, wrong._session):
            _Run(
                client=client,
                wrong=wrong,
                recorder=recorder,
                obs=obs,
                message=message,
                poll_seconds=poll_seconds,
                say=say,
                sleep=sleep,
                clock=clock,
            ).run()
    finally:
        wrong.close()


@dataclass
class _Run:
    client: onurix.OnurixClient
    wrong: onurix.OnurixClient
    recorder: TrafficRecorder
    obs: Observations
    message: str
    poll_seconds: float
    say: Callable[[str], None]
    sleep: Callable[[float], None]
    clock: Callable[[], float]

    def run(self) -> None:
        obs = self.obs
        obs.balance_before, obs.balance_before_error = self._balance(STEP_BALANCE_BEFORE)
        if isinstance(obs.balance_before_error, onurix.OnurixNotReached | onurix.OnurixRefused):
            # Onurix is unreachable or refuses this account: a send would go the same way.
            obs.skipped_send = _("the balance request failed, so no call was sent")
            self.say(_("No call sent: reading the balance failed first."))
        else:
            self._send()
        if obs.send is not None:
            self._poll()
            self._state_by_call_id()
            obs.balance_after, obs.balance_after_error = self._balance(STEP_BALANCE_AFTER)
        self._wrong_key()

    def _balance(self, step: str):
        self.recorder.step = step
        self.say(_("Reading the balance…"))
        try:
            balance = self.client.balance()
        except onurix.OnurixError as error:
            self.say(_("The balance request failed: %(error)s") % {"error": describe(error)})
            return None, error
        shown = balance.credits if balance.credits is not None else _("not said")
        self.say(_("Balance: %(balance)s") % {"balance": shown})
        return balance, None

    def _send(self) -> None:
        obs = self.obs
        self.recorder.step = STEP_SEND
        self.say(_("Sending one call to %(phones)s…") % {"phones": ", ".join(obs.phones)})
        try:
            result = self.client.send_call(
                phones=obs.phones,
                voice=VOICE,
                message=self.message,
                retries=1,
                leave_voicemail=False,
            )
        except onurix.OnurixError as error:
            obs.send_error = error
            self.say(_("The send failed: %(error)s") % {"error": describe(error)})
            if isinstance(error, onurix.OnurixUnknownOutcome):
                self.say(
                    _(
                        "The call may have been placed anyway: it is not sent again. Check "
                        "the Onurix portal."
                    )
                )
            return
        obs.send = result
        obs.matched = onurix.match_calls(obs.phones, result.calls)
        tied = {id(call): phone for phone, call in obs.matched.items()}
        for call in result.calls:
            obs.echoes.append((call.phone, tied.get(id(call), "")))
            obs.saw_state(call.state)
        for phone, call in obs.matched.items():
            obs.latest[phone] = call.state
        self.say(
            _("Onurix accepted the send: dispatch id %(id)s, %(count)s call(s) listed.")
            % {"id": result.dispatch_id or "-", "count": len(result.calls)}
        )

    # -- states ------------------------------------------------------------------------

    def _poll(self) -> None:
        obs = self.obs
        dispatch_id = obs.send.dispatch_id
        call_ids = {phone: call.call_id for phone, call in obs.matched.items() if call.call_id}
        if not dispatch_id and not call_ids:
            self.say(_("Onurix gave no dispatch id and no call id: the states cannot be read."))
            return
        self.say(
            _(
                "Waiting for every call to end: messages-state every %(seconds)s s, for up "
                "to %(minutes)s min (Ctrl-C stops waiting)."
            )
            % {"seconds": self.poll_seconds, "minutes": round(obs.timeout_seconds / 60, 2)}
        )
        started = self.clock()
        deadline = started + obs.timeout_seconds
        try:
            while True:
                self._poll_once(dispatch_id, call_ids)
                if all(obs.is_final(phone) for phone in obs.phones):
                    break
                if self.clock() >= deadline:
                    obs.timed_out = True
                    break
                self.sleep(max(0.0, min(self.poll_seconds, deadline - self.clock())))
        except KeyboardInterrupt:
            obs.interrupted = True
            self.say(_("Stopped waiting for the states."))
        obs.waited_seconds = self.clock() - started

    def _poll_once(self, dispatch_id: str, call_ids: dict[str, str]) -> None:
        self.obs.polls += 1
        read: set[str] = set()
        if dispatch_id:
            read = self._assign(self._states(dispatch_id, STEP_STATES), self.obs.phones)
        for phone, call_id in call_ids.items():
            if phone not in read:
                read |= self._assign(self._states(call_id, STEP_STATE_BY_CALL), [phone])

    def _states(self, id: str, step: str) -> tuple[onurix.MessageState, ...]:
        self.recorder.step = step
        try:
            return self.client.messages_state(id=id)
        except onurix.OnurixError as error:
            self.obs.poll_errors.append(error)
            self.say(_("messages-state failed: %(error)s") % {"error": describe(error)})
            return ()

    def _assign(self, items: Sequence[onurix.MessageState], phones: Sequence[str]) -> set[str]:
        """Give each of `phones` its item (by call id, else by phone, as polling does);
        returns the phones that got one."""
        obs = self.obs
        read = set()
        for item in items:
            obs.saw_state(item.state)
        for phone in phones:
            call = obs.matched.get(phone)
            item = next((i for i in items if call and call.call_id and i.id == call.call_id), None)
            if item is None:
                item = next((i for i in items if same_phone(phone, i.phone)), None)
            if item is None:
                continue
            read.add(phone)
            obs.echoes.append((item.phone, phone))
            if obs.latest.get(phone) != item.state:
                mapped = map_onurix_state(item.state)
                self.say(
                    _("%(phone)s: %(state)s (%(ours)s)")
                    % {
                        "phone": phone,
                        "state": item.state,
                        "ours": CallResult.State(mapped.state).label,
                    }
                )
            obs.latest[phone] = item.state
            obs.latest_credits[phone] = item.credits
        return read

    def _state_by_call_id(self) -> None:
        """One messages-state by call id, so that the record shows that answer's shape."""
        call = next((call for call in self.obs.matched.values() if call.call_id), None)
        if call is None:
            return
        self.recorder.step = STEP_STATE_BY_CALL
        try:
            items = self.client.messages_state(id=call.call_id)
        except onurix.OnurixError as error:
            self.obs.by_call_id = describe(error)
        else:
            self.obs.by_call_id = ", ".join(f"{item.id}: {item.state}" for item in items) or "[]"

    # -- wrong key -----------------------------------------------------------------------

    def _wrong_key(self) -> None:
        obs = self.obs
        self.recorder.step = STEP_WRONG_KEY
        self.say(_("Asking the balance with a wrong key, to see how Onurix refuses…"))
        try:
            self.wrong.balance()
        except onurix.OnurixError as error:
            obs.wrong_key_error = error
        else:
            obs.wrong_key_accepted = True
        obs.wrong_key_exchange = self.recorder.last(STEP_WRONG_KEY)


def describe(error: onurix.OnurixError) -> str:
    """An error in one line: class, status, code and message (the client keeps the key out)."""
    parts = [f"status {error.status}"] if error.status is not None else []
    if error.code is not None:
        parts.append(f"code {error.code}")
    where = f" ({', '.join(parts)})" if parts else ""
    return f"{type(error).__name__}{where}: {error.message}"


# -- the checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One assumption about Onurix's answers, and whether this run confirmed it."""

    name: str  # stable, for the record and docs/onurix-api.md
    held: bool
    text: str  # what was seen, in the active language


def onurix_smoke_checks(obs: Observations) -> list[Check]:
    """Every assumption the run can confirm, in the active language."""
    return [
        _check_echoed_phones(obs),
        _check_status(obs),
        _check_matched(obs),
        _check_balance(obs),
        _check_error_shape(obs),
        _check_wrong_key_classified(obs),
        _check_state_names(obs),
        _check_credits(obs),
        _check_final_states(obs),
    ]


def _not_sent(name: str, obs: Observations, what: str) -> Check:
    reason = describe(obs.send_error) if obs.send_error else obs.skipped_send
    return Check(
        name,
        False,
        _("%(what)s: not checked, no call was sent (%(reason)s).")
        % {"what": what, "reason": reason},
    )


def _echo_format(ours: str, theirs: str) -> str:
    if not theirs:
        return _("not written")
    if not ours:
        return _("not one of ours")
    if theirs == ours:
        return _("with the country code")
    digits = phone_digits(theirs)
    if theirs.strip().startswith("+") and digits == ours:
        return _("with + and the country code")
    if same_phone(ours, theirs) and len(digits) < len(ours):
        return _("without the country code")
    if same_phone(ours, theirs):
        return _("in another format")
    return _("not one of ours")


def _check_echoed_phones(obs: Observations) -> Check:
    what = _("Echoed phones")
    if obs.send is None:
        return _not_sent("echoed_phones", obs, what)
    if not obs.echoes:
        return Check("echoed_phones", False, _("Onurix wrote back no phone at all."))
    formats: list[str] = []
    held = True
    for theirs, ours in obs.echoes:
        formats.append(_echo_format(ours, theirs))
        held = held and bool(ours) and same_phone(ours, theirs)
    shown = ", ".join(dict.fromkeys(formats))
    examples = ", ".join(dict.fromkeys(theirs or "''" for theirs, _ours in obs.echoes))
    if held:
        text = _("Phones are written back %(formats)s (%(examples)s): we match them.")
    else:
        text = _(
            "Phones are written back %(formats)s (%(examples)s): not all of them match the "
            "phones sent."
        )
    return Check("echoed_phones", held, text % {"formats": shown, "examples": examples})


def _check_status(obs: Observations) -> Check:
    what = _("The send's status")
    if obs.send is None:
        return _not_sent("status_type", obs, what)
    raw = obs.send.raw
    if "status" not in raw:
        return Check("status_type", False, _("The send's answer has no status."))
    status = raw["status"]
    shown = json.dumps(status, ensure_ascii=False)
    if isinstance(status, str):
        return Check("status_type", True, _("The send's status is a string: %(s)s.") % {"s": shown})
    if isinstance(status, int | float) and not isinstance(status, bool):
        return Check("status_type", True, _("The send's status is a number: %(s)s.") % {"s": shown})
    return Check(
        "status_type",
        False,
        _("The send's status is neither a string nor a number: %(s)s.") % {"s": shown},
    )


def _data_shape(raw: dict) -> str:
    data = raw.get("data")
    if isinstance(data, list):
        return _("a list of %(count)s") % {"count": len(data)}
    if isinstance(data, dict):
        return _("a single object")
    return _("missing") if data is None else _("not a list")


def _check_matched(obs: Observations) -> Check:
    what = _("Calls matched to phones")
    if obs.send is None:
        return _not_sent("calls_matched", obs, what)
    matched = obs.matched
    shape = _data_shape(obs.send.raw)
    if len(matched) == len(obs.phones):
        by_meaning = all(same_phone(phone, call.phone) for phone, call in matched.items())
        how = _("by their phone") if by_meaning else _("by position")
        return Check(
            "calls_matched",
            True,
            _("Every call of the answer is tied to its phone %(how)s (data: %(shape)s).")
            % {"how": how, "shape": shape},
        )
    return Check(
        "calls_matched",
        False,
        _(
            "%(matched)s of %(total)s phones are tied to a call of the answer (data: "
            "%(shape)s); the others stay sent and are read by dispatch id."
        )
        % {"matched": len(matched), "total": len(obs.phones), "shape": shape},
    )


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def balance_location(balance: onurix.Balance) -> str:
    """Where the balance's number was in the answer ("balance", "data.balance") and its
    JSON type; "" when the client found none."""
    if balance.credits is None:
        return ""
    for prefix, holder in (("", balance.raw), ("data.", balance.raw.get("data"))):
        if not isinstance(holder, dict):
            continue
        for name, value in holder.items():
            if _number(value) == balance.credits:
                kind = _("string") if isinstance(value, str) else _("number")
                return f"{prefix}{name} ({kind})"
    return "?"


def _check_balance(obs: Observations) -> Check:
    reads = [
        (obs.balance_before, obs.balance_before_error),
        (obs.balance_after, obs.balance_after_error),
    ]
    if obs.send is None:
        reads = reads[:1]
    places, problems = [], []
    for balance, error in reads:
        if error is not None:
            problems.append(describe(error))
        elif balance is not None and balance.credits is None:
            problems.append(
                _("an answer without a number we can read: %(body)s")
                % {"body": json.dumps(balance.raw, ensure_ascii=False)[:200]}
            )
        elif balance is not None:
            places.append(balance_location(balance))
    if problems:
        return Check(
            "balance_shape",
            False,
            _("The balance could not be read: %(problems)s.") % {"problems": "; ".join(problems)},
        )
    return Check(
        "balance_shape",
        True,
        _("The balance is found at %(where)s.") % {"where": ", ".join(dict.fromkeys(places))},
    )


def _wrong_key_body(obs: Observations) -> object:
    exchange = obs.wrong_key_exchange or {}
    try:
        return json.loads(exchange.get("body") or "")
    except ValueError:
        return None


def _check_error_shape(obs: Observations) -> Check:
    exchange = obs.wrong_key_exchange or {}
    status = exchange.get("status")
    if obs.wrong_key_accepted:
        return Check("error_shape", False, _("Onurix answered a request with a wrong key!"))
    if status is None:
        reason = describe(obs.wrong_key_error) if obs.wrong_key_error else _("no answer")
        return Check(
            "error_shape",
            False,
            _("The wrong-key request got no answer: %(reason)s.") % {"reason": reason},
        )
    body = _wrong_key_body(obs)
    if isinstance(body, dict) and "error" in body and "msg" in body:
        return Check(
            "error_shape",
            True,
            _('A wrong key is answered %(status)s {"error": %(code)s, "msg": %(msg)s}.')
            % {
                "status": status,
                "code": json.dumps(body["error"], ensure_ascii=False),
                "msg": json.dumps(body["msg"], ensure_ascii=False),
            },
        )
    shown = (exchange.get("body") or "")[:200]
    if isinstance(body, dict) and "title" in body and "detail" in body:
        text = _('A wrong key is answered %(status)s in a proxy\'s {"title", "detail"}: %(body)s')
    else:
        text = _('A wrong key is answered %(status)s without {"error", "msg"}: %(body)s')
    return Check("error_shape", False, text % {"status": status, "body": shown})


def _check_wrong_key_classified(obs: Observations) -> Check:
    error = obs.wrong_key_error
    if obs.wrong_key_accepted or error is None:
        return Check(
            "wrong_key_classified",
            False,
            _("The wrong key was not refused, so its refusal could not be classified."),
        )
    if isinstance(error, onurix.OnurixAuthError):
        return Check(
            "wrong_key_classified",
            True,
            _("A wrong key is recognised as a credentials problem (code %(code)s).")
            % {"code": error.code if error.code is not None else "-"},
        )
    if isinstance(error, onurix.OnurixRefused) and error.code is not None:
        text = _(
            "A wrong key is read as %(kind)s, not as a credentials problem: add %(code)s to "
            "ONURIX_AUTH_CODES."
        )
    else:
        text = _("A wrong key is read as %(kind)s, not as a credentials problem.")
    return Check(
        "wrong_key_classified",
        False,
        text % {"kind": type(error).__name__, "code": error.code},
    )


def _check_state_names(obs: Observations) -> Check:
    what = _("State names")
    if obs.send is None:
        return _not_sent("state_names", obs, what)
    if not obs.state_texts:
        return Check("state_names", False, _("Onurix gave no state at all."))
    shown, unknown = [], []
    for text in obs.state_texts:
        mapped = map_onurix_state(text)
        shown.append(f"{text} → {CallResult.State(mapped.state).label}")
        if not mapped.known:
            unknown.append(text)
    if unknown:
        return Check(
            "state_names",
            False,
            _(
                "States we do not know: %(unknown)s (kept as Onurix wrote them, treated as "
                "still sent). All seen: %(seen)s."
            )
            % {"unknown": ", ".join(unknown), "seen": "; ".join(shown)},
        )
    return Check(
        "state_names", True, _("Every state seen is known: %(seen)s.") % {"seen": "; ".join(shown)}
    )


def expected_charge(obs: Observations) -> Decimal:
    """What the product counts as spent: for each phone, the credits of its call in the
    send's answer (or, for a phone that answer did not tie, of its latest messages-state,
    as polling learns them), nothing when its latest state says Onurix refunds it."""
    total = Decimal(0)
    for phone in obs.phones:
        if phone in obs.latest and map_onurix_state(obs.latest[phone]).refunded:
            continue
        call = obs.matched.get(phone)
        total += call.credits if call is not None else obs.latest_credits.get(phone, 0)
    return total


def _check_credits(obs: Observations) -> Check:
    what = _("Credits per call")
    if obs.send is None:
        return _not_sent("credits", obs, what)
    before = obs.balance_before.credits if obs.balance_before else None
    after = obs.balance_after.credits if obs.balance_after else None
    listed = sum((call.credits for call in obs.send.calls), Decimal(0))
    expected = expected_charge(obs)
    if before is None or after is None:
        return Check(
            "credits",
            False,
            _(
                "The answers say %(listed)s credit(s) for the send, but the balance was not "
                "read before and after, so the charge is not confirmed."
            )
            % {"listed": listed},
        )
    spent = before - after
    values = {
        "before": before,
        "after": after,
        "spent": spent,
        "expected": expected,
        "listed": listed,
        "calls": len(obs.send.calls),
    }
    if spent == expected:
        return Check(
            "credits",
            True,
            _(
                "The balance went from %(before)s to %(after)s: %(spent)s credit(s) spent, "
                "as the answers say (%(listed)s listed for %(calls)s call(s), refunds "
                "deducted)."
            )
            % values,
        )
    return Check(
        "credits",
        False,
        _(
            "The balance went from %(before)s to %(after)s: %(spent)s credit(s) spent, but "
            "the answers say %(expected)s (%(listed)s listed for %(calls)s call(s), refunds "
            "deducted)."
        )
        % values,
    )


def _check_final_states(obs: Observations) -> Check:
    what = _("Final states")
    if obs.send is None:
        return _not_sent("final_states", obs, what)
    shown = "; ".join(f"{phone}: {obs.latest.get(phone, '-')}" for phone in obs.phones)
    pending = [phone for phone in obs.phones if not obs.is_final(phone)]
    values = {"seconds": round(obs.waited_seconds, 1), "states": shown}
    if not pending:
        return Check(
            "final_states",
            True,
            _("Every call reached a final state within %(seconds)s s: %(states)s.") % values,
        )
    if obs.interrupted:
        text = _("Stopped after %(seconds)s s before every call was final: %(states)s.")
    else:
        text = _("Not every call was final after %(seconds)s s: %(states)s.")
    return Check("final_states", False, text % values)


# -- the record ------------------------------------------------------------------------------


def _error_dict(error: onurix.OnurixError | None) -> dict | None:
    if error is None:
        return None
    return {
        "class": type(error).__name__,
        "status": error.status,
        "code": error.code,
        "message": error.message,
        "onurix_message": error.onurix_message,
    }


def _balance_dict(balance: onurix.Balance | None) -> dict | None:
    if balance is None:
        return None
    credits = None if balance.credits is None else str(balance.credits)
    return {"credits": credits, "found_at": balance_location(balance)}


def onurix_smoke_record(
    *,
    obs: Observations,
    checks: Sequence[Check],
    recorder: TrafficRecorder,
    context: dict,
) -> str:
    """The JSON text of the record: `context` (who, where, when), the checks, what was
    observed and every raw exchange, with the key removed."""
    send = obs.send
    tied = {id(call): phone for phone, call in obs.matched.items()}
    record = {
        **context,
        "all_held": all(check.held for check in checks),
        "checks": [{"name": c.name, "held": c.held, "text": c.text} for c in checks],
        "observations": {
            "phones": obs.phones,
            "balance_before": _balance_dict(obs.balance_before),
            "balance_before_error": _error_dict(obs.balance_before_error),
            "send_error": _error_dict(obs.send_error),
            "dispatch_id": send.dispatch_id if send else None,
            "calls": [
                {
                    "call_id": call.call_id,
                    "phone_written": call.phone,
                    "phone_sent": tied.get(id(call)),
                    "state": call.state,
                    "credits": str(call.credits),
                }
                for call in (send.calls if send else ())
            ],
            "latest_states": obs.latest,
            "state_texts": obs.state_texts,
            "expected_charge": str(expected_charge(obs)) if send else None,
            "polls": obs.polls,
            "waited_seconds": round(obs.waited_seconds, 3),
            "timed_out": obs.timed_out,
            "interrupted": obs.interrupted,
            "poll_errors": [_error_dict(error) for error in obs.poll_errors],
            "state_by_call_id": obs.by_call_id,
            "balance_after": _balance_dict(obs.balance_after),
            "balance_after_error": _error_dict(obs.balance_after_error),
            "wrong_key_error": _error_dict(obs.wrong_key_error),
            "wrong_key_accepted": obs.wrong_key_accepted,
        },
        "exchanges": recorder.exchanges,
    }
    # Once more over the whole text: nothing above may carry the key, whatever its source.
    return recorder.redact(json.dumps(record, ensure_ascii=False, indent=2, default=str))
