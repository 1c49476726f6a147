"""Settings of the sandbox: one frozen dataclass, changed at runtime by replacing it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_RATE_FIELDS = ("error_520_rate", "hang_rate", "drop_rate")
_WEIGHT_FIELDS = ("answered_rate", "rejected_rate", "error_rate")

# How the real Onurix may answer where its documentation is silent. Names combine
# ("phones_national,spanish_refusals"); the answers of each are in onurix_sandbox.api.
DIALECTS: dict[str, str] = {
    "standard": "the documentation's example shapes and the sandbox's own error codes",
    "phones_national": "echoed phones without the country code 57 (3150123456)",
    "phones_plus": "echoed phones with + and the country code (+573150123456)",
    "numbers_as_strings": 'every number in answers is a string: credits "1", balance, error codes',
    "status_number": 'status is the number 1, not the string "1"',
    "spanish_refusals": "unknown codes for bad key 1098, blocked IP 1097, no credits 1099",
    "batch_reject": "one invalid number refuses the whole send (1011; 1096 with spanish_refusals)",
    "states_object": "messages-state is an object keyed by call id, not a list",
    "states_caps": "states as ENVIADO, ENTREGADO, rechazado, ERROR:1081 MSG: DESTINO INACCESIBLE",
    "balance_in_data": 'balance answers {"status": "1", "data": {"balance": <n>}}',
}
_DIGITS = re.compile(r"[0-9]*")
_EXCLUSIVE_DIALECTS = ("phones_national", "phones_plus")
_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True}
_BOOLEANS.update({"false": False, "0": False, "no": False, "off": False})


def normalise_dialect(value: object) -> str:
    """`value` ("a,b" or a list of names) as known names joined by commas, in the order of
    DIALECTS; "standard" when empty or alone. Raises ValueError on an unknown name or on
    two dialects that contradict each other."""
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list | tuple) and all(isinstance(part, str) for part in value):
        parts = [name for part in value for name in part.split(",")]
    else:
        raise ValueError(f"dialect must be a string of comma-separated names, got {value!r}")
    names = {part.strip() for part in parts} - {""}
    unknown = names - DIALECTS.keys()
    if unknown:
        raise ValueError(
            f"unknown dialect(s): {', '.join(sorted(unknown))}; "
            f"known dialects: {', '.join(DIALECTS)}"
        )
    if names.issuperset(_EXCLUSIVE_DIALECTS):
        raise ValueError(f"dialects {' and '.join(_EXCLUSIVE_DIALECTS)} cannot be combined")
    chosen = [name for name in DIALECTS if name in names and name != "standard"]
    return ",".join(chosen) or "standard"


def _to_bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text not in _BOOLEANS:
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return _BOOLEANS[text]


def _to_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    try:
        # str() first so that 0.1 becomes Decimal("0.1"), not its binary expansion.
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class SandboxConfig:
    """Behaviour of the fake Onurix account.

    Money fields (`balance`, `credits_per_call`) are normalised to `Decimal`. Fault rates are
    probabilities per API request, drawn from a generator seeded with `seed`; outcome weights
    (`answered_rate`, `rejected_rate`, `error_rate`) are relative and need not sum to 1.
    Raises ValueError on a value out of range.
    """

    client_id: str = "1000"
    key: str = "sandbox-key"
    balance: Decimal | float = Decimal(100000)
    credits_per_call: Decimal | float = Decimal(1)
    latency: float = 0.0
    error_520_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    drop_rate: float = 0.0
    max_phones_per_request: int = 1000
    seed: int = 0
    answered_rate: float = 0.7
    rejected_rate: float = 0.15
    error_rate: float = 0.15
    settle_seconds: float = 2.0
    dialect: str = "standard"
    invalid_phone_suffix: str = ""
    ip_blocked: bool = False

    def __post_init__(self) -> None:
        # Frozen: normalise through object.__setattr__, once, at construction.
        object.__setattr__(self, "client_id", str(self.client_id))
        object.__setattr__(self, "balance", _to_decimal(self.balance, "balance"))
        object.__setattr__(
            self, "credits_per_call", _to_decimal(self.credits_per_call, "credits_per_call")
        )
        for name in ("latency", "hang_seconds", "settle_seconds", *_RATE_FIELDS, *_WEIGHT_FIELDS):
            value = float(getattr(self, name))
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
            object.__setattr__(self, name, value)
        for name in _RATE_FIELDS:
            if getattr(self, name) > 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.hang_rate + self.drop_rate > 1:
            raise ValueError("hang_rate + drop_rate must not exceed 1")
        object.__setattr__(self, "max_phones_per_request", int(self.max_phones_per_request))
        if self.max_phones_per_request < 1:
            raise ValueError("max_phones_per_request must be >= 1")
        object.__setattr__(self, "seed", int(self.seed))
        if self.balance < 0 or self.credits_per_call < 0:
            raise ValueError("balance and credits_per_call must be >= 0")
        if not self.key:
            raise ValueError("key must not be empty")
        object.__setattr__(self, "dialect", normalise_dialect(self.dialect))
        suffix = self.invalid_phone_suffix
        if not isinstance(suffix, str) or not _DIGITS.fullmatch(suffix):
            # A string, not a number: JSON 0 for "00000" would lose the zeros.
            raise ValueError(f"invalid_phone_suffix must be a string of digits, got {suffix!r}")
        object.__setattr__(self, "ip_blocked", _to_bool(self.ip_blocked, "ip_blocked"))

    def replace(self, **changes: object) -> SandboxConfig:
        """A copy with `changes` applied. Raises ValueError on an unknown field or bad value."""
        unknown = set(changes) - {field.name for field in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        # The key stays out of reprs, which end up in logs and test reports.
        shown = ", ".join(
            f"{field.name}={getattr(self, field.name)!r}"
            for field in dataclasses.fields(self)
            if field.name != "key"
        )
        return f"SandboxConfig({shown}, key='***')"
