"""Spreadsheet-safe CSV, shared by every export and the contact import.

A cell starting with = + - @ tab or CR is a formula to Excel, LibreOffice and Google
Sheets (CSV injection): exports prefix it with an apostrophe, and the import takes the
apostrophe off again, so an exported file imports back to the same values. The streaming
helpers let a response write a CSV of any size in constant memory.

Pure functions: no database.
"""

import re
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

# Cells starting with these are formulas to a spreadsheet (CSV injection).
_DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
# What an apostrophe neutralised: the above, and an apostrophe itself, so a value that
# really starts with "'=" survives an export and an import unchanged.
NEUTRALISED_FIRST = frozenset((*_DANGEROUS_FIRST, "'"))


def csv_safe(value: str) -> str:
    """A cell for an exported CSV that no spreadsheet runs as a formula.

    Prefixes an apostrophe when the value starts with = + - @ tab or CR (or with an
    apostrophe followed by one of those, so the import reads every value back exactly).
    """
    if value[:1] in _DANGEROUS_FIRST or (value[:1] == "'" and value[1:2] in NEUTRALISED_FIRST):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo `csv_safe`: drop one leading apostrophe that protects a formula-like value."""
    if value[:1] == "'" and value[1:2] in NEUTRALISED_FIRST:
        return value[1:]
    return value


def looks_like_formula(value: object) -> bool:
    """A value a spreadsheet would run, or that no person is named: =, +, @ first, or a
    minus not followed by a digit. The voice would read it aloud."""
    text = str(value or "").lstrip()
    first = text[:1]
    return first in ("=", "+", "@") or (first == "-" and not text[1:2].isdigit())


class Echo:
    """A file-like object whose write returns the text: lets csv.writer feed a stream."""

    def write(self, value: str) -> str:
        return value


def in_chunks(lines: Iterator[str], size: int = 500) -> Iterator[str]:
    """Lines joined `size` at a time: a streamed response handles each chunk it is given
    (encoding, buffering) at a cost that, line by line, was a third of an export's time."""
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


# Custom-field names become the header cells of the contacts export: letters (accents
# too), digits, spaces, "_" and "-", never starting with "-" (nor = + @, not allowed).
_CUSTOM_FIELD_NAME = re.compile(r"[\w ][\w \-]*")
CUSTOM_FIELD_NAME_RULE = _(
    "A custom field's name may have letters, digits, spaces, _ and -, and cannot start "
    "with =, +, - or @."
)


def is_custom_field_name(name: str) -> bool:
    """Whether `name` may name a custom field (see CUSTOM_FIELD_NAME_RULE)."""
    return bool(_CUSTOM_FIELD_NAME.fullmatch(name)) and bool(name.strip())
