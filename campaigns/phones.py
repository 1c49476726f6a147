"""The one place where phones typed by people become phones Onurix takes.

Onurix wants digits with the country code and no `+` ("573001234567"). People type
"300 123 4567", "(+57) 300-123-4567", "0057 300 123 4567", or paste Excel cells that became
"573001234567.0" or "3.00123457E+09". `normalize_phone` turns all of these into the one
form or says, in words a person understands, why it cannot.

Digits without `+` are read as a number of the default region first (with or without its
country code), then as an international number (as if they began with `+`), so the output
of `normalize_phone` normalises to itself. Two limits come from the format Onurix takes,
which has no `+`:

* a foreign number whose digits also form a valid number of the region reads as the
  region's number when normalised again (+1 800 555 0123 gives "18005550123", which is
  also a Colombian toll-free number);
* digits shaped like a national number of the region (ten digits starting with 3 in
  Colombia), or of 8 digits or fewer (old Colombian landlines), are never read as
  foreign: they are a local number with a typo, and calling abroad by accident costs
  money. So "3541234567" (Iceland, +354) is refused without `+`.
"""

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

__all__ = [
    "InvalidPhone",
    "default_phone_region",
    "normalize_phone",
    "parse_phone_list",
    "phone_display",
    "phone_search_digits",
]

REASON_EMPTY = _("The phone is empty.")
REASON_LETTERS = _("The phone contains letters.")
REASON_CHARACTERS = _("The phone contains characters that are not part of a phone number.")
REASON_SCIENTIFIC = _(
    "This looks like a number a spreadsheet rounded (like 3.00123457E+09): its last digits "
    "are lost. Format the column as text and export the file again."
)
REASON_TOO_SHORT = _("The phone is too short.")
REASON_TOO_LONG = _("The phone is too long.")
REASON_COUNTRY_CODE = _("The phone starts with a country code that does not exist.")
REASON_INVALID = _("This is not a valid phone number for the country code +{code}.")
REASON_INVALID_CO = _(
    "This is not a valid Colombian number: mobiles have 10 digits and start with 3, "
    "landlines have 10 digits and start with 60. For another country, write + and its "
    "country code."
)

# A phone is written with digits (any script), spaces and - ( ) . / after an optional +.
_SHAPE = re.compile(r"[\s(]*(\+)?[\s(]*(\d[\d\s\-().\u2010-\u2014/]*)")
# Excel turns a number column into "573001234567.0" (or ",0" in Spanish).
_EXCEL_FLOAT = re.compile(r"(\+?\d+)[.,]0+")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_NON_DIGIT = re.compile(r"\D")
# What nearly every file holds, in ASCII: digits grouped by spaces, hyphens or brackets
# after an optional "+" ("(+57) 300-123 4567"), or Excel's "573001234567.0". Each reads
# the same as through _EXCEL_FLOAT and _SHAPE, with one pattern instead of three.
_COMMON_SHAPE = re.compile(r"[ (]*(\+)?[ (]*([0-9][0-9 ()\-]*)|(\+)?([0-9]+)[.,]0+")
# Longer than any E.164 number and its prefixes: not worth parsing.
_MAX_DIGITS = 17
# Digits without + read as a foreign number only from 9 digits on: shorter ones are old
# Colombian landlines ("648 1100", "4 444 1234"), not numbers abroad.
_MIN_FOREIGN_DIGITS = 9


class InvalidPhone(ValueError):
    """A text that is not a phone Onurix can call; `reason` says why, translatable."""

    def __init__(self, reason: Promise | str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.reason)


def default_phone_region() -> str:
    """The region a phone without a country code belongs to (ONURIX_PHONE_REGION, "CO")."""
    return getattr(settings, "ONURIX_PHONE_REGION", "CO")


