"""Contacts from a CSV or Excel file: read, recognise the columns, clean, write.

The engine under the import services (`services/imports.py`), which the pages, the worker
and the `import_contacts` command go through. One module per concern:

- `reading`: the file (CSV encodings and separators, .xlsx), as a header and rows of text;
- `columns`: which column feeds which field of a contact;
- `cleaning`: rows made contacts, or skipped with a reason;
- `writing`: contacts written in chunks, or counted for a preview.

`preview_file` and `import_file` are the two entry points.
"""

from .columns import (
    IMPORT_TARGETS,
    SINGLE_COLUMN_TARGETS,
    guess_mapping,
    keep_other_columns,
    recognise_columns,
)
from .reading import ImportFileError, Table, UnreadableRow, open_table
from .writing import CHUNK_ROWS, ImportReport, import_file, preview_file

__all__ = [
    "CHUNK_ROWS",
    "IMPORT_TARGETS",
    "SINGLE_COLUMN_TARGETS",
    "ImportFileError",
    "ImportReport",
    "Table",
    "UnreadableRow",
    "guess_mapping",
    "import_file",
    "keep_other_columns",
    "open_table",
    "preview_file",
    "recognise_columns",
]
