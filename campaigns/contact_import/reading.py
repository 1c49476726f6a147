"""Reading a contacts file: CSV (any of , ; tab; UTF-8 or Windows-1252) or .xlsx.

Streams the file in constant memory, never evaluates a formula, and turns every way a file
can be unreadable into an ImportFileError whose reason the person can act on, with the
line where it happened.

Limits, so that a hostile file costs little: the size (IMPORT_MAX_BYTES), the columns
(IMPORT_MAX_COLUMNS), the rows (IMPORT_MAX_ROWS), header cells of MAX_HEADER_CHARS and
cells of MAX_CELL_CHARS characters. A workbook is a zip: the uncompressed sizes of its
sheets and of its shared strings (which openpyxl holds in memory) are checked from the
zip's directory before anything is decompressed, and zipfile never decompresses more
than an entry declares.

A row that cannot be read (a quote never closed, a cell too long) is not fatal: it comes
out as an `UnreadableRow` with the reason, and the rows after it are read.

Line numbers are the rows as a spreadsheet shows them: the header is line 1.
"""

import codecs
import csv
import re
import sys
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ..csv_files import unneutralise
from ..phones import InvalidPhone, normalize_phone
from ..text import clean_text

MAX_HEADER_CHARS = 200
MAX_CELL_CHARS = 10_000
# A quoted cell still open after this many lines (or MAX_CELL_CHARS characters) is a quote
# never closed: its row is skipped and the lines after its first are read again as rows.
MAX_QUOTED_LINES = 100
# How much of a file the web request reads to show the columns and a sample.
SAMPLE_BYTES = 1024 * 1024
_HEAD_BYTES = 64 * 1024
_READ_BYTES = 1024 * 1024


class ImportFileError(Exception):
    """A file that cannot be imported as contacts; `reason` says why, translatable."""

    def __init__(self, reason: Promise | str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.reason)


class UnreadableRow(list):
    """A row that could not be read, in place of its cells; `reason` says why."""

    def __init__(self, reason: Promise | str):
        super().__init__()
        self.reason = reason


REASON_QUOTE_NEVER_CLOSED = _(
    "A quote opened in this row is never closed (the cell runs over many lines): the row "
    "is skipped and the lines after it are read as rows. Close the quote and import the "
    "row again."
)
REASON_CELL_TOO_LONG = format_lazy(
    _("A cell of this row is longer than {limit} characters."), limit=f"{MAX_CELL_CHARS:,}"
)


@dataclass
class Table:
    """A contacts file opened for reading: its column names and a stream of its rows.

    `encoding` and `delimiter` are None for an Excel workbook. `rows()` reads the file
    again each time it is called, in constant memory. A table opened with `sample=True`
    (the web request) decided its encoding from the file's first megabyte only: read no
    more than a sample of its rows.
    """

    path: Path
    filename: str
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    header_line: int
    encoding: str | None = None
    delimiter: str | None = None
    sample: bool = False

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (line number, cells as text) for each row after the header; an
        UnreadableRow for a row that could not be read. Raises ImportFileError for a file
        over IMPORT_MAX_ROWS rows or that cannot be read on."""
        last_line = settings.IMPORT_MAX_ROWS + self.header_line
        if self.kind == "xlsx":
            return _xlsx_rows(
                self.path,
                skip=self.header_line,
                columns=len(self.headers),
                sample=self.sample,
                last_line=last_line,
            )
        return _csv_rows(
            self.path, self.encoding, self.delimiter, skip=self.header_line, last_line=last_line
        )


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        format_lazy(
            _("The file has more than {limit} rows. Split it into smaller files."),
            limit=f"{settings.IMPORT_MAX_ROWS:,}",
        )
    )


def open_table(path: Path, *, filename: str, sample: bool = False) -> Table:
    """Open a CSV (any of , ; tab; UTF-8 or Windows-1252) or .xlsx file of contacts.

    The kind is told by the content, not the name. With `sample`, reads a bounded part of
    the file whatever its size (what a web request may do). Raises ImportFileError for an
    empty, too large, binary or unreadable file, or one without a header line, with too
    many columns or too long column names.
    """
    size = path.stat().st_size
    if size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            format_lazy(
                _("The file is larger than {limit} MB. Split it into smaller files."),
                limit=settings.IMPORT_MAX_BYTES // (1024 * 1024) or 1,
            )
        )
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, filename, sample=sample)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _(
                "This is an old Excel file (.xls). Save it as Excel workbook (.xlsx) or as "
                "CSV UTF-8 and upload it again."
            )
        )
    return _open_csv(path, filename, head, sample=sample)


def _detect_encoding(path: Path, head: bytes, *, sample: bool) -> str:
    """UTF-8 (with or without BOM) if the file (or its first SAMPLE_BYTES, with `sample`)
    decodes as UTF-8, else Windows-1252. Raises ImportFileError naming the first line that
    is neither."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text": tab-separated UTF-16
    if b"\x00" in head:
        raise ImportFileError(
            _("This file is not a table of text (it looks binary). Upload a CSV or .xlsx file.")
        )
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    utf8_ok = cp1252_ok = True
    lines_before = 0  # newlines in the chunks read before this one
    bad_line = 0
    read = 0
    with path.open("rb") as file:
        while (utf8_ok or cp1252_ok) and (chunk := file.read(_READ_BYTES)):
            read += len(chunk)
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if not utf8_ok:
                try:
                    cp1252.decode(chunk)
                    if b"\x00" in chunk:
                        raise UnicodeDecodeError("cp1252", chunk, chunk.index(b"\x00"), 0, "")
                except UnicodeDecodeError as error:
                    cp1252_ok = False
                    bad_line = lines_before + chunk.count(b"\n", 0, error.start) + 1
            lines_before += chunk.count(b"\n")
            if sample and read >= SAMPLE_BYTES:
                break
    if utf8_ok and not (sample and read >= SAMPLE_BYTES):
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return "utf-8-sig"
    if cp1252_ok:
        return "cp1252"
    raise _unreadable_text(bad_line)


