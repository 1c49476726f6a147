"""The product started the Procfile way, and nothing else: the `web` and `worker` lines as
a platform runs them (no release step, no `campaigns_sweep --schedule`, nobody running the
sweep by hand). A worker killed mid-campaign and restarted by the platform: the campaign
finishes, nobody called twice."""

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import pytest
import requests

from campaigns import services
from campaigns.models import Campaign, OnurixRequest, WorkerHeartbeat
from tests.factories import make_audience, make_campaign, make_user
from tests.workers import PROJECT, stop_worker, worker_environment


def procfile() -> dict[str, list[str]]:
    lines = (PROJECT / "Procfile").read_text().splitlines()
    return {
        name.strip(): shlex.split(command)
        for name, command in (line.split(":", 1) for line in lines if line.strip())
    }


def start(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    argv = [sys.executable if part == "python" else part for part in argv]
    if argv[0] == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", *argv[1:]]
    # ${PORT:-8000} is the shell's: the platform expands it.
    argv = [os.path.expandvars(part.replace("${PORT:-8000}", env["PORT"])) for part in argv]
    return subprocess.Popen(
        argv,
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_a_procfile_start_recovers_a_killed_workers_campaign(settings, make_sandbox):
    lines = procfile()
    assert set(lines) == {"web", "worker"}, "no release step to forget"
    sandbox = make_sandbox(latency=0.3, settle_seconds=3600)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.ONURIX_BASE_URL = sandbox.url
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.ONURIX_BATCH_SIZE = 10
    settings.ONURIX_CONCURRENCY = 1
    group = make_audience(400, prefix="57304")
    campaign = make_campaign(message="Hola, le recordamos su cita de mañana.")
    campaign.groups.add(group)
    port = str(free_port())
    env = worker_environment(
        onurix_url=sandbox.url,
        PORT=port,
        DJANGO_ENFORCE_PRODUCTION_CHECKS="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests, refused in deployment
    web = start(lines["web"], env)
    worker = start(lines["worker"], env)
    try:
        deadline = time.monotonic() + 60
        while not WorkerHeartbeat.objects.exists():
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)
        assert services.campaign_launch(campaign=campaign, user=make_user())
        deadline = time.monotonic() + 60
        while OnurixRequest.objects.filter(campaign=campaign).count() < 3:
            assert time.monotonic() < deadline, "nothing was sent"
            time.sleep(0.1)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        worker = start(lines["worker"], env)  # the platform restarts the process
        deadline = time.monotonic() + 120
        campaign.refresh_from_db()
        while campaign.state != Campaign.State.FINISHED:
            assert time.monotonic() < deadline, "the campaign never finished"
            time.sleep(0.5)
            campaign.refresh_from_db()
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["workers"] >= 1
    finally:
        stop_worker(worker)
        stop_worker(web)
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert max(calls.values()) == 1
    results = Counter(campaign.results.values_list("state", flat=True))
    assert results["queued"] == results["sending"] == 0
    assert results["sent"] + results["unknown"] == 400
