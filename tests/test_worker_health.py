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
