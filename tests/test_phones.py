import re

import phonenumbers
import pytest
from django.utils import translation
from hypothesis import example, given, settings
from hypothesis import strategies as st

from campaigns import phones
from campaigns.phones import (
    InvalidPhone,
    normalize_phone,
    parse_phone_list,
    phone_display,
    phone_search_digits,
)

CANONICAL = re.compile(r"[1-9]\d{7,14}")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("300 123 4567", "573001234567"),
        ("3001234567", "573001234567"),
        ("+57 300-123-4567", "573001234567"),
        ("(+57) 300 123 4567", "573001234567"),
        ("57 300 1234567", "573001234567"),
        ("0057 300 123 4567", "573001234567"),
        ("573001234567", "573001234567"),
        ("+573001234567", "573001234567"),
        ("(300) 123-4567", "573001234567"),
        ("300.123.4567", "573001234567"),
        ("  300 123 4567\t", "573001234567"),
        ("300\u00a0123\u00a04567", "573001234567"),
        ("573001234567.0", "573001234567"),
        ("3001234567.0", "573001234567"),
        ("573001234567,0", "573001234567"),
        ("+1 212 555 0123", "12125550123"),
        ("+34 612 345 678", "34612345678"),
        ("0034 612 345 678", "34612345678"),
        ("12125550123", "12125550123"),
        ("34612345678", "34612345678"),
        ("601 234 5678", "576012345678"),
        ("604 444 1234", "576044441234"),
        ("+57 601 234 5678", "576012345678"),
        ("\u0663\u0660\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667", "573001234567"),
    ],
)
def test_normalize_phone_accepts(raw, expected):
    assert normalize_phone(raw) == expected
    assert normalize_phone(expected) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "The phone is empty."),
        ("   ", "The phone is empty."),
        ("abc", "The phone contains letters."),
        ("300-ABC-4567", "The phone contains letters."),
        ("300 123 4567 ext 5", "The phone contains letters."),
        ("300*123*4567", "The phone contains characters that are not part of a phone number."),
        ("300 123 4567 +57", "The phone contains characters that are not part of a phone number."),
        ("12", "The phone is too short."),
        ("+57 300 123", "The phone is too short."),
        ("1234567890123456789", "The phone is too long."),
        ("+999 123 4567", "The phone starts with a country code that does not exist."),
    ],
)
def test_normalize_phone_rejects_with_reason(raw, reason):
    with pytest.raises(InvalidPhone) as error:
        normalize_phone(raw)
    assert str(error.value.reason) == reason
    assert str(error.value) == reason
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize("raw", ["3.00123457E+09", "5.73001234567E+11", "3,00123457e+09"])
def test_normalize_phone_rejects_scientific_notation(raw):
    with pytest.raises(InvalidPhone) as error:
        normalize_phone(raw)
    assert "spreadsheet rounded" in str(error.value.reason)
    assert "Format the column as text" in str(error.value.reason)


@pytest.mark.parametrize("raw", ["3901234567", "300 123 456", "573901234567", "+57 5712345678"])
def test_normalize_phone_rejects_invalid_colombian_numbers(raw):
    with pytest.raises(InvalidPhone) as error:
        normalize_phone(raw)
    assert str(error.value.reason).startswith("This is not a valid Colombian number")


def test_normalize_phone_rejects_invalid_foreign_number_naming_its_country_code():
    with pytest.raises(InvalidPhone) as error:
        normalize_phone("+34 112 345 678")
    assert str(error.value.reason) == "This is not a valid phone number for the country code +34."


def test_ten_digits_shaped_like_a_colombian_number_are_never_read_as_foreign():
    # +39 01234567 is a valid Italian number; without + it is a Colombian typo.
    assert normalize_phone("+3901234567") == "3901234567"
    with pytest.raises(InvalidPhone):
        normalize_phone("3901234567")


