"""The dispatch engine against the Onurix sandbox over HTTP: every phone called once."""

import threading
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from campaigns import services
from campaigns.models import CallResult, Campaign, Contact, ContactGroup, OnurixRequest
from tests.factories import make_audience, make_campaign, make_user

BOGOTA = ZoneInfo("America/Bogota")
FINAL = {
    CallResult.State.SENT,
    CallResult.State.ANSWERED,
    CallResult.State.FAILED,
    CallResult.State.UNKNOWN,
}


@pytest.fixture(autouse=True)
def english():
    """Messages the engine writes (pause reasons) in English, to assert on them."""
    with translation.override("en"):
        yield


def _audience(size: int) -> ContactGroup:
    return make_audience(size)


def _campaign(group, **fields) -> Campaign:
    campaign = make_campaign(message="Hola, le recordamos su cita de mañana.", **fields)
    campaign.groups.add(group)
    return campaign


def _launch(campaign) -> None:
    assert services.campaign_launch(campaign=campaign, user=make_user())


def _sandbox_phone_counts(sandbox) -> Counter:
    return Counter(call.phone for call in sandbox.state.calls())


@pytest.mark.django_db(transaction=True)
def test_a_thousand_phones_each_called_exactly_once(onurix, settings):
    settings.ONURIX_BATCH_SIZE = 50
    sandbox = onurix(settle_seconds=3600)  # no refunds while we compare balances
    campaign = _campaign(_audience(1000))
    _launch(campaign)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"

    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.FINISHED
    states = Counter(campaign.results.values_list("state", flat=True))
    assert states == {CallResult.State.SENT: 1000}
    calls = _sandbox_phone_counts(sandbox)
    assert len(calls) == 1000 and set(calls.values()) == {1}
    # Full batches: one text for everyone, 50 phones a request.
    assert OnurixRequest.objects.filter(campaign=campaign).count() == 20
    result = campaign.results.first()
    assert result.call_id and result.dispatch_id and result.credits == 1
    assert campaign.balance_before - campaign.balance_after == 1000


@pytest.mark.django_db(transaction=True)
def test_faults_never_double_a_call_and_unknown_phones_stay_unknown(onurix, settings):
    settings.ONURIX_BATCH_SIZE = 20
    settings.ONURIX_TIMEOUT = 0.6
    settings.ONURIX_CIRCUIT_BREAKER_THRESHOLD = 1000  # this test wants to see every fault
    sandbox = onurix(error_520_rate=0.2, hang_rate=0.05, hang_seconds=1.5, seed=7)
    campaign = _campaign(_audience(1000))
    _launch(campaign)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"

    results = dict(campaign.results.values_list("phone", "state"))
    assert set(results.values()) <= FINAL
    calls = _sandbox_phone_counts(sandbox)
    assert max(calls.values()) == 1, "a phone was called twice"
    unknown = {phone for phone, state in results.items() if state == CallResult.State.UNKNOWN}
    sent = {phone for phone, state in results.items() if state == CallResult.State.SENT}
    assert unknown and sent
    assert set(calls) - unknown == sent  # everything the sandbox accepted is sent or unknown
    assert sent <= set(calls)
    outcomes = Counter(OnurixRequest.objects.values_list("outcome", flat=True))
    assert outcomes[OnurixRequest.Outcome.UNKNOWN] > 0
    assert OnurixRequest.Outcome.PENDING not in outcomes


@pytest.mark.django_db(transaction=True)
def test_personalised_messages_group_identical_texts(onurix, settings):
    settings.ONURIX_BATCH_SIZE = 50
    onurix()
    group = _audience(0)
    for n in range(6):
        contact = Contact.objects.create(
            phone=f"57310000000{n}", first_name="Ana" if n < 4 else "Luis"
        )
        contact.groups.add(group)
    campaign = make_campaign(message="Hola {nombre}, su cita es mañana.")
    campaign.groups.add(group)
    _launch(campaign)
    services.campaign_dispatch(campaign_id=campaign.pk)
    texts = sorted(OnurixRequest.objects.values_list("phone_count", flat=True))
    assert texts == [2, 4]


def test_launch_twice_launches_once(db, onurix):
    onurix()
    campaign = _campaign(_audience(30))
    user = make_user()
    assert services.campaign_launch(campaign=campaign, user=user) is True
    assert (
        services.campaign_launch(campaign=Campaign.objects.get(pk=campaign.pk), user=user) is False
    )
    assert campaign.results.count() == 30


