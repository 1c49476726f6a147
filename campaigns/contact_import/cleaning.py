"""Cleaning rows: from a table's cells to contacts to write, or rows skipped with a reason.

Phones are normalised (`phones.normalize_phone`), names split, emails checked, duplicates
within the file skipped. Writes nothing.
"""

import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ..csv_files import CUSTOM_FIELD_NAME_RULE, NEUTRALISED_FIRST, is_custom_field_name
from ..phones import InvalidPhone, default_phone_region, normalize_phone
from .columns import (
    CUSTOM,
    DO_NOT_CALL,
    DO_NOT_CALL_YES,
    EMAIL,
    FIRST_NAME,
    FULL_NAME,
    LAST_NAME,
    PHONE,
    TARGET_VALUES,
    plain_words,
)
from .reading import ImportFileError, Table, UnreadableRow

REASON_EMPTY_ROW = _("Empty row.")
REASON_NO_PHONE = _("No phone in this row.")
REASON_DUPLICATE = _("Duplicate of line {line}.")


@dataclass(frozen=True)
class SkippedRow:
    """A row not imported: its line, the phone as written in the file, why, and the row
    itself (its cells joined by " | ", cut to ORIGINAL_ROW_LENGTH) to find it again."""

    line: int
    reason: str
    raw_phone: str = ""
    original: str = ""


ORIGINAL_ROW_LENGTH = 500


def _original(cells: list[str]) -> str:
    return " | ".join(cell.strip() for cell in cells)[:ORIGINAL_ROW_LENGTH]


@dataclass
class ContactRow:
    """A row of the file made a contact to write."""

    line: int
    phone: str
    first_name: str
    last_name: str
    email: str
    custom_fields: dict[str, str]
    do_not_call: bool = False  # the file asks to mark this contact do-not-call

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "phone": self.phone,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "custom_fields": self.custom_fields,
            "do_not_call": self.do_not_call,
        }


@dataclass
class _Columns:
    """Where each field of a contact is in a row, from a mapping."""

    phone: int
    first_name: list[int]
    last_name: list[int]
    full_name: list[int]
    email: list[tuple[int, str]]
    custom: list[tuple[int, str]]
    do_not_call: list[int]


def _columns(headers: list[str], mapping: list[str]) -> _Columns:
    unknown = set(mapping) - TARGET_VALUES
    if unknown:
        raise ImportFileError(
            format_lazy(_("Unknown column target: {target}."), target=", ".join(sorted(unknown)))
        )
    phones = [index for index, target in enumerate(mapping) if target == PHONE]
    if not phones:
        raise ImportFileError(
            _(
                "No column holds the phone. Name a column telefono, celular or phone, or "
                "choose which column is the phone."
            )
        )
    if len(phones) > 1:
        raise ImportFileError(_("Only one column can be the phone."))
    # Custom fields are keyed by column name: unique, never empty, and formula-safe (the
    # names are the export's header cells). An email column's name keeps a value that is
    # not an email: a name not fit for it becomes the column's number.
    names: list[str] = []
    for index, target in enumerate(mapping):
        name = headers[index] if index < len(headers) and headers[index] else f"column_{index + 1}"
        if not is_custom_field_name(name):
            if target == CUSTOM:
                raise ImportFileError(
                    format_lazy(
                        _("The column «{name}» cannot be a custom field. {rule}"),
                        name=name,
                        rule=CUSTOM_FIELD_NAME_RULE,
                    )
                )
            name = f"column_{index + 1}"
        base, suffix = name, 2
        while name in names:
            name, suffix = f"{base} {suffix}", suffix + 1
        names.append(name)

    def indexes(target: str) -> list[int]:
        return [index for index, value in enumerate(mapping) if value == target]

    return _Columns(
        phone=phones[0],
        first_name=indexes(FIRST_NAME),
        last_name=indexes(LAST_NAME),
        full_name=indexes(FULL_NAME),
        email=[(index, names[index]) for index in indexes(EMAIL)],
        custom=[(index, names[index]) for index in indexes(CUSTOM)],
        do_not_call=indexes(DO_NOT_CALL),
    )


def _cell(cells: list[str], index: int) -> str:
    if index >= len(cells):
        return ""
    value = cells[index]
    if value[:1] == "'" and value[1:2] in NEUTRALISED_FIRST:
        value = value[1:]
    return value.strip()


def _joined(cells: list[str], indexes: list[int]) -> str:
    if len(indexes) == 1:
        return _cell(cells, indexes[0])
    return " ".join(value for index in indexes if (value := _cell(cells, index)))


def _split_full_name(full_name: str) -> tuple[str, str]:
    """Spanish names: "Ana María Muñoz Peñalosa" -> ("Ana María", "Muñoz Peñalosa")."""
    words = full_name.split()
    given = 2 if len(words) >= 4 else 1
    return " ".join(words[:given]), " ".join(words[given:])


