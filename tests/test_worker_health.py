"""Whether the worker runs: /healthz for a monitor, and a plain notice in the pages."""

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.models import CallResult, Campaign, WorkerHeartbeat
from campaigns.services.workers import worker_beat
from tests.factories import make_campaign, make_result
from tests.workers import PROJECT, worker_environment

pytestmark = pytest.mark.django_db


def test_healthz_without_a_worker_answers_503_and_says_why(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "no_worker" and body["database"] == "ok"
    assert body["worker_last_beat_seconds"] is None
    assert "key" not in response.text.lower()


def test_healthz_with_a_live_worker_answers_200_with_its_figures(client):
    worker_beat(worker="host:1")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["workers"] == 1
    assert body["worker_last_beat_seconds"] < 5
    assert body["queued_tasks"] == 0


def test_a_worker_silent_for_a_minute_is_not_alive(client):
    WorkerHeartbeat.objects.create(worker="host:2", beat_at=timezone.now() - timedelta(seconds=90))
    body = client.get("/healthz").json()
    assert body["status"] == "no_worker" and body["worker_last_beat_seconds"] >= 90


def test_pages_say_plainly_when_the_sending_process_is_not_running(auth_client):
    campaign = make_campaign(state=Campaign.State.SENDING)
    make_result(campaign=campaign, state=CallResult.State.QUEUED)
    for url in (reverse("dashboard"), campaign.get_absolute_url()):
        page = auth_client.get(url, HTTP_ACCEPT_LANGUAGE="es-co")
        assert 'data-testid="worker-missing"' in page.text, url
        assert "El proceso de envío no está corriendo" in page.text
    worker_beat(worker="host:3")
    for url in (reverse("dashboard"), campaign.get_absolute_url()):
        page = auth_client.get(url, HTTP_ACCEPT_LANGUAGE="es-co")
        assert 'data-testid="worker-missing"' not in page.text, url


@pytest.mark.django_db(transaction=True)
def test_the_procfile_worker_beats_and_queues_the_sweep_by_itself(settings, make_sandbox):
    """`campaigns_worker` alone (no release step): a heartbeat, and the sweep chain."""
    sandbox = make_sandbox()
    settings.ONURIX_BASE_URL = sandbox.url
    env = worker_environment(onurix_url=sandbox.url)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "campaigns_worker",
            "--interval",
            "0.1",
            "--no-startup-delay",
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.2)
        assert WorkerHeartbeat.objects.exists()
        sweeps = DBTaskResult.objects.filter(task_path__endswith="campaigns_sweep_task")
        assert sweeps.filter(status="READY").count() == 1
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not WorkerHeartbeat.objects.exists()  # a clean stop forgets its heartbeat


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_s_campaign_moves_again_within_seconds_on_a_live_one(
    settings, make_sandbox
):
    """Two `campaigns_worker` processes; the one sending is killed (SIGKILL): its phones in
    flight become unknown and the campaign moves again on the other within ~15 s (the
    figure is in bench/faults.py; the bound here is generous), nobody called twice."""
    import os
    import signal
    from collections import Counter

    from campaigns import services
    from campaigns.models import OnurixRequest
    from tests.factories import make_audience, make_user
    from tests.workers import running_workers

    sandbox = make_sandbox(latency=0.3, settle_seconds=3600)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.ONURIX_BASE_URL = sandbox.url
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.ONURIX_BATCH_SIZE = 10
    settings.ONURIX_CONCURRENCY = 1
    group = make_audience(600, prefix="57303")
    campaign = make_campaign(message="Hola, le recordamos su cita de mañana.")
    campaign.groups.add(group)
    env = worker_environment(onurix_url=sandbox.url, ONURIX_CONCURRENCY="1")
    with running_workers(env, count=2, command="campaigns_worker") as processes:
        deadline = time.monotonic() + 30
        while WorkerHeartbeat.objects.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert services.campaign_launch(campaign=campaign, user=make_user())
        deadline = time.monotonic() + 30
        while OnurixRequest.objects.filter(campaign=campaign).count() < 3:
            assert time.monotonic() < deadline, "nothing was sent"
            time.sleep(0.1)
        sender = OnurixRequest.objects.filter(campaign=campaign).latest("started_at").worker
        victim = next(p for p in processes if sender.endswith(f":{p.pid}"))
        os.killpg(victim.pid, signal.SIGKILL)
        killed_at = timezone.now()
        deadline = time.monotonic() + 40
        while (
            not OnurixRequest.objects.filter(campaign=campaign, started_at__gt=killed_at)
            .exclude(worker=sender)
            .exists()
        ):
            assert time.monotonic() < deadline, "the campaign did not move again"
            time.sleep(0.2)
        moved_after = (
            OnurixRequest.objects.filter(campaign=campaign, started_at__gt=killed_at)
            .earliest("started_at")
            .started_at
            - killed_at
        ).total_seconds()
        assert moved_after < 25
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert max(calls.values()) == 1
