"""Writing contacts to the database, and counting what an import would write.

Rows are written in chunks of `CHUNK_ROWS`, each chunk in its own short transaction, with
one query to find the chunk's existing contacts and bulk writes: a fixed number of
statements a chunk, new contacts and group memberships included, whatever its size.
Figures and profiles: bench/README.md.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..bulk_sql import update_rows
from ..csv_files import looks_like_formula
from ..models import Contact, ContactGroup
from .cleaning import ContactRow, SkippedRow, parse_rows
from .columns import EMAIL, FIRST_NAME, LAST_NAME
from .reading import open_table

CHUNK_ROWS = 2000


def _chunks(
    parsed: Iterator[tuple[int, ContactRow | SkippedRow]],
) -> Iterator[tuple[int, list[ContactRow], list[SkippedRow]]]:
    """Group parsed rows into (rows read so far, contacts, skipped) of CHUNK_ROWS rows."""
    contacts: list[ContactRow] = []
    skipped: list[SkippedRow] = []
    rows_read = 0
    for rows_read, item in parsed:
        if isinstance(item, SkippedRow):
            skipped.append(item)
        else:
            contacts.append(item)
        if len(contacts) + len(skipped) >= CHUNK_ROWS:
            yield rows_read, contacts, skipped
            contacts, skipped = [], []
    if contacts or skipped:
        yield rows_read, contacts, skipped


@dataclass
class _Known:
    """A contact already in the database, as much of it as an import may change."""

    pk: int
    first_name: str
    last_name: str
    email: str
    custom_fields: dict[str, Any]


def _json_elements(*, text: bool = True) -> str:
    """A FROM source giving, as `value`, each element of a JSON array passed as one
    parameter: one statement and one parameter for a whole chunk (SQLite's limit of 999
    parameters never applies), encoded by `json.dumps` and decoded by the database, both
    in C. `text`: the elements as text (phones, ids), else as JSON (rows)."""
    if connection.vendor == "postgresql":
        if text:
            return "json_array_elements_text(%s::json) AS value"
        # jsonb: each row is parsed once, not once for each of its fields.
        return "jsonb_array_elements(%s::jsonb) AS value"
    return "json_each(%s)"


def _select_by_phone(phones: list[str], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Rows of (phone, *columns) of the contacts with these phones, in one query."""
    if not phones:
        return []
    meta = Contact._meta
    quote = connection.ops.quote_name
    selected = ", ".join(quote(meta.get_field(name).column) for name in ("phone", *columns))
    phone = quote(meta.get_field("phone").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selected} FROM {quote(meta.db_table)} "  # noqa: S608 (names from the model)
            f"WHERE {phone} IN (SELECT value FROM {_json_elements()})",
            [json.dumps(phones)],
        )
        return cursor.fetchall()


def _existing(phones: list[str]) -> dict[str, _Known]:
    """The contacts with these phones, by phone."""
    custom_fields = Contact._meta.get_field("custom_fields")
    columns = ("id", "first_name", "last_name", "email", "custom_fields")
    return {
        phone: _Known(pk, first, last, email, custom_fields.from_db_value(custom, None, connection))
        for phone, pk, first, last, email, custom in _select_by_phone(phones, columns)
    }


def _apply(contact: _Known, row: ContactRow, *, overwrite: bool) -> bool:
    """Copy the row's data onto a known contact; True if anything changed.

    Empty fields are filled; filled ones are replaced only with `overwrite`. The
    do-not-call flag is not among what an import may change: it never clears it.
    """
    changed = False
    for name in (FIRST_NAME, LAST_NAME, EMAIL):
        value = getattr(row, name)
        current = getattr(contact, name)
        if value and value != current and (overwrite or not current):
            setattr(contact, name, value)
            changed = True
    custom = dict(contact.custom_fields or {})
    for key, value in row.custom_fields.items():
        current = custom.get(key)
        if value != current and (overwrite or current in (None, "")):
            custom[key] = value
            changed = True
    if changed:
        contact.custom_fields = custom
    return changed


