"""The background worker: `manage.py campaigns_worker` (the Procfile's `worker`).

django-tasks' `db_worker`, plus what a deployment would otherwise need a release step
for: the every-minute sweep is queued if it is missing, and a heartbeat tells /healthz
and the pages that a worker runs. Options are passed to `db_worker`.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from campaigns import tasks
from campaigns.services.dispatch import worker_name
from campaigns.services.workers import HeartbeatThread, worker_stopped


class Command(BaseCommand):
    help = "Run the background worker (db_worker) with its heartbeat and the periodic sweep."

    def add_arguments(self, parser):
        parser.add_argument("db_worker_args", nargs="*", help="Passed to db_worker.")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--no-startup-delay", action="store_true")

    def handle(self, *args, **options):
        worker = worker_name()
        tasks.schedule_sweep(only_if_missing=True)
        heartbeat = HeartbeatThread(worker)
        heartbeat.start()
        db_worker_options = ["--no-reload", "--interval", str(options["interval"])]
        if options["no_startup_delay"]:
            db_worker_options.append("--no-startup-delay")
        try:
            call_command("db_worker", *db_worker_options, *options["db_worker_args"])
        finally:
            heartbeat.stop()
            heartbeat.join(timeout=10)
            worker_stopped(worker=worker)
