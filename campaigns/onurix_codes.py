"""Every Onurix error code and wording the product acts on, in one place.

Onurix documents no error codes. `1003` (bad credentials) comes from third-party code;
`1001` and `1050` are the sandbox's (keep equal to onurix_sandbox/api.py). The live
service may answer other codes and other words for the same thing, so a refusal is
read three ways, in this order:

1. its code, against the built-in sets below plus the operator's own
   (`ONURIX_AUTH_CODES`, `ONURIX_CREDITS_CODES`: taught without a release);
2. its wording, against the patterns below (Spanish and English);
3. whatever it says, a refusal placed no call: the dispatcher queues its phones again and
   pauses the campaign after `ONURIX_REFUSAL_BREAKER` refusals in a row, showing
   Onurix's own message. A refusal that names one of the requested phones fails that
   phone alone.

docs/onurix-api.md lists these with the rest of what we assume about Onurix's answers.
Pure module: no Django, no HTTP.
"""

import re
from collections.abc import Iterable

# The built-in codes. 1001: client or key missing; 1003: bad credentials (also seen for a
# server IP not allowed in the portal).
AUTH_CODES = frozenset({1001, 1003})
# 1050: not enough credits for the send (nothing charged).
CREDITS_CODES = frozenset({1050})

# Words that mean "your key, account or server IP is not accepted".
AUTH_TEXT = re.compile(
    r"credencial|\bIP\b|autenticaci|no autorizad|unauthori[sz]ed|\bkey\b|\bclave\b|api.?key",
    re.I,
)
# Words that mean "not enough credits".
CREDITS_TEXT = re.compile(
    r"saldo|cr[ée]ditos?\s+(in)?suficientes?|insufficient|sin cr[ée]ditos|no tiene cr[ée]ditos",
    re.I,
)

AUTH = "auth"  # pause the campaign: credentials or IP (waits for a person)
CREDITS = "credits"  # pause the campaign: credits ran out (waits for a person)
REFUSED = "refused"  # anything else: queue again, count toward the refusal breaker


def refusal_kind(
    *,
    status: int | None,
    code: int | None,
    message: str,
    auth_codes: Iterable[int] = (),
    credits_codes: Iterable[int] = (),
) -> str:
    """AUTH, CREDITS or REFUSED for a refusal with this HTTP status, code and message."""
    if status in (401, 403) or code in AUTH_CODES or code in set(auth_codes):
        return AUTH
    if code in CREDITS_CODES or code in set(credits_codes):
        return CREDITS
    # Credits first: "No tiene créditos suficientes en la cuenta" is not about the key.
    if CREDITS_TEXT.search(message):
        return CREDITS
    if AUTH_TEXT.search(message):
        return AUTH
    return REFUSED


_DIGIT_RUN = re.compile(r"\+?\d[\d \-]{6,}\d")
# Shorter digit runs are not phones (a code, an amount).
MIN_PHONE_DIGITS = 7


_NOT_DIGIT = re.compile(r"\D")


def phone_digits(text: str) -> str:
    text = str(text)
    return text if text.isdigit() else _NOT_DIGIT.sub("", text)


def same_phone(ours: str, theirs: str) -> bool:
    """Whether a phone Onurix wrote (`theirs`: with or without the country code, `+`,
    spaces) is `ours` (digits with the country code): equal digits, or one ends with the
    other and the shorter has at least MIN_PHONE_DIGITS digits."""
    a, b = phone_digits(ours), phone_digits(theirs)
    if not a or not b:
        return False
    if a == b:
        return True
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return len(shorter) >= MIN_PHONE_DIGITS and longer.endswith(shorter)


def named_phone(message: str, phones: Iterable[str]) -> str | None:
    """The one requested phone a refusal's message names (in any format), or None when
    it names none or several."""
    phones = list(phones)
    named = {
        phone
        for run in _DIGIT_RUN.findall(message or "")
        for phone in phones
        if same_phone(phone, run)
    }
    return named.pop() if len(named) == 1 else None
