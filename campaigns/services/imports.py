"""Contact imports: upload, preview, confirm, the worker's runs, and the sweep of stopped ones.

The web request only stores the file and reads what the mapping step needs (the header
and a few rows, a bounded part of the file). Counting the rows for the preview and
writing the contacts run in the worker (`contact_import_count`, `contact_import_run`),
which records its progress on the import as it goes; the `import_contacts` command runs
the same services in its own process.

An import's progress is committed with each chunk of contacts: an import whose worker
died (`contact_imports_sweep` notices) resumes after the last chunk committed, and
nobody is written twice.
"""

import csv
import itertools
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import contact_import as contact_import_engine
from .. import tasks
from ..csv_files import Echo, csv_safe
from ..models import Contact, ContactGroup, ContactImport, DoNotCallChange, WorkerHeartbeat
from .contacts import contacts_set_do_not_call
from .workers import WORKER_DEAD_AFTER

logger = logging.getLogger(__name__)

State = ContactImport.State

# Rows of the file shown under the columns on the mapping step.
SAMPLE_ROWS = 5


class ImportStopped(Exception):
    """The import is no longer this worker's (the sweep marked it interrupted)."""


def _worker_name() -> str:
    from .dispatch import worker_name

    return worker_name()


def contact_import_start(*, upload: UploadedFile, user) -> ContactImport:
    """Keep an uploaded file and recognise its columns, reading only its beginning.

    Raises ValidationError for a file that cannot be read as contacts (nothing is kept then).
    """
    job = ContactImport(original_name=Path(upload.name).name[:255], uploaded_by=user)
    job.file.save(f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()[:8]}", upload, save=False)
    try:
        table = contact_import_engine.open_table(
            Path(job.file.path), filename=upload.name, sample=True
        )
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
    in_background: bool = True,
) -> bool:
    """Keep the mapping and have the worker count what the import would do (the job is
    PREVIEWING until it has); with `in_background=False`, count now, in this process.

    Returns False if the import is past its preview (confirmed, running or done).
    """
    with transaction.atomic():
        claimed = ContactImport.objects.filter(
            pk=job.pk, state__in=[State.UPLOADED, State.PREVIEWED, State.PREVIEWING]
        ).update(
            mapping=mapping,
            group=group,
            new_group_name=new_group_name,
            overwrite=overwrite,
            state=State.PREVIEWING,
            rows_done=0,
            error="",
            worker="",
            progress_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if claimed and in_background:
            transaction.on_commit(
                lambda: tasks.contact_import_preview_task.enqueue(import_id=job.pk)
            )
    if claimed and not in_background:
        contact_import_count(import_id=job.pk)
    job.refresh_from_db()
    return bool(claimed)


def contact_import_count(*, import_id: int) -> None:
    """Count what an import would do (the worker's job): creates, updates, skipped rows
    with their reasons. Records the result, or why the file could not be read, on the
    import; the rows read so far as it goes."""
    job = ContactImport.objects.get(pk=import_id)
    if job.state != State.PREVIEWING:
        return
    previewing = ContactImport.objects.filter(pk=import_id, state=State.PREVIEWING)
    previewing.update(worker=_worker_name(), progress_at=timezone.now())

    def progress(rows_read: int) -> None:
        previewing.update(rows_done=rows_read, progress_at=timezone.now())

    try:
        preview = contact_import_engine.preview_file(
            path=Path(job.file.path),
            filename=job.original_name,
            mapping=job.mapping,
            progress=progress,
        )
    except (contact_import_engine.ImportFileError, OSError) as error:
        logger.info("Contact import %s not previewed: %s", import_id, error)
        previewing.update(
            state=State.UPLOADED,
            error=str(getattr(error, "reason", _("The file could not be read again."))),
            progress_at=timezone.now(),
        )
        return
    previewing.update(
        state=State.PREVIEWED,
        rows_total=preview.rows,
        rows_done=preview.rows,
        to_create=preview.to_create,
        to_update=preview.to_update,
        to_mark_do_not_call=preview.do_not_call,
        skipped=preview.skipped,
        skipped_rows=[
            {
                "line": row.line,
                "phone": row.raw_phone,
                "reason": str(row.reason),
                "original": row.original,
            }
            for row in preview.skipped_rows
        ],
        suspicious_names={
            "count": preview.suspicious_count,
            "examples": [
                {"line": row["line"], "name": f"{row['first_name']} {row['last_name']}".strip()}
                for row in preview.suspicious_names
            ],
        },
        progress_at=timezone.now(),
        updated_at=timezone.now(),
    )


def contact_import_confirm(*, job: ContactImport, in_background: bool = True) -> bool:
    """Queue a previewed import for the worker (with `in_background=False`, run it now,
    in this process); False if it was not waiting for confirmation."""
    with transaction.atomic():
        claimed = ContactImport.objects.filter(pk=job.pk, state=State.PREVIEWED).update(
            state=State.QUEUED,
            rows_done=0,
            created=0,
            updated=0,
            unchanged=0,
            skipped=0,
            added_to_group=0,
            marked_do_not_call=0,
            calls_cancelled=0,
            error="",
            updated_at=timezone.now(),
        )
        if claimed and in_background:
            transaction.on_commit(lambda: tasks.contact_import_task.enqueue(import_id=job.pk))
    if claimed and not in_background:
        contact_import_run(import_id=job.pk)
    return bool(claimed)


def contact_import_resume(*, job: ContactImport) -> bool:
    """Queue an interrupted import again: it goes on after its last committed chunk.
    False if it was not interrupted."""
    with transaction.atomic():
        claimed = ContactImport.objects.filter(pk=job.pk, state=State.INTERRUPTED).update(
            state=State.QUEUED, error="", updated_at=timezone.now()
        )
        if claimed:
            transaction.on_commit(lambda: tasks.contact_import_task.enqueue(import_id=job.pk))
    return bool(claimed)


def contact_import_run(*, import_id: int) -> None:
    """Import a confirmed file (the worker's job), or go on with an interrupted one after
    its last committed chunk. Records progress and failure on the import itself."""
    worker = _worker_name()
    claimed = ContactImport.objects.filter(pk=import_id, state=State.QUEUED).update(
        state=State.IMPORTING,
        worker=worker,
        progress_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not claimed:
        return
    job = ContactImport.objects.select_related("group").get(pk=import_id)
    group = job.group
    if job.new_group_name:
        group, _created = ContactGroup.objects.get_or_create(name=job.new_group_name)
        ContactImport.objects.filter(pk=import_id).update(group=group)
    # Only while it is this worker's: one presumed dead and resumed elsewhere stops here.
    importing = ContactImport.objects.filter(pk=import_id, state=State.IMPORTING, worker=worker)
    before = job  # the counts of the chunks committed before an interruption

    def progress(report: contact_import_engine.ImportReport) -> None:
        # In the chunk's transaction: the counts are committed with the contacts.
        moved = importing.update(
            rows_done=report.rows,
            created=before.created + report.created,
            updated=before.updated + report.updated,
            unchanged=before.unchanged + report.unchanged,
            skipped=before.skipped + report.skipped,
            added_to_group=before.added_to_group + report.added_to_group,
            marked_do_not_call=before.marked_do_not_call + report.marked_do_not_call,
            calls_cancelled=before.calls_cancelled + report.calls_cancelled,
            progress_at=timezone.now(),
        )
        if not moved:
            raise ImportStopped

    try:
        _import_file(job=job, group=group, progress=progress, resume_after=job.rows_done)
    except ImportStopped:
        logger.warning("Contact import %s was taken from this worker: stopped", import_id)
        return
    except (contact_import_engine.ImportFileError, OSError) as error:
        logger.warning("Contact import %s failed: %s", import_id, error)
        importing.update(
            state=State.FAILED,
            error=str(getattr(error, "reason", _("The file could not be read again."))),
            finished_at=timezone.now(),
        )
        return
    importing.update(state=State.DONE, finished_at=timezone.now(), progress_at=timezone.now())


def _import_file(*, job: ContactImport, group: ContactGroup | None, progress, resume_after: int):
    """Import the job's file, marking the rows whose do-not-call column says yes through
    `contacts_set_do_not_call`: from the import, by its uploader, with a reason naming the
    file, chunk by chunk with the rows themselves. Raises ImportFileError as the engine."""
    reason = _("Marked in the import of «%(name)s»") % {"name": job.original_name}

    def mark(phones: list[str]) -> tuple[int, int]:
        outcome = contacts_set_do_not_call(
            contacts=Contact.objects.filter(phone__in=phones),
            do_not_call=True,
            reason=reason,
            source=DoNotCallChange.Source.IMPORT,
            user=job.uploaded_by,
        )
        return outcome.changed, outcome.calls_cancelled

    return contact_import_engine.import_file(
        path=Path(job.file.path),
        filename=job.original_name,
        mapping=job.mapping,
        group=group,
        overwrite=job.overwrite,
        progress=progress,
        mark_do_not_call=mark,
        resume_after=resume_after,
    )


def contact_imports_sweep() -> int:
    """Find imports and previews whose worker stopped: no progress for
    IMPORT_STALL_SECONDS, or a worker whose heartbeat stopped. An import is marked
    interrupted (resumable), a preview goes back to the mapping step with a message.
    Returns how many were found."""
    now = timezone.now()
    dead_workers = WorkerHeartbeat.objects.filter(beat_at__lt=now - WORKER_DEAD_AFTER)
    # Only work a worker has started: a preview still waiting in the queue behind a
    # campaign's dispatch is not stuck.
    stalled = ContactImport.objects.filter(
        Q(progress_at__lt=now - timedelta(seconds=settings.IMPORT_STALL_SECONDS))
        | Q(progress_at__isnull=True)
        | Q(worker__in=dead_workers.values("worker")),
        state__in=[State.IMPORTING, State.PREVIEWING],
    ).exclude(worker="")
    found = 0
    for job in stalled:
        with translation.override(settings.LANGUAGE_CODE):  # stored: the product's language
            found += _interrupt(job, now=now)
    return found


def _interrupt(job: ContactImport, *, now) -> int:
    """Stop a stalled import or preview, unless it moved since it was read; 1 if stopped."""
    unmoved = ContactImport.objects.filter(
        pk=job.pk, state=job.state, progress_at=job.progress_at, rows_done=job.rows_done
    )
    if job.state == State.IMPORTING:
        message = _("Stopped at row %(row)s, %(saved)s contacts saved.") % {
            "row": job.rows_done,
            "saved": job.created + job.updated,
        }
        moved = unmoved.update(state=State.INTERRUPTED, error=message, updated_at=now)
    else:
        message = _(
            "The check stopped at row %(row)s because the background process stopped. "
            "Preview the import again."
        ) % {"row": job.rows_done}
        moved = unmoved.update(state=State.UPLOADED, error=message, updated_at=now)
    if moved:
        logger.warning("Contact import %s stopped (worker %s): %s", job.pk, job.worker, message)
    return moved


def contact_import_report_rows(*, job: ContactImport) -> Iterator[str]:
    """The skipped rows of an import as CSV lines (UTF-8 with BOM, formula-safe)."""
    writer = csv.writer(Echo())
    header = [_("Line"), _("Phone as given"), _("Reason"), _("Original row")]
    yield "\ufeff" + writer.writerow([csv_safe(cell) for cell in header])
    for row in job.skipped_rows:
        yield writer.writerow(
            [
                row["line"],
                csv_safe(row["phone"]),
                csv_safe(row["reason"]),
                csv_safe(row.get("original", "")),
            ]
        )


def contact_import_table(*, path: Path, filename: str) -> contact_import_engine.Table:
    """A file opened for a bounded read: its kind, encoding, separator, columns and first
    rows. Raises ValidationError for a file that cannot be read as contacts."""
    try:
        return contact_import_engine.open_table(path, filename=filename, sample=True)
    except contact_import_engine.ImportFileError as error:
        raise ValidationError({"file": error.reason}) from None


def contact_import_sample(*, job: ContactImport) -> list[list[str]]:
    """The first rows of an uploaded file, for the mapping step (a bounded read)."""
    try:
        table = contact_import_engine.open_table(
            Path(job.file.path), filename=job.original_name, sample=True
        )
        return [
            cells
            for _line, cells in itertools.islice(table.rows(), SAMPLE_ROWS)
            if not isinstance(cells, contact_import_engine.UnreadableRow)
        ]
    except (contact_import_engine.ImportFileError, OSError):
        return []
