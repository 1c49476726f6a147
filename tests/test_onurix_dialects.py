"""The dispatch and the polling against every way the real Onurix may answer.

The sandbox speaks "dialects" (phones echoed without the country code or with `+`,
numbers as strings, refusals with codes and words we do not know, a whole batch refused
for one invalid number, states as an object or in capitals, the balance under `data`).
In each, a campaign ends with every phone resolved and none called twice, and a refusal
of the account pauses the campaign within ONURIX_REFUSAL_BREAKER + 1 requests.
"""

import time
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns import onurix_codes, services
from campaigns.models import CallResult, Campaign, OnurixRequest
from onurix_sandbox import DIALECTS
from tests.factories import make_audience, make_campaign, make_user

pytestmark = pytest.mark.django_db(transaction=True)

State = CallResult.State
INVALID_SUFFIX = "99999"
# The audience is 573000000000 on; BAD_PHONE, typed by hand, ends in the suffix that makes
# the sandbox call a number invalid.
AUDIENCE = 25
BAD_PHONE = "573009999999"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def dialect_sandbox(onurix, settings):
    settings.ONURIX_BATCH_SIZE = 10
    settings.ONURIX_CONCURRENCY = 2
    settings.ONURIX_REFUSAL_BREAKER = 3

    def start(dialect: str, **options):
        options.setdefault("settle_seconds", 0.2)
        return onurix(dialect=dialect, invalid_phone_suffix=INVALID_SUFFIX, **options)

    return start


def _campaign(with_bad_phone: bool = True) -> Campaign:
    group = make_audience(AUDIENCE)
    campaign = make_campaign(message="Hola, le recordamos su cita de mañana.")
    campaign.groups.add(group)
    if with_bad_phone:
        campaign.extra_phones = BAD_PHONE
        campaign.save()
    assert services.campaign_launch(campaign=campaign, user=make_user())
    return campaign


