"""Start real `db_worker` processes against the test database, for tests and benchmarks."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

PROJECT = Path(__file__).resolve().parents[1]
WORKER_APPLICATION_NAME = "onurix-test-worker"


def worker_environment(*, onurix_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker process that shares this test run's database."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ONURIX_TEST_TASKS": "database",
        "DATABASE_URL": database_url,
        "ONURIX_BASE_URL": onurix_url,
        "ONURIX_CLIENT_ID": str(settings.ONURIX_CLIENT_ID),
        "ONURIX_KEY": str(settings.ONURIX_KEY),
        "ONURIX_TIMEOUT": str(settings.ONURIX_TIMEOUT),
        "CAMPAIGN_CALLING_HOURS": settings.CAMPAIGN_CALLING_HOURS,
        "ONURIX_BATCH_SIZE": str(settings.ONURIX_BATCH_SIZE),
        "ONURIX_CONCURRENCY": str(settings.ONURIX_CONCURRENCY),
        "ONURIX_MAX_REQUESTS_PER_SECOND": str(settings.ONURIX_MAX_REQUESTS_PER_SECOND),
        "ONURIX_CIRCUIT_BREAKER_THRESHOLD": str(settings.ONURIX_CIRCUIT_BREAKER_THRESHOLD),
        "ONURIX_STALE_SENDING_SECONDS": str(settings.ONURIX_STALE_SENDING_SECONDS),
        "CAMPAIGN_SWEEP_QUIET_SECONDS": str(settings.CAMPAIGN_SWEEP_QUIET_SECONDS),
        # Names the workers' PostgreSQL sessions, for wait_for_workers_disconnected().
        "PGAPPNAME": WORKER_APPLICATION_NAME,
    }
    env.update(extra)
    return env


def start_worker(env: dict[str, str], command: str = "db_worker") -> subprocess.Popen:
    """A worker process: django-tasks' `db_worker`, or ours, `campaigns_worker` (with its
    heartbeat and sweep)."""
    options = ["--no-startup-delay", "--interval", "0.1"]
    if command == "db_worker":
        options.insert(0, "--no-reload")
    return subprocess.Popen(
        [sys.executable, "manage.py", command, *options],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def running_workers(env: dict[str, str], count: int = 1, command: str = "db_worker"):
    processes = [start_worker(env, command) for _ in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            stop_worker(process)


def wait_for_workers_disconnected(seconds: float = 10) -> None:
    """After a worker is killed, wait until the database has let go of its sessions.

    A killed process is gone, but PostgreSQL still carries out a COMMIT it had already
    received: read too early, a test sees the state before that last commit, and the sweep
    a moment later sees the state after it. SQLite has no server: a write either reached
    the file before the kill or is rolled back by the next connection.
    """
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                [WORKER_APPLICATION_NAME],
            )
            if cursor.fetchone()[0] == 0:
                return
            assert time.monotonic() < deadline, "the killed worker's sessions stayed open"
            time.sleep(0.02)