class _Region:
    """What the fast path needs to know about a region, read once from phonenumbers."""

    def __init__(self, region: str):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            raise ValueError(f"Unknown phone region {region!r}")
        self.code = str(metadata.country_code)
        general = metadata.general_desc
        self.general = re.compile(general.national_number_pattern)
        # Fixed lines and mobiles: what an import is almost entirely made of. One pattern
        # asks what phonenumbers would: a length the region has, the region's general
        # pattern, and the pattern of a fixed line or a mobile among that type's lengths.
        kinds = [
            rf"(?=(?:{_lengths(desc.possible_length)})\Z)(?:{desc.national_number_pattern})"
            for desc in (metadata.mobile, metadata.fixed_line)
            if desc is not None and desc.national_number_pattern and desc.possible_length
        ]
        self.common = re.compile(
            rf"(?=(?:{_lengths(general.possible_length)})\Z)"
            rf"(?=(?:{general.national_number_pattern})\Z)"
            rf"(?:{'|'.join(kinds) or '(?!)'})"
        )
        prefix = metadata.national_prefix_for_parsing
        self.national_prefix = re.compile(prefix) if prefix else None
        # Regions that rewrite the national number while parsing get no fast path.
        self.fast = metadata.national_prefix_transform_rule is None
        mobile_lengths = metadata.mobile.possible_length if metadata.mobile else ()
        self.national_shape_lengths = frozenset(mobile_lengths)

    def is_common(self, national: str) -> bool:
        """Whether `national` (ASCII digits) is surely a valid fixed line or mobile here."""
        return self.common.fullmatch(national) is not None

    def looks_national(self, digits: str) -> bool:
        """Whether `digits` have the length and shape of a local number (a typo, not foreign)."""
        return len(digits) in self.national_shape_lengths and bool(self.general.fullmatch(digits))


def _lengths(lengths) -> str:
    """A pattern for a string of ASCII digits of one of these lengths."""
    return "|".join(f"[0-9]{{{length}}}" for length in sorted(lengths)) or "(?!)"


@lru_cache(maxsize=8)
def _region(region: str) -> _Region:
    return _Region(region)


def _ascii_digits(text: str) -> str:
    digits = _NON_DIGIT.sub("", text)
    if digits.isascii():
        return digits
    return "".join(str(unicodedata.decimal(char)) for char in digits)


def _split(raw: str) -> tuple[bool, str]:
    """Split a typed phone into (has a `+` or `00` prefix, its digits); raise if unusable."""
    text = raw.strip()
    common = _COMMON_SHAPE.fullmatch(text)
    if common is not None:
        plus, digits = _common_parts(common)
    else:
        plus, digits = _general_parts(text)
    if not plus and digits.startswith("00"):
        # With region CO, phonenumbers reads "0057..." as carrier 005 then +7: see traps.md.
        plus, digits = True, digits[2:]
    if len(digits) > _MAX_DIGITS:
        raise InvalidPhone(REASON_TOO_LONG)
    return plus, digits


def _common_parts(common: re.Match) -> tuple[bool, str]:
    """(plus, digits) of a text `_COMMON_SHAPE` matched: what `_general_parts` gives it."""
    plus, grouped, excel_plus, excel_digits = common.groups()
    if excel_digits is not None:
        return excel_plus is not None, excel_digits
    return plus is not None, _NON_DIGIT.sub("", grouped)


def _general_parts(text: str) -> tuple[bool, str]:
    """(plus, digits) of any stripped text; raise if it is not shaped like a phone."""
    if not text:
        raise InvalidPhone(REASON_EMPTY)
    excel_float = _EXCEL_FLOAT.fullmatch(text)
    if excel_float:
        text = excel_float.group(1)
    elif _SCIENTIFIC.fullmatch(text):
        raise InvalidPhone(REASON_SCIENTIFIC)
    shape = _SHAPE.fullmatch(text)
    if shape is None:
        if any(char.isalpha() for char in text):
            raise InvalidPhone(REASON_LETTERS)
        raise InvalidPhone(REASON_CHARACTERS)
    return shape.group(1) is not None, _ascii_digits(shape.group(2))


def _fast(plus: bool, digits: str, region: _Region) -> str | None:
    """The canonical phone when it is surely a fixed line or mobile of the region, or None."""
    if not region.fast:
        return None
    code = region.code
    if digits.startswith(code):
        national = digits[len(code) :]
        # Without `+`, phonenumbers keeps the country code as part of the number when the
        # whole still reads as a national number: leave that case to it.
        if (plus or not region.general.fullmatch(digits)) and region.is_common(national):
            return digits
    if plus:
        return None
    prefix = region.national_prefix
    if (prefix is None or not prefix.match(digits)) and region.is_common(digits):
        return code + digits
    return None


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        reasons = {
            phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: REASON_COUNTRY_CODE,
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: REASON_TOO_SHORT,
            phonenumbers.NumberParseException.TOO_SHORT_NSN: REASON_TOO_SHORT,
            phonenumbers.NumberParseException.TOO_LONG: REASON_TOO_LONG,
        }
        raise InvalidPhone(reasons.get(error.error_type, REASON_CHARACTERS)) from None


