"""One rate for the Onurix account across every worker: ONURIX_CONCURRENCY requests in
flight and ONURIX_MAX_REQUESTS_PER_SECOND, shared through the database
(campaigns/services/limiter.py), checked where Onurix would see them: the sandbox's
record of when each request arrived."""

import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from campaigns import services
from campaigns.models import CallResult, OnurixRequest, OnurixSlot, WorkerHeartbeat
from campaigns.services import limiter
from campaigns.services.dispatch import recover_dead_workers
from onurix_sandbox.api import busiest_second
from tests.factories import make_audience, make_campaign, make_user
from tests.workers import running_workers, worker_environment


def test_busiest_second_counts_a_sliding_window():
    assert busiest_second([0.0, 0.5, 0.99, 1.0, 1.2]) == 4
    assert busiest_second([0.0, 1.0, 2.0]) == 1
    assert busiest_second([]) == 0


def sends(sandbox) -> list[dict]:
    traffic = requests.get(f"{sandbox.root_url}/_sandbox/traffic", timeout=5).json()
    return [r for r in traffic["requests"] if r["path"] == "/call/send"], traffic


@pytest.mark.django_db(transaction=True)
def test_three_workers_share_one_rate_and_one_number_in_flight(settings, make_sandbox):
    """Three real worker processes send three campaigns at once: Onurix never sees more
    than ONURIX_MAX_REQUESTS_PER_SECOND in a second nor more than ONURIX_CONCURRENCY at
    once, every worker took part, and every phone was called once."""
    sandbox = make_sandbox(latency=0.2, settle_seconds=3600)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.ONURIX_BASE_URL = sandbox.url
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.CAMPAIGN_CONTACT_FREQUENCY_DAYS = 0
    settings.ONURIX_BATCH_SIZE = 5
    settings.ONURIX_CONCURRENCY = 3
    settings.ONURIX_MAX_REQUESTS_PER_SECOND = 8
    user = make_user()
    campaigns = []
    for n in range(3):
        campaign = make_campaign(message="Hola, le recordamos su cita de mañana.")
        campaign.groups.add(make_audience(40, name=f"Grupo {n}", prefix=f"5730{n + 5}"))
        campaigns.append(campaign)
    env = worker_environment(onurix_url=sandbox.url)
    with running_workers(env, count=3, command="campaigns_worker"):
        deadline = time.monotonic() + 30
        while WorkerHeartbeat.objects.count() < 3:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        for campaign in campaigns:
            assert services.campaign_launch(campaign=campaign, user=user)
        deadline = time.monotonic() + 90
        while CallResult.objects.filter(state=CallResult.State.QUEUED).exists() or (
            CallResult.objects.filter(state=CallResult.State.SENDING).exists()
        ):
            assert time.monotonic() < deadline, "the campaigns did not finish"
            time.sleep(0.2)

    send_requests, traffic = sends(sandbox)
    assert len(send_requests) == 24  # 120 phones in batches of 5
    assert busiest_second([r["arrived"] for r in send_requests]) <= 8
    assert traffic["max_in_flight"] <= 3
    workers = set(OnurixRequest.objects.values_list("worker", flat=True))
    assert len(workers) == 3, "every worker sent some of it"
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert len(calls) == 120 and max(calls.values()) == 1
    assert not OnurixSlot.objects.exclude(holder="").exists(), "every slot given back"