def _sniff_delimiter(header_line: str) -> str:
    """The separator among ; , and tab that splits the header line into the most columns."""
    best, best_count = ",", 1
    for delimiter in (";", ",", "\t"):
        try:
            count = len(next(csv.reader([header_line], delimiter=delimiter), []))
        except csv.Error:  # a cell over csv's limit: reading the header reports it
            continue
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _unreadable_text(line: int) -> ImportFileError:
    return ImportFileError(
        format_lazy(
            _(
                "Line {line} could not be read as text: the file mixes encodings or is "
                "damaged. Save it as CSV UTF-8 or .xlsx and try again."
            ),
            line=f"{line:,}",
        )
    )


def _first_line(path: Path, encoding: str) -> str:
    line_number = 0
    try:
        with path.open(encoding=encoding, newline="") as text:
            for line_number, line in enumerate(text, start=1):  # noqa: B007 (used after)
                if line.strip(" \t\r\n,;"):
                    return line
    except UnicodeDecodeError as error:  # a UTF-16 file cut in half, for one
        raise _unreadable_text(line_number + 1) from error
    return ""


def _open_csv(path: Path, filename: str, head: bytes, *, sample: bool) -> Table:
    encoding = _detect_encoding(path, head, sample=sample)
    header_text = _first_line(path, encoding)
    if not header_text:
        raise ImportFileError(_("The file is empty."))
    delimiter = _sniff_delimiter(header_text)
    table = Table(
        path, filename, "csv", [], 0, encoding=encoding, delimiter=delimiter, sample=sample
    )
    table.header_line, table.headers = _find_header(_csv_rows(path, encoding, delimiter, skip=0))
    return table


# What `_records` puts in place of a row that cannot be read: a line no file holds after
# clean_text (which removes NUL), read by csv as a row of this one cell.
_QUOTE_NEVER_CLOSED = "\x00quote"
_CELL_TOO_LONG = "\x00long"
_UNREADABLE = {
    _QUOTE_NEVER_CLOSED: REASON_QUOTE_NEVER_CLOSED,
    _CELL_TOO_LONG: REASON_CELL_TOO_LONG,
}


def _still_quoted(line: str, quoted: bool, delimiter: str) -> bool:
    """Whether a CSV record is inside a quoted cell at the end of `line`, read as Python's
    csv does: a quote opens a cell only at its start, two quotes inside are one."""
    position = 0
    while (position := line.find('"', position)) != -1:
        if quoted:
            if line.startswith('"', position + 1):
                position += 2
                continue
            quoted = False
        elif position == 0 or line[position - 1] == delimiter:
            quoted = True
        position += 1
    return quoted


