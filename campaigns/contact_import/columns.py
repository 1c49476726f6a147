"""Recognising a contacts file's columns from their Spanish or English names.

Pure functions: no database.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ..csv_files import is_custom_field_name

PHONE = "phone"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
EMAIL = "email"
FULL_NAME = "full_name"
DO_NOT_CALL = "do_not_call"
CUSTOM = "custom"
IGNORE = "ignore"

IMPORT_TARGETS = [
    (PHONE, _("Phone")),
    (FIRST_NAME, _("First name")),
    (LAST_NAME, _("Last name")),
    (FULL_NAME, _("Full name (split into first and last name)")),
    (EMAIL, _("Email")),
    (DO_NOT_CALL, _("Do not call (sí, x or 1 marks the contact)")),
    (CUSTOM, _("Custom field (kept under the column's name)")),
    (IGNORE, _("Ignore")),
]
TARGET_VALUES = frozenset(value for value, _label in IMPORT_TARGETS)

# Each field of a contact is read from one column. Exports name several candidates ("First
# Name" and "Middle Name", "Mobile Phone" and "Home Phone", "E-mail Address" and "E-mail 2
# Address"): the best of them gets the field and the others are ignored, so a recognised
# mapping never puts two columns on one field and is always accepted as it is. A column
# recognised as nothing (Outlook's "Categories", Google's "Labels") is ignored too, unless
# the person keeps the other columns as custom fields (`keep_other_columns`); the columns a
# clinic's reminder uses in its messages ("Sede", "Fecha de cita") are kept by default.


def plain_words(header: str) -> str:
    """A header without accents, case or punctuation: "E-mail 1 - Value" -> "e mail 1 value"."""
    text = unicodedata.normalize("NFKD", header)
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    return " ".join(re.split(r"[^a-z0-9]+", text)).strip()


_FIRST_NAME_HEADERS = {
    "nombre",
    "nombres",
    "primer nombre",
    "first name",
    "firstname",
    "first",
    "given name",
    "name first",
}
_LAST_NAME_HEADERS = {
    "apellido",
    "apellidos",
    "primer apellido",
    "last name",
    "lastname",
    "last",
    "family name",
    "surname",
    "name last",
}
_FULL_NAME_HEADERS = {
    "name",
    "full name",
    "fullname",
    "nombre completo",
    "nombres y apellidos",
    "nombre y apellido",
    "nombre y apellidos",
    "display name",
    "contacto",
}
# Parts of a name beside the first and last name we keep: known, and ignored.
_NAME_PART_HEADERS = {
    "segundo nombre",
    "otros nombres",
    "segundo apellido",
    "middle name",
    "additional name",
    "name prefix",
    "name suffix",
    "title",
    "suffix",
    "initials",
    "nickname",
    "short name",
    "maiden name",
    "file as",
    "yomi name",
}
_NAME_PART_WORDS = {"phonetic", "yomi"}
# "E-mail Address", "E-mail 2 Address", "E-mail 1 - Value", "Correo": the number ranks it.
_EMAIL_HEADER = re.compile(
    r"(?:e mail|email|mail|correo(?: electronico)?)(?: (\d+))?(?: (?:address|value))?"
)
# Other columns about an email ("E-mail Type", "E-mail Display Name"): known, and ignored.
_EMAIL_PREFIXES = ("e mail ", "email ", "correo ")
_DO_NOT_CALL_HEADERS = {
    "no llamar",
    "no llamar nunca",
    "do not call",
    "dont call",
    "dnc",
    "bloqueado",
    "bloqueada",
    "bloqueados",
}
# What a do-not-call cell says to mark the contact (compared as plain_words gives it). Any
# other value, empty included, leaves the contact as it is: an import never clears a mark.
DO_NOT_CALL_YES = {"si", "x", "1", "true", "yes", "verdadero"}
# Words that make a header a phone, by how likely it holds a mobile.
_MOBILE_WORDS = {"celular", "cel", "movil", "mobile", "cell", "cellphone", "whatsapp", "wa"}
_PHONE_WORDS = {"telefono", "tel", "tlf", "telf", "phone", "telephone", "fono", "numero", "msisdn"}
_SECONDARY_WORDS = {
    "home",
    "business",
    "work",
    "other",
    "car",
    "company",
    "assistant",
    "assistants",
    "casa",
    "fijo",
    "oficina",
    "trabajo",
    "otro",
}
# Lines that take no voice call, and what describes a phone rather than holds one: a
# column named with these is a phone we do not call ("Business Fax", "Phone 1 - Type").
_NOT_CALLED_WORDS = {
    "fax",
    "pager",
    "telex",
    "tty",
    "tdd",
    "isdn",
    "radio",
    "callback",
    "type",
    "label",
    "tipo",
    "ext",
    "extension",
    "indicativo",
}
# Numbers that are not phones at all ("Número de documento", "Número de pedido").
_IDENTIFIER_WORDS = {
    "documento",
    "cedula",
    "identificacion",
    "nit",
    "id",
    "cc",
    "pedido",
    "orden",
    "factura",
    "cuenta",
    "contrato",
    "cliente",
}
_NOT_PHONE_WORDS = _NOT_CALLED_WORDS | _IDENTIFIER_WORDS
# Columns a reminder call says in its message: kept as custom fields without asking.
_PLACEHOLDER_HEADERS = {
    "sede",
    "ciudad",
    "documento",
    "numero de documento",
    "no documento",
    "cedula",
    "numero de cedula",
    "identificacion",
    "cita",
    "fecha",
    "fecha de cita",
    "fecha cita",
    "fecha de la cita",
    "hora",
    "hora de cita",
    "hora cita",
    "hora de la cita",
    "medico",
    "doctor",
    "doctora",
    "profesional",
    "especialidad",
    "servicio",
    "consultorio",
    "appointment",
    "appointment date",
    "appointment time",
}
# The fields a single column feeds; the rest (custom, ignore) take any number of columns.
SINGLE_COLUMN_TARGETS = (PHONE, FIRST_NAME, LAST_NAME, FULL_NAME, EMAIL, DO_NOT_CALL)


def _phone_score(words: str) -> int:
    """How likely a column holds the phone to call: 0 not a phone, higher is better."""
    tokens = set(words.split())
    if not tokens or tokens & _NOT_PHONE_WORDS:
        return 0
    if tokens & _MOBILE_WORDS:
        score = 30
    elif tokens & _PHONE_WORDS:
        score = 20
    else:
        return 0
    if tokens & _SECONDARY_WORDS:
        score -= 10
    # "Phone 1 - Value" before "Phone 2 - Value".
    numbers = [int(token) for token in tokens if token.isdigit()]
    return score - min(min(numbers, default=1), 9) + 1


def _recognise(words: str) -> tuple[str, int] | None:
    """(target, rank) for a column, lower ranks first among columns of one target; None
    for a column recognised as nothing."""
    tokens = set(words.split())
    if not words or words.endswith((" type", " label")):
        return IGNORE, 0  # empty column names, and Google's "Phone 1 - Label" and the like
    for headers, target in (
        (_FIRST_NAME_HEADERS, FIRST_NAME),
        (_LAST_NAME_HEADERS, LAST_NAME),
        (_FULL_NAME_HEADERS, FULL_NAME),
        (_DO_NOT_CALL_HEADERS, DO_NOT_CALL),
    ):
        if words in headers:
            return target, 0
    if words in _NAME_PART_HEADERS or tokens & _NAME_PART_WORDS:
        return IGNORE, 0
    if email := _EMAIL_HEADER.fullmatch(words):
        return EMAIL, int(email.group(1) or 1)
    if words.startswith(_EMAIL_PREFIXES):
        return IGNORE, 0
    if score := _phone_score(words):
        return PHONE, -score
    if tokens & (_MOBILE_WORDS | _PHONE_WORDS | _NOT_CALLED_WORDS) and not (
        tokens & _IDENTIFIER_WORDS
    ):
        return IGNORE, 0  # a fax, a pager, a phone's label
    if words in _PLACEHOLDER_HEADERS:
        return CUSTOM, 0
    return None


@dataclass(frozen=True)
class ColumnGuess:
    """A file's columns as recognised: a target of IMPORT_TARGETS for each, and `others`,
    the indexes of the columns recognised as nothing (ignored unless kept)."""

    mapping: list[str]
    others: list[int]


def recognise_columns(headers: list[str]) -> ColumnGuess:
    """Recognise a file's columns from their Spanish or English names.

    Each field gets at most one column, the best of those naming it: "Mobile Phone" or
    "Celular" before "Home Phone", "Teléfono fijo" or "Phone 2 - Value"; "E-mail Address"
    before "E-mail 2 Address"; "First Name" (the middle name is ignored). Known columns
    that feed no field (other phones and emails, name parts, faxes, "... - Label") are
    ignored, and so are unknown ones, but for those a reminder says in its message
    ("Sede", "Ciudad", "Documento", "Fecha de cita"), kept as custom fields.
    """
    recognised = [_recognise(plain_words(header)) for header in headers]
    mapping = [IGNORE if found is None else found[0] for found in recognised]
    for target in SINGLE_COLUMN_TARGETS:
        candidates = [
            index for index, found in enumerate(recognised) if found and found[0] == target
        ]
        best = min(candidates, key=lambda index: (recognised[index][1], index), default=None)
        for index in candidates:
            if index != best:
                mapping[index] = IGNORE
    others = [index for index, found in enumerate(recognised) if found is None]
    return ColumnGuess(mapping=mapping, others=others)


def guess_mapping(headers: list[str]) -> list[str]:
    """The mapping `recognise_columns` gives: one target of IMPORT_TARGETS per column."""
    return recognise_columns(headers).mapping


def keep_other_columns(*, headers: list[str], mapping: list[str]) -> list[str]:
    """The mapping with every ignored column recognised as nothing made a custom field,
    if its name may name one (`is_custom_field_name`)."""
    others = set(recognise_columns(headers).others)
    return [
        CUSTOM
        if index in others and target == IGNORE and is_custom_field_name(headers[index])
        else target
        for index, target in enumerate(mapping)
    ]