def _canonical(number: phonenumbers.PhoneNumber) -> str:
    return f"{number.country_code}{phonenumbers.national_significant_number(number)}"


def _reason(number: phonenumbers.PhoneNumber) -> Promise:
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == phonenumbers.ValidationResult.TOO_SHORT:
        return REASON_TOO_SHORT
    if possible == phonenumbers.ValidationResult.TOO_LONG:
        return REASON_TOO_LONG
    if possible == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        return REASON_COUNTRY_CODE
    if number.country_code == 57:
        return REASON_INVALID_CO
    return format_lazy(REASON_INVALID, code=number.country_code)


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """Return `raw` as Onurix takes it: digits with the country code, no `+`.

    `region` (default ONURIX_PHONE_REGION, "CO") is the country of numbers written
    without a country code. Idempotent: the result normalises to itself (see the module
    docstring for the two limits of a format without `+`).

    Raises InvalidPhone, whose `reason` says why in words a person can act on.
    """
    region_code = region or default_phone_region()
    plus, digits = _split(raw)
    metadata = _region(region_code)
    fast = _fast(plus, digits, metadata)
    if fast is not None:
        return fast
    if len(digits) < 2:
        raise InvalidPhone(REASON_TOO_SHORT)
    number = _parse(f"+{digits}" if plus else digits, region_code)
    if phonenumbers.is_valid_number(number):
        return _checked(_canonical(number))
    if not plus and len(digits) >= _MIN_FOREIGN_DIGITS and not metadata.looks_national(digits):
        try:
            international = phonenumbers.parse(f"+{digits}", None)
        except phonenumbers.NumberParseException:
            international = None
        if international is not None and phonenumbers.is_valid_number(international):
            return _checked(_canonical(international))
    raise InvalidPhone(_reason(number))


def _checked(phone: str) -> str:
    """The phone if it fits what Onurix and our model take (8 to 15 digits), else raise."""
    if len(phone) < 8:
        raise InvalidPhone(REASON_TOO_SHORT)
    if len(phone) > 15:
        raise InvalidPhone(REASON_TOO_LONG)
    return phone


_PHONE_LIKE = re.compile(r"[\s(]*\+?[\s(]*[\d\s\-().\u2010-\u2014/]+")


def phone_search_digits(query: str) -> str | None:
    """For a search box: the digits to look for in `Contact.phone`, or None.

    A query that is a whole phone in any format gives its normalised form ("300 123 4567"
    gives "573001234567"); a part of a phone gives its digits ("300 123" gives "300123").
    None when the query is not phone-like (it has letters or no digits).
    """
    text = query.strip()
    if not text or not _PHONE_LIKE.fullmatch(text):
        return None
    try:
        return normalize_phone(text)
    except InvalidPhone:
        pass
    digits = _ascii_digits(text)
    if text.lstrip("( ").startswith("00"):
        digits = digits[2:]
    return digits or None


_LIST_SEPARATORS = re.compile(r"[\r\n,;]+")


def parse_phone_list(
    text: str, *, region: str | None = None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Split pasted phones (one per line, or separated by commas or semicolons).

    Spaces do not separate phones ("300 123 4567" is one). Returns the valid phones,
    normalised, once each and in the order first seen, and (text as given, reason) for
    each entry that is not a phone. Blank entries are ignored.
    """
    phones: list[str] = []
    seen: set[str] = set()
    invalid: list[tuple[str, str]] = []
    for entry in _LIST_SEPARATORS.split(text):
        entry = entry.strip()
        if not entry:
            continue
        try:
            phone = normalize_phone(entry, region=region)
        except InvalidPhone as error:
            invalid.append((entry, str(error.reason)))
            continue
        if phone not in seen:
            seen.add(phone)
            phones.append(phone)
    return phones, invalid


# A Colombian mobile as stored ("573001234567"): most phones shown, so no parsing for them.
_CO_MOBILE = re.compile(r"57(3\d{2})(\d{3})(\d{4})")


def phone_display(phone: str) -> str:
    """A stored phone as people read it: "573001234567" gives "+57 300 123 4567".

    Digits that do not form a valid number are shown as they are, never changed.
    """
    text = str(phone)
    mobile = _CO_MOBILE.fullmatch(text)
    if mobile:
        return "+57 {} {} {}".format(*mobile.groups())
    if not text.isdigit():
        return text
    try:
        number = phonenumbers.parse(f"+{text}", None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
