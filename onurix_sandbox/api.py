"""The fake Onurix account: validation, credits, dispatches and call states, without HTTP.

Error codes answered with HTTP 400 as ``{"error": <code>, "msg": "<Spanish text>"}``.
Onurix documents none of them but suggests 1003 for bad credentials; the others are ours.
The two the client tells apart are duplicated in ``campaigns/onurix.py``
(``ERROR_CODE_BAD_CREDENTIALS``, ``ERROR_CODE_INSUFFICIENT_CREDITS``): keep them equal.
1096 to 1099 are answered only by the ``spanish_refusals`` dialect and are deliberately
absent from the client: they stand for codes nobody has seen yet.

======  =======================================================================
code    rule
======  =======================================================================
1001    ``client`` or ``key`` missing
1003    bad credentials (unknown client, wrong key); also the IP not allowed
        (``ip_blocked``: "IP no autorizada: agregue la IP del servidor en el menú
        Seguridad"), checked before credentials and parameters
1010    ``phone`` missing (and no ``groups``)
1011    a phone is not 8 to 15 digits (country code, no ``+``); with ``batch_reject``
        also "El número <phone as sent> no es válido" for an invalid number
1012    more phones than ``max_phones_per_request``
1013    ``phone`` combined with ``groups``
1014    unknown group id in ``groups``
1015    ``channel`` of block-phone missing or not one of SMS, CALL, WA, ALL
1016    ``batch_reject``: "El número <phone> está bloqueado" for a phone blocked for
        calls (block-phone with channel CALL or ALL)
1020    ``voice`` missing or not one of the seven voices (without ``audio-code``)
1021    ``message`` missing or blank (without ``audio-code``)
1030    ``audio-code`` combined with ``voice`` or ``message``
1040    ``retries`` not an integer from 1 to 3
1041    ``leave-voicemail`` not a boolean (true/false/1/0, any case)
1050    not enough credits (balance < phones x credits_per_call): nothing charged
1060    ``id`` of messages-state is neither a dispatch id nor a call id
1061    ``id`` of messages-state missing
1096    ``batch_reject`` + ``spanish_refusals``: "El número <phone> no es válido"
1097    ``spanish_refusals``: IP not allowed, "La IP no está autorizada"
1098    ``spanish_refusals``: bad credentials, "Key inválida"
1099    ``spanish_refusals``: not enough credits, "No tiene créditos suficientes"
======  =======================================================================

Other answers: 520 ``{"error": 500, "msg": "Error interno"}`` (``error_520_rate``),
404 ``{"error": 404, ...}`` for an unknown path, 405 ``{"error": 405, ...}`` for a wrong method.

Invalid numbers: a well-formed phone ending with ``invalid_phone_suffix`` (default empty:
none; tests set e.g. ``99999``) is a line that does not exist. The standard answer accepts it
with the others: its ``data`` item and its messages-state say ``Rechazado`` with credits 0
from the start, and it is never charged. It still counts toward ``max_phones_per_request``
and is listed by ``/_sandbox/calls``.

Blocked phones: ``POST /block-phone`` (``phone``, ``channel``) adds a phone to the account's
do-not-contact list, which Onurix keeps for Habeas Data; there is no unblock (none is
documented) but ``/_sandbox/reset`` forgets the list. It answers
``{"status": "1", "msg": "Número bloqueado", "data": {"phone", "channel"}}`` (the shape is
ours: Onurix documents none). A phone blocked for ``CALL`` or ``ALL`` is never called
again: a later send answers it like an invalid number, ``Rechazado`` with credits 0 and
never charged (with ``batch_reject``, the whole send is refused with 1016). Blocking for
``SMS`` or ``WA`` does not stop calls.

Dialects (``SandboxConfig.dialect``, names in ``onurix_sandbox.config.DIALECTS``): how the
real service may shape its answers where the documentation is silent. ``standard`` is the
shapes above; the others change only what they name and combine freely (except
``phones_national`` with ``phones_plus``):

- ``phones_national``: echoed ``phone`` (send ``data``, messages-state) without a leading
  ``57``: ``3150123456``. ``phones_plus``: ``+573150123456``. Inspection endpoints and
  error messages keep the phone as sent.
- ``numbers_as_strings``: ``credits``, ``balance`` and every ``error`` code of an
  ``/api/v1`` answer (also 404, 405, 520) are strings: ``"1"``, ``"99996"``, ``"1050"``.
- ``status_number``: ``status`` is ``1`` (send, and the ``balance_in_data`` wrapper).
- ``spanish_refusals``: bad credentials 1098, IP not allowed 1097, not enough credits 1099,
  invalid number under ``batch_reject`` 1096 (wording in the table). Missing client/key
  and parameter errors keep their codes.
- ``batch_reject``: a send with any invalid number is refused whole (1011 or 1096), after
  the ``max_phones_per_request`` check and before the other parameters; nothing is charged
  or recorded.
- ``states_object``: messages-state answers ``{"<call id>": {"state", "credits", "phone",
  "dispatch_id"}}`` instead of a list.
- ``states_caps``: ``ENVIADO``, ``ENTREGADO``, ``rechazado``,
  ``ERROR:1081 MSG: DESTINO INACCESIBLE`` (send ``data`` and messages-state).
- ``balance_in_data``: ``{"status": "1", "data": {"balance": <n>}}``.

Choices where the contract says "unknown":
- A phone is 8 to 15 digits; spaces around commas are ignored.
- An ``audio-code`` send answers each item with ``"audio-code"`` instead of
  ``"message"``/``"voice"``.
- ``groups`` and its alias ``group`` call the members of fixed groups (see ``GROUPS``).
- A call's final state is decided at send time from (seed, phone, call index since the last
  reset) and shown once ``settle_seconds`` (as configured at send time) have passed.
  ``Rechazado`` refunds its credits to the balance at that moment and then shows credits 0.
- Fault rates (520, hang, drop) apply to every ``/api/v1`` request, not only sends.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from onurix_sandbox.config import SandboxConfig

# Duplicated in campaigns/onurix.py (the sandbox never imports campaigns): keep equal.
ERROR_MISSING_CREDENTIALS = 1001
ERROR_BAD_CREDENTIALS = 1003
ERROR_PHONE_MISSING = 1010
ERROR_PHONE_INVALID = 1011
ERROR_TOO_MANY_PHONES = 1012
ERROR_PHONE_WITH_GROUPS = 1013
ERROR_UNKNOWN_GROUP = 1014
ERROR_CHANNEL_INVALID = 1015
ERROR_PHONE_BLOCKED = 1016
ERROR_VOICE_INVALID = 1020
ERROR_MESSAGE_MISSING = 1021
ERROR_AUDIO_CODE_COMBINED = 1030
ERROR_RETRIES_INVALID = 1040
ERROR_LEAVE_VOICEMAIL_INVALID = 1041
ERROR_INSUFFICIENT_CREDITS = 1050
ERROR_UNKNOWN_ID = 1060
ERROR_ID_MISSING = 1061
ERROR_INTERNAL = 500
# Only the spanish_refusals dialect answers these: not in campaigns/onurix.py on purpose.
ERROR_SPANISH_NUMBER_INVALID = 1096
ERROR_SPANISH_IP_BLOCKED = 1097
ERROR_SPANISH_BAD_CREDENTIALS = 1098
ERROR_SPANISH_INSUFFICIENT_CREDITS = 1099

VOICES = ("Mariana", "Penelope", "Conchita", "Mia", "Lucia", "Enrique", "Miguel")
BLOCK_CHANNELS = ("SMS", "CALL", "WA", "ALL")
# Blocking one of these stops calls.
_CALL_BLOCKS = frozenset({"CALL", "ALL"})

STATE_SENT = "Enviado"
STATE_DELIVERED = "Entregado"
STATE_REJECTED = "Rechazado"
STATE_ERROR = "Error:1081 msg: Destino inaccesible"
_STATES_CAPS = {
    STATE_SENT: "ENVIADO",
    STATE_DELIVERED: "ENTREGADO",
    STATE_REJECTED: "rechazado",
    STATE_ERROR: STATE_ERROR.upper(),
}

# Contact groups "kept on the platform"; fixed because the sandbox has no group endpoints.
GROUPS: dict[str, tuple[str, ...]] = {
    "1": ("573001000001", "573001000002", "573001000003"),
    "2": ("573002000001", "573002000002"),
}

_PHONE = re.compile(r"\d{8,15}")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_ZERO = Decimal(0)


class ApiError(Exception):
    """An Onurix error answer: HTTP status plus the JSON body's code and Spanish message."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg


