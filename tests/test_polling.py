"""The poller of call states against the Onurix sandbox over HTTP, and its task chain."""

import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns import onurix as onurix_api
from campaigns import services, tasks
from campaigns.models import CallResult, Campaign, OnurixRequest
from campaigns.onurix import MessageState
from tests.factories import make_campaign, make_result
from tests.test_dispatch import _audience, _campaign, _launch

State = CallResult.State
POLL_PATH = tasks.campaign_poll_task.module_path


def _send(onurix_fixture, size=60, **sandbox_options):
    """A finished campaign whose phones the sandbox accepted (all sent)."""
    sandbox = onurix_fixture(**sandbox_options)
    campaign = _campaign(_audience(size))
    _launch(campaign)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    return sandbox, campaign


def _polls_waiting(campaign):
    return DBTaskResult.objects.filter(
        task_path=POLL_PATH, status="READY", args_kwargs__kwargs__campaign_id=campaign.pk
    )


@pytest.mark.django_db(transaction=True)
def test_states_move_from_sent_to_answered_and_failed_with_refunds(onurix, settings):
    settings.ONURIX_BATCH_SIZE = 20
    _sandbox, campaign = _send(onurix, settle_seconds=0.3, seed=3)
    assert set(campaign.results.values_list("state", flat=True)) == {State.SENT}
    # Finishing the send started the polling chain, 15 seconds out.
    assert _polls_waiting(campaign).count() == 1

    time.sleep(0.4)
    report = services.campaign_poll(campaign_id=campaign.pk)

    assert report.dispatches == 3 and report.failed_dispatches == 0
    assert report.updated == 60 and report.pending == 0 and not report.keep_polling
    results = list(campaign.results.all())
    texts = Counter(result.onurix_state for result in results)
    assert set(texts) == {"Entregado", "Rechazado", "Error:1081 msg: Destino inaccesible"}
    for result in results:
        if result.onurix_state == "Entregado":
            assert result.state == State.ANSWERED and result.credits_refunded == 0
        elif result.onurix_state == "Rechazado":
            assert result.state == State.FAILED
            assert result.credits == 1 and result.credits_refunded == 1
        else:
            assert result.state == State.FAILED and result.credits_refunded == 0
            assert result.error_code == 1081 and result.error_message == "Destino inaccesible"
    campaign.refresh_from_db()
    assert campaign.last_polled_at is not None
    # Net credits match what the sandbox account really lost.
    charged = sum(result.credits - result.credits_refunded for result in results)
    assert charged == 60 - texts["Rechazado"]
    balance = onurix_api.get_onurix_client().balance().credits
    assert campaign.balance_before - balance == charged


@pytest.mark.django_db(transaction=True)
def test_nothing_changes_before_the_calls_settle(onurix):
    _sandbox, campaign = _send(onurix, size=5, settle_seconds=3600)
    report = services.campaign_poll(campaign_id=campaign.pk)
    assert report.updated == 0 and report.pending == 5 and report.keep_polling
    assert set(campaign.results.values_list("onurix_state", flat=True)) == {"Enviado"}


