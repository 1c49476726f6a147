"""Spending limits against the Onurix sandbox over HTTP: a campaign's credit cap and the
account's daily limit stop the calls before the credits pass them."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from campaigns import services
from campaigns.models import ActivityEntry, CallResult, Campaign, CampaignTotals
from campaigns.services.spending import campaigns_resume_after_daily_limit
from tests.factories import make_audience, make_campaign, make_user

MESSAGE = "Hola, le recordamos su cita de mañana."


@pytest.fixture(autouse=True)
def english():
    """Pause messages written by the engine, in English, to assert on them."""
    with translation.override("en"):
        yield


def _launched(size: int, *, prefix: str = "57300", **fields) -> Campaign:
    campaign = make_campaign(message=MESSAGE, **fields)
    campaign.groups.add(make_audience(size, name=f"Pacientes {prefix}", prefix=prefix))
    assert services.campaign_launch(campaign=campaign, user=make_user())
    return campaign


def _charged(campaign: Campaign):
    return CampaignTotals.objects.get(campaign=campaign).net_credits


def _calls_per_phone(sandbox) -> Counter:
    return Counter(call.phone for call in sandbox.state.calls())


@pytest.mark.django_db(transaction=True)
def test_a_cap_of_100_credits_on_1000_phones_pauses_at_100_and_goes_on_when_raised(onurix):
    sandbox = onurix(settle_seconds=3600)
    campaign = _launched(1000, credit_cap=100)

    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"

    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED
    assert campaign.pause_reason == Campaign.PauseReason.CREDIT_CAP
    assert campaign.state_message.startswith("Credit limit reached: 100 of the 100 credits")
    assert _charged(campaign) <= 100
    assert sandbox.state.call_count == 100  # Onurix charged exactly what the cap allowed
    assert campaign.results.filter(state=CallResult.State.QUEUED).count() == 900
    with translation.override("es"):
        assert campaign.get_pause_reason_display() == "Límite de créditos alcanzado"

    # A launcher raises the cap: the campaign goes on, and stops again at the new cap.
    assert services.campaign_set_credit_cap(campaign=campaign, user=make_user(), credit_cap=350)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENDING
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"
    assert _charged(campaign) == 350
    assert sandbox.state.call_count == 350

    # No cap at all: every phone, each called exactly once.
    assert services.campaign_set_credit_cap(campaign=campaign, user=make_user(), credit_cap=None)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    calls = _calls_per_phone(sandbox)
    assert len(calls) == 1000 and set(calls.values()) == {1}
    assert _charged(campaign) == 1000


@pytest.mark.django_db(transaction=True)
def test_a_dearer_call_than_estimated_is_learned_and_the_cap_is_passed_by_little(onurix, settings):
    """Onurix charges 3 credits a call where the estimate said 1: after the first batch
    the campaign's own average rules, so the cap is passed by at most the first batches'
    difference, never by the whole campaign."""
    settings.ONURIX_BATCH_SIZE = 10
    settings.ONURIX_CONCURRENCY = 1
    sandbox = onurix(settle_seconds=3600, credits_per_call=3)
    campaign = _launched(1000, credit_cap=100)

    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"

    assert _charged(campaign) <= 100 + 2 * 10  # one batch of 10 at 1 estimated, 3 charged
    assert sandbox.state.call_count < 40


@pytest.mark.django_db(transaction=True)
def test_a_cap_already_reached_is_not_a_resume(onurix):
    onurix(settle_seconds=3600)
    campaign = _launched(200, credit_cap=50)
    services.campaign_dispatch(campaign_id=campaign.pk)
    with pytest.raises(ValidationError) as refused:
        services.campaign_set_credit_cap(campaign=campaign, user=make_user(), credit_cap=50)
    assert "Choose more than 50 credits" in refused.value.messages[0]
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED and campaign.credit_cap == 50


@pytest.mark.django_db(transaction=True)
def test_the_daily_limit_holds_across_campaigns_and_lifts_the_next_day(onurix, settings):
    settings.ONURIX_DAILY_CREDIT_LIMIT = 130
    sandbox = onurix(settle_seconds=3600)
    first = _launched(100, prefix="57300")
    second = _launched(100, prefix="57301")

    assert services.campaign_dispatch(campaign_id=first.pk) == "finished"
    assert services.campaign_dispatch(campaign_id=second.pk) == "paused"

    second.refresh_from_db()
    assert second.pause_reason == Campaign.PauseReason.DAILY_LIMIT
    assert "130 of the 130 credits it may spend today" in second.state_message
    assert sandbox.state.call_count == 130
    # Still today: the sweep leaves it paused, and a test call is refused too.
    assert services.campaigns_sweep()["resumed"] == 0
    draft = make_campaign(message="Hola, le recordamos su cita de mañana.")
    with pytest.raises(ValidationError, match="daily credit limit"):
        services.campaign_test_call(campaign=draft, phone="3001234567", user=make_user())
    assert sandbox.state.call_count == 130

    # The next day (the calls were sent yesterday, Colombian time): the sweep resumes it.
    yesterday = timezone.now() - timedelta(days=1)
    CallResult.objects.filter(sent_at__isnull=False).update(sent_at=yesterday)
    assert services.campaigns_sweep()["resumed"] == 1
    second.refresh_from_db()
    assert second.state == Campaign.State.SENDING
    assert services.campaign_dispatch(campaign_id=second.pk) == "finished"
    calls = _calls_per_phone(sandbox)
    assert len(calls) == 200 and set(calls.values()) == {1}

    # The activity log says the system paused it, why, and resumed it: nobody did.
    entries = ActivityEntry.objects.filter(
        target_type=ActivityEntry.TargetType.CAMPAIGN, target_id=second.pk
    ).order_by("at", "pk")
    assert [(entry.action, entry.username) for entry in entries] == [
        (ActivityEntry.Action.CAMPAIGN_LAUNCH, entries[0].username),
        (ActivityEntry.Action.CAMPAIGN_AUTO_PAUSE, ""),
        (ActivityEntry.Action.CAMPAIGN_AUTO_RESUME, ""),
    ]
    paused, resumed = entries[1], entries[2]
    assert paused.details_text.startswith(
        "reason: Daily credit limit reached · message: Daily credit limit reached: the account "
        "spent or has in calls being sent 130 of the 130 credits"
    )
    assert resumed.details_text == "reason: Daily credit limit reached"
    with translation.override("es"):
        assert paused.get_action_display() == "Campaña pausada por el sistema"
        assert resumed.details_text == "motivo: Límite diario de créditos alcanzado"


@pytest.mark.django_db(transaction=True)
def test_two_campaigns_sending_at_once_share_the_daily_limit(onurix, settings):
    settings.ONURIX_DAILY_CREDIT_LIMIT = 150
    settings.ONURIX_BATCH_SIZE = 10
    sandbox = onurix(settle_seconds=3600, latency=0.02)
    campaigns = [_launched(200, prefix=prefix) for prefix in ("57300", "57301")]
    outcomes = {}

    def dispatch(campaign):
        try:
            outcomes[campaign.pk] = services.campaign_dispatch(campaign_id=campaign.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch, args=[campaign]) for campaign in campaigns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) == ["paused", "paused"]
    assert sandbox.state.call_count == 150
    assert sum(_charged(campaign) for campaign in campaigns) == 150
    assert max(_calls_per_phone(sandbox).values()) == 1


def test_resuming_after_the_daily_limit_waits_while_the_day_has_no_room(db, settings):
    settings.ONURIX_DAILY_CREDIT_LIMIT = 10
    settings.ONURIX_CREDITS_PER_CALL = 1.0
    paused = make_campaign(
        state=Campaign.State.PAUSED, pause_reason=Campaign.PauseReason.DAILY_LIMIT
    )
    spent = make_campaign(state=Campaign.State.FINISHED)
    now = timezone.now()
    for n in range(10):
        CallResult.objects.create(
            campaign=spent, phone=f"5730055500{n:02d}", state="sent", credits=1, sent_at=now
        )
    assert campaigns_resume_after_daily_limit(now=now) == []
    assert campaigns_resume_after_daily_limit(now=now + timedelta(days=1)) == [paused.pk]


# -- the pages --------------------------------------------------------------------------


def _form_data(**changes) -> dict:
    data = {
        "name": "Recordatorio de citas",
        "voice": "Mariana",
        "message": MESSAGE,
        "retries": "1",
        "leave_voicemail": "on",
        "phones": "300 555 1234\n310 555 9876",
        "purpose": "informational",
        "credit_cap": "",
    }
    return {**data, **changes}


def test_the_form_saves_the_cap_and_the_preview_and_page_show_it(auth_client, onurix):
    onurix()
    response = auth_client.post(reverse("campaign_create"), _form_data(credit_cap="1"))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.credit_cap == 1

    page = auth_client.get(campaign.get_absolute_url()).content.decode()
    # Two phones at about 1 credit each: more than the cap, and the preview says so.
    assert 'data-testid="preview-credit-cap"' in page
    assert "Límite de créditos: 1 créditos, menos que la estimación." in page
    assert 'data-testid="credit-cap">1 créditos' in page


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("mucho", "Escriba el límite como un número entero de créditos"),
        ("0", "El límite debe ser al menos 1 crédito"),
        ("2.5", "Escriba el límite como un número entero de créditos"),
    ],
)
def test_a_bad_cap_is_refused_next_to_the_field_and_keeps_what_was_typed(
    auth_client, onurix, typed, error
):
    onurix()
    response = auth_client.post(reverse("campaign_create"), _form_data(credit_cap=typed))
    assert response.status_code == 200
    assert not Campaign.objects.exists()
    form = response.context["form"]
    assert error in form.errors["credit_cap"][0]
    page = response.content.decode()
    assert 'id="id_credit_cap_error"' in page
    assert MESSAGE in page and "300 555 1234" in page


def _paused_at_cap(onurix) -> Campaign:
    onurix(settle_seconds=3600)
    campaign = _launched(30, credit_cap=10)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"
    return campaign


@pytest.mark.django_db(transaction=True)
def test_a_launcher_raises_the_cap_from_the_paused_campaigns_page(client, user, onurix):
    campaign = _paused_at_cap(onurix)
    client.force_login(user)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-testid="credit-cap-form"' in page
    assert "Credit limit reached: 10 of the 10 credits" in page  # written by the worker

    response = client.post(reverse("campaign_credit_cap", args=[campaign.pk]), {"credit_cap": "30"})

    assert response.status_code == 302 and response.url == campaign.get_absolute_url()
    campaign.refresh_from_db()
    assert campaign.credit_cap == 30 and campaign.state == Campaign.State.SENDING
    # Raising a limit authorises spending: the activity log says who, and from what.
    entry = ActivityEntry.objects.get(action=ActivityEntry.Action.CAMPAIGN_CREDIT_CAP)
    assert entry.user == user and entry.target_id == campaign.pk
    assert entry.details == {"changes": {"credit_cap": [10, 30]}}
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    assert _charged(campaign) == 30


@pytest.mark.django_db(transaction=True)
def test_a_cap_under_what_was_spent_comes_back_next_to_the_field(client, user, onurix):
    campaign = _paused_at_cap(onurix)
    client.force_login(user)
    response = client.post(reverse("campaign_credit_cap", args=[campaign.pk]), {"credit_cap": "5"})
    assert response.status_code == 200
    assert "Elija más de 10 créditos" in response.context["form"].errors["credit_cap"][0]
    campaign.refresh_from_db()
    assert campaign.credit_cap == 10 and campaign.state == Campaign.State.PAUSED


@pytest.mark.django_db(transaction=True)
def test_an_editor_cannot_raise_the_cap(client, editor_user, onurix):
    campaign = _paused_at_cap(onurix)
    client.force_login(editor_user)
    assert (
        'data-testid="credit-cap-form"'
        not in client.get(campaign.get_absolute_url()).content.decode()
    )
    response = client.post(reverse("campaign_credit_cap", args=[campaign.pk]), {"credit_cap": "99"})
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.credit_cap == 10
