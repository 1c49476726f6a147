"""Honest money and state (issue 17, item 5): a test call says what it costs, counts in
the credits used and gets its result like any call; a campaign whose calls are all sent
but not all answered for says so and keeps refreshing."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns import selectors, services
from campaigns.models import CallResult, Campaign, TestCall
from tests.factories import make_campaign, make_result, make_user

pytestmark = pytest.mark.django_db

State = CallResult.State


def test_the_test_call_button_says_what_it_costs(onurix, auth_client):
    onurix()
    campaign = make_campaign()
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "It costs about 1 credit, like one call of the campaign" in page.text
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert "Cuesta alrededor de 1 crédito" in page.text


def test_test_calls_count_in_the_credits_used(user):
    campaign = make_campaign(state=Campaign.State.FINISHED)
    make_result(campaign=campaign, state=State.ANSWERED, credits=2, sent_at=_now())
    TestCall.objects.create(campaign=campaign, phone="573001234567", credits=1, requested_by=user)
    usage = selectors.credits_usage()
    assert usage.today == Decimal(3)
    assert usage.per_day[-1].net == Decimal(3)
    assert selectors.credits_net_between(_now().replace(hour=0, minute=0)) == Decimal(3)


def _now():
    from django.utils import timezone

    return timezone.localtime()


@pytest.mark.django_db(transaction=True)
def test_a_test_call_gets_its_result_like_any_call(onurix):
    sandbox = onurix(settle_seconds=0.2, answered_rate=1, rejected_rate=0, error_rate=0)
    campaign = make_campaign(message="Hola, esto es una prueba.")
    test_call = services.campaign_test_call(
        campaign=campaign, phone="573001234567", user=make_user()
    )
    assert test_call.state == State.SENT
    time.sleep(0.3)
    assert services.campaigns_sweep()["test_calls"] == 1
    test_call.refresh_from_db()
    assert (test_call.state, test_call.onurix_state) == (State.ANSWERED, "Entregado")
    assert test_call.credits == 1
    assert len(sandbox.state.calls()) == 1


def test_a_finished_campaign_still_waiting_for_results_says_so_and_keeps_refreshing(
    auth_client,
):
    campaign = make_campaign(state=Campaign.State.FINISHED)
    make_result(campaign=campaign, state=State.SENT, dispatch_id="d1")
    make_result(campaign=campaign, state=State.ANSWERED)
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert "Enviada, esperando resultados" in page.text
    progress = auth_client.get(
        reverse("campaign_progress", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert 'hx-trigger="every 10s"' in progress.text
    assert 'data-testid="awaiting-results"' in progress.text

    CallResult.objects.filter(campaign=campaign, state=State.SENT).update(state=State.ANSWERED)
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert "Enviada, esperando resultados" not in page.text
    assert "Terminada" in page.text
    progress = auth_client.get(reverse("campaign_progress", args=[campaign.pk]))
    assert "hx-trigger" not in progress.text
