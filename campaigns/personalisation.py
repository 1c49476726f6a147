"""Placeholders in TTS messages, and grouping rendered messages into `call/send` batches.

Placeholder rule: a placeholder is a word between single braces, ``{word}``, where the
word is made of letters, digits and underscores (optionally padded with spaces or tabs:
``{ nombre }``). Any other brace text (``{ }``, ``{{``, ``{fecha de pago}``, a lone ``}``)
is ordinary text and is left exactly as written. There is no escaping: ``{{nombre}}``
renders as ``{Ana}``.

Names a placeholder can use:

- ``{nombre}`` / ``{first_name}``: the contact's first name;
- ``{apellido}`` / ``{last_name}``: the contact's last name;
- any key of the contact's custom fields.

Names match ignoring case and accents, and a custom field key matches with its spaces
and hyphens written as underscores: the column "Fecha de Pago" fills ``{fecha_de_pago}``.
The built-in names win over a custom field of the same name.

One `POST /call/send` plays one message to every phone it names, so contacts whose
rendered messages are identical share requests; `plan_batches` groups them.

Pure module: no database, no HTTP.
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TypeVar

K = TypeVar("K")

# The longest text a campaign reads aloud, after personalisation: a template within the
# limit can still render longer for a contact with long custom fields.
MESSAGE_MAX_LENGTH = 1000

PLACEHOLDER = re.compile(r"\{[ \t]*(\w+)[ \t]*\}")

FIRST_NAME_ALIASES = frozenset({"nombre", "first_name"})
LAST_NAME_ALIASES = frozenset({"apellido", "last_name"})
BUILT_IN_NAMES = FIRST_NAME_ALIASES | LAST_NAME_ALIASES

# Neutral Spanish TTS reads about 150 words a minute (2.5 a second); a rough figure for
# the form, not a promise: numbers and abbreviations read out longer than they look.
SPEECH_WORDS_PER_MINUTE = 150

# Punctuation that closes a clause: an empty value before it takes its space with it.
_CLOSING = ",.;:!?)]…"
# Punctuation that opens a clause: an empty value after it leaves no space behind.
_OPENING = "¿¡(["


def normalise_name(name: str) -> str:
    """The form in which placeholder and field names are compared.

    Lower case, no accents, spaces and hyphens as underscores: "Fecha de Pago" and
    "fecha_de_pago" are the same name.
    """
    decomposed = unicodedata.normalize("NFKD", str(name).strip().casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\s\-]+", "_", bare)


def has_placeholders(message: str) -> bool:
    return "{" in message and PLACEHOLDER.search(message) is not None


def message_placeholders(message: str) -> set[str]:
    """The placeholder names in `message`, as written (without braces or padding)."""
    if "{" not in message:
        return set()
    return set(PLACEHOLDER.findall(message))


def unknown_placeholders(message: str, custom_field_names: Iterable[str]) -> set[str]:
    """The placeholders of `message` (as written) that neither a built-in name nor any
    of `custom_field_names` can fill."""
    known = BUILT_IN_NAMES | {normalise_name(name) for name in custom_field_names}
    return {name for name in message_placeholders(message) if normalise_name(name) not in known}


def _values(
    first_name: str, last_name: str, custom_fields: Mapping[str, object] | None
) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in (custom_fields or {}).items():
        values[normalise_name(key)] = "" if value is None else str(value).strip()
    first = (first_name or "").strip()
    last = (last_name or "").strip()
    values.update(dict.fromkeys(FIRST_NAME_ALIASES, first))
    values.update(dict.fromkeys(LAST_NAME_ALIASES, last))
    return values


def render_message(
    message: str,
    *,
    first_name: str = "",
    last_name: str = "",
    custom_fields: Mapping[str, object] | None = None,
) -> str:
    """`message` with its placeholders filled for one contact. Never raises.

    A placeholder nobody can fill, or whose value is empty, renders as nothing, and the
    text around it is tidied so the voice does not read a gap: the space it leaves is
    collapsed ("Hola {nombre}, ..." -> "Hola, ..."), a comma left dangling is dropped
    ("Hola, {nombre}." -> "Hola."), and at the start of a line or after "¿"/"¡" the
    following space and comma go too. A message without placeholders is returned as is.
    """
    if "{" not in message:
        return message
    pieces = PLACEHOLDER.split(message)
    if len(pieces) == 1:
        return message
    values = _values(first_name, last_name, custom_fields)
    rendered = pieces[0]
    # pieces alternates literal text and placeholder names: text, name, text, ..., text.
    for index in range(1, len(pieces), 2):
        name, after = pieces[index], pieces[index + 1]
        is_last = index + 2 >= len(pieces)
        value = values.get(normalise_name(name), "")
        if value:
            rendered += value + after
            continue
        trimmed = rendered.rstrip(" \t")
        following = after[:1]
        closes_clause = following != "" and following in _CLOSING
        if trimmed == "" or trimmed.endswith("\n") or trimmed[-1] in _OPENING:
            rendered = trimmed + after.lstrip(" \t,")
        elif closes_clause or following == "\n" or (following == "" and is_last):
            if closes_clause and trimmed.endswith(","):
                trimmed = trimmed[:-1].rstrip(" \t")
            rendered = trimmed + after
        elif following in (" ", "\t"):
            rendered = trimmed + after
        else:
            # Glued to the next word or placeholder: keep the space that was before it.
            rendered += after
    return rendered


def plan_batches(items: Iterable[tuple[K, str]], *, batch_size: int) -> list[tuple[str, list[K]]]:
    """Group `(key, rendered_text)` items into `(text, keys)` batches for `call/send`.

    Items with the same text share batches of at most `batch_size` keys. Texts come in
    the order they first appear and keys in input order, so the plan is deterministic.
    Raises ValueError if `batch_size` is below 1.
    """
    _check_batch_size(batch_size)
    keys_by_text: dict[str, list[K]] = {}
    for key, text in items:
        keys_by_text.setdefault(text, []).append(key)
    return [
        (text, keys[start : start + batch_size])
        for text, keys in keys_by_text.items()
        for start in range(0, len(keys), batch_size)
    ]


def count_requests(texts: Iterable[str], *, batch_size: int) -> int:
    """How many requests `plan_batches` would plan for these rendered texts.

    Raises ValueError if `batch_size` is below 1.
    """
    _check_batch_size(batch_size)
    return sum(math.ceil(count / batch_size) for count in Counter(texts).values())


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")


def estimate_speech_seconds(text: str) -> int:
    """Roughly how long a TTS voice takes to read `text`, in whole seconds.

    At SPEECH_WORDS_PER_MINUTE, rounded up; at least 1 for any text with a word in it,
    0 for empty or blank text.
    """
    words = len(text.split())
    if words == 0:
        return 0
    return max(1, math.ceil(words * 60 / SPEECH_WORDS_PER_MINUTE))
