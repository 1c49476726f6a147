"""Contact imports: upload, preview, confirm, and the worker's run."""

import csv
import itertools
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import contact_import as contact_import_engine
from .. import tasks
from ..contact_import import csv_safe
from ..models import Contact, ContactGroup, ContactImport, DoNotCallChange
from .contacts import Echo, contacts_set_do_not_call

logger = logging.getLogger(__name__)

# Skipped rows kept for the page and the report; a file that bad is better fixed at source.
MAX_SKIPPED_ROWS_KEPT = 50_000


def contact_import_start(*, upload: UploadedFile, user) -> ContactImport:
    """Keep an uploaded file and recognise its columns. Raises ValidationError for a file
    that cannot be read as contacts (nothing is kept then)."""
    job = ContactImport(original_name=Path(upload.name).name[:255], uploaded_by=user)
    job.file.save(f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()[:8]}", upload, save=False)
    try:
        table = contact_import_engine.open_table(Path(job.file.path), filename=upload.name)
    except contact_import_engine.ImportFileError as error:
        job.file.delete(save=False)
        raise ValidationError({"file": error.reason}) from None
    job.headers = table.headers
    job.mapping = contact_import_engine.guess_mapping(table.headers)
    job.save()
    return job


def contact_import_preview(
    *,
    job: ContactImport,
    mapping: list[str],
    group: ContactGroup | None,
    new_group_name: str,
    overwrite: bool,
) -> ContactImport:
    """Count what the import would do with this mapping, writing no contact.

    Raises ValidationError if a row of the file cannot be read (the job is left as it was).
    """
    try:
        preview = contact_import_engine.contact_import_preview(
            path=Path(job.file.path), filename=job.original_name, mapping=mapping
        )
    except contact_import_engine.ImportFileError as error:
        raise ValidationError(error.reason) from None
    job.mapping = mapping
    job.group = group
    job.new_group_name = new_group_name
    job.overwrite = overwrite
    job.to_create = preview.to_create
    job.to_update = preview.to_update
    job.skipped = preview.skipped
    job.skipped_rows = [
        {
            "line": row.line,
            "phone": row.raw_phone,
            "reason": str(row.reason),
            "original": row.original,
        }
        for row in preview.skipped_rows[:MAX_SKIPPED_ROWS_KEPT]
    ]
    job.suspicious_names = {
        "count": preview.suspicious_count,
        "examples": [
            {"line": row["line"], "name": f"{row['first_name']} {row['last_name']}".strip()}
            for row in preview.suspicious_names
        ],
    }
    job.state = ContactImport.State.PREVIEWED
    job.save()
    return job


def contact_import_confirm(*, job: ContactImport) -> bool:
    """Queue a previewed import for the worker; False if it was already confirmed."""
    with transaction.atomic():
        claimed = ContactImport.objects.filter(
            pk=job.pk, state=ContactImport.State.PREVIEWED
        ).update(state=ContactImport.State.QUEUED, updated_at=timezone.now())
        if claimed:
            transaction.on_commit(lambda: tasks.contact_import_task.enqueue(import_id=job.pk))
    return bool(claimed)


def contact_import_run(*, import_id: int) -> None:
    """Import a confirmed file (the worker's job). Records failure on the import itself."""
    claimed = ContactImport.objects.filter(pk=import_id, state=ContactImport.State.QUEUED).update(
        state=ContactImport.State.IMPORTING, rows_done=0, updated_at=timezone.now()
    )
    if not claimed:
        return
    job = ContactImport.objects.select_related("group").get(pk=import_id)
    group = job.group
    if job.new_group_name:
        group, _created = ContactGroup.objects.get_or_create(name=job.new_group_name)

    def progress(rows_done: int) -> None:
        ContactImport.objects.filter(pk=import_id).update(rows_done=rows_done)

    try:
        report = contact_import_file(
            path=Path(job.file.path),
            filename=job.original_name,
            mapping=job.mapping,
            group=group,
            overwrite=job.overwrite,
            user=job.uploaded_by,
            progress=progress,
        )
    except (contact_import_engine.ImportFileError, OSError) as error:
        logger.warning("Contact import %s failed: %s", import_id, error)
        ContactImport.objects.filter(pk=import_id).update(
            state=ContactImport.State.FAILED,
            error=str(getattr(error, "reason", _("The file could not be read again."))),
            finished_at=timezone.now(),
        )
        return
    ContactImport.objects.filter(pk=import_id).update(
        state=ContactImport.State.DONE,
        group=group,
        created=report.created,
        updated=report.updated,
        skipped=report.skipped,
        added_to_group=report.added_to_group,
        marked_do_not_call=report.marked_do_not_call,
        calls_cancelled=report.calls_cancelled,
        rows_done=report.created + report.updated + report.unchanged + report.skipped,
        finished_at=timezone.now(),
    )


def contact_import_file(
    *,
    path: Path,
    filename: str,
    mapping: list[str],
    group: ContactGroup | None,
    overwrite: bool,
    user,
    progress: Callable[[int], None] | None = None,
) -> contact_import_engine.ImportReport:
    """Import a file of contacts (see `contact_import.contact_import`), marking the rows
    whose do-not-call column says yes through `contacts_set_do_not_call`: from the import,
    by `user`, with a reason naming the file, chunk by chunk with the rows themselves.

    Raises ImportFileError as the engine does.
    """
    reason = _("Marked in the import of «%(name)s»") % {"name": filename}

    def mark(phones: list[str]) -> tuple[int, int]:
        outcome = contacts_set_do_not_call(
            contacts=Contact.objects.filter(phone__in=phones),
            do_not_call=True,
            reason=reason,
            source=DoNotCallChange.Source.IMPORT,
            user=user,
        )
        return outcome.changed, outcome.calls_cancelled

    return contact_import_engine.contact_import(
        path=path,
        filename=filename,
        mapping=mapping,
        group=group,
        overwrite=overwrite,
        progress=progress,
        mark_do_not_call=mark,
    )


def contact_import_report_rows(*, job: ContactImport) -> Iterator[str]:
    """The skipped rows of an import as CSV lines (UTF-8 with BOM, formula-safe)."""
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(
        [_("Line"), _("Phone as given"), _("Reason"), _("Original row")]
    )
    for row in job.skipped_rows:
        yield writer.writerow(
            [
                row["line"],
                csv_safe(row["phone"]),
                csv_safe(row["reason"]),
                csv_safe(row.get("original", "")),
            ]
        )


def contact_import_sample(*, job: ContactImport, rows: int = 5) -> list[list[str]]:
    """The first rows of an uploaded file, for the mapping step."""
    try:
        table = contact_import_engine.open_table(Path(job.file.path), filename=job.original_name)
        return [cells for _line, cells in itertools.islice(table.rows(), rows)]
    except (contact_import_engine.ImportFileError, OSError):
        return []
