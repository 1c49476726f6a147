"""The real background worker (`manage.py db_worker`) sends a launched campaign."""

import time
from collections import Counter

import pytest

from campaigns import services
from campaigns.models import CallResult, Campaign, Contact, ContactGroup
from tests.factories import make_campaign, make_user
from tests.workers import running_workers, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def test_worker_process_sends_every_phone_once(settings, make_sandbox):
    sandbox = make_sandbox(settle_seconds=3600)
    settings.TASKS = DB_TASKS
    settings.ONURIX_BASE_URL = sandbox.url
    settings.ONURIX_CLIENT_ID, settings.ONURIX_KEY = "1000", "sandbox-key"
    settings.CAMPAIGN_CALLING_HOURS = "always"
    group = ContactGroup.objects.create(name="Pacientes")
    for n in range(300):
        Contact.objects.create(phone=f"57301{n:07d}").groups.add(group)
    campaign = make_campaign()
    campaign.groups.add(group)
    assert services.campaign_launch(campaign=campaign, user=make_user())

    with running_workers(worker_environment(onurix_url=sandbox.url)) as (worker,):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            campaign.refresh_from_db()
            if campaign.state == Campaign.State.FINISHED:
                break
            assert worker.poll() is None, worker.stderr.read().decode()
            time.sleep(0.2)
    assert campaign.state == Campaign.State.FINISHED
    assert Counter(campaign.results.values_list("state", flat=True)) == {
        CallResult.State.SENT: 300
    }
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert len(calls) == 300 and set(calls.values()) == {1}