@pytest.mark.parametrize("raw", ["648 1100", "4 444 1234", "\u0b6c4\u0bee1100"])
def test_old_colombian_landlines_are_never_read_as_foreign(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_region_defaults_to_the_setting(settings):
    settings.ONURIX_PHONE_REGION = "ES"
    assert normalize_phone("612 345 678") == "34612345678"
    with pytest.raises(InvalidPhone):
        normalize_phone("612 345 678", region="CO")
    assert normalize_phone("300 123 4567", region="CO") == "573001234567"


def test_reason_is_translatable():
    with pytest.raises(InvalidPhone) as error:
        normalize_phone("")
    with translation.override("es-co"):
        assert str(error.value.reason)


def _slow(raw: str, region: str = "CO") -> str | None:
    """The normalisation without the fast path: phonenumbers alone decides."""
    plus, digits = phones._split(raw)
    text = f"+{digits}" if plus else digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return f"{number.country_code}{phonenumbers.national_significant_number(number)}"


@given(
    prefix=st.sampled_from(["", "57", "+57", "0057", "+", "0", "5"]),
    national=st.from_regex(r"\A(3\d{9}|60\d{8}|46\d{6}|1\d{10}|\d{7,12})\Z", fullmatch=True),
)
@settings(max_examples=500)
def test_fast_path_agrees_with_phonenumbers(prefix, national):
    raw = prefix + national
    plus, digits = phones._split(raw)
    fast = phones._fast(plus, digits, phones._region("CO"))
    if fast is not None:
        assert fast == _slow(raw)


@given(st.text())
@example("0057 300 123 4567")
@example("573001234567.0")
@example("\u0663\u0660\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667")
@settings(max_examples=500)
def test_any_text_normalises_to_a_canonical_phone_or_a_reason(raw):
    try:
        phone = normalize_phone(raw)
    except InvalidPhone as error:
        assert str(error.reason).strip()
        return
    assert CANONICAL.fullmatch(phone)
    assert normalize_phone(phone) == phone


@given(
    st.from_regex(r"\A\(?\+?\d{1,3}\)?[ -]?\d{2,4}([ .-]?\d{2,4}){1,3}\Z", fullmatch=True),
)
@settings(max_examples=500)
def test_phone_shaped_text_normalises_idempotently(raw):
    try:
        phone = normalize_phone(raw)
    except InvalidPhone as error:
        assert str(error.reason).strip()
        return
    assert CANONICAL.fullmatch(phone)
    # With its + back, every output reads as itself.
    assert normalize_phone("+" + phone) == phone
    # Without +, only a foreign number that is also a valid Colombian one, shaped like one
    # (10 digits) or as short as an old Colombian landline (8 digits) can read differently:
    # the format Onurix takes has no + to tell them apart.
    try:
        again = normalize_phone(phone)
    except InvalidPhone:
        again = None
    if again != phone:
        assert not phone.startswith("57")
        number = phonenumbers.parse(phone, "CO")
        assert phonenumbers.is_valid_number(number) or len(phone) in (8, 10)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("300 123 4567", "573001234567"),
        ("+57 300-123-4567", "573001234567"),
        ("573001234567", "573001234567"),
        ("300 123", "300123"),
        ("4567", "4567"),
        ("(300) 12", "30012"),
        ("0057 300", "57300"),
        ("Ana Muñoz", None),
        ("300 abc", None),
        ("", None),
        ("  ", None),
        ("+", None),
    ],
)
def test_phone_search_digits(query, expected):
    assert phone_search_digits(query) == expected


def test_parse_phone_list_splits_on_lines_commas_and_semicolons_not_spaces():
    text = "300 123 4567\n+57 310 000 0000, 601 234 5678;3001234567\r\n\n  ,;  \n+1 212 555 0123"
    valid, invalid = parse_phone_list(text)
    assert valid == ["573001234567", "573100000000", "576012345678", "12125550123"]
    assert invalid == []


def test_parse_phone_list_reports_invalid_entries_with_reason():
    valid, invalid = parse_phone_list("Ana\n300 123 4567\n12\n3.00123457E+09")
    assert valid == ["573001234567"]
    assert [raw for raw, _reason in invalid] == ["Ana", "12", "3.00123457E+09"]
    assert invalid[0][1] == "The phone contains letters."
    assert invalid[1][1] == "The phone is too short."
    assert "spreadsheet" in invalid[2][1]


def test_parse_phone_list_keeps_duplicates_once_in_first_seen_order():
    valid, invalid = parse_phone_list("310 000 0000\n300 123 4567\n+57 3100000000\n573001234567")
    assert valid == ["573100000000", "573001234567"]
    assert invalid == []


def test_parse_phone_list_of_nothing():
    assert parse_phone_list("") == ([], [])


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("573001234567", "+57 300 123 4567"),
        ("576012345678", "+57 601 2345678"),
        ("12025550123", "+1 202-555-0123"),
        ("42", "42"),
    ],
)
def test_phones_are_shown_grouped_with_their_country_code(stored, shown):
    assert phone_display(stored) == shown
