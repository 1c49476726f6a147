"""Client of the Onurix API (https://www.onurix.com/api/v1): calls, their states, the balance,
and Onurix's own do-not-contact list (block-phone).

Built against /work/shared/onurix-api.md. Plain values in, frozen dataclasses out, and one
exception hierarchy whose class says what the caller may do next:

- ``OnurixNotReached``: the request never reached Onurix; safe to try again.
- ``OnurixUnknownOutcome``: it may have reached Onurix (calls may be placed and charged) but
  no usable answer came back; never retry blindly, reconcile first.
- ``OnurixRefused`` (``OnurixAuthError``, ``OnurixInsufficientCredits``): Onurix answered no.
- ``OnurixInvalidRequest``: refused here, before any HTTP request.

Requests exceptions, HTTP statuses and error bodies are mapped in ``_error_for`` only. The key
never reaches an exception text, a raw body we return or a log line: GET requests carry it
in the query string (as the contract says), so urllib3's request log lines are redacted by a
filter installed at import.

Only ``get_onurix_client`` touches Django (its settings).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError
from urllib3.util.retry import Retry

from . import onurix_codes

logger = logging.getLogger(__name__)

VOICES = ("Mariana", "Penelope", "Conchita", "Mia", "Lucia", "Enrique", "Miguel")
# The channels block-phone takes; blocking CALL or ALL stops calls.
BLOCK_CHANNELS = ("SMS", "CALL", "WA", "ALL")

_PHONE = re.compile(r"[1-9]\d{7,14}")
_GROUP_ID = re.compile(r"\w+")
_KEY_VALUE = re.compile(r"(?<![\w-])key=[^&\s'\"#)]*")
_BODY_SNIPPET = 200


def _redact_query_keys(text: str) -> str:
    return _KEY_VALUE.sub("key=***", text)


class _RedactKeyFilter(logging.Filter):
    """Replaces ``key=...`` in urllib3's request log lines, which include the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "key=" in message:
            record.msg = _redact_query_keys(message)
            record.args = None
        return True


def _install_log_filter() -> None:
    target = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(existing, _RedactKeyFilter) for existing in target.filters):
        target.addFilter(_RedactKeyFilter())


_install_log_filter()


# -- exceptions ----------------------------------------------------------------------------


class OnurixError(Exception):
    """Base of every Onurix failure. `status` is the HTTP status (None without an answer),
    `code` Onurix's ``error`` code (None when absent), `message` a text without the key,
    `onurix_message` Onurix's own words when it answered some (without the key)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        onurix_message: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.onurix_message = onurix_message

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Picklable despite keyword-only arguments (task queues store exceptions).
        state = {"status": self.status, "code": self.code, "onurix_message": self.onurix_message}
        return (type(self), (self.message,), state)


class OnurixNotReached(OnurixError):
    """The request never reached Onurix (DNS failure, connection refused, connect timeout).
    Nothing was sent or charged: safe to try again."""

    safe_to_retry = True


class OnurixUnknownOutcome(OnurixError):
    """The request may have reached Onurix but no usable answer came back (read timeout,
    connection dropped after sending, 5xx including 520, a body that is not the expected
    JSON). Calls may have been placed and charged: never retried automatically."""

    safe_to_retry = False


class OnurixRefused(OnurixError):
    """Onurix answered and refused: status 4xx, or a body with a non-zero ``error`` (even with
    status 200), or a proxy's ``{"title", "detail"}``. Nothing was sent."""

    safe_to_retry = False


class OnurixAuthError(OnurixRefused):
    """Bad credentials or a server IP not allowed in the Onurix portal: code 1001/1003,
    status 401/403, or a message mentioning credenciales / IP / autenticación."""


class OnurixInsufficientCredits(OnurixRefused):
    """Not enough credits for the send (code 1050, or a message mentioning saldo or
    créditos insuficientes). Nothing was charged."""


class OnurixInvalidRequest(OnurixError):
    """Refused by this client before any HTTP request: fix the arguments."""

    safe_to_retry = False


# The exception for each kind of refusal onurix_codes tells apart.
_REFUSALS: dict[str, type[OnurixRefused]] = {
    onurix_codes.AUTH: OnurixAuthError,
    onurix_codes.CREDITS: OnurixInsufficientCredits,
}


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallItem:
    """One phone of a send, as Onurix accepted it (state is normally ``Enviado``)."""

    call_id: str
    phone: str
    state: str
    credits: Decimal


