"""Follow-up waves against the Onurix sandbox over HTTP: who each wave calls, when, and
that a phone is called at most once per wave, also when a worker dies mid-wave."""

import datetime as dt
import os
import signal
import time
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from campaigns import selectors, services
from campaigns.calling_hours import BOGOTA
from campaigns.models import CallResult, Campaign, Contact, DoNotCallChange, FollowUpWave
from tests.factories import make_audience, make_campaign, make_contact, make_group, make_user

MESSAGE = "Hola {nombre}, le recordamos su cita de mañana."
PHONES = {name: f"5730011100{index:02d}" for index, name in enumerate("ABCDEF", start=1)}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


class Clock:
    """timezone.now() frozen at a Bogota wall-clock moment, moved by the test."""

    def __init__(self, monkeypatch):
        self.at(14, 8)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def at(self, day: int, hour: int, minute: int = 0) -> dt.datetime:
        # December 2026: Monday 14, Tuesday 15, Wednesday 16, Thursday 17 (no holidays).
        self.now = dt.datetime(2026, 12, day, hour, minute, tzinfo=BOGOTA)
        return self.now


def _page(client, url: str) -> str:
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def _wave_fields(number: int, outcomes: list[str], days: int, at: str) -> dict:
    return {
        f"wave{number}_outcomes": outcomes,
        f"wave{number}_days": str(days),
        f"wave{number}_at": at,
    }


