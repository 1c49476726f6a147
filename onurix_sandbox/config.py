"""Settings of the sandbox: one frozen dataclass, changed at runtime by replacing it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_RATE_FIELDS = ("error_520_rate", "hang_rate", "drop_rate")
_WEIGHT_FIELDS = ("answered_rate", "rejected_rate", "error_rate")


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