@dataclass(frozen=True)
class SendResult:
    """Answer to a send: the dispatch id, one item per phone, and the raw body for audit."""

    dispatch_id: str
    calls: tuple[CallItem, ...]
    raw: dict


@dataclass(frozen=True)
class MessageState:
    """State of one call: ``Enviado``, ``Entregado``, ``Rechazado`` or ``Error:...`` text."""

    id: str
    phone: str
    state: str
    credits: Decimal
    raw: dict


@dataclass(frozen=True)
class Balance:
    """Credits available on the account; None when Onurix answered without saying."""

    credits: Decimal | None
    raw: dict


@dataclass(frozen=True)
class BlockResult:
    """Onurix accepted to keep `phone` on its do-not-contact list for `channel`."""

    phone: str
    channel: str
    raw: dict


def _decimal(value: object) -> Decimal:
    """Tolerant number: 1, 1.5, "1.5", " 2 " -> Decimal; missing, blank or garbage -> 0
    (the raw body keeps the original for audit)."""
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return Decimal(0)
    return result if result.is_finite() else Decimal(0)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    try:
        return Decimal(str(value).strip()).is_finite()
    except InvalidOperation:
        return False


# Where a balance may be, top level or under "data": the documented name first.
_BALANCE_KEYS = ("balance", "saldo", "credits", "creditos", "créditos")


def _says_failure(status: object) -> bool:
    """Whether call/send's `status` says the request failed: 0, "0", false, "error"...
    1, "1", true, "OK", "success" and a missing status do not."""
    if status is None:
        return False
    text = str(status).strip().casefold()
    return text in {"0", "false", "error", "fail", "failed", "ko", "-1"}


def match_calls(phones: Sequence[str], calls: Sequence[CallItem]) -> dict[str, CallItem]:
    """The returned calls of a send, keyed by the requested phone each belongs to.

    By meaning first: the echoed phone is the requested one with or without the country
    code, `+` or spaces (onurix_codes.same_phone), when exactly one requested phone fits.
    When that leaves calls unmatched and Onurix returned exactly one call per requested
    phone, by position. Requested phones left without a call are missing from the result.
    """
    by_digits = {onurix_codes.phone_digits(phone): phone for phone in phones}
    suffixes: dict[int, dict[str, list[str]]] = {}  # length -> last digits -> phones
    matched: dict[str, CallItem] = {}
    for call in calls:
        echoed = onurix_codes.phone_digits(call.phone)
        fits = [by_digits[echoed]] if echoed in by_digits else _fits(echoed, phones, suffixes)
        if len(fits) == 1 and fits[0] not in matched:
            matched[fits[0]] = call
    if len(matched) < len(phones) and len(calls) == len(phones):
        return dict(zip(phones, calls, strict=True))
    return matched


def _fits(echoed: str, phones: Sequence[str], suffixes: dict) -> list[str]:
    """The requested phones that end with `echoed` (it lacks the country code), or that
    `echoed` ends with (it has a longer prefix). Dictionary lookups, not a scan."""
    if len(echoed) < onurix_codes.MIN_PHONE_DIGITS:
        return []
    index = suffixes.get(len(echoed))
    if index is None:
        index = suffixes[len(echoed)] = {}
        for phone in phones:
            index.setdefault(phone[-len(echoed) :], []).append(phone)
    fits = list(index.get(echoed, []))
    fits += [
        phone
        for phone in phones
        if len(phone) < len(echoed)
        and len(phone) >= onurix_codes.MIN_PHONE_DIGITS
        and echoed.endswith(phone)
    ]
    return fits


def _as_items(value: object) -> list[dict]:
    """``data`` as a list of objects, whether Onurix sent a list or a single object."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


class _Redactor:
    """Removes one key from texts: the literal value and any ``key=`` query value."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, text: str) -> str:
        text = _redact_query_keys(text)
        return text.replace(self._key, "***") if self._key else text

    def scrub(self, value: object) -> object:
        """A copy of a decoded JSON body with the key removed from every string."""
        if isinstance(value, str):
            return self(value) if self._key in value else value
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, dict):
            return {
                str(name): "***" if name == "key" else self.scrub(item)
                for name, item in value.items()
            }
        return value