@pytest.mark.django_db(transaction=True)
def test_launch_from_two_threads_launches_once(onurix):
    onurix()
    campaign = _campaign(_audience(200))
    user = make_user()
    outcomes = []
    barrier = threading.Barrier(2)

    def launch():
        try:
            barrier.wait()
            outcomes.append(
                services.campaign_launch(campaign=Campaign.objects.get(pk=campaign.pk), user=user)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=launch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, True]
    assert campaign.results.count() == 200
    assert len(set(campaign.results.values_list("phone", flat=True))) == 200


def test_exclusions_are_frozen_with_their_reason(db, onurix, settings):
    settings.CAMPAIGN_CONTACT_FREQUENCY_DAYS = 7
    onurix()
    group = _audience(3)
    blocked = Contact.objects.create(phone="573209990000", do_not_call=True)
    blocked.groups.add(group)
    earlier = make_campaign(name="Earlier")
    CallResult.objects.create(
        campaign=earlier, phone="573000000001", state="answered", sent_at=timezone.now()
    )
    campaign = _campaign(group, extra_phones="300 000 0000\nnot a phone\n3209990000")
    preview = services.campaign_preview(campaign=campaign)
    assert preview.phones == 2
    assert preview.excluded_counts == {
        "duplicate": 2,
        "invalid": 1,
        "do_not_call": 1,
        "frequency": 1,
    }
    assert preview.requests == 1
    _launch(campaign)
    excluded = dict(
        campaign.results.filter(state="excluded").values_list("phone", "exclusion_reason")
    )
    assert excluded == {
        "573209990000": "do_not_call",
        "573000000001": "frequency",
        "not a phone": "invalid",
    }


def test_launch_is_refused_when_the_balance_cannot_cover_it(db, onurix):
    onurix(balance=10)
    campaign = _campaign(_audience(30))
    with pytest.raises(ValidationError) as error:
        services.campaign_launch(campaign=campaign, user=make_user())
    assert "cannot cover" in str(error.value)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and not campaign.results.exists()


@pytest.mark.django_db(transaction=True)
def test_credits_running_out_pauses_instead_of_failing_everyone(onurix, settings):
    settings.ONURIX_BATCH_SIZE = 10
    settings.ONURIX_CONCURRENCY = 1
    sandbox = onurix(balance=100)
    campaign = _campaign(_audience(100))
    _launch(campaign)
    sandbox.state.configure(balance=25)  # someone else spent credits meanwhile
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED
    assert "credits" in campaign.state_message
    states = Counter(campaign.results.values_list("state", flat=True))
    assert states == {"sent": 20, "queued": 80}
    assert len(sandbox.state.calls()) == 20


@pytest.mark.django_db(transaction=True)
def test_unreachable_onurix_pauses_and_keeps_phones_queued(onurix, settings):
    onurix()
    campaign = _campaign(_audience(10))
    _launch(campaign)
    settings.ONURIX_BASE_URL = "http://127.0.0.1:9/api/v1"  # discard port: refused
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"
    states = set(campaign.results.values_list("state", flat=True))
    assert states == {"queued"}


@pytest.mark.django_db(transaction=True)
def test_circuit_breaker_pauses_on_repeated_unknown_outcomes(onurix, settings):
    settings.ONURIX_BATCH_SIZE = 10
    settings.ONURIX_CONCURRENCY = 1
    settings.ONURIX_CIRCUIT_BREAKER_THRESHOLD = 3
    sandbox = onurix()
    campaign = _campaign(_audience(100))
    _launch(campaign)
    sandbox.state.configure(error_520_rate=1.0)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"
    states = Counter(campaign.results.values_list("state", flat=True))
    assert states == {"unknown": 30, "queued": 70}
    campaign.refresh_from_db()
    assert "not sent again by themselves" in campaign.state_message


