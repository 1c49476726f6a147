"""Consent and spend: nobody marked do-not-call is called, checked when the call leaves,
and no credit is spent that a launcher did not authorise. One test per finding of the
issue that walked a running instance and broke these promises."""

import contextlib
import threading
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from campaigns import services
from campaigns.models import CallResult, Campaign, Contact, TestCall
from campaigns.onurix import OnurixInvalidRequest
from campaigns.personalisation import MESSAGE_MAX_LENGTH
from tests.factories import (
    make_audience,
    make_campaign,
    make_contact,
    make_group,
    make_result,
    make_user,
)

BOGOTA = ZoneInfo("America/Bogota")
MESSAGE = "Hola, le recordamos su cita de mañana."
State = CallResult.State


@pytest.fixture(autouse=True)
def english(client):
    """Pages and the messages services write, in English, to assert on them."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


def _campaign(size=5, **fields):
    group = make_audience(size)
    campaign = make_campaign(message=MESSAGE, **fields)
    campaign.groups.add(group)
    return campaign


def _launch(campaign):
    assert services.campaign_launch(campaign=campaign, user=make_user())
    campaign.refresh_from_db()


def _called(sandbox) -> Counter:
    return Counter(call.phone for call in sandbox.state.calls())


def _mark_behind_the_back(phone: str) -> None:
    """A do-not-call mark written without the service (a shell, a bulk SQL fix): only the
    check at the moment of the call stands between it and a call."""
    Contact.objects.filter(phone=phone).update(do_not_call=True)


# -- 1. do-not-call is checked at the moment of the call --------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_phone_marked_after_a_scheduled_launch_is_not_called_at_start_time(
    onurix, monkeypatch, auth_client
):
    sandbox = onurix()
    campaign = _campaign(5, scheduled_at=timezone.now() + timedelta(minutes=2))
    _launch(campaign)
    assert campaign.state == Campaign.State.SCHEDULED
    victim = campaign.results.order_by("id").first().phone
    _mark_behind_the_back(victim)

    later = timezone.now() + timedelta(minutes=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"

    assert victim not in _called(sandbox)
    assert len(_called(sandbox)) == 4
    row = campaign.results.get(phone=victim)
    assert row.state == State.EXCLUDED
    assert row.exclusion_reason == CallResult.ExclusionReason.DO_NOT_CALL_LATE
    page = auth_client.get(campaign.get_absolute_url(), {"state": "excluded"})
    assert "Marked do-not-call after the launch" in page.text


@pytest.mark.django_db(transaction=True)
def test_a_phone_marked_while_the_campaign_is_paused_is_not_called_on_resume(onurix):
    sandbox = onurix()
    campaign = _campaign(4)
    _launch(campaign)
    services.campaign_pause(campaign=campaign, user=make_user())
    victim = campaign.results.order_by("id").last().phone
    _mark_behind_the_back(victim)
    assert services.campaign_resume(campaign=campaign, user=make_user())
    services.campaign_dispatch(campaign_id=campaign.pk)
    assert victim not in _called(sandbox)
    assert sum(_called(sandbox).values()) == 3


@pytest.mark.django_db(transaction=True)
def test_a_phone_that_answers_another_campaign_after_the_launch_is_not_called_again(
    onurix, monkeypatch, auth_client
):
    """Ley 2300: once contact is made, not again that week by the same channel. A
    scheduled campaign's phone that answers another campaign between the launch and the
    start time is left out when the worker reaches it."""
    sandbox = onurix(settle_seconds=0, answered_rate=1)
    campaign = _campaign(5, scheduled_at=timezone.now() + timedelta(minutes=2))
    _launch(campaign)
    reached = campaign.results.order_by("id").first().phone
    other = make_campaign(message="Su pedido llegó.", extra_phones=reached)
    _launch(other)
    assert services.campaign_dispatch(campaign_id=other.pk) == "finished"
    services.campaign_poll(campaign_id=other.pk)
    assert other.results.get().state == State.ANSWERED

    later = timezone.now() + timedelta(minutes=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "finished"

    assert _called(sandbox)[reached] == 1  # the other campaign's call only
    assert sum(_called(sandbox).values()) == 5
    row = campaign.results.get(phone=reached)
    assert row.state == State.EXCLUDED
    assert row.exclusion_reason == CallResult.ExclusionReason.FREQUENCY
    page = auth_client.get(campaign.get_absolute_url(), {"state": "excluded"})
    assert "Answered a call recently" in page.text


@pytest.mark.django_db(transaction=True)
def test_resending_unknown_skips_a_phone_marked_from_the_results_page(onurix, auth_client):
    sandbox = onurix()
    campaign = _campaign(3)
    _launch(campaign)
    CallResult.objects.filter(campaign=campaign).update(state=State.UNKNOWN)
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.FINISHED)
    victim = campaign.results.order_by("id").first()
    response = auth_client.post(
        reverse("campaign_results_action", args=[campaign.pk]),
        {"action": "do_not_call", "results": [victim.pk]},
    )
    assert response.status_code == 302
    confirm = auth_client.get(reverse("campaign_resend_unknown", args=[campaign.pk]))
    assert 'data-testid="unknown-count">2<' in confirm.text
    assert "1 other phone with an unknown outcome is marked do-not-call" in confirm.text
    response = auth_client.post(
        reverse("campaign_resend_unknown", args=[campaign.pk]), {"expected": 2}, follow=True
    )
    assert "2 phones with an unknown outcome were queued again" in response.text
    services.campaign_dispatch(campaign_id=campaign.pk)
    assert victim.phone not in _called(sandbox)
    assert sum(_called(sandbox).values()) == 2


@pytest.mark.django_db
def test_a_test_call_to_a_do_not_call_phone_is_refused(onurix, auth_client):
    sandbox = onurix()
    make_contact(phone="573001112233", do_not_call=True)
    campaign = make_campaign(message=MESSAGE)
    response = auth_client.post(
        reverse("campaign_test_call", args=[campaign.pk]), {"phone": "300 111 2233"}, follow=True
    )
    assert "marked do-not-call" in response.text
    assert sandbox.state.calls() == []
    assert not TestCall.objects.exists()


# -- 2. re-send unknown respects the campaign's state -----------------------------------------


def _paused_with_unknown(size=6, unknown=3):
    campaign = _campaign(size)
    _launch(campaign)
    ids = list(campaign.results.order_by("id").values_list("id", flat=True)[:unknown])
    CallResult.objects.filter(id__in=ids).update(state=State.UNKNOWN)
    services.campaign_pause(campaign=campaign, user=make_user())
    return campaign


@pytest.mark.django_db(transaction=True)
def test_resend_on_a_paused_campaign_queues_only_the_unknown_and_stays_paused(onurix, auth_client):
    sandbox = onurix()
    campaign = _paused_with_unknown(size=6, unknown=3)
    confirm = auth_client.get(reverse("campaign_resend_unknown", args=[campaign.pk]))
    assert 'data-testid="unknown-count">3<' in confirm.text
    assert "stays paused" in confirm.text

    response = auth_client.post(
        reverse("campaign_resend_unknown", args=[campaign.pk]), {"expected": 3}, follow=True
    )
    assert "still paused" in response.text
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED
    assert campaign.pause_reason == Campaign.PauseReason.USER
    assert services.campaign_dispatch(campaign_id=campaign.pk) == "stopped"
    assert sandbox.state.calls() == []
    assert campaign.results.filter(state=State.QUEUED).count() == 6


@pytest.mark.django_db(transaction=True)
def test_resend_on_a_cancelled_campaign_is_refused_even_by_a_direct_post(onurix, auth_client):
    sandbox = onurix()
    campaign = _paused_with_unknown(size=5, unknown=2)
    services.campaign_cancel(campaign=campaign, user=make_user())
    response = auth_client.post(
        reverse("campaign_resend_unknown", args=[campaign.pk]), {"expected": 2}, follow=True
    )
    assert "cannot be sent again" in response.text
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.CANCELLED
    assert campaign.results.filter(state=State.UNKNOWN).count() == 2
    services.campaign_dispatch(campaign_id=campaign.pk)
    assert sandbox.state.calls() == []


@pytest.mark.django_db(transaction=True)
def test_resend_sends_exactly_the_number_confirmed_or_nothing(onurix, auth_client):
    sandbox = onurix()
    campaign = _campaign(4)
    _launch(campaign)
    CallResult.objects.filter(campaign=campaign).update(state=State.UNKNOWN)
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.FINISHED)
    # The person saw 3 unknown; one more turned unknown meanwhile.
    response = auth_client.post(
        reverse("campaign_resend_unknown", args=[campaign.pk]), {"expected": 3}
    )
    assert response.status_code == 200
    assert "changed to 4" in response.text
    assert 'data-testid="unknown-count">4<' in response.text
    assert campaign.results.filter(state=State.UNKNOWN).count() == 4
    response = auth_client.post(
        reverse("campaign_resend_unknown", args=[campaign.pk]), {"expected": 4}
    )
    assert response.status_code == 302
    services.campaign_dispatch(campaign_id=campaign.pk)
    assert sum(_called(sandbox).values()) == 4
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.FINISHED


# -- 3. editing a draft while someone launches it ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_saving_a_stale_draft_form_after_launch_changes_nothing_and_says_so(onurix, auth_client):
    onurix()
    campaign = _campaign(3)
    form_page = auth_client.get(reverse("campaign_update", args=[campaign.pk]))
    assert form_page.status_code == 200
    _launch(campaign)
    response = auth_client.post(
        reverse("campaign_update", args=[campaign.pk]),
        {
            "name": "Renamed",
            "voice": "Mariana",
            "message": "Otro mensaje",
            "retries": 1,
            "groups": list(campaign.groups.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 200
    assert "launched meanwhile" in response.text
    assert "Otro mensaje" in response.text  # what was typed is still on the page
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENDING
    assert campaign.name != "Renamed"
    assert campaign.message == MESSAGE
    assert campaign.results.count() == 3


@pytest.mark.django_db(transaction=True)
def test_editors_saving_while_a_launcher_launches_never_put_a_campaign_back_to_draft(onurix):
    onurix()
    group = make_audience(3)
    campaigns = []
    for number in range(6):
        campaign = make_campaign(name=f"Race {number}", message=MESSAGE)
        campaign.groups.add(group)
        campaigns.append(campaign)
    editor, launcher = make_user(), make_user()
    errors: list[BaseException] = []

    def edit(round_number):
        try:
            for stale in campaigns:  # each editor holds the copy it loaded as a draft
                with contextlib.suppress(services.CampaignNotDraft):
                    services.campaign_save(
                        campaign=stale,
                        user=editor,
                        name=f"{stale.name} edit {round_number}",
                        voice="Mariana",
                        message=MESSAGE,
                        audio_code=None,
                        retries=2,
                        leave_voicemail=True,
                        groups=[group],
                    )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def launch():
        try:
            for campaign in campaigns:
                services.campaign_launch(
                    campaign=Campaign.objects.get(pk=campaign.pk), user=launcher
                )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=launch))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for campaign in Campaign.objects.all():
        assert campaign.state == Campaign.State.SENDING, campaign.name
        assert campaign.results.count() == 3
        # Relaunching is simply "already launched", never a 500.
        assert services.campaign_launch(campaign=campaign, user=launcher) is False


# -- 4. the admin goes through the same rules -------------------------------------------------


@pytest.fixture
def staff_editor(db):
    from django.contrib.auth.models import Group

    from campaigns.roles import EDITOR, ensure_roles

    ensure_roles()
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name=EDITOR))
    return user


@pytest.mark.django_db(transaction=True)
def test_the_admin_cannot_turn_a_person_s_pause_into_one_the_sweep_resumes(
    onurix, client, staff_editor
):
    sandbox = onurix()
    campaign = _campaign(4)
    _launch(campaign)
    services.campaign_pause(campaign=campaign, user=make_user())
    client.force_login(staff_editor)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="pause_reason"' not in page.text
    response = client.post(url, {"name": campaign.name, "pause_reason": "breaker"})
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.pause_reason == Campaign.PauseReason.USER

    services.campaigns_sweep()
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED
    assert sandbox.state.calls() == []


@pytest.mark.django_db(transaction=True)
def test_the_admin_shows_a_launched_campaign_read_only(onurix, client, staff_editor):
    onurix()
    campaign = _campaign(2)
    _launch(campaign)
    client.force_login(staff_editor)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = client.get(url)
    for field in ("voice", "message", "retries", "extra_phones", "audio_code"):
        assert f'name="{field}"' not in page.text, field
    for field in ("state", "pause_reason", "voice"):  # each shown once, read-only
        assert page.text.count(f'class="form-row field-{field}"') == 1, field
    response = client.post(url, {"name": "x", "voice": "Miguel", "message": "Otro", "retries": 3})
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert (campaign.voice, campaign.message, campaign.retries) == ("Mariana", MESSAGE, 1)


@pytest.mark.django_db
def test_the_admin_still_edits_drafts_but_never_their_state(client, staff_editor):
    campaign = make_campaign(message=MESSAGE)
    client.force_login(staff_editor)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = client.post(
        url,
        {
            "name": "Renamed in the admin",
            "voice": "Mariana",
            "message": MESSAGE,
            "retries": 2,
            "leave_voicemail": "on",
            "purpose": "informational",
            "state": "sending",
            "pause_reason": "breaker",
        },
    )
    assert response.status_code == 302, response.text[:2000]
    campaign.refresh_from_db()
    assert campaign.name == "Renamed in the admin"
    assert campaign.retries == 2
    assert campaign.state == Campaign.State.DRAFT
    assert campaign.pause_reason == ""


# -- 5. smaller holes -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_contact_whose_personalised_text_is_too_long_is_left_out_and_never_sent(
    onurix, auth_client
):
    sandbox = onurix()
    group = make_group()
    long = make_contact(first_name="Ana", custom_fields={"nota": "x" * MESSAGE_MAX_LENGTH})
    fine = make_contact(first_name="Luis", custom_fields={"nota": "corta"})
    for contact in (long, fine):
        contact.groups.add(group)
    campaign = make_campaign(message="Hola {nombre}: {nota}")
    campaign.groups.add(group)

    preview = services.campaign_preview(campaign=campaign)
    assert preview.phones == 1
    assert preview.excluded_counts == {CallResult.ExclusionReason.TOO_LONG: 1}
    page = auth_client.get(campaign.get_absolute_url())
    assert "Message too long once personalised" in page.text

    response = auth_client.post(
        reverse("campaign_test_call", args=[campaign.pk]), {"phone": long.phone}, follow=True
    )
    assert "characters long once personalised" in response.text
    assert sandbox.state.calls() == []

    _launch(campaign)
    row = campaign.results.get(phone=long.phone)
    assert (row.state, row.exclusion_reason) == (State.EXCLUDED, "too_long")


@pytest.mark.django_db
def test_test_calls_respect_the_calling_hours(onurix, auth_client, settings, monkeypatch):
    sandbox = onurix()
    settings.CAMPAIGN_CALLING_HOURS = "ley2300"
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=BOGOTA)
    monkeypatch.setattr(timezone, "now", lambda: sunday)
    campaign = make_campaign(message=MESSAGE)
    response = auth_client.post(
        reverse("campaign_test_call", args=[campaign.pk]), {"phone": "3001234567"}, follow=True
    )
    assert "Test calls follow the calling hours too" in response.text
    assert sandbox.state.calls() == []


@pytest.mark.django_db
def test_test_calls_are_limited_per_person_and_hour(onurix, auth_client, settings):
    sandbox = onurix()
    settings.CAMPAIGN_TEST_CALLS_PER_HOUR = 2
    campaign = make_campaign(message=MESSAGE)
    url = reverse("campaign_test_call", args=[campaign.pk])
    for _attempt in range(2):
        auth_client.post(url, {"phone": "3001234567"})
    response = auth_client.post(url, {"phone": "3001234567"}, follow=True)
    assert "You made 2 test calls in the last hour" in response.text
    assert len(sandbox.state.calls()) == 2
    assert TestCall.objects.count() == 2


@pytest.mark.django_db
def test_a_user_without_a_role_sees_only_a_page_asking_for_one(client, no_role_user):
    client.force_login(no_role_user)
    for name in ("dashboard", "onurix_status", "campaign_list", "contact_list"):
        response = client.get(reverse(name), {"fresh": "1"}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403, name
        assert "Your account has no role yet" in response.text
        assert "Ask an administrator" in response.text
        assert f'href="{reverse("contact_list")}"' not in response.text  # no menu
        assert "balance" not in response.text.lower()
    spanish = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="es-co")
    assert "administrador" in spanish.text


@pytest.mark.django_db
def test_refresh_now_needs_the_editor_role_and_queues_a_poll_for_the_worker(
    onurix, client, read_only_user, editor_user
):
    onurix()
    campaign = make_campaign(message=MESSAGE, state=Campaign.State.FINISHED)
    make_result(campaign=campaign, state=State.SENT, dispatch_id="d-1")
    url = reverse("campaign_refresh", args=[campaign.pk])
    client.force_login(read_only_user)
    assert client.post(url).status_code == 403
    assert not DBTaskResult.objects.exists()

    client.force_login(editor_user)
    response = client.post(url, follow=True)
    assert "being read from Onurix" in response.text
    poll = DBTaskResult.objects.get()
    assert poll.task_path.endswith("campaign_poll_task")
    assert poll.args_kwargs["kwargs"]["campaign_id"] == campaign.pk
    # Nothing was read in the request: the phone is still sent, the chain not started.
    campaign.refresh_from_db()
    assert campaign.last_polled_at is None
    client.post(url)  # a second click does not queue a second poll
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"action": "add_to_group", "group": "abc"},
        {"action": "add_to_group", "group": "999999"},
        {"action": "add_to_group"},
        {"action": "explode"},
        {"action": "do_not_call", "results": ["abc"]},
    ],
    ids=["group-not-a-number", "group-missing", "no-group", "unknown-action", "bad-result"],
)
def test_bad_input_on_the_results_action_is_a_message_never_a_500(auth_client, data):
    campaign = make_campaign(message=MESSAGE, state=Campaign.State.FINISHED)
    result = make_result(campaign=campaign, state=State.SENT)
    data = {"results": [result.pk], **data}
    response = auth_client.post(
        reverse("campaign_results_action", args=[campaign.pk]), data, follow=True
    )
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not Contact.objects.filter(do_not_call=True).exists()


def test_a_text_that_cannot_be_encoded_is_refused_before_anything_is_sent(onurix_client, sandbox):
    with pytest.raises(OnurixInvalidRequest, match="nothing was sent"):
        onurix_client.send_call(phones=["573001234567"], voice="Mariana", message="Hola \ud800")
    assert sandbox.state.calls() == []


@pytest.mark.django_db
def test_a_test_call_whose_text_cannot_be_sent_ends_failed_not_sending(
    onurix, auth_client, monkeypatch
):
    # A lone surrogate kept in an old contact's custom field (SQLite's JSON can hold one;
    # new ones are cleaned where they are saved). PostgreSQL cannot store it at all, so the
    # rendered text is where this test puts it.
    sandbox = onurix()
    monkeypatch.setattr(
        "campaigns.services.campaigns.render_message", lambda *args, **kwargs: "Hola \ud800"
    )
    campaign = make_campaign(message="Hola {nombre}")
    response = auth_client.post(
        reverse("campaign_test_call", args=[campaign.pk]), {"phone": "3001234567"}, follow=True
    )
    assert response.status_code == 200
    assert "did not go out" in response.text
    test_call = TestCall.objects.get()
    assert test_call.state == State.FAILED
    assert sandbox.state.calls() == []


@pytest.mark.django_db(transaction=True)
def test_the_admin_never_deletes_a_launched_campaign(onurix, client, staff_user):
    onurix()
    campaign = _campaign(2)
    _launch(campaign)
    client.force_login(staff_user)
    delete = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = client.get(reverse("admin:campaigns_campaign_changelist"))
    assert "delete_selected" not in changelist.text
    assert Campaign.objects.filter(pk=campaign.pk).exists()
