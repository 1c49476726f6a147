"""Workbooks for the exports (results, reports): one write-only sheet in a rewound
temporary file, for streaming. Text cells stay text (never a formula, header cells too),
numbers are numbers, dates and times are dates and times."""

import datetime as dt
import tempfile
from collections.abc import Iterable


def xlsx_file(*, title: str, headers: Iterable, rows: Iterable[Iterable]):
    """The workbook as an open temporary file (the response closes it)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    # Sheet titles: at most 31 characters, none of []:*?/\
    sheet = workbook.create_sheet(title[:31].translate(str.maketrans("", "", "[]:*?/\\")))

    def cell(value):
        if isinstance(value, str):
            text = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            text.data_type = "s"  # a text starting with = stays text
            return text
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, dt.datetime):
            written.number_format = "yyyy-mm-dd hh:mm:ss"
        elif isinstance(value, dt.date):
            written.number_format = "yyyy-mm-dd"
        return written

    sheet.append([cell(str(header)) for header in headers])
    for row in rows:
        sheet.append([cell(value) for value in row])
    file = tempfile.TemporaryFile()  # noqa: SIM115 (returned open: FileResponse closes it)
    workbook.save(file)
    file.seek(0)
    return file