@pytest.mark.django_db(transaction=True)
def test_a_phone_left_in_sending_by_a_dead_worker_becomes_unknown(onurix, settings):
    onurix()
    campaign = _campaign(_audience(5))
    _launch(campaign)
    long_ago = timezone.now() - services.dispatch.stale_after() * 2
    first = campaign.results.order_by("id").first()
    CallResult.objects.filter(pk=first.pk).update(state="sending", updated_at=long_ago)
    services.campaign_dispatch(campaign_id=campaign.pk)
    first.refresh_from_db()
    assert first.state == CallResult.State.UNKNOWN
    assert campaign.results.filter(state="sent").count() == 4


@pytest.mark.django_db(transaction=True)
def test_pause_resume_cancel(onurix):
    onurix()
    campaign = _campaign(_audience(10))
    user = make_user()
    _launch(campaign)
    assert services.campaign_pause(campaign=campaign, user=user)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "stopped"
    assert campaign.results.filter(state="queued").count() == 10
    assert services.campaign_resume(campaign=campaign, user=user)
    assert DBTaskResult.objects.filter(status="READY").exists()
    assert services.campaign_cancel(campaign=campaign, user=user) == 10
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "stopped"
    assert set(campaign.results.values_list("state", flat=True)) == {"cancelled"}


@pytest.mark.django_db(transaction=True)
def test_resend_unknown_is_deliberate(onurix, settings):
    sandbox = onurix()
    campaign = _campaign(_audience(10))
    _launch(campaign)
    services.campaign_dispatch(campaign_id=campaign.pk)
    CallResult.objects.filter(campaign=campaign).update(state="unknown")
    Campaign.objects.filter(pk=campaign.pk).update(state="finished")
    resent = services.campaign_resend_unknown(campaign=campaign, user=make_user(), expected=10)
    assert resent == 10
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    assert len(sandbox.state.calls()) == 20  # each phone twice: the user asked for it


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        (datetime(2026, 11, 29, 10, 0, tzinfo=BOGOTA), datetime(2026, 11, 30, 7, 0)),  # Sunday
        (datetime(2026, 12, 8, 10, 0, tzinfo=BOGOTA), datetime(2026, 12, 9, 7, 0)),  # holiday
        (datetime(2026, 11, 28, 15, 30, tzinfo=BOGOTA), datetime(2026, 11, 30, 7, 0)),  # Sat
    ],
    ids=["sunday", "holiday", "saturday-afternoon"],
)
@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_outside_calling_hours(
    onurix, settings, monkeypatch, auth_client, moment, opens
):
    sandbox = onurix()
    campaign = _campaign(_audience(5))
    _launch(campaign)
    settings.CAMPAIGN_CALLING_HOURS = "ley2300"
    monkeypatch.setattr(timezone, "now", lambda: moment)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "waiting"
    assert sandbox.state.calls() == []
    # django-tasks-db stores "no run_after" as the year 9999.
    deferred = DBTaskResult.objects.filter(status="READY", run_after__year__lt=9000)
    wake_up = deferred.get()
    assert timezone.localtime(wake_up.run_after, BOGOTA).replace(tzinfo=None) == opens
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es")
    assert 'data-testid="wait-message"' in page.text
    assert f"{opens:%d/%m/%Y}" in page.text or "mañana" in page.text
    assert opens.strftime("%H:%M") in page.text


@pytest.mark.django_db(transaction=True)
def test_launching_outside_calling_hours_says_when_calls_go_out(
    onurix, settings, monkeypatch, auth_client
):
    onurix()
    campaign = _campaign(_audience(3))
    settings.CAMPAIGN_CALLING_HOURS = "ley2300"
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=BOGOTA)
    monkeypatch.setattr(timezone, "now", lambda: sunday)
    response = auth_client.post(
        reverse("campaign_launch", args=[campaign.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Campaign launched. The calls start tomorrow at 07:00" in response.text
    assert "Calls are not made on Sundays." in response.text  # the progress says why


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_campaign_waits_for_its_time_then_sends(onurix, monkeypatch):
    sandbox = onurix()
    start = timezone.now() + timezone.timedelta(hours=2)
    campaign = _campaign(_audience(5), scheduled_at=start)
    _launch(campaign)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SCHEDULED
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "scheduled"
    assert sandbox.state.calls() == []
    wake_ups = DBTaskResult.objects.filter(status="READY", run_after__year__lt=9000)
    assert start in set(wake_ups.values_list("run_after", flat=True))

    later = start + timezone.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    assert len(sandbox.state.calls()) == 5
    campaign.refresh_from_db()
    assert campaign.started_at == later