@pytest.mark.django_db(transaction=True)
def test_the_task_re_enqueues_until_every_phone_is_final(onurix):
    _sandbox, campaign = _send(onurix, size=10, settle_seconds=0.5)
    _polls_waiting(campaign).delete()

    tasks.campaign_poll_task.call(campaign_id=campaign.pk)  # calls not settled yet
    waiting = _polls_waiting(campaign).get()
    assert waiting.args_kwargs["kwargs"] == {"campaign_id": campaign.pk, "step": 1}
    assert timedelta(seconds=25) < waiting.run_after - timezone.now() <= timedelta(seconds=30)

    waiting.delete()
    time.sleep(0.6)
    report = tasks.campaign_poll_task.call(campaign_id=campaign.pk, step=1)
    assert report["pending"] == 0 and not report["keep_polling"]
    assert not _polls_waiting(campaign).exists(), "polling goes on after every phone is final"
    assert not campaign.results.filter(state=State.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_the_chain_slows_down_and_stops_after_the_maximum_age(onurix, settings):
    _sandbox, campaign = _send(onurix, size=3, settle_seconds=3600)
    _polls_waiting(campaign).delete()
    tasks.campaign_poll_task.call(campaign_id=campaign.pk, step=6)
    waiting = _polls_waiting(campaign).get()
    assert waiting.args_kwargs["kwargs"]["step"] == 6  # capped at 15 minutes
    assert waiting.run_after - timezone.now() <= timedelta(minutes=15)

    waiting.delete()
    settings.ONURIX_POLL_MAX_HOURS = 1
    Campaign.objects.filter(pk=campaign.pk).update(finished_at=timezone.now() - timedelta(hours=2))
    report = tasks.campaign_poll_task.call(campaign_id=campaign.pk)
    assert report["pending"] == 3 and not report["keep_polling"]
    assert not _polls_waiting(campaign).exists()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_restarts_a_lost_chain_once(onurix):
    _sandbox, campaign = _send(onurix, size=3, settle_seconds=3600)
    _polls_waiting(campaign).delete()
    Campaign.objects.filter(pk=campaign.pk).update(
        last_polled_at=timezone.now() - timedelta(minutes=20)
    )
    assert services.campaigns_sweep()["polls"] == 1
    assert services.campaigns_sweep()["polls"] == 0  # one is already waiting
    assert _polls_waiting(campaign).count() == 1
    # A recent poll means the chain is alive: nothing to restart.
    _polls_waiting(campaign).delete()
    Campaign.objects.filter(pk=campaign.pk).update(last_polled_at=timezone.now())
    assert services.campaigns_sweep()["polls"] == 0


class _FakeClient:
    def __init__(self, states):
        self.states = states
        self.asked = []

    def messages_state(self, *, id):
        self.asked.append(id)
        answer = self.states[id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _item(call_id, phone, state, credits="1"):
    return MessageState(id=call_id, phone=phone, state=state, credits=Decimal(credits), raw={})


@pytest.mark.django_db
def test_unknown_texts_stay_raw_and_one_failing_dispatch_is_skipped(monkeypatch):
    campaign = make_campaign(state=Campaign.State.FINISHED, finished_at=timezone.now())
    sent = {"state": State.SENT, "credits": 1, "onurix_state": "Enviado"}
    odd = make_result(campaign=campaign, call_id="c1", dispatch_id="d1", **sent)
    by_phone = make_result(campaign=campaign, call_id="", dispatch_id="d1", **sent)
    blank = make_result(campaign=campaign, call_id="c3", dispatch_id="d1", **sent)
    broken = make_result(campaign=campaign, call_id="c4", dispatch_id="d2", **sent)
    fake = _FakeClient(
        {
            "d1": (
                _item("c1", odd.phone, "Buzón de voz 🤖"),
                _item("other", by_phone.phone, "  entregado "),
                _item("c3", blank.phone, ""),
            ),
            "d2": onurix_api.OnurixUnknownOutcome("Error interno", status=520, code=500),
        }
    )
    monkeypatch.setattr(onurix_api, "get_onurix_client", lambda: fake)

    report = services.campaign_poll(campaign_id=campaign.pk)

    assert sorted(fake.asked) == ["d1", "d2"]
    assert report.failed_dispatches == 1 and report.unknown_texts == 2
    odd.refresh_from_db()
    assert odd.state == State.SENT and odd.onurix_state == "Buzón de voz 🤖"
    by_phone.refresh_from_db()
    assert by_phone.state == State.ANSWERED  # matched by phone when the call id differs
    broken.refresh_from_db()
    assert broken.state == State.SENT and broken.onurix_state == "Enviado"
    failure = OnurixRequest.objects.get(kind=OnurixRequest.Kind.STATE)
    assert failure.dispatch_id == "d2" and failure.outcome == OnurixRequest.Outcome.UNKNOWN
    assert report.pending == 3 and report.keep_polling


@pytest.mark.django_db
def test_refresh_now_has_the_worker_run_one_poll(auth_client, monkeypatch):
    campaign = make_campaign(state=Campaign.State.FINISHED, finished_at=timezone.now())
    result = make_result(
        campaign=campaign, call_id="c1", dispatch_id="d1", state=State.SENT, credits=2
    )
    fake = _FakeClient({"d1": (_item("c1", result.phone, "Rechazado", "0"),)})
    monkeypatch.setattr(onurix_api, "get_onurix_client", lambda: fake)

    response = auth_client.post(
        reverse("campaign_refresh", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    # The poll is queued for the worker; the test's task backend runs it at once.
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    result.refresh_from_db()
    assert result.state == State.FAILED and result.credits_refunded == 2
    page = auth_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "The states are being read from Onurix" in page.text
    assert auth_client.get(reverse("campaign_refresh", args=[campaign.pk])).status_code == 405
