"""The phone fast path gives exactly what phonenumbers gives, for the formats files hold.

`normalize_phone` answers the common shapes (digits grouped by spaces, hyphens or
brackets, "+57", "0057", Excel's ".0") without phonenumbers: these tests compare it with
phonenumbers alone, on the formats of the import benchmark and on generated ones.
"""

import re

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from campaigns import phones
from campaigns.phones import InvalidPhone, normalize_phone

# The eight ways bench/import_contacts.py writes a phone, and a few more seen in files.
FORMATS = [
    "300 123 4567",
    "+57 300-123-4567",
    "(+57) 300 123 4567",
    "573001234567.0",
    "0057 300 1234567",
    "601 123 4567",
    "573001234567",
    "3001234567",
    "+573001234567",
    "(300) 123-4567",
    "3001234567,0",
    "+573001234567.0",
    "57 601 234 5678",
    "604 444 1234",
    "+1 212 555 0123",
    "0034 612 345 678",
    "39012345678",
]


def phonenumbers_alone(raw: str, region: str = "CO") -> str | None:
    """What phonenumbers makes of a typed phone, with the two fixes of traps.md (Excel's
    ".0" dropped, a leading 00 read as +), and the reading of digits without + as an
    international number when they are no valid number of the region (phones.py's
    docstring); None when it is not a valid phone."""
    text = raw.strip()
    text = re.sub(r"^(\+?\d+)[.,]0+$", r"\1", text)
    digits = re.sub(r"\D", "", text)
    plus = "+" in text
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    candidates = [f"+{digits}"] if plus else [digits]
    if not plus and len(digits) >= 9 and not phones._region(region).looks_national(digits):
        candidates.append(f"+{digits}")
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, None if candidate[0] == "+" else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    return None


def normalized_or_none(raw: str, region: str = "CO") -> str | None:
    try:
        return normalize_phone(raw, region=region)
    except InvalidPhone:
        return None


@pytest.mark.parametrize("raw", FORMATS)
def test_every_common_format_gives_what_phonenumbers_gives(raw):
    assert normalize_phone(raw) == phonenumbers_alone(raw)


@pytest.mark.parametrize("raw", FORMATS[:8])
def test_the_benchmark_formats_take_the_fast_path(raw, monkeypatch):
    # Without phonenumbers at all, the formats of a typical file still normalise.
    def refuse(*args, **kwargs):
        raise AssertionError("phonenumbers was asked")

    monkeypatch.setattr(phones.phonenumbers, "parse", refuse)
    assert normalize_phone(raw) in ("573001234567", "576011234567")


_SEPARATOR = st.sampled_from(["", " ", "-", " - ", "  "])
_PREFIX = st.sampled_from(["", "57", "+57", "+57 ", "(+57) ", "0057 ", "57 ", "+", "0", "00"])
_NATIONAL = st.one_of(
    st.from_regex(r"\A3[0-5]\d{8}\Z", fullmatch=True),  # mobiles, valid and not
    st.from_regex(r"\A60[1-8]\d{7}\Z", fullmatch=True),  # landlines with area code
    st.from_regex(r"\A\d{7,12}\Z", fullmatch=True),  # anything
)


@given(prefix=_PREFIX, national=_NATIONAL, separator=_SEPARATOR, excel=st.booleans())
@example(prefix="0057 ", national="3001234567", separator=" ", excel=False)
@example(prefix="57", national="3001234567", separator="", excel=True)
@settings(max_examples=1000, deadline=None)
def test_generated_phones_in_common_shapes_give_what_phonenumbers_gives(
    prefix, national, separator, excel
):
    grouped = separator.join([national[:3], national[3:6], national[6:]])
    raw = prefix + (national + ".0" if excel and not separator else grouped)
    assert normalized_or_none(raw) == phonenumbers_alone(raw)


_PHONE_LIKE_TEXT = st.text(alphabet="0123456789 +()-.,/\t\u00a0e\u0663", max_size=20)


@given(text=_PHONE_LIKE_TEXT)
@example(text="(+57) 300 123 4567")
@example(text="+573001234567,00")
@example(text="((+(300")
@settings(max_examples=2000, deadline=None)
def test_the_common_shape_reads_a_text_as_the_general_rules_do(text):
    stripped = text.strip()
    common = phones._COMMON_SHAPE.fullmatch(stripped)
    if common is not None:
        assert phones._common_parts(common) == phones._general_parts(stripped)


def _is_common_one_rule_at_a_time(region: str, national: str) -> bool:
    """The region test as phonenumbers' metadata states it, rule by rule."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc
    if len(national) not in general.possible_length:
        return False
    if not re.fullmatch(general.national_number_pattern, national):
        return False
    return any(
        desc is not None
        and len(national) in desc.possible_length
        and re.fullmatch(desc.national_number_pattern, national) is not None
        for desc in (metadata.mobile, metadata.fixed_line)
    )


@given(
    region=st.sampled_from(["CO", "ES", "US", "MX", "AR", "BR", "GB", "VE", "EC", "PE"]),
    national=st.from_regex(r"\A[0-9]{6,13}\Z", fullmatch=True),
)
@example(region="CO", national="3001234567")
@example(region="CO", national="6011234567")
@example(region="CO", national="46123456")
@settings(max_examples=2000, deadline=None)
def test_one_pattern_for_fixed_lines_and_mobiles_says_what_the_metadata_says(region, national):
    fast = phones._region(region).is_common(national)
    assert fast == _is_common_one_rule_at_a_time(region, national)