def _create_through_the_form(auth_client, group, **waves) -> Campaign:
    data = {
        "name": "Recordatorio semanal",
        "voice": "Mariana",
        "message": MESSAGE,
        "retries": "1",
        "leave_voicemail": "on",
        "groups": [str(group.pk)],
        "calling_window_start": "08:00",
        "calling_window_end": "12:00",
        "purpose": "informational",
        **waves,
    }
    response = auth_client.post(reverse("campaign_create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Campaign.objects.get(name="Recordatorio semanal")


def _run(campaign: Campaign) -> Campaign:
    """Send every queued phone of a campaign, then read the call states once."""
    services.campaign_dispatch(campaign_id=campaign.pk)
    services.campaign_poll(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


def _called(campaign: Campaign) -> set[str]:
    called = campaign.results.filter(state__in=[*CallResult.FINAL_STATES, CallResult.State.SENT])
    return set(
        called.exclude(
            state__in=[CallResult.State.EXCLUDED, CallResult.State.CANCELLED]
        ).values_list("phone", flat=True)
    )


def _names(phones) -> set[str]:
    by_phone = {phone: name for name, phone in PHONES.items()}
    return {by_phone[phone] for phone in phones}


def _one_off(phone: str, sandbox_settings: dict, sandbox) -> Campaign:
    """Another campaign calling one phone (the person's other appointments)."""
    sandbox.state.configure(**sandbox_settings)
    campaign = make_campaign(message="Otro aviso.", extra_phones=phone)
    assert services.campaign_launch(campaign=campaign, user=make_user())
    return _run(campaign)


@pytest.mark.django_db(transaction=True)
def test_two_waves_call_exactly_the_phones_that_qualify_each_day(
    onurix, settings, monkeypatch, auth_client
):
    sandbox = onurix(settle_seconds=3600)  # calls stay "Enviado": nobody answers
    settings.CAMPAIGN_CALLING_HOURS = "ley2300"
    settings.CAMPAIGN_MAX_ATTEMPTS_PER_DAY = 1
    clock = Clock(monkeypatch)
    group = make_group(name="Pacientes Chapinero")
    for name, phone in PHONES.items():
        make_contact(phone=phone, first_name=name).groups.add(group)

    # Monday 10:00: Laura sets two waves and launches.
    clock.at(14, 10)
    parent = _create_through_the_form(
        auth_client,
        group,
        **_wave_fields(2, ["no_answer", "rejected"], 1, "09:00"),
        # 13:00 is after the campaign's window (08:00-12:00): it waits for its opening.
        **_wave_fields(3, ["rejected"], 1, "13:00"),
    )
    assert [(w.number, w.outcomes) for w in parent.waves.all()] == [
        (2, ["no_answer", "rejected"]),
        (3, ["rejected"]),
    ]
    page = _page(auth_client, parent.get_absolute_url())
    assert (
        "Wave 2, 1 calling day later at 09:00, for the phones whose outcome was no answer, rejected"
        in page
    )
    assert "from 0 to about" in page
    assert "Then 2 follow-up waves will call again those who qualify" in page
    response = auth_client.post(reverse("campaign_launch", args=[parent.pk]))
    assert response.status_code == 302
    parent = _run(parent)
    assert parent.state == Campaign.State.FINISHED
    assert _called(parent) == set(PHONES.values())

    # Monday 12:00: A answers another campaign. 17:00: B is marked do-not-call from the
    # results page.
    clock.at(14, 12)
    _one_off(PHONES["A"], {"settle_seconds": 0, "answered_rate": 1}, sandbox)
    clock.at(14, 17)
    response = auth_client.post(
        reverse("campaign_results_action", args=[parent.pk]),
        {"action": "do_not_call", "results": [parent.results.get(phone=PHONES["B"]).pk]},
    )
    assert response.status_code == 302
    assert Contact.objects.get(phone=PHONES["B"]).do_not_call

    # Not before its time: Monday evening, Tuesday 08:59.
    clock.at(14, 18)
    assert services.waves_sweep() == 0
    page = _page(auth_client, parent.get_absolute_url())
    assert "Starts around 15/12/2026" in page or "Starts around 12/15/2026" in page
    # Tuesday 08:30: F is called by another campaign: once that day is all it gets.
    clock.at(15, 8, 30)
    _one_off(PHONES["F"], {"settle_seconds": 3600}, sandbox)
    clock.at(15, 8, 59)
    assert services.waves_sweep() == 0

    # Tuesday 09:00: wave 2 calls C, D and E only, and they reject the call.
    clock.at(15, 9)
    sandbox.state.configure(settle_seconds=0, answered_rate=0, rejected_rate=1, error_rate=0)
    assert services.waves_sweep() == 1
    assert services.waves_sweep() == 0  # started once
    wave2 = FollowUpWave.objects.get(campaign=parent, number=2)
    assert wave2.state == FollowUpWave.State.LAUNCHED
    assert wave2.left_out == {"answered": 1, "called_today": 1}
    run2 = _run(wave2.run)
    assert run2.state == Campaign.State.FINISHED
    assert _names(_called(run2)) == {"C", "D", "E"}
    excluded = run2.results.get(phone=PHONES["B"])
    assert excluded.state == CallResult.State.EXCLUDED
    assert excluded.exclusion_reason == CallResult.ExclusionReason.DO_NOT_CALL
    assert set(
        run2.results.filter(state=CallResult.State.FAILED).values_list("phone", flat=True)
    ) == {
        PHONES["C"],
        PHONES["D"],
        PHONES["E"],
    }

    # Tuesday 15:00: D asks not to be called again.
    clock.at(15, 15)
    services.contacts_set_do_not_call(
        contacts=Contact.objects.filter(phone=PHONES["D"]),
        do_not_call=True,
        reason="Lo pidió",
        source=DoNotCallChange.Source.FORM,
        user=make_user(),
    )

    # Wave 3 is due Wednesday 13:00, outside the window: it starts Thursday at 08:00.
    clock.at(16, 13)
    assert services.waves_sweep() == 0
    clock.at(17, 7, 59)
    assert services.waves_sweep() == 0
    clock.at(17, 8)
    sandbox.state.configure(settle_seconds=3600)
    assert services.waves_sweep() == 1
    run3 = _run(FollowUpWave.objects.get(campaign=parent, number=3).run)
    # Only the rejected ones, and D is do-not-call now: C and E.
    assert _names(_called(run3)) == {"C", "E"}
    assert run3.results.get(phone=PHONES["D"]).state == CallResult.State.EXCLUDED
    assert run3.calling_window_start == dt.time(8)

    # Nobody was called twice on one day by the campaign and its waves.
    waves_and_parent = [parent, run2, run3]
    days = Counter(
        (phone, sent_at.astimezone(BOGOTA).date())
        for phone, sent_at in CallResult.objects.filter(
            campaign__in=waves_and_parent, sent_at__isnull=False
        ).values_list("phone", "sent_at")
    )
    assert max(days.values()) == 1
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert {name: calls[phone] for name, phone in PHONES.items()} == {
        "A": 2,  # the campaign, and the other campaign she answered
        "B": 1,
        "C": 3,
        "D": 2,
        "E": 3,
        "F": 2,  # the campaign, and the other campaign on Tuesday
    }

    # The campaign's page: figures per wave and overall, each phone's attempts.
    page = _page(auth_client, parent.get_absolute_url())
    assert "Wave 2 of 3" in page and "Wave 3 of 3" in page
    assert "All waves" in page
    assert "1: Sent · 2: Failed · 3: Sent" in page  # C
    # The campaign list shows the campaign, not its waves.
    listing = _page(auth_client, reverse("campaign_list"))
    assert "Recordatorio semanal" in listing
    assert "wave 2 of 3" not in listing

    # The export says which wave reached whom, with every attempt.
    response = auth_client.get(
        reverse("campaign_results_csv", args=[parent.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    assert header[-3:] == ["wave", "final_state", "attempts"]
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert rows[PHONES["C"]][-3:] == ["", "sent", "1: sent; 2: failed; 3: sent"]
    assert rows[PHONES["B"]][-3:] == ["", "sent", "1: sent"]


@pytest.mark.django_db(transaction=True)
def test_a_phone_called_after_the_wave_started_is_left_out_at_its_turn(
    onurix, settings, monkeypatch, auth_client
):
    """The once-a-day rule holds at the moment of the call, not only when the wave starts:
    a phone another campaign calls between the wave's start and its turn is left out."""
    sandbox = onurix(settle_seconds=0, answered_rate=0, rejected_rate=1, error_rate=0)
    settings.CAMPAIGN_MAX_ATTEMPTS_PER_DAY = 1
    clock = Clock(monkeypatch)
    group = make_group(name="Pacientes Chapinero")
    for name, phone in PHONES.items():
        make_contact(phone=phone, first_name=name).groups.add(group)
    clock.at(14, 10)
    parent = _create_through_the_form(
        auth_client, group, **_wave_fields(2, ["rejected"], 1, "09:00")
    )
    assert auth_client.post(reverse("campaign_launch", args=[parent.pk])).status_code == 302
    assert _run(parent).state == Campaign.State.FINISHED

    clock.at(15, 9)
    assert services.waves_sweep() == 1
    run = FollowUpWave.objects.get(campaign=parent, number=2).run
    assert run.results.filter(state=CallResult.State.QUEUED).count() == len(PHONES)
    clock.at(15, 9, 5)
    _one_off(PHONES["F"], {"settle_seconds": 3600}, sandbox)  # before the wave's turn

    run = _run(run)
    assert _names(_called(run)) == {"A", "B", "C", "D", "E"}
    left_out = run.results.get(phone=PHONES["F"])
    assert left_out.state == CallResult.State.EXCLUDED
    assert left_out.exclusion_reason == CallResult.ExclusionReason.CALLED_TODAY
    with translation.override("en"):
        assert left_out.get_exclusion_reason_display() == "Already called today"
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert calls[PHONES["F"]] == 2  # Monday's call and the other campaign's, on Tuesday


@pytest.mark.django_db(transaction=True)
def test_a_phone_answered_in_a_wave_is_reported_as_reached_by_that_wave(
    onurix, settings, monkeypatch, auth_client
):
    sandbox = onurix(settle_seconds=3600)
    clock = Clock(monkeypatch)
    clock.at(14, 10)
    parent = make_campaign(message=MESSAGE, extra_phones="\n".join(PHONES.values()))
    services.campaign_waves_save(
        campaign=parent,
        waves=[services.WaveSpec(number=2, outcomes=["no_answer"], days_after=1, at=dt.time(9))],
    )
    assert services.campaign_launch(campaign=parent, user=make_user())
    _run(parent)
    clock.at(15, 9)
    sandbox.state.configure(settle_seconds=0, answered_rate=1)
    assert services.waves_sweep() == 1
    run = _run(parent.waves.get().run)
    assert run.totals.answered == 6

    response = auth_client.get(
        reverse("campaign_results_csv", args=[parent.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert all(line.endswith(",2,answered,1: sent; 2: answered") for line in lines[1:])
    page = _page(auth_client, parent.get_absolute_url())
    assert "(answered in wave 2)" in page
    # The wave is part of its campaign, not one more campaign on the dashboard.
    assert selectors.dashboard_totals().campaigns == 1


@pytest.mark.django_db(transaction=True)
def test_waves_can_be_cancelled_alone_and_go_with_their_campaign(
    onurix, settings, monkeypatch, auth_client
):
    onurix(settle_seconds=3600)
    clock = Clock(monkeypatch)
    clock.at(14, 10)
    specs = [
        services.WaveSpec(number=2, outcomes=["no_answer"], days_after=1, at=dt.time(9)),
        services.WaveSpec(number=3, outcomes=["no_answer"], days_after=1, at=dt.time(9)),
    ]
    parent = make_campaign(message=MESSAGE, extra_phones="\n".join(PHONES.values()))
    services.campaign_waves_save(campaign=parent, waves=specs)
    assert services.campaign_launch(campaign=parent, user=make_user())
    _run(parent)

    # Wave 2 cancelled before its time: wave 3 counts from then, and wave 2 never runs.
    response = auth_client.post(reverse("campaign_wave_cancel", args=[parent.pk]), {"wave": "2"})
    assert response.status_code == 302
    assert parent.waves.get(number=2).state == FollowUpWave.State.CANCELLED
    clock.at(15, 9)
    assert services.waves_sweep() == 1
    assert not Campaign.objects.filter(wave__number=2, wave__campaign=parent).exists()
    run3 = parent.waves.get(number=3).run
    assert run3.state == Campaign.State.SENDING and run3.totals.queued == 6

    # Wave 3 cancelled while it runs: its phones not yet called are cancelled.
    response = auth_client.post(reverse("campaign_wave_cancel", args=[parent.pk]), {"wave": "3"})
    assert response.status_code == 302
    run3.refresh_from_db()
    assert run3.state == Campaign.State.CANCELLED
    assert run3.totals.cancelled == 6
    assert services.campaign_dispatch(campaign_id=run3.pk) == "stopped"

    # A campaign cancelled before it finished takes its pending waves with it.
    other = make_campaign(message=MESSAGE, extra_phones=PHONES["A"])
    services.campaign_waves_save(campaign=other, waves=specs[:1])
    assert services.campaign_launch(campaign=other, user=make_user())
    auth_client.post(reverse("campaign_cancel", args=[other.pk]))
    assert other.waves.get().state == FollowUpWave.State.CANCELLED
    clock.at(20, 9)
    assert services.waves_sweep() == 0


@pytest.mark.django_db
def test_a_copy_keeps_the_waves_and_the_form_shows_them(auth_client):
    campaign = make_campaign(message=MESSAGE, extra_phones=PHONES["A"])
    services.campaign_waves_save(
        campaign=campaign,
        waves=[
            services.WaveSpec(2, ["no_answer", "failed"], 2, dt.time(9, 30)),
            services.WaveSpec(3, ["rejected"], 1, dt.time(15)),
        ],
    )
    response = auth_client.post(reverse("campaign_duplicate", args=[campaign.pk]))
    assert response.status_code == 302
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert [(w.number, w.outcomes, w.days_after, w.at) for w in copy.waves.all()] == [
        (2, ["no_answer", "failed"], 2, dt.time(9, 30)),
        (3, ["rejected"], 1, dt.time(15)),
    ]
    form = auth_client.get(reverse("campaign_update", args=[copy.pk])).content.decode()
    assert 'name="wave2_at" value="09:30"' in form
    assert 'name="wave3_days" value="1"' in form


@pytest.mark.django_db
def test_a_wave_form_mistake_is_shown_next_to_the_field_and_nothing_is_lost(auth_client):
    campaign = make_campaign(message=MESSAGE, extra_phones=PHONES["A"])
    services.campaign_waves_save(
        campaign=campaign, waves=[services.WaveSpec(2, ["no_answer"], 1, dt.time(9))]
    )
    data = {
        "name": campaign.name,
        "voice": "Mariana",
        "message": MESSAGE,
        "retries": "1",
        "phones": PHONES["A"],
        "purpose": "informational",
        # A third wave without a second, and a wave without its time.
        **_wave_fields(3, ["no_answer"], 1, ""),
    }
    response = auth_client.post(
        reverse("campaign_update", args=[campaign.pk]), data, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Set the wave before this one first: waves go in order." in page
    assert "Choose the time this wave starts." in page
    assert [w.number for w in campaign.waves.all()] == [2]  # the saved wave stays


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_a_wave_doubles_nothing(settings, make_sandbox):
    """A real `db_worker` sends a wave and is killed (SIGKILL) mid-way: its phones in
    flight become unknown, the rest are sent by another worker, nobody is called twice in
    the wave, and the wave is not started again."""
    from tests.factories import DB_TASKS
    from tests.workers import running_workers, worker_environment

    sandbox = make_sandbox(settle_seconds=3600)
    settings.TASKS = DB_TASKS
    settings.ONURIX_BASE_URL = sandbox.url
    settings.ONURIX_CLIENT_ID = "1000"
    settings.ONURIX_KEY = "sandbox-key"
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.ONURIX_BATCH_SIZE = 10
    settings.ONURIX_CONCURRENCY = 1
    settings.ONURIX_STALE_SENDING_SECONDS = 2
    parent = make_campaign(message="Hola, le recordamos su cita de mañana.")
    parent.groups.add(make_audience(300, prefix="57304"))
    services.campaign_waves_save(
        campaign=parent, waves=[services.WaveSpec(2, ["no_answer"], 1, dt.time(0))]
    )
    assert services.campaign_launch(campaign=parent, user=make_user())
    assert services.campaign_dispatch(campaign_id=parent.pk) == "finished"
    # Three days ago, as far as the wave can tell.
    three_days_ago = timezone.now() - dt.timedelta(days=3)
    Campaign.objects.filter(pk=parent.pk).update(finished_at=three_days_ago)
    parent.results.update(sent_at=three_days_ago)
    sandbox.state.configure(latency=0.3)
    assert services.waves_sweep() == 1
    run = parent.waves.get().run
    assert run.totals.queued == 300

    env = worker_environment(onurix_url=sandbox.url, ONURIX_CONCURRENCY="1")
    with running_workers(env, count=1) as (worker,):
        deadline = time.monotonic() + 30
        while run.requests.count() < 3:
            assert time.monotonic() < deadline, "the wave was not sent"
            time.sleep(0.1)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert run.results.filter(state=CallResult.State.QUEUED).exists()

    time.sleep(settings.ONURIX_STALE_SENDING_SECONDS + 0.5)
    services.campaigns_sweep()  # in flight at the kill: unknown, never sent again
    assert services.waves_sweep() == 0
    assert services.campaign_dispatch(campaign_id=run.pk) == "finished"

    assert Campaign.objects.filter(wave__campaign=parent).count() == 1
    calls = Counter(call.phone for call in sandbox.state.calls())
    assert max(calls.values()) == 2  # the campaign and its wave, never more
    run.refresh_from_db()
    assert run.totals.queued == run.totals.sending == 0
    assert run.totals.sent + run.totals.unknown == 300
    assert sum(1 for count in calls.values() if count == 2) == run.totals.sent + sum(
        1
        for phone in run.results.filter(state=CallResult.State.UNKNOWN).values_list(
            "phone", flat=True
        )
        if calls[phone] == 2
    )


@pytest.mark.django_db(transaction=True)
def test_the_campaign_credit_limit_covers_its_waves_together(onurix, monkeypatch):
    sandbox = onurix(settle_seconds=3600)
    clock = Clock(monkeypatch)
    clock.at(14, 10)
    parent = make_campaign(
        message="Le recordamos su cita.", extra_phones="\n".join(PHONES.values()), credit_cap=8
    )
    services.campaign_waves_save(
        campaign=parent, waves=[services.WaveSpec(2, ["no_answer"], 1, dt.time(9))]
    )
    assert services.campaign_launch(campaign=parent, user=make_user())
    _run(parent)
    assert parent.totals.net_credits == 6

    clock.at(15, 9)
    assert services.waves_sweep() == 1
    run = parent.waves.get().run
    assert run.credit_cap == 2  # what the campaign's limit left
    assert services.campaign_dispatch(campaign_id=run.pk) == "paused"
    run.refresh_from_db()
    assert run.pause_reason == Campaign.PauseReason.CREDIT_CAP
    assert run.totals.net_credits == 2 and run.totals.queued == 4
    assert sandbox.state.call_count == 8


@pytest.mark.django_db
def test_the_waves_speak_spanish_on_the_campaign_page(auth_client):
    campaign = make_campaign(message=MESSAGE, extra_phones=PHONES["A"])
    services.campaign_waves_save(
        campaign=campaign, waves=[services.WaveSpec(2, ["no_answer", "rejected"], 2, dt.time(9))]
    )
    page = auth_client.get(campaign.get_absolute_url()).content.decode()
    assert "Olas de seguimiento" in page
    assert (
        "vuelve a llamar a los teléfonos cuyo resultado fue sin respuesta, rechazada, "
        "2 días de llamada después, a las 09:00."
    ) in page
    form = auth_client.get(reverse("campaign_update", args=[campaign.pk])).content.decode()
    assert "Volver a llamar a los teléfonos cuyo resultado fue" in form
    assert "A las (hora de Colombia)" in form