class Dialect:
    """The names of `SandboxConfig.dialect` as flags and lookup tables, built once per config
    change so that building an answer costs a few attribute reads."""

    def __init__(self, dialect: str) -> None:
        names = set(dialect.split(","))  # validated by SandboxConfig
        self.phones_national = "phones_national" in names
        self.phones_plus = "phones_plus" in names
        self.numbers_as_strings = "numbers_as_strings" in names
        self.spanish_refusals = "spanish_refusals" in names
        self.batch_reject = "batch_reject" in names
        self.states_object = "states_object" in names
        self.balance_in_data = "balance_in_data" in names
        self.status: int | str = 1 if "status_number" in names else "1"
        self.state_texts: dict[str, str] = (
            _STATES_CAPS if "states_caps" in names else {state: state for state in _STATES_CAPS}
        )

    def phone(self, phone: str) -> str:
        """`phone` as this dialect echoes it."""
        if self.phones_national:
            return phone[2:] if phone.startswith("57") else phone
        if self.phones_plus:
            return "+" + phone
        return phone

    def number(self, value: Decimal) -> int | float | str:
        """A credits or balance amount as this dialect writes it."""
        number = json_number(value)
        return str(number) if self.numbers_as_strings else number

    def error_body(self, code: int, msg: str) -> dict[str, object]:
        return {"error": str(code) if self.numbers_as_strings else code, "msg": msg}