@pytest.mark.django_db(transaction=True)
def test_a_worker_waits_while_other_workers_hold_every_slot(settings, onurix):
    """With every request slot held elsewhere, a dispatch sends nothing and claims no
    phone; once one is given back, it sends."""
    onurix()
    settings.ONURIX_CONCURRENCY = 2
    settings.CAMPAIGN_CONTACT_FREQUENCY_DAYS = 0
    campaign = make_campaign(message="Hola, le recordamos su cita de mañana.")
    campaign.groups.add(make_audience(6))
    assert services.campaign_launch(campaign=campaign, user=make_user())
    OnurixSlot.objects.bulk_create(
        [
            OnurixSlot(
                number=n,
                holder=f"elsewhere-{n}",
                worker="other-host:1",
                lease_until=timezone.now() + timedelta(minutes=1),
            )
            for n in (1, 2)
        ]
    )
    assert services.campaign_dispatch(campaign_id=campaign.pk, max_seconds=0.5) == "yielded"
    assert not OnurixRequest.objects.filter(campaign=campaign).exists()
    assert campaign.results.filter(state=CallResult.State.QUEUED).count() == 6

    limiter.slot_release(holder="elsewhere-1")
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    assert campaign.results.filter(state=CallResult.State.SENT).count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_dead_workers_slots_are_given_back(settings):
    settings.ONURIX_CONCURRENCY = 2
    WorkerHeartbeat.objects.create(worker="dead:1", beat_at=timezone.now() - timedelta(minutes=5))
    OnurixSlot.objects.create(
        number=1, holder="x", worker="dead:1", lease_until=timezone.now() + timedelta(hours=1)
    )
    recover_dead_workers(silent_after=timedelta(seconds=9), alive="alive:1")
    assert OnurixSlot.objects.get(number=1).holder == ""
    assert limiter.slot_acquire(holder="mine", worker="alive:1")


@pytest.mark.django_db(transaction=True)
def test_a_lapsed_lease_frees_the_slot(settings):
    """A slot held by a silent holder past its lease (a worker without heartbeat that
    died) is taken back."""
    settings.ONURIX_CONCURRENCY = 1
    OnurixSlot.objects.create(
        number=1, holder="x", worker="gone:1", lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert limiter.slot_acquire(holder="mine", worker="alive:1")
    assert not limiter.slot_acquire(holder="another", worker="alive:1")


@pytest.mark.django_db(transaction=True)
def test_the_pace_spaces_requests_for_every_caller(settings):
    """Ten turns at 20 per second take at least 9 turns' spacing, shared by two threads."""
    import threading

    from django.db import connections

    settings.ONURIX_MAX_REQUESTS_PER_SECOND = 20
    waits = []

    def take(count):
        try:
            for _ in range(count):
                limiter.pace_wait()
                waits.append(time.monotonic())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(5,)) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(waits) == 10
    assert max(waits) - started >= 9 * limiter.PACE_MARGIN / 20
    assert busiest_second(waits) <= 20


def test_no_ceiling_means_no_wait(settings):
    settings.ONURIX_MAX_REQUESTS_PER_SECOND = 0
    assert limiter.pace_reserve() is None


@pytest.mark.django_db(transaction=True)
def test_a_campaign_launched_while_another_sends_gets_its_share(settings, make_sandbox):
    """A big campaign holds every request slot of the account; a small one, launched on
    another worker meanwhile, is not starved: it is done long before the big one."""
    sandbox = make_sandbox(latency=0.2, settle_seconds=3600)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.ONURIX_BASE_URL = sandbox.url
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.CAMPAIGN_CONTACT_FREQUENCY_DAYS = 0
    settings.ONURIX_BATCH_SIZE = 5
    settings.ONURIX_CONCURRENCY = 2
    user = make_user()
    big = make_campaign(message="Hola, le recordamos su cita de mañana.")
    big.groups.add(make_audience(600, name="Grande", prefix="57308"))
    small = make_campaign(message="Hola, su pedido está listo.")
    small.groups.add(make_audience(30, name="Pequeña", prefix="57309"))
    env = worker_environment(onurix_url=sandbox.url)
    with running_workers(env, count=2, command="campaigns_worker"):
        deadline = time.monotonic() + 30
        while WorkerHeartbeat.objects.count() < 2:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        assert services.campaign_launch(campaign=big, user=user)
        while OnurixRequest.objects.filter(campaign=big).count() < 4:
            assert time.monotonic() < deadline + 30, "the big campaign did not start"
            time.sleep(0.05)
        assert services.campaign_launch(campaign=small, user=user)
        launched = time.monotonic()
        while small.results.exclude(state=CallResult.State.SENT).exists():
            assert time.monotonic() < launched + 60, "the small campaign never finished"
            time.sleep(0.05)
        small_took = time.monotonic() - launched
        big_left = big.results.filter(state=CallResult.State.QUEUED).count()
    # 6 requests of 200 ms through one of 2 slots: about 2 s. Starved, it would wait for
    # the big campaign's 120 requests (12 s at least).
    assert small_took < 4, small_took
    assert big_left > 100, "the big campaign was still sending"
