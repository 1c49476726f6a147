"""Text that the database can store, whatever a file or a form sent.

NUL characters and lone UTF-16 surrogates (halves of a character, from a broken UTF-16
file or a JSON escape such as "\\ud800") are never part of a name, a phone or a value
someone meant to type, and PostgreSQL refuses to store either: in a text column, and in a
JSON one. SQLite stores them, which hides the problem until production.

Pure functions: no Django, no database.
"""

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` without NUL characters and lone surrogates."""
    return _UNSTORABLE.sub("", value)


def clean_json(value: Any) -> Any:
    """A JSON value with `clean_text` applied to every key and every string in it, at any
    depth; numbers, booleans and null are kept as they are."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    return value
