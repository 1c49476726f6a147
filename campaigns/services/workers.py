"""Whether the background worker runs: heartbeats written by `campaigns_worker`, and what
the health check and the pages say about them."""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import close_old_connections, connection
from django.utils import timezone

from ..models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# A worker writes its heartbeat this often; after WORKER_SILENT_AFTER without one from any
# worker, nobody is sending (pages say so, /healthz answers 503).
HEARTBEAT_SECONDS = 3
WORKER_SILENT_AFTER = timedelta(seconds=60)
# A worker whose heartbeat is older than this is dead (three beats missed): a live worker
# recovers its campaigns at its next beat, so a campaign moves again within about 15 s.
WORKER_DEAD_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)


def worker_beat(*, worker: str) -> None:
    """Record that `worker` (host:pid) is alive now."""
    WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"beat_at": timezone.now()})


def worker_stopped(*, worker: str) -> None:
    """Forget a worker that stops cleanly."""
    WorkerHeartbeat.objects.filter(worker=worker).delete()


class HeartbeatThread(threading.Thread):
    """Writes the worker's heartbeat every HEARTBEAT_SECONDS, on its own connection, until
    stopped. A failed write is logged and tried again at the next beat."""

    def __init__(self, worker: str):
        super().__init__(name="heartbeat", daemon=True)
        self.worker = worker
        self._stop_event = threading.Event()

    def run(self) -> None:
        from .dispatch import recover_dead_workers

        while not self._stop_event.is_set():
            try:
                worker_beat(worker=self.worker)
                recover_dead_workers(silent_after=WORKER_DEAD_AFTER, alive=self.worker)
            except Exception:  # a database hiccup must not end the worker: next beat
                logger.exception("Heartbeat of %s not written", self.worker)
                close_old_connections()
            self._stop_event.wait(HEARTBEAT_SECONDS)
        connection.close()

    def stop(self) -> None:
        self._stop_event.set()


@dataclass(frozen=True)
class WorkerHealth:
    alive: bool  # some worker beat within WORKER_SILENT_AFTER
    last_beat: datetime | None
    last_beat_age: float | None  # seconds
    workers: int  # workers seen within WORKER_SILENT_AFTER
    queued_tasks: int  # tasks due now, waiting for a worker
    oldest_queued_age: float | None  # seconds


def worker_health() -> WorkerHealth:
    """What /healthz and the pages say about the background worker. Two small queries."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    recent = WorkerHeartbeat.objects.filter(beat_at__gte=now - WORKER_SILENT_AFTER)
    last_beat = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True)
    last = last_beat.first()
    due = DBTaskResult.objects.filter(status="READY").filter(
        run_after__lte=now
    ) | DBTaskResult.objects.filter(status="READY", run_after=get_date_max())
    oldest = due.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    return WorkerHealth(
        alive=recent.exists(),
        last_beat=last,
        last_beat_age=(now - last).total_seconds() if last else None,
        workers=recent.count(),
        queued_tasks=due.count(),
        oldest_queued_age=(now - oldest).total_seconds() if oldest else None,
    )