def _has_long_cell(lines: list[str], delimiter: str) -> bool:
    cells = next(csv.reader(lines, delimiter=delimiter), [])
    return any(len(cell) > MAX_CELL_CHARS for cell in cells)


def _records(lines: Iterable[str], delimiter: str) -> Iterator[str]:
    """The file's lines, a row's lines in a row, with a marker line in place of a row whose
    quote is never closed (the lines after its first are then read again) or with a cell
    over MAX_CELL_CHARS: csv's own error would lose every row after it."""
    source = iter(lines)
    again: deque[str] = deque()
    pending: list[str] = []  # the lines of a row inside a quoted cell
    pending_chars = 0
    while True:
        if not again and not pending:
            # Nearly every line: no quote, not long, passed on as it is.
            for line in source:
                if '"' in line or len(line) > MAX_CELL_CHARS:
                    break
                yield line
            else:
                return
        elif again:
            line = again.popleft()
        elif (line := next(source, None)) is None:
            line = ""  # the end of the file: a quote still open is never closed
        if not pending:
            if '"' not in line:  # nearly every line: no quoted cell
                if len(line) > MAX_CELL_CHARS and _has_long_cell([line], delimiter):
                    yield _CELL_TOO_LONG
                else:
                    yield line
            elif _still_quoted(line, False, delimiter):
                pending, pending_chars = [line], len(line)
            elif len(line) > MAX_CELL_CHARS and _has_long_cell([line], delimiter):
                yield _CELL_TOO_LONG
            else:
                yield line
            continue
        if line and not _still_quoted(line, True, delimiter):
            pending.append(line)
            if pending_chars + len(line) > MAX_CELL_CHARS and _has_long_cell(pending, delimiter):
                yield _CELL_TOO_LONG
            else:
                yield from pending
            pending, pending_chars = [], 0
            continue
        pending.append(line)
        pending_chars += len(line)
        if not line or len(pending) > MAX_QUOTED_LINES or pending_chars > MAX_CELL_CHARS:
            yield _QUOTE_NEVER_CLOSED
            again.extendleft(reversed([part for part in pending[1:] if part]))
            pending, pending_chars = [], 0


def _csv_rows(
    path: Path,
    encoding: str | None,
    delimiter: str | None,
    *,
    skip: int,
    last_line: int = sys.maxsize,
) -> Iterator[tuple[int, list[str]]]:
    # Errors are turned into ImportFileError here, so every reader of rows (the header, the
    # sample, the preview, the import) gives the person a reason rather than a crash.
    delimiter = delimiter or ","
    line = 0
    try:
        with path.open(encoding=encoding, newline="") as text:
            # Cleaned a physical line at a time: five times fewer calls than cell by cell.
            clean = (clean_text(physical) for physical in text)
            reader = csv.reader(_records(clean, delimiter), delimiter=delimiter)
            for line, cells in enumerate(reader, start=1):
                if line <= skip:
                    continue
                if line > last_line:
                    raise _too_many_rows()
                if len(cells) == 1 and cells[0] in _UNREADABLE:
                    yield line, UnreadableRow(_UNREADABLE[cells[0]])
                else:
                    yield line, cells
    except UnicodeDecodeError as error:
        raise _unreadable_text(line + 1) from error
    except csv.Error as error:  # what _records lets through: a stray character, say
        raise ImportFileError(
            format_lazy(
                _(
                    "Line {line} could not be read as a row of a table. Check it, save the "
                    "file as CSV UTF-8 or .xlsx and try again."
                ),
                line=f"{line + 1:,}",
            )
        ) from error


# -- workbooks -------------------------------------------------------------------------------


def _open_xlsx(path: Path, filename: str, *, sample: bool) -> Table:
    _check_workbook_sizes(path)
    table = Table(path, filename, "xlsx", [], 0, sample=sample)
    header_columns = settings.IMPORT_MAX_COLUMNS + 1  # one more: a wider file is refused
    table.header_line, table.headers = _find_header(
        _xlsx_rows(path, skip=0, columns=header_columns, sample=True)
    )
    return table