@dataclass
class ImportPreview:
    """What an import would do. `to_update` counts contacts already in the database."""

    rows: int = 0
    to_create: int = 0
    to_update: int = 0
    do_not_call: int = 0  # rows whose do-not-call column asks to mark the contact
    # Rows whose name looks like a spreadsheet formula ("=HYPERLINK(..."): imported, but
    # a voice would read it; the preview says how many and shows a few.
    suspicious_names: list[dict[str, Any]] = field(default_factory=list)
    suspicious_count: int = 0
    # The first SKIPPED_ROWS_KEPT skipped rows, for the report; `skipped` counts them all.
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    skipped: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)

    def skip(self, rows: list[SkippedRow]) -> None:
        _skip(self, rows)


@dataclass
class ImportReport:
    """What an import did. `updated` changed; `unchanged` had nothing new to take."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    added_to_group: int = 0
    do_not_call: int = 0  # rows whose do-not-call column asks to mark the contact
    marked_do_not_call: int = 0  # contacts newly marked by `mark_do_not_call`
    calls_cancelled: int = 0  # queued calls that marking excluded
    # The first SKIPPED_ROWS_KEPT skipped rows, for the report; `skipped` counts them all.
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    skipped: int = 0

    def skip(self, rows: list[SkippedRow]) -> None:
        _skip(self, rows)

    @property
    def to_create(self) -> int:
        return self.created

    @property
    def to_update(self) -> int:
        return self.updated + self.unchanged


_SAMPLE_ROWS = 5
# Skipped rows kept in memory (and in the import's report): a file of a million bad rows
# must not hold a million rows of text.
SKIPPED_ROWS_KEPT = 50_000


def _skip(result: "ImportPreview | ImportReport", rows: list[SkippedRow]) -> None:
    result.skipped += len(rows)
    room = SKIPPED_ROWS_KEPT - len(result.skipped_rows)
    if room > 0:
        result.skipped_rows.extend(rows[:room])


def preview_file(
    *,
    path: Path,
    filename: str,
    mapping: list[str],
    progress: Callable[[int], None] | None = None,
) -> ImportPreview:
    """Count what `import_file` would do with this file and mapping; write nothing.
    Calls `progress(rows read so far)` after each chunk.

    Raises ImportFileError for a file that cannot be read or a mapping without a phone.
    """
    table = open_table(path, filename=filename)
    preview = ImportPreview()
    for rows_read, contacts, skipped in _chunks(parse_rows(table, mapping)):
        preview.rows = rows_read
        preview.skip(skipped)
        existing = _existing([row.phone for row in contacts])
        preview.to_update += len(existing)
        preview.to_create += len(contacts) - len(existing)
        preview.do_not_call += sum(row.do_not_call for row in contacts)
        for row in contacts:
            if looks_like_formula(row.first_name) or looks_like_formula(row.last_name):
                preview.suspicious_count += 1
                if len(preview.suspicious_names) < _SAMPLE_ROWS:
                    preview.suspicious_names.append(row.as_dict())
        for row in contacts[: _SAMPLE_ROWS - len(preview.sample)]:
            preview.sample.append(row.as_dict())
        if progress is not None:
            progress(rows_read)
    return preview


def import_file(
    *,
    path: Path,
    filename: str,
    mapping: list[str],
    group: ContactGroup | None = None,
    overwrite: bool = False,
    progress: Callable[[ImportReport], None] | None = None,
    mark_do_not_call: Callable[[list[str]], tuple[int, int]] | None = None,
    resume_after: int = 0,
) -> ImportReport:
    """Create or update a contact per row of the file, and add each to `group`.

    A phone already known updates its contact: empty fields are filled, filled ones kept
    unless `overwrite`; custom fields are merged the same way; do-not-call is never
    cleared. Each chunk of CHUNK_ROWS rows is written in its own transaction, which ends
    with `mark_do_not_call(phones)` for the chunk's rows whose do-not-call column says
    yes, which returns (contacts newly marked, queued calls cancelled): a contact is never
    written without the mark its row asks for. Without the callback such rows are only
    counted. Then, still in the chunk's transaction, `progress(report so far)` is called:
    what it records is committed with the chunk, or not at all (it may raise to stop the
    import, rolling the chunk back). The rows up to `resume_after` (a `report.rows` that
    was committed) are read again but not written: an interrupted import resumes there.
    Raises ImportFileError for a file that cannot be read or a mapping without a phone
    (nothing is written then).
    """
    table = open_table(path, filename=filename)
    report = ImportReport()
    for rows_read, contacts, skipped in _chunks(parse_rows(table, mapping)):
        if rows_read <= resume_after:
            continue
        report.skip(skipped)
        report.rows = rows_read
        write = partial(
            _import_chunk,
            contacts,
            group=group,
            overwrite=overwrite,
            report=report,
            mark_do_not_call=mark_do_not_call,
            progress=progress,
        )
        try:
            write()
        except IntegrityError:
            # Another import created some of these phones since we looked: look again.
            write()
    return report


def _import_chunk(
    rows: list[ContactRow],
    *,
    group: ContactGroup | None,
    overwrite: bool,
    report: ImportReport,
    mark_do_not_call: Callable[[list[str]], tuple[int, int]] | None,
    progress: Callable[[ImportReport], None] | None,
) -> None:
    with transaction.atomic():
        existing = _existing([row.phone for row in rows])
        new = [row for row in rows if row.phone not in existing]
        changed = [
            contact
            for row in rows
            if (contact := existing.get(row.phone)) is not None
            and _apply(contact, row, overwrite=overwrite)
        ]
        added = _insert_contacts(new, group=group)
        _update_contacts(changed)
        if group is not None:
            added += _add_to_group(group, contact_ids=[known.pk for known in existing.values()])
        do_not_call = [row.phone for row in rows if row.do_not_call]
        marked = cancelled = 0
        if do_not_call and mark_do_not_call is not None:
            marked, cancelled = mark_do_not_call(do_not_call)
        report.created += len(new)
        report.updated += len(changed)
        report.unchanged += len(existing) - len(changed)
        report.added_to_group += added
        report.do_not_call += len(do_not_call)
        report.marked_do_not_call += marked
        report.calls_cancelled += cancelled
        if progress is not None:
            progress(report)


# The ORM's bulk_create and bulk_update prepare every value of every object in Python
# (about 100 µs a contact), and a statement a row is a round trip a row to PostgreSQL.
# These write a chunk's rows with one statement (SQLite: one prepared executemany).
_WRITTEN = ("phone", "first_name", "last_name", "email", "custom_fields")


def _insert_contacts(rows: list[ContactRow], *, group: ContactGroup | None) -> int:
    """Insert new contacts and add them to `group` if given; returns how many were added
    to the group (all of them: they were members of nothing)."""
    if not rows:
        return 0
    now = timezone.now()
    meta = Contact._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    # Columns the file does not give take the value a new Contact() would have.
    template = Contact(created_at=now, updated_at=now)
    base = [
        field.get_db_prep_save(getattr(template, field.attname), connection) for field in fields
    ]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    if connection.vendor == "postgresql":
        return _insert_contacts_postgresql(rows, group, fields, base, table, columns)
    position = {field.attname: index for index, field in enumerate(fields)}
    phone, first_name, last_name, email, custom = (position[name] for name in _WRITTEN)
    as_json = _json_texts()
    params = []
    for row in rows:
        values = base.copy()
        values[phone] = row.phone
        values[first_name] = row.first_name
        values[last_name] = row.last_name
        values[email] = row.email
        values[custom] = as_json(row.custom_fields)
        params.append(values)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 (names from the model)
            params,
        )
        if group is None:
            return 0
        # SQLite's executemany returns no ids: find them by phone, in the database.
        through, contact, contact_group = _membership_names()
        phone_column = quote(meta.get_field("phone").column)
        cursor.execute(
            f"INSERT INTO {through} ({contact}, {contact_group}) "  # noqa: S608 (names from the model)
            f"SELECT {quote(meta.pk.column)}, %s FROM {table} "
            f"WHERE {phone_column} IN (SELECT value FROM {_json_elements()})",
            [group.pk, json.dumps([row.phone for row in rows])],
        )
        return cursor.rowcount


def _insert_contacts_postgresql(rows, group, fields, base, table, columns) -> int:
    """PostgreSQL: the chunk's rows as one JSON array, inserted by one INSERT ... SELECT
    that also adds the new contacts to the group from its RETURNING ids (no COPY, no
    lookup by phone)."""
    selected = []
    params = []
    for model_field, value in zip(fields, base, strict=True):
        if model_field.attname in _WRITTEN:
            index = _WRITTEN.index(model_field.attname)
            # custom_fields stays JSON; the others are text.
            json_value = model_field.attname == "custom_fields"
            selected.append(f"value -> {index}" if json_value else f"value ->> {index}")
        else:
            selected.append("%s")
            params.append(value)
    data = [
        (row.phone, row.first_name, row.last_name, row.email, row.custom_fields) for row in rows
    ]
    params.append(json.dumps(data))
    insert = (
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(selected)} "  # noqa: S608 (names from the model)
        f"FROM {_json_elements(text=False)}"
    )
    with connection.cursor() as cursor:
        if group is None:
            cursor.execute(insert, params)
            return 0
        through, contact, contact_group = _membership_names()
        pk = connection.ops.quote_name(Contact._meta.pk.column)
        cursor.execute(
            f"WITH new AS ({insert} RETURNING {pk}) "  # noqa: S608 (names from the model)
            f"INSERT INTO {through} ({contact}, {contact_group}) SELECT {pk}, %s FROM new",
            [*params, group.pk],
        )
        return cursor.rowcount


def _json_texts() -> Callable[[dict[str, str]], str]:
    """A function giving the JSON text of custom fields, each distinct value encoded once:
    files repeat a few cities or branches over thousands of rows."""
    encoded: dict[tuple[tuple[str, str], ...], str] = {}

    def as_json(custom_fields: dict[str, str]) -> str:
        key = tuple(custom_fields.items())
        text = encoded.get(key)
        if text is None:
            text = encoded[key] = json.dumps(custom_fields)
        return text

    return as_json


def _update_contacts(contacts: list[_Known]) -> None:
    now = timezone.now()
    update_rows(
        Contact,
        set_fields=("first_name", "last_name", "email", "custom_fields", "updated_at"),
        rows=[
            (
                contact.first_name,
                contact.last_name,
                contact.email,
                contact.custom_fields,
                now,
                contact.pk,
            )
            for contact in contacts
        ],
    )


def _membership_names() -> tuple[str, str, str]:
    """The quoted table and columns of contact-group memberships."""
    through = Contact.groups.through._meta
    quote = connection.ops.quote_name
    return (
        quote(through.db_table),
        quote(through.get_field("contact").column),
        quote(through.get_field("contactgroup").column),
    )


def _add_to_group(group: ContactGroup, *, contact_ids: list[int]) -> int:
    """Add known contacts to the group in one statement, however many; returns how many
    were not members yet.

    ON CONFLICT DO NOTHING (SQLite and PostgreSQL) skips members, including those another
    import added since we looked.
    """
    if not contact_ids:
        return 0
    through, contact, contact_group = _membership_names()
    # SQLite needs a WHERE to read ON CONFLICT as the upsert's, not as part of a join.
    where = "" if connection.vendor == "postgresql" else " WHERE true"
    value = "value::bigint" if connection.vendor == "postgresql" else "value"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {through} ({contact}, {contact_group}) "  # noqa: S608 (names from the model)
            f"SELECT {value}, %s FROM {_json_elements()}{where} ON CONFLICT DO NOTHING",
            [group.pk, json.dumps(contact_ids)],
        )
        return cursor.rowcount