def _poll_until_final(campaign: Campaign, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while campaign.results.filter(state=State.SENT).exists() and time.monotonic() < deadline:
        services.campaign_poll(campaign_id=campaign.pk)
        time.sleep(0.1)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_phone_is_resolved_and_none_called_twice(dialect_sandbox, dialect):
    sandbox = dialect_sandbox(dialect)
    campaign = _campaign()

    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    _poll_until_final(campaign)

    called = Counter(call.phone for call in sandbox.state.calls())
    assert max(called.values()) == 1
    states = Counter(campaign.results.values_list("state", flat=True))
    assert set(states) <= {State.ANSWERED, State.FAILED}, states  # nothing lost or unknown
    assert sum(states.values()) == AUDIENCE + 1
    bad = campaign.results.get(phone=BAD_PHONE)
    assert bad.state == State.FAILED
    others = campaign.results.exclude(phone=BAD_PHONE)
    assert all(called[phone] == 1 for phone in others.values_list("phone", flat=True))
    assert not others.filter(call_id="").exists()  # every call id learned, sooner or later


@pytest.mark.parametrize("dialect", ["standard", "spanish_refusals", "numbers_as_strings"])
@pytest.mark.parametrize(
    "cause", [{"balance": 0}, {"key": "another-key"}, {"ip_blocked": True}], ids=str
)
def test_a_refusal_of_the_account_pauses_within_the_breaker(dialect_sandbox, dialect, cause):
    sandbox = dialect_sandbox(dialect)
    campaign = _campaign(with_bad_phone=False)
    sandbox.state.configure(**cause)  # after the launch: the account goes wrong meanwhile

    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"

    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED
    sends = OnurixRequest.objects.filter(campaign=campaign, kind=OnurixRequest.Kind.SEND)
    assert sends.count() <= 3 + 1
    assert sandbox.state.calls() == []
    assert set(campaign.results.values_list("state", flat=True)) == {State.QUEUED}
    assert campaign.state_message  # Onurix's words, for the campaign's page


def test_a_refusal_in_words_nobody_taught_us_pauses_after_the_breaker_and_resume_sends(
    dialect_sandbox, monkeypatch, settings
):
    # Wording no pattern knows: only the refusal breaker stands between it and a
    # campaign that fails every phone.
    monkeypatch.setattr(onurix_codes, "AUTH_TEXT", onurix_codes.re.compile("(?!)"))
    monkeypatch.setattr(onurix_codes, "CREDITS_TEXT", onurix_codes.re.compile("(?!)"))
    settings.ONURIX_CONCURRENCY = 1
    sandbox = dialect_sandbox("spanish_refusals")
    campaign = _campaign(with_bad_phone=False)
    sandbox.state.configure(balance=0)

    assert services.campaign_dispatch(campaign_id=campaign.pk) == "paused"

    campaign.refresh_from_db()
    assert campaign.pause_reason == Campaign.PauseReason.REFUSED
    assert "No tiene créditos suficientes" in campaign.state_message
    assert OnurixRequest.objects.filter(campaign=campaign).count() == 3
    assert set(campaign.results.values_list("state", flat=True)) == {State.QUEUED}

    sandbox.state.configure(balance=1000)
    assert services.campaign_resume(campaign=campaign, user=make_user())
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    assert len(sandbox.state.calls()) == AUDIENCE


def test_one_bad_number_refused_without_a_name_is_isolated_by_halving(
    dialect_sandbox, monkeypatch, settings
):
    # Onurix refuses the whole batch and does not say which number: halves find it.
    monkeypatch.setattr(onurix_codes, "named_phone", lambda message, phones: None)
    settings.ONURIX_CONCURRENCY = 1
    sandbox = dialect_sandbox("batch_reject")
    campaign = _campaign()

    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"

    bad = campaign.results.get(phone=BAD_PHONE)
    assert bad.state == State.FAILED
    assert "no es válido" in bad.error_message
    called = Counter(call.phone for call in sandbox.state.calls())
    assert len(called) == AUDIENCE and max(called.values()) == 1
    # The bad phone's batch of 6 (25 + 1 in batches of 10) took 1 + 2 + 2 + 2 requests;
    # every one of them is in the campaign's request log.
    requests = OnurixRequest.objects.filter(campaign=campaign, kind=OnurixRequest.Kind.SEND)
    assert requests.filter(outcome=OnurixRequest.Outcome.REFUSED).count() >= 2
    assert requests.count() > 3  # more than the three batches: the halves are logged


def test_an_unmatched_answer_keeps_its_phones_sent_and_polling_resolves_them(
    dialect_sandbox, monkeypatch
):
    # Onurix lists calls we cannot tie to our phones: they stay sent with the dispatch
    # id, never unknown and never re-sent, and polling by the dispatch id resolves them.
    from campaigns import onurix

    monkeypatch.setattr(onurix, "match_calls", lambda phones, calls: {})
    sandbox = dialect_sandbox("phones_national")
    campaign = _campaign(with_bad_phone=False)

    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"
    assert set(campaign.results.values_list("state", flat=True)) == {State.SENT}
    assert not campaign.results.filter(dispatch_id="").exists()

    assert campaign.totals.credits == 0  # not known yet either

    _poll_until_final(campaign)
    assert set(campaign.results.values_list("state", flat=True)) <= {State.ANSWERED, State.FAILED}
    assert len(sandbox.state.calls()) == AUDIENCE
    campaign.totals.refresh_from_db()
    assert campaign.totals.credits == AUDIENCE  # learned with the states


def test_a_balance_onurix_does_not_tell_lets_a_launcher_launch_after_confirming(
    dialect_sandbox, monkeypatch, auth_client
):
    # No dialect hides the balance: the answer is replaced at our client's seam.
    from campaigns.onurix import Balance, OnurixClient

    dialect_sandbox("standard")
    monkeypatch.setattr(OnurixClient, "balance", lambda self: Balance(None, {"status": "1"}))
    group = make_audience(3)
    campaign = make_campaign(message="Hola, le recordamos su cita de mañana.")
    campaign.groups.add(group)
    url = reverse("campaign_launch", args=[campaign.pk])

    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Onurix answered but did not say the balance." in page.text
    assert 'name="balance_unknown_ok"' in page.text

    refused = auth_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "confirm that you launch without it" in refused.text
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT

    auth_client.post(url, {"balance_unknown_ok": "1"})
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENDING
    assert campaign.balance_before is None