def _damaged_workbook() -> ImportFileError:
    return ImportFileError(
        _(
            "This file could not be opened as an Excel workbook. Save it as .xlsx or as "
            "CSV UTF-8 and upload it again."
        )
    )


_BOMB_MIN_BYTES = 10 * 1024 * 1024
_BOMB_RATIO = 100


def _check_workbook_sizes(path: Path) -> None:
    """Refuse a workbook whose sheets or shared strings would be too large uncompressed
    (a zip bomb), from the zip's directory: nothing is decompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise _damaged_workbook() from error
    sheets = sum(
        entry.file_size for entry in entries if entry.filename.startswith("xl/worksheets/")
    )
    shared = sum(
        entry.file_size for entry in entries if entry.filename.lower().endswith("sharedstrings.xml")
    )
    total = sum(entry.file_size for entry in entries)
    limit = settings.IMPORT_MAX_SHEET_BYTES + settings.IMPORT_MAX_SHARED_STRINGS_BYTES
    # Real sheets compress 5 to 20 times; a bomb of one repeated character, a thousand.
    bomb = any(
        entry.file_size > _BOMB_MIN_BYTES
        and entry.file_size > _BOMB_RATIO * max(entry.compress_size, 1)
        for entry in entries
    )
    if (
        bomb
        or sheets > settings.IMPORT_MAX_SHEET_BYTES
        or shared > settings.IMPORT_MAX_SHARED_STRINGS_BYTES
        or total > limit
    ):
        raise ImportFileError(
            format_lazy(
                _(
                    "This workbook would take {size} once opened, more than the import "
                    "accepts. Remove other sheets and empty rows, or save it as CSV UTF-8."
                ),
                size=filesizeformat(total),
            )
        )


def _load_workbook(file: IO[bytes], *, data_only: bool) -> Any:
    import openpyxl  # only imports of Excel files pay for loading it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # A file object, not a path: openpyxl would refuse a name not ending in .xlsx.
        return openpyxl.load_workbook(file, read_only=True, data_only=data_only)
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        SyntaxError,  # malformed XML: ElementTree's ParseError and lxml's errors
    ) as error:
        raise _damaged_workbook() from error


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
# A cell reference with two or three letters ("AB12"): only wide sheets have any.
_WIDE_REFERENCE = re.compile(rb'\sr="([A-Z]{2,3})[0-9]')
# Text between tags longer than this is a cell over MAX_CELL_CHARS (at most 4 bytes a
# character, 10 with an entity) that openpyxl would hold whole in memory.
_LONGEST_TEXT_BYTES = 10 * MAX_CELL_CHARS


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


def _scan_sheets(path: Path, *, sample: bool) -> bool:
    """Read the sheets' XML as bytes, without parsing it: whether any holds a formula.

    Raises ImportFileError for a cell beyond IMPORT_MAX_COLUMNS or longer than
    MAX_CELL_CHARS (what openpyxl would parse into memory whole). With `sample`, reads
    the first SAMPLE_BYTES of each sheet only.
    """
    max_columns = settings.IMPORT_MAX_COLUMNS
    formulas = False
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if not name.startswith("xl/worksheets/"):
                    continue
                with archive.open(name) as sheet:
                    tail, text_run, read = b"", 0, 0
                    while chunk := sheet.read(_READ_BYTES):
                        read += len(chunk)
                        formulas = formulas or bool(_FORMULA_TAG.search(tail + chunk))
                        for letters in set(_WIDE_REFERENCE.findall(tail + chunk)):
                            if _column_number(letters) > max_columns:
                                raise _too_many_columns()
                        pieces = chunk.split(b"<")
                        longest = max(text_run + len(pieces[0]), *map(len, pieces[1:]))
                        if longest > _LONGEST_TEXT_BYTES:
                            raise ImportFileError(REASON_CELL_TOO_LONG)
                        text_run = len(pieces[-1]) if len(pieces) > 1 else text_run + len(chunk)
                        tail = chunk[-16:]
                        if sample and read >= SAMPLE_BYTES:
                            break
    except (zipfile.BadZipFile, OSError) as error:
        raise _damaged_workbook() from error
    return formulas


def _too_many_columns() -> ImportFileError:
    return ImportFileError(
        format_lazy(
            _(
                "The file has more than {limit} columns. Keep only the contacts' columns "
                "(phone, names, the fields your messages use) and upload it again."
            ),
            limit=settings.IMPORT_MAX_COLUMNS,
        )
    )


def _cell_text(value: Any) -> str:
    """An Excel cell as text: numbers without a trailing .0, never in scientific notation."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _active_rows(workbook: Any, columns: int) -> Iterator[tuple[Any, ...]]:
    sheet = workbook.active
    # The sheet's declared size is not trusted: "A1:XFD1048576" would have openpyxl pad
    # every row to 16,384 cells and add a million empty rows.
    sheet.reset_dimensions()
    return sheet.iter_rows(max_col=columns, values_only=True)