@dataclass(frozen=True)
class CallRecord:
    """One accepted call. `final_state` is fixed at send time and shown after `settle_at`."""

    call_id: str
    dispatch_id: str
    phone: str
    index: int
    at: float  # wall clock, for humans
    settle_at: float  # time.monotonic() after which the final state shows
    credits: Decimal
    final_state: str
    voice: str | None
    message: str | None
    audio_code: str | None
    retries: int
    leave_voicemail: bool
    invalid_number: bool = False  # ends with invalid_phone_suffix: Rechazado, never charged
    blocked: bool = False  # blocked for calls by block-phone: Rechazado, never charged


def json_number(value: Decimal) -> int | float:
    """Decimal as a JSON-friendly number: an int when integral."""
    return int(value) if value == value.to_integral_value() else float(value)


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def outcome_for(config: SandboxConfig, phone: str, index: int) -> str:
    """The final state of call number `index` to `phone`: same seed, same answer."""
    digest = hashlib.sha256(f"{config.seed}:{phone}:{index}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    total = config.answered_rate + config.rejected_rate + config.error_rate
    if total <= 0:
        return STATE_DELIVERED
    draw *= total
    if draw < config.answered_rate:
        return STATE_DELIVERED
    if draw < config.answered_rate + config.rejected_rate:
        return STATE_REJECTED
    return STATE_ERROR


def busiest_second(arrivals: list[float]) -> int:
    """The most requests that arrived within any one second (a sliding window): what an
    account limit of N requests a second would count. For /_sandbox/traffic's times."""
    arrivals = sorted(arrivals)
    most, start = 0, 0
    for end, at in enumerate(arrivals):
        while at - arrivals[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


class SandboxState:
    """Balance, dispatches and calls of the one sandbox account. Thread-safe.

    Every lookup is by dict key and settlement pops a heap, so a request costs the same
    whether 10 or 10 million calls were recorded.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._dialect = Dialect(config.dialect)
        self._reset_locked()

    def _reset_locked(self) -> None:
        self._balance: Decimal = self._config.balance  # type: ignore[assignment]
        self._calls: list[CallRecord] = []
        self._calls_by_id: dict[str, CallRecord] = {}
        self._dispatches: dict[str, list[CallRecord]] = {}
        self._pending: list[tuple[float, int, CallRecord]] = []
        self._index = itertools.count()
        self._faults = random.Random(self._config.seed)
        self._traffic: list[list] = []  # [path, arrived, finished], wall-clock seconds
        self._in_flight = 0
        self._max_in_flight = 0
        self._blocked: dict[str, set[str]] = {}  # phone as sent -> channels blocked

    # -- inspection, for tests and the /_sandbox endpoints ---------------------------------

    @property
    def config(self) -> SandboxConfig:
        return self._config

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def balance(self) -> Decimal:
        with self._lock:
            self._settle_due_locked(time.monotonic())
            return self._balance

    @property
    def call_count(self) -> int:
        return len(self._calls)

    def calls(self) -> list[CallRecord]:
        """Every call accepted since the last reset, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_summary(self) -> dict[str, object]:
        calls = self.calls()
        return {
            "calls": [
                {
                    "phone": call.phone,
                    "dispatch_id": call.dispatch_id,
                    "call_id": call.call_id,
                    "at": datetime.fromtimestamp(call.at, UTC).isoformat(timespec="milliseconds"),
                }
                for call in calls
            ],
            "count": len(calls),
        }

    def blocked(self) -> dict[str, list[str]]:
        """The phones blocked by block-phone since the last reset, with their channels."""
        with self._lock:
            return {phone: sorted(channels) for phone, channels in self._blocked.items()}

    # The API traffic as Onurix would see it, to check a client's rate and concurrency:
    # when each request arrived and was answered, and the most in flight at once.
    TRAFFIC_KEPT = 200_000

    def request_began(self, path: str) -> list:
        with self._lock:
            entry = [path, time.time(), None]
            if len(self._traffic) >= self.TRAFFIC_KEPT:
                del self._traffic[: self.TRAFFIC_KEPT // 2]
            self._traffic.append(entry)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            return entry

    def request_ended(self, entry: list) -> None:
        with self._lock:
            entry[2] = time.time()
            self._in_flight -= 1

    def traffic_summary(self) -> dict[str, object]:
        with self._lock:
            requests = [
                {"path": path, "arrived": arrived, "finished": finished}
                for path, arrived, finished in self._traffic
            ]
            return {"requests": requests, "max_in_flight": self._max_in_flight}

    def reset(self) -> None:
        """Forget calls and dispatches, restore the configured balance and fault sequence."""
        with self._lock:
            self._reset_locked()

    def configure(self, **changes: object) -> SandboxConfig:
        """Change config fields at runtime. `balance` also sets the current balance; `seed`
        restarts the fault sequence. Raises ValueError on an unknown field or bad value."""
        with self._lock:
            self._config = self._config.replace(**changes)
            self._dialect = Dialect(self._config.dialect)
            if "balance" in changes:
                self._balance = self._config.balance  # type: ignore[assignment]
            if "seed" in changes:
                self._faults = random.Random(self._config.seed)
            return self._config

    # -- faults ----------------------------------------------------------------------------

    def draw_fault(self) -> float:
        with self._lock:
            return self._faults.random()

    # -- the API ---------------------------------------------------------------------------

    def _check_auth(self, fields: dict[str, list[str]]) -> None:
        spanish = self._dialect.spanish_refusals
        if self._config.ip_blocked:
            # Onurix filters by IP before it looks at the request.
            if spanish:
                raise ApiError(400, ERROR_SPANISH_IP_BLOCKED, "La IP no está autorizada")
            raise ApiError(
                400,
                ERROR_BAD_CREDENTIALS,
                "IP no autorizada: agregue la IP del servidor en el menú Seguridad",
            )
        client, key = _first(fields, "client"), _first(fields, "key")
        if _blank(client) or _blank(key):
            raise ApiError(
                400, ERROR_MISSING_CREDENTIALS, "Los campos client y key son obligatorios"
            )
        if client.strip() != self._config.client_id or key != self._config.key:
            if spanish:
                raise ApiError(400, ERROR_SPANISH_BAD_CREDENTIALS, "Key inválida")
            raise ApiError(400, ERROR_BAD_CREDENTIALS, "Credenciales inválidas")

    def _phones_from(self, fields: dict[str, list[str]]) -> list[str]:
        phone = _first(fields, "phone")
        groups = _first(fields, "groups")
        if groups is None:
            groups = _first(fields, "group")
        if not _blank(phone) and not _blank(groups):
            raise ApiError(
                400, ERROR_PHONE_WITH_GROUPS, "No se puede enviar phone y groups a la vez"
            )
        if not _blank(groups):
            phones: list[str] = []
            for group_id in (part.strip() for part in groups.split(",")):
                if group_id not in GROUPS:
                    raise ApiError(400, ERROR_UNKNOWN_GROUP, f"El grupo {group_id} no existe")
                phones.extend(GROUPS[group_id])
            return phones
        if _blank(phone):
            raise ApiError(400, ERROR_PHONE_MISSING, "El campo phone es obligatorio")
        phones = [part.strip() for part in phone.split(",")]
        for candidate in phones:
            if not _PHONE.fullmatch(candidate):
                raise ApiError(
                    400,
                    ERROR_PHONE_INVALID,
                    "El número de teléfono no es válido: use solo dígitos con el indicativo "
                    "del país, sin +",
                )
        return phones

    def send(self, fields: dict[str, list[str]]) -> tuple[dict[str, object], int]:
        """POST /call/send. Returns (body, phones called). Raises ApiError."""
        with self._lock:
            config, dialect = self._config, self._dialect
            self._check_auth(fields)
            phones = self._phones_from(fields)
            if len(phones) > config.max_phones_per_request:
                raise ApiError(
                    400,
                    ERROR_TOO_MANY_PHONES,
                    f"Se permiten máximo {config.max_phones_per_request} números por solicitud",
                )
            suffix = config.invalid_phone_suffix
            invalid = (
                {i for i, phone in enumerate(phones) if phone.endswith(suffix)} if suffix else set()
            )
            blocked = {
                i
                for i, phone in enumerate(phones)
                if not _CALL_BLOCKS.isdisjoint(self._blocked.get(phone, ()))
            }
            if blocked and dialect.batch_reject:
                phone = phones[min(blocked)]
                raise ApiError(400, ERROR_PHONE_BLOCKED, f"El número {phone} está bloqueado")
            invalid |= blocked
            if invalid and dialect.batch_reject:
                code = ERROR_PHONE_INVALID
                if dialect.spanish_refusals:
                    code = ERROR_SPANISH_NUMBER_INVALID
                raise ApiError(400, code, f"El número {phones[min(invalid)]} no es válido")
            voice, message = _first(fields, "voice"), _first(fields, "message")
            audio_code = _first(fields, "audio-code")
            if not _blank(audio_code):
                if voice is not None or message is not None:
                    raise ApiError(
                        400,
                        ERROR_AUDIO_CODE_COMBINED,
                        "audio-code no se puede combinar con voice ni con message",
                    )
                voice = message = None
            else:
                audio_code = None
                if voice not in VOICES:
                    raise ApiError(
                        400,
                        ERROR_VOICE_INVALID,
                        "La voz no es válida; use una de: " + ", ".join(VOICES),
                    )
                if _blank(message):
                    raise ApiError(
                        400,
                        ERROR_MESSAGE_MISSING,
                        "El campo message es obligatorio si no se envía audio-code",
                    )
            retries_text = _first(fields, "retries")
            retries_text = "1" if retries_text is None else retries_text.strip()
            if retries_text not in ("1", "2", "3"):
                raise ApiError(
                    400, ERROR_RETRIES_INVALID, "El campo retries debe ser un entero de 1 a 3"
                )
            voicemail_text = _first(fields, "leave-voicemail")
            voicemail_text = "true" if voicemail_text is None else voicemail_text.strip().lower()
            if voicemail_text not in _BOOLEANS:
                raise ApiError(
                    400,
                    ERROR_LEAVE_VOICEMAIL_INVALID,
                    "El campo leave-voicemail debe ser true o false",
                )

            now = time.monotonic()
            self._settle_due_locked(now)
            cost = config.credits_per_call * (len(phones) - len(invalid))
            if self._balance < cost:
                if dialect.spanish_refusals:
                    raise ApiError(
                        400, ERROR_SPANISH_INSUFFICIENT_CREDITS, "No tiene créditos suficientes"
                    )
                raise ApiError(
                    400,
                    ERROR_INSUFFICIENT_CREDITS,
                    "Saldo insuficiente: créditos insuficientes para realizar el envío",
                )
            self._balance -= cost
            dispatch_id = uuid.uuid4().hex
            wall = time.time()
            records = []
            settle_at = now + config.settle_seconds
            for position, phone in enumerate(phones):
                index = next(self._index)
                invalid_number = position in invalid
                record = CallRecord(
                    call_id=uuid.uuid4().hex,
                    dispatch_id=dispatch_id,
                    phone=phone,
                    index=index,
                    at=wall,
                    # An invalid number is Rechazado from the start and never charged.
                    settle_at=now if invalid_number else settle_at,
                    credits=_ZERO if invalid_number else config.credits_per_call,  # type: ignore[arg-type]
                    final_state=(
                        STATE_REJECTED if invalid_number else outcome_for(config, phone, index)
                    ),
                    voice=voice,
                    message=message,
                    audio_code=audio_code,
                    retries=int(retries_text),
                    leave_voicemail=_BOOLEANS[voicemail_text],
                    invalid_number=invalid_number,
                    blocked=position in blocked,
                )
                records.append(record)
                self._calls.append(record)
                self._calls_by_id[record.call_id] = record
                if not invalid_number:
                    heapq.heappush(self._pending, (record.settle_at, index, record))
            self._dispatches[dispatch_id] = records

        states, echo, number = dialect.state_texts, dialect.phone, dialect.number
        data = []
        for record in records:
            item: dict[str, object] = {
                "id": record.call_id,
                "state": states[STATE_REJECTED if record.invalid_number else STATE_SENT],
                "credits": number(record.credits),
            }
            if record.audio_code is not None:
                item["audio-code"] = record.audio_code
            else:
                item["message"] = record.message
            item["phone"] = echo(record.phone)
            if record.voice is not None:
                item["voice"] = record.voice
            data.append(item)
        return {"status": dialect.status, "id": dispatch_id, "data": data}, len(records)

    def block_phone(self, fields: dict[str, list[str]]) -> tuple[dict[str, object], int]:
        """POST /block-phone. Returns (body, 1). Raises ApiError."""
        with self._lock:
            dialect = self._dialect
            self._check_auth(fields)
            phone = _first(fields, "phone")
            if _blank(phone):
                raise ApiError(400, ERROR_PHONE_MISSING, "El campo phone es obligatorio")
            phone = phone.strip()
            if not _PHONE.fullmatch(phone):
                raise ApiError(
                    400,
                    ERROR_PHONE_INVALID,
                    "El número de teléfono no es válido: use solo dígitos con el indicativo "
                    "del país, sin +",
                )
            channel = (_first(fields, "channel") or "").strip()
            if channel not in BLOCK_CHANNELS:
                raise ApiError(
                    400,
                    ERROR_CHANNEL_INVALID,
                    "El campo channel debe ser uno de: " + ", ".join(BLOCK_CHANNELS),
                )
            self._blocked.setdefault(phone, set()).add(channel)
        body = {
            "status": dialect.status,
            "msg": "Número bloqueado",
            "data": {"phone": dialect.phone(phone), "channel": channel},
        }
        return body, 1

    def messages_state(
        self, fields: dict[str, list[str]]
    ) -> tuple[list[dict[str, object]] | dict[str, dict[str, object]], int]:
        """GET /messages-state. Returns (body, calls listed): a list, or with the
        states_object dialect an object keyed by call id. Raises ApiError."""
        with self._lock:
            dialect = self._dialect
            self._check_auth(fields)
            wanted = _first(fields, "id")
            if _blank(wanted):
                raise ApiError(400, ERROR_ID_MISSING, "El campo id es obligatorio")
            wanted = wanted.strip()
            records = self._dispatches.get(wanted)
            if records is None:
                call = self._calls_by_id.get(wanted)
                if call is None:
                    raise ApiError(
                        400, ERROR_UNKNOWN_ID, f"No existe un envío ni mensaje con id {wanted}"
                    )
                records = [call]
            now = time.monotonic()
            self._settle_due_locked(now)
        states, echo, number = dialect.state_texts, dialect.phone, dialect.number
        items = []
        for record in records:
            state = record.final_state if now >= record.settle_at else STATE_SENT
            items.append(
                {
                    "id": record.call_id,
                    "state": states[state],
                    "credits": number(_ZERO if state == STATE_REJECTED else record.credits),
                    "phone": echo(record.phone),
                    "dispatch_id": record.dispatch_id,
                }
            )
        if dialect.states_object:
            return {item.pop("id"): item for item in items}, len(items)
        return items, len(items)

    def balance_body(self, fields: dict[str, list[str]]) -> dict[str, object]:
        """GET /balance. Raises ApiError."""
        with self._lock:
            dialect = self._dialect
            self._check_auth(fields)
            self._settle_due_locked(time.monotonic())
            balance = dialect.number(self._balance)
        if dialect.balance_in_data:
            return {"status": dialect.status, "data": {"balance": balance}}
        return {"balance": balance}

    def _settle_due_locked(self, now: float) -> None:
        # Refunds happen when a Rechazado call settles, whoever looks first.
        pending = self._pending
        while pending and pending[0][0] <= now:
            _, _, record = heapq.heappop(pending)
            if record.final_state == STATE_REJECTED:
                self._balance += record.credits
