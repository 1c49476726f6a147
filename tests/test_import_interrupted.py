"""An import whose worker dies is noticed by the sweep, says where it stopped, and resumes
from its last committed chunk with every contact written exactly once."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campaigns import services
from campaigns.contact_import import CHUNK_ROWS
from campaigns.models import Contact, ContactGroup, ContactImport, WorkerHeartbeat
from tests.factories import make_user
from tests.workers import running_workers, wait_for_workers_disconnected, worker_environment

State = ContactImport.State
ROWS = 200_000


def _previewed_import(rows: int, *, group_name: str = "Pacientes Chapinero") -> ContactImport:
    lines = ["telefono;nombre"] + [f"3{n:09d};Paciente {n}" for n in range(rows)]
    upload = SimpleUploadedFile("pacientes.csv", "\n".join(lines).encode(), "text/csv")
    job = services.contact_import_start(upload=upload, user=make_user())
    services.contact_import_preview(
        job=job,
        mapping=job.mapping,
        group=None,
        new_group_name=group_name,
        overwrite=False,
        in_background=False,
    )
    assert job.state == State.PREVIEWED and job.to_create == rows
    return job


def _wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_s_import_is_interrupted_by_the_sweep_and_resumes_exactly_once(
    settings, onurix, auth_client
):
    onurix()  # the sweep also looks at campaigns: a sandbox answers for Onurix
    settings.IMPORT_STALL_SECONDS = 2
    job = _previewed_import(ROWS)
    env = worker_environment(
        onurix_url=settings.ONURIX_BASE_URL, ONURIX_TEST_MEDIA_ROOT=str(settings.MEDIA_ROOT)
    )

    with running_workers(env) as [worker]:
        assert services.contact_import_confirm(job=job)

        def some_chunks_committed() -> bool:
            job.refresh_from_db()
            assert job.state != State.DONE, "the import finished before the kill"
            return job.state == State.IMPORTING and job.rows_done >= 2 * CHUNK_ROWS

        _wait_for(some_chunks_committed, seconds=60, what="the worker did not import")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    wait_for_workers_disconnected()  # its last chunk's COMMIT may still be landing

    job.refresh_from_db()
    assert job.state == State.IMPORTING  # nobody noticed yet
    stopped_at, saved = job.rows_done, job.created
    assert 0 < stopped_at < ROWS
    # What was committed is exactly the chunks the import recorded, nothing half-written.
    assert Contact.objects.count() == saved == stopped_at

    # The sweep (every minute in the worker) notices an import without progress.
    assert services.campaigns_sweep()["imports_interrupted"] == 0  # not stalled long enough
    ContactImport.objects.filter(pk=job.pk).update(
        progress_at=timezone.now() - timedelta(seconds=3)
    )
    assert services.campaigns_sweep()["imports_interrupted"] == 1
    job.refresh_from_db()
    assert job.state == State.INTERRUPTED

    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert f"Stopped at row {stopped_at:,}, {saved:,} contacts saved." in page.text
    assert "hx-get" not in page.text  # a final state: the page stops polling
    assert "Resume the import" in page.text

    with running_workers(env):
        auth_client.post(job.get_absolute_url(), {"resume": "1"})

        def finished() -> bool:
            job.refresh_from_db()
            return job.state in {State.DONE, State.FAILED}

        _wait_for(finished, seconds=120, what="the resumed import did not finish")

    assert job.state == State.DONE
    assert (job.created, job.updated, job.unchanged, job.skipped) == (ROWS, 0, 0, 0)
    assert job.rows_done == ROWS
    assert Contact.objects.count() == ROWS
    group = ContactGroup.objects.get(name="Pacientes Chapinero")
    assert group.contacts.count() == ROWS == job.added_to_group
    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Import finished." in page.text and "hx-get" not in page.text


@pytest.mark.django_db
def test_a_dead_worker_s_heartbeat_interrupts_its_import_without_waiting(auth_client):
    """A `campaigns_worker` beats every few seconds: once its heartbeat stops, its import
    is interrupted at the next sweep, long before IMPORT_STALL_SECONDS."""
    job = _previewed_import(10)
    ContactImport.objects.filter(pk=job.pk).update(
        state=State.IMPORTING, worker="host:99", rows_done=4, created=3, updated=1
    )
    WorkerHeartbeat.objects.create(worker="host:99", beat_at=timezone.now())
    assert services.contact_imports_sweep() == 0  # alive, and moved just now

    WorkerHeartbeat.objects.filter(worker="host:99").update(
        beat_at=timezone.now() - timedelta(seconds=60)
    )
    assert services.contact_imports_sweep() == 1
    job.refresh_from_db()
    assert job.state == State.INTERRUPTED
    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Stopped at row 4, 4 contacts saved." in page.text


@pytest.mark.django_db
def test_a_stalled_preview_goes_back_to_the_mapping_step_with_a_message(settings, auth_client):
    settings.IMPORT_STALL_SECONDS = 60
    job = _previewed_import(10)
    queued = timezone.now() - timedelta(seconds=61)
    ContactImport.objects.filter(pk=job.pk).update(
        state=State.PREVIEWING, rows_done=0, progress_at=queued, worker=""
    )
    # Still waiting in the queue (behind a campaign's dispatch, say): not stuck.
    assert services.contact_imports_sweep() == 0

    ContactImport.objects.filter(pk=job.pk).update(worker="host:98", rows_done=6)
    assert services.contact_imports_sweep() == 1

    job.refresh_from_db()
    assert job.state == State.UPLOADED
    # Stored in the product's language (Spanish) by the sweep, shown above the columns.
    page = auth_client.get(job.get_absolute_url())
    assert "La revisión se detuvo en la fila 6" in page.text
    assert "hx-get" not in page.text
