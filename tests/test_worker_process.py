"""The real background worker (`manage.py db_worker`) sends a launched campaign."""

import time
from collections import Counter

import pytest

from campaigns import services
from campaigns.models import CallResult, Campaign, Contact, ContactGroup
from tests.factories import DB_TASKS, make_audience, make_campaign, make_user
from tests.workers import running_workers, worker_environment

# No placeholder: every phone hears the same text, so batches are full.
SAME_FOR_EVERYONE = "Hola, le recordamos su cita de mañana."

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_process_sends_every_phone_once(settings, make_sandbox):
    sandbox = make_sandbox(settle_seconds=3600)
    settings.TASKS = DB_TASKS
    settings.ONURIX_BASE_URL = sandbox.url
    settings.ONURIX_CLIENT_ID, settings.ONURIX_KEY = "1000", "sandbox-key"
    settings.CAMPAIGN_CALLING_HOURS = "always"
    group = ContactGroup.objects.create(name="Pacientes")
    for n in range(300):
        Contact.objects.create(phone=f"57301{n:07d}").groups.add(group)
    campaign = make_campaign(message=SAME_FOR_EVERYONE)
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
    assert Counter(campaign.results.values_list("state", flat=True)) == {CallResult.State.SENT: 300}
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert len(calls) == 300 and set(calls.values()) == {1}


def test_several_workers_share_a_campaign_without_calling_anyone_twice(settings, make_sandbox):
    """PostgreSQL: 4 workers on 5,000 phones (claims with SELECT ... SKIP LOCKED).
    SQLite: 2 workers on 1,000 phones (claims by conditional UPDATE; one worker is the
    documented limit for speed, but correctness must hold anyway)."""
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    workers, phones = (4, 5000) if postgres else (2, 1000)
    sandbox = make_sandbox(settle_seconds=3600, latency=0.02)
    settings.TASKS = DB_TASKS
    settings.ONURIX_BASE_URL = sandbox.url
    settings.ONURIX_CLIENT_ID, settings.ONURIX_KEY = "1000", "sandbox-key"
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.ONURIX_BATCH_SIZE = 20
    group = make_audience(phones, prefix="57302")
    campaign = make_campaign(message=SAME_FOR_EVERYONE)
    campaign.groups.add(group)
    assert services.campaign_launch(campaign=campaign, user=make_user())
    # One wake-up per worker, so that every worker joins the same campaign at once.
    for _ in range(workers - 1):
        services.enqueue_dispatch(campaign_id=campaign.pk)

    with running_workers(worker_environment(onurix_url=sandbox.url), count=workers) as procs:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            campaign.refresh_from_db()
            if campaign.state == Campaign.State.FINISHED:
                break
            for process in procs:
                assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.3)
    assert campaign.state == Campaign.State.FINISHED
    assert Counter(campaign.results.values_list("state", flat=True)) == {
        CallResult.State.SENT: phones
    }
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert len(calls) == phones and set(calls.values()) == {1}
    # Every worker ran the campaign's dispatch at once. How many of them sent depends on
    # who holds the account's request slots (ONURIX_CONCURRENCY for every worker together:
    # tests/test_shared_rate_limit.py); whoever sent, each phone was claimed once.