def _xlsx_rows(
    path: Path, *, skip: int, columns: int, sample: bool, last_line: int = sys.maxsize
) -> Iterator[tuple[int, list[str]]]:
    # Cached values are what the person saw in Excel; a formula without one (a file made
    # by a program) is kept as its text. Formulas are never evaluated. The sample (the
    # header, the mapping page) shows cached values only.
    line = 0
    try:
        with ExitStack() as stack:
            has_formulas = _scan_sheets(path, sample=sample)
            values = _load_workbook(stack.enter_context(path.open("rb")), data_only=True)
            stack.callback(values.close)
            value_rows = _active_rows(values, columns)
            formula_rows: Iterator[tuple[Any, ...]] = iter(())
            if has_formulas and not sample:
                formulas = _load_workbook(stack.enter_context(path.open("rb")), data_only=False)
                stack.callback(formulas.close)
                formula_rows = _active_rows(formulas, columns)
            for line, (row, formula_row) in enumerate(
                zip_longest(value_rows, formula_rows, fillvalue=()), start=1
            ):
                if line <= skip:
                    continue
                if line > last_line:
                    raise _too_many_rows()
                cells = [_cell_text(value) for value in row or ()]
                for index, formula in enumerate(formula_row or ()):
                    if index < len(cells) and not cells[index] and str(formula).startswith("="):
                        cells[index] = formula
                if any(len(cell) > MAX_CELL_CHARS for cell in cells):
                    yield line, UnreadableRow(REASON_CELL_TOO_LONG)
                    continue
                yield line, [clean_text(cell) for cell in cells]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, SyntaxError) as error:
        # Malformed sheet XML (ElementTree's ParseError and lxml's errors are SyntaxErrors)
        # or a damaged zip entry, met while reading the rows.
        raise ImportFileError(
            format_lazy(
                _(
                    "The workbook is damaged after line {line}: it could not be read on. "
                    "Open it in Excel, save it again as .xlsx or CSV UTF-8 and upload it "
                    "again."
                ),
                line=f"{line:,}",
            )
        ) from error


def _find_header(rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    """The first non-empty row, as column names; raise if there is none, it is data, or
    it has too many or too long names."""
    try:
        for line, cells in rows:
            if isinstance(cells, UnreadableRow):
                raise ImportFileError(
                    format_lazy(
                        _("The first line could not be read: {reason}"), reason=cells.reason
                    )
                )
            if len(cells) > settings.IMPORT_MAX_COLUMNS and any(
                cells[settings.IMPORT_MAX_COLUMNS :]
            ):
                raise _too_many_columns()
            headers = [unneutralise(cell).strip() for cell in cells]
            if not any(headers):
                continue
            while headers and not headers[-1]:
                headers.pop()
            _check_headers(headers)
            return line, headers
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    raise ImportFileError(_("The file has no rows."))


def _check_headers(headers: list[str]) -> None:
    if len(headers) > settings.IMPORT_MAX_COLUMNS:
        raise _too_many_columns()
    for cell in headers:
        if len(cell) > MAX_HEADER_CHARS:
            raise ImportFileError(
                format_lazy(
                    _(
                        "A column name is longer than {limit} characters («{start}…»). Is "
                        "the first line the column names? Shorten it and upload again."
                    ),
                    limit=MAX_HEADER_CHARS,
                    start=cell[:40],
                )
            )
        try:
            normalize_phone(cell)
        except InvalidPhone:
            continue
        raise ImportFileError(
            format_lazy(
                _(
                    "The first line holds a phone ({phone}), not column names. Add a "
                    "first line naming the columns, for example: telefono;nombre"
                ),
                phone=cell,
            )
        )