# Plain ASCII addresses (nearly all of them) pass this; anything else goes to Django's
# validator, which is exact but costs ~15 µs a call: a sixth of a 100,000-row import.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def _is_email(value: str) -> bool:
    if len(value) <= 254 and _PLAIN_EMAIL.fullmatch(value):
        return True
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


class SeenPhones:
    """The line where each phone of a file was first seen, to report later rows with the
    same phone as duplicates. In memory up to IN_MEMORY phones (about 14 MB), then in a
    scratch SQLite file of its own, on disk: memory stays flat however long the file.
    Close it (parse_rows does) to delete the file."""

    IN_MEMORY = 100_000

    def __init__(self) -> None:
        self._memory: dict[str, int] = {}
        self._folder: tempfile.TemporaryDirectory | None = None
        self._disk: sqlite3.Connection | None = None

    def first_line(self, phone: str, line: int) -> int:
        """`line` if the phone is new (and remembered), else the line it was first seen on."""
        if self._disk is None:
            seen = self._memory.setdefault(phone, line)
            if len(self._memory) > self.IN_MEMORY:
                self._spill()
            return seen
        if self._disk.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (phone, line)).rowcount:
            return line
        return self._disk.execute("SELECT line FROM seen WHERE phone = ?", (phone,)).fetchone()[0]

    def _spill(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="import-phones-")
        disk = sqlite3.connect(Path(self._folder.name) / "seen.sqlite3", isolation_level=None)
        # A scratch index read back by this process only: no journal, no fsync.
        disk.execute("PRAGMA journal_mode = OFF")
        disk.execute("PRAGMA synchronous = OFF")
        disk.execute("CREATE TABLE seen (phone TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        # One transaction for the whole file, never committed (the file is deleted):
        # rows stay in SQLite's page cache instead of a write to the OS per phone.
        disk.execute("BEGIN")
        disk.executemany("INSERT INTO seen VALUES (?, ?)", self._memory.items())
        self._memory = {}
        self._disk = disk

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()
            self._disk = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


def parse_rows(table: Table, mapping: list[str]) -> Iterator[tuple[int, ContactRow | SkippedRow]]:
    """Yield (rows read so far, a contact or a skipped row) for each row of the table.

    Empty rows at the end of the file (Excel often keeps some) are not reported.
    """
    columns = _columns(table.headers, mapping)
    seen = SeenPhones()
    try:
        yield from _parse_rows(table, columns, seen)
    finally:
        seen.close()


def _parse_rows(
    table: Table, columns: _Columns, seen: SeenPhones
) -> Iterator[tuple[int, ContactRow | SkippedRow]]:
    region = default_phone_region()
    pending_empty: list[int] = []
    rows_read = 0
    for line, cells in table.rows():
        if not "".join(cells).strip():
            if isinstance(cells, UnreadableRow):  # empty too: off the path of every row
                for empty_line in pending_empty:
                    rows_read += 1
                    yield rows_read, SkippedRow(empty_line, str(REASON_EMPTY_ROW))
                pending_empty.clear()
                rows_read += 1
                yield rows_read, SkippedRow(line, str(cells.reason))
                continue
            pending_empty.append(line)
            continue
        for empty_line in pending_empty:
            rows_read += 1
            yield rows_read, SkippedRow(empty_line, str(REASON_EMPTY_ROW))
        pending_empty.clear()
        rows_read += 1
        raw_phone = _cell(cells, columns.phone)
        # Google Contacts puts several phones in one cell: "300 123 4567 ::: 310 ...".
        if ":::" in raw_phone:
            raw_phone = raw_phone.split(":::", 1)[0].strip()
        if not raw_phone:
            yield rows_read, SkippedRow(line, str(REASON_NO_PHONE), original=_original(cells))
            continue
        try:
            phone = normalize_phone(raw_phone, region=region)
        except InvalidPhone as error:
            yield rows_read, SkippedRow(line, str(error.reason), raw_phone, _original(cells))
            continue
        seen_at = seen.first_line(phone, line)
        if seen_at != line:
            reason = str(format_lazy(REASON_DUPLICATE, line=seen_at))
            yield rows_read, SkippedRow(line, reason, raw_phone, _original(cells))
            continue
        yield rows_read, _contact(line, phone, cells, columns)


def _contact(line: int, phone: str, cells: list[str], columns: _Columns) -> ContactRow:
    first_name = _joined(cells, columns.first_name)
    last_name = _joined(cells, columns.last_name)
    custom = {name: value for index, name in columns.custom if (value := _cell(cells, index))}
    if not first_name and not last_name and columns.full_name:
        first_name, last_name = _split_full_name(_joined(cells, columns.full_name))
    email = ""
    for index, name in columns.email:
        value = _cell(cells, index)
        if not value:
            continue
        if _is_email(value):
            email = value
        else:
            # Not an email: kept as a custom field under the column's name, not lost.
            custom[name] = value
        break
    do_not_call = any(
        (value := _cell(cells, index)) and plain_words(value) in DO_NOT_CALL_YES
        for index in columns.do_not_call
    )
    return ContactRow(line, phone, first_name[:150], last_name[:150], email, custom, do_not_call)