# -- the one mapping from failures to exceptions -------------------------------------------

_NOT_JSON = object()


def _caused_by_new_connection(exc: BaseException) -> bool:
    """True if the connection was never established (refused, DNS, unreachable)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError):  # NameResolutionError is a subclass
            return True
        todo.extend(current.args)
        todo.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
    return False


def _error_for(
    *,
    redact: _Redactor,
    transport_error: requests.RequestException | None = None,
    status: int | None = None,
    body: object = None,
    text: str = "",
    expected: type = dict,
    auth_codes: frozenset[int] = frozenset(),
    credits_codes: frozenset[int] = frozenset(),
) -> OnurixError | None:
    """The exception for a failed request, or None when the answer is a usable success.

    Give either `transport_error` (requests raised) or `status`, the decoded `body`
    (``_NOT_JSON`` when it was not JSON) and its `text`. Every message goes through `redact`.
    """
    if transport_error is not None:
        detail = redact(f"{type(transport_error).__name__}: {transport_error}")
        if isinstance(transport_error, requests.ConnectTimeout) or (
            isinstance(transport_error, requests.ConnectionError)
            and _caused_by_new_connection(transport_error)
        ):
            return OnurixNotReached(f"Onurix could not be reached: {detail}")
        if isinstance(
            transport_error,
            (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError),
        ):
            return OnurixUnknownOutcome(f"No answer from Onurix, outcome unknown: {detail}")
        # Anything else from requests (invalid URL, too many redirects...) is a setup bug
        # and may still have sent the request.
        return OnurixUnknownOutcome(f"Request to Onurix failed, outcome unknown: {detail}")

    assert status is not None
    code: int | None = None
    message = ""
    if isinstance(body, dict):
        raw_code = body.get("error")
        try:
            code = int(str(raw_code).strip()) if raw_code is not None else None
        except ValueError:
            code = None
        if body.get("msg") is not None:
            message = _text(body.get("msg"))
        elif "title" in body or "detail" in body:
            message = ": ".join(_text(body[k]) for k in ("title", "detail") if body.get(k))
    if not message and body is _NOT_JSON:
        message = text.strip()[:_BODY_SNIPPET]
    message = redact(message)
    described = f"({status}" + (f", code {code}" if code is not None else "") + ")"

    if status >= 500:
        return OnurixUnknownOutcome(
            f"Onurix failed, outcome unknown {described}: {message or 'no detail'}",
            status=status,
            code=code,
        )
    is_error_body = isinstance(body, dict) and (
        body.get("error") not in (None, 0, "0", False, "") or ("title" in body and "detail" in body)
    )
    if status >= 400 or is_error_body:
        kind = onurix_codes.refusal_kind(
            status=status,
            code=code,
            message=message,
            auth_codes=auth_codes,
            credits_codes=credits_codes,
        )
        return _REFUSALS.get(kind, OnurixRefused)(
            f"Onurix refused the request {described}: {message or 'no detail'}",
            status=status,
            code=code,
            onurix_message=message,
        )
    if not 200 <= status < 300 or body is _NOT_JSON or not isinstance(body, expected):
        if not 200 <= status < 300:
            shape = "unexpected status"
        else:
            shape = "not JSON" if body is _NOT_JSON else f"not a JSON {expected.__name__}"
        return OnurixUnknownOutcome(
            f"Unexpected answer from Onurix, outcome unknown ({status}, {shape}): "
            f"{message or redact(text.strip()[:_BODY_SNIPPET])}",
            status=status,
        )
    return None


# -- the client ----------------------------------------------------------------------------


class OnurixClient:
    """One Onurix account, over one pooled requests.Session that is never mutated after
    construction, so one client may serve several threads (the factory shares it).

    `timeout` is seconds, or (connect, read) seconds, applied to every request. urllib3's
    automatic retries are off: a retried POST could place every call twice.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str | int,
        key: str,
        timeout: float | tuple[float, float],
        *,
        pool_size: int = 10,
        auth_codes: Sequence[int] = (),
        credits_codes: Sequence[int] = (),
    ) -> None:
        """`auth_codes` and `credits_codes`: Onurix error codes that mean bad credentials
        or no credits, on top of the built-in ones (onurix_codes)."""
        self.auth_codes = frozenset(int(code) for code in auth_codes)
        self.credits_codes = frozenset(int(code) for code in credits_codes)
        self.base_url = base_url.rstrip("/")
        self.client_id = str(client_id)
        self._key = key
        self._redact = _Redactor(key)
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["Accept"] = "application/json"
        adapter = HTTPAdapter(
            pool_connections=1,
            pool_maxsize=pool_size,
            # read=False re-raises read errors as they are, so requests reports ReadTimeout
            # instead of wrapping it in a ConnectionError.
            max_retries=Retry(total=0, read=False, redirect=False, raise_on_status=False),
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"OnurixClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        self._session.close()

    # -- API -------------------------------------------------------------------------------

    def send_call(
        self,
        *,
        phones: Sequence[str] = (),
        voice: str | None = None,
        message: str | None = None,
        audio_code: str | None = None,
        retries: int = 1,
        leave_voicemail: bool = True,
        groups: Sequence[str | int] = (),
    ) -> SendResult:
        """Call every phone (or every member of `groups`) and play `message` read by `voice`,
        or the portal audio `audio_code`. Phones are digits with country code, no ``+``.

        Raises OnurixInvalidRequest before any HTTP request when the arguments break the
        contract; otherwise OnurixNotReached, OnurixUnknownOutcome or OnurixRefused (and its
        subclasses OnurixAuthError, OnurixInsufficientCredits).
        """
        phones, group_ids = _validate_send(
            phones=phones,
            voice=voice,
            message=message,
            audio_code=audio_code,
            retries=retries,
            leave_voicemail=leave_voicemail,
            groups=groups,
        )
        form: dict[str, str] = {"client": self.client_id, "key": self._key}
        if phones:
            form["phone"] = ",".join(phones)
        else:
            form["groups"] = ",".join(group_ids)
        if audio_code is not None:
            form["audio-code"] = audio_code
        else:
            form["voice"] = voice  # type: ignore[assignment]
            form["message"] = message  # type: ignore[assignment]
        form["retries"] = str(retries)
        form["leave-voicemail"] = "true" if leave_voicemail else "false"

        body = self._request("POST", "/call/send", data=form, expected=dict)
        if "id" not in body and "data" not in body:
            raise OnurixUnknownOutcome(
                "Unexpected answer from Onurix to call/send: no dispatch id and no data",
                status=200,
            )
        if _says_failure(body.get("status")) and not _as_items(body.get("data")):
            # A 200 that says it failed and lists no call: nothing was placed, by its words.
            raise self._status_refusal(body)
        calls = tuple(
            CallItem(
                call_id=_text(item.get("id")),
                phone=_text(item.get("phone")),
                state=_text(item.get("state")),
                credits=_decimal(item.get("credits")),
            )
            for item in _as_items(body.get("data"))
        )
        return SendResult(dispatch_id=_text(body.get("id")), calls=calls, raw=body)

    def messages_state(self, *, id: str) -> tuple[MessageState, ...]:
        """States of the calls of one send (`id` = dispatch id) or of one call (call id).

        Raises OnurixInvalidRequest for a blank id; otherwise OnurixNotReached,
        OnurixUnknownOutcome or OnurixRefused (an unknown id is refused).
        """
        if not isinstance(id, str) or not id.strip():
            raise OnurixInvalidRequest("id must be a non-empty dispatch or call id")
        body = self._request("GET", "/messages-state", params={"id": id.strip()}, expected=object)
        # Tolerate a list, a list or object wrapped in "data", a single state object, or an
        # object keyed by call id.
        if isinstance(body, dict) and "data" in body:
            body = body["data"]
        if isinstance(body, dict) and ("id" in body or "state" in body):
            items = [body]
        elif isinstance(body, dict):
            items = [
                {"id": key, **value}
                for key, value in body.items()
                if isinstance(value, dict) and "state" in value
            ]
        else:
            items = _as_items(body)
        if not items and not isinstance(body, list):
            raise OnurixUnknownOutcome(
                "Unexpected answer from Onurix to messages-state: no list of states"
            )
        return tuple(
            MessageState(
                id=_text(item.get("id")),
                phone=_text(item.get("phone")),
                state=_text(item.get("state")),
                credits=_decimal(item.get("credits")),
                raw=item,
            )
            for item in items
        )

    def balance(self) -> Balance:
        """Credits available: ``balance`` (or ``saldo``, ``credits``) as a number or a
        string, at the top level or under ``data``. An answer that says none of these is
        a Balance whose credits are None: Onurix answered, it did not tell. Raises
        OnurixNotReached, OnurixUnknownOutcome or OnurixRefused."""
        body = self._request("GET", "/balance", expected=dict)
        for holder in (body, body.get("data")):
            if not isinstance(holder, dict):
                continue
            for name in _BALANCE_KEYS:
                if name in holder and _is_number(holder[name]):
                    return Balance(credits=_decimal(holder[name]), raw=body)
        if _says_failure(body.get("status")):
            raise self._status_refusal(body)
        logger.warning("Onurix answered the balance without one we can read: keys %s", list(body))
        return Balance(credits=None, raw=body)

    def block_phone(self, *, phone: str, channel: str) -> BlockResult:
        """Add `phone` (digits with country code, no ``+``) to Onurix's do-not-contact list
        for `channel` (one of BLOCK_CHANNELS). No unblock endpoint is known: this cannot
        be undone through the API. Blocking twice is harmless, so a failed request may be
        sent again.

        Raises OnurixInvalidRequest before any HTTP request for a bad phone or channel;
        otherwise OnurixNotReached, OnurixUnknownOutcome or OnurixRefused.
        """
        if not isinstance(phone, str) or not _PHONE.fullmatch(phone):
            raise OnurixInvalidRequest(
                f"Invalid phone {phone!r}: digits with country code, no + (573150123456)"
            )
        if channel not in BLOCK_CHANNELS:
            raise OnurixInvalidRequest(f"channel must be one of {', '.join(BLOCK_CHANNELS)}")
        form = {"client": self.client_id, "key": self._key, "phone": phone, "channel": channel}
        body = self._request("POST", "/block-phone", data=form, expected=dict)
        if _says_failure(body.get("status")):
            raise self._status_refusal(body)
        return BlockResult(phone=phone, channel=channel, raw=body)

    def _status_refusal(self, body: dict) -> OnurixRefused:
        """The refusal a 200 whose `status` says it failed stands for, read like any
        other refusal (its words may say credentials or credits)."""
        message = self._redact(_text(body.get("msg") or body.get("message"))[:_BODY_SNIPPET])
        kind = onurix_codes.refusal_kind(
            status=200,
            code=None,
            message=message,
            auth_codes=self.auth_codes,
            credits_codes=self.credits_codes,
        )
        return _REFUSALS.get(kind, OnurixRefused)(
            f"Onurix answered status {body.get('status')!r}: {message or 'no detail'}",
            status=200,
            onurix_message=message,
        )

    # -- transport -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        expected: type,
    ) -> object:
        """One HTTP request; the decoded JSON body (key scrubbed) or an OnurixError."""
        if method == "GET":
            params = {"client": self.client_id, "key": self._key, **(params or {})}
        try:
            # Built apart from sending, so that a failure here is known to have sent
            # nothing (a text that cannot be encoded: a lone surrogate, say).
            prepared = self._session.prepare_request(
                requests.Request(method, self.base_url + path, params=params, data=data)
            )
        except (UnicodeError, ValueError, TypeError, requests.RequestException) as exc:
            raise OnurixInvalidRequest(
                self._redact(f"The request could not be built, nothing was sent: {exc}")
            ) from None
        environment = self._session.merge_environment_settings(prepared.url, {}, None, None, None)
        started = time.perf_counter()
        try:
            response = self._session.send(prepared, timeout=self.timeout, **environment)
        except requests.RequestException as exc:
            logger.debug(
                "Onurix %s %s failed after %.0f ms: %s",
                method,
                path,
                (time.perf_counter() - started) * 1000,
                type(exc).__name__,
            )
            # from None: the cause's text holds the URL, and with it the key for GETs.
            raise _error_for(redact=self._redact, transport_error=exc) from None
        logger.debug(
            "Onurix %s %s -> %s in %.0f ms",
            method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        try:
            body = response.json()
        except ValueError:  # requests' JSONDecodeError included
            body = _NOT_JSON
        else:
            body = self._redact.scrub(body)
        error = _error_for(
            redact=self._redact,
            status=response.status_code,
            body=body,
            text=response.text if body is _NOT_JSON else "",
            expected=expected,
            auth_codes=self.auth_codes,
            credits_codes=self.credits_codes,
        )
        if error is not None:
            raise error
        return body


def _validate_send(
    *,
    phones: Sequence[str],
    voice: str | None,
    message: str | None,
    audio_code: str | None,
    retries: int,
    leave_voicemail: bool,
    groups: Sequence[str | int],
) -> tuple[list[str], list[str]]:
    """Phones and group ids as sent. Raises OnurixInvalidRequest on any broken rule."""
    if isinstance(phones, str) or isinstance(groups, str):
        raise OnurixInvalidRequest("phones and groups must be sequences, not a single string")
    phones = list(phones)
    for phone in phones:
        if not isinstance(phone, str) or not _PHONE.fullmatch(phone):
            raise OnurixInvalidRequest(
                f"Invalid phone {phone!r}: digits with country code, no + (573150123456)"
            )
    group_ids = []
    for group in groups:
        if isinstance(group, bool) or not _GROUP_ID.fullmatch(str(group)):
            raise OnurixInvalidRequest(f"Invalid group id {group!r}")
        group_ids.append(str(group))
    if not phones and not group_ids:
        raise OnurixInvalidRequest("Give phones or groups")
    if phones and group_ids:
        raise OnurixInvalidRequest("Give phones or groups, not both")
    if audio_code is not None:
        if voice is not None or message is not None:
            raise OnurixInvalidRequest("audio_code cannot be combined with voice or message")
        if not isinstance(audio_code, str) or not audio_code.strip():
            raise OnurixInvalidRequest("audio_code must be a non-empty string")
    else:
        if voice is None and message is None:
            raise OnurixInvalidRequest("Give voice and message, or audio_code")
        if voice not in VOICES:
            raise OnurixInvalidRequest(f"voice must be one of {', '.join(VOICES)}")
        if not isinstance(message, str) or not message.strip():
            raise OnurixInvalidRequest("message is required with voice")
    if type(retries) is not int or not 1 <= retries <= 3:
        raise OnurixInvalidRequest("retries must be an integer from 1 to 3")
    if not isinstance(leave_voicemail, bool):
        raise OnurixInvalidRequest("leave_voicemail must be True or False")
    return phones, group_ids


# -- factory -------------------------------------------------------------------------------

DEFAULT_TIMEOUT_SECONDS = 10.0
# Connecting takes a round trip; waiting longer than ~3 s (just over the 3 s TCP SYN
# retransmit) means the server is unreachable, while the answer may legitimately be slow.
MAX_CONNECT_TIMEOUT_SECONDS = 3.05


def get_onurix_client() -> OnurixClient:
    """The client configured by Django settings ONURIX_BASE_URL, ONURIX_CLIENT_ID, ONURIX_KEY,
    ONURIX_TIMEOUT (seconds, default 10: read timeout t, connect timeout min(3.05, t)) and
    the operator's extra codes ONURIX_AUTH_CODES and ONURIX_CREDITS_CODES.

    One client (and its connection pool) per distinct settings, reused across calls.
    Raises django.core.exceptions.ImproperlyConfigured when a setting is missing.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    base_url = getattr(settings, "ONURIX_BASE_URL", "https://www.onurix.com/api/v1")
    client_id = getattr(settings, "ONURIX_CLIENT_ID", None)
    key = getattr(settings, "ONURIX_KEY", None)
    if not base_url or client_id in (None, "") or not key:
        raise ImproperlyConfigured("ONURIX_BASE_URL, ONURIX_CLIENT_ID and ONURIX_KEY must be set")
    timeout = float(getattr(settings, "ONURIX_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))
    auth_codes = tuple(getattr(settings, "ONURIX_AUTH_CODES", ()))
    credits_codes = tuple(getattr(settings, "ONURIX_CREDITS_CODES", ()))
    return _cached_client(
        str(base_url), str(client_id), str(key), timeout, auth_codes, credits_codes
    )


@functools.lru_cache(maxsize=8)
def _cached_client(
    base_url: str,
    client_id: str,
    key: str,
    timeout: float,
    auth_codes: tuple[int, ...],
    credits_codes: tuple[int, ...],
) -> OnurixClient:
    return OnurixClient(
        base_url,
        client_id,
        key,
        timeout=(min(MAX_CONNECT_TIMEOUT_SECONDS, timeout), timeout),
        auth_codes=auth_codes,
        credits_codes=credits_codes,
    )
