"""Campaign pages in the browser's terms: create, preview, test call, launch, control."""

import pytest
from django.urls import reverse

from campaigns.models import CallResult, Campaign, TestCall
from tests.factories import make_campaign, make_contact, make_group, make_result

pytestmark = pytest.mark.django_db

MESSAGE = "Hola {nombre}, le recordamos su cita de mañana"


@pytest.fixture
def onurix(settings, make_sandbox):
    """A sandbox with plenty of credits, and calling hours that are always open."""
    return _point_at(settings, make_sandbox(balance=8000))


def _point_at(settings, sandbox):
    settings.ONURIX_BASE_URL = sandbox.url
    settings.ONURIX_CLIENT_ID = "1000"
    settings.ONURIX_KEY = "sandbox-key"
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.ONURIX_CREDITS_PER_CALL = 1.0
    return sandbox


@pytest.fixture
def group():
    group = make_group(name="Pacientes Chapinero")
    for first_name in ["Ana", "Luis", "Eva"]:
        make_contact(first_name=first_name).groups.add(group)
    make_contact(first_name="Pedro", do_not_call=True).groups.add(group)
    return group


def _get(client, url):
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def _post(client, url, data=None, **extra):
    return client.post(url, data or {}, HTTP_ACCEPT_LANGUAGE="en", **extra)


def _texts(response):
    return [str(message) for message in response.context["messages"]]


def _draft(group, **fields):
    campaign = make_campaign(name="Citas", message=MESSAGE, **fields)
    campaign.groups.add(group)
    return campaign


def test_create_saves_a_draft_and_its_page_shows_the_preview(auth_client, onurix, group):
    response = _post(
        auth_client,
        reverse("campaign_create"),
        {
            "name": "Recordatorio de citas",
            "voice": "Mariana",
            "message": MESSAGE,
            "retries": "2",
            "leave_voicemail": "on",
            "groups": [group.pk],
            "phones": "42\n+57 310 555 1234",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    assert campaign.state == Campaign.State.DRAFT
    assert (campaign.voice, campaign.retries, campaign.leave_voicemail) == ("Mariana", 2, True)
    assert list(campaign.groups.all()) == [group]
    assert campaign.extra_phones == "42\n+57 310 555 1234"

    page = _get(auth_client, campaign.get_absolute_url())
    preview = page.context["preview"]
    # Ana, Luis, Eva and the typed phone; Pedro (do-not-call) and "42" (invalid) left out.
    assert preview.phones == 4
    assert sorted(item.reason for item in preview.excluded) == ["do_not_call", "invalid"]
    html = page.text
    assert 'data-testid="preview-phones">4<' in html
    assert 'data-testid="preview-balance">8,000<' in html
    assert "Marked do-not-call" in html and "Invalid phone" in html
    assert "Hola Ana, le recordamos su cita de mañana" in html
    assert "Launch: call 4 phones (about 4 credits)" in html


def test_the_new_campaign_page_has_every_field_and_the_meter(auth_client, group):
    page = _get(auth_client, reverse("campaign_create"))
    assert page.status_code == 200
    for name in ["name", "voice", "message", "audio_code", "retries", "groups", "phones"]:
        assert f'name="{name}"' in page.text
    assert "0 of 1000 characters · about 0 s spoken" in page.text
    assert "js/campaign_form.js" in page.text


def test_errors_are_shown_next_to_the_field(auth_client, group):
    response = _post(
        auth_client,
        reverse("campaign_create"),
        {"name": "Citas", "voice": "Mariana", "message": "", "retries": "1", "groups": [group.pk]},
    )
    assert response.status_code == 200
    assert 'id="id_message_error"' in response.text
    assert "Write the message the voice will read." in response.text
    assert not Campaign.objects.exists()


def test_edit_a_draft(auth_client, group):
    campaign = _draft(group)
    url = reverse("campaign_update", args=[campaign.pk])
    page = _get(auth_client, url)
    assert page.status_code == 200 and MESSAGE in page.text
    response = _post(
        auth_client,
        url,
        {
            "name": "Citas de diciembre",
            "voice": "Enrique",
            "message": "Hola {nombre}",
            "retries": "3",
            "groups": [group.pk],
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.voice, campaign.retries) == ("Citas de diciembre", "Enrique", 3)
    assert campaign.leave_voicemail is False


def test_editing_a_launched_campaign_is_refused(auth_client, group):
    campaign = _draft(group, state=Campaign.State.SENDING)
    url = reverse("campaign_update", args=[campaign.pk])
    data = {"name": "Otro", "voice": "Mia", "message": "Hola", "retries": 1, "groups": [group.pk]}
    response = _post(auth_client, url, data)
    assert response.status_code == 200
    assert "launched meanwhile: your changes were not saved" in response.text
    campaign.refresh_from_db()
    assert campaign.name == "Citas"
    page = _get(auth_client, url)
    assert page.status_code == 302
    follow = _get(auth_client, campaign.get_absolute_url())
    assert "Only a draft can be edited" in follow.text


# The dispatch's worker threads write with their own connections: they need the test's
# data committed, not held in the test's open transaction.
@pytest.mark.django_db(transaction=True)
def test_launch_calls_every_phone_once_and_a_second_launch_says_so(
    auth_client, onurix, group, django_capture_on_commit_callbacks
):
    campaign = _draft(group)
    url = reverse("campaign_launch", args=[campaign.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(auth_client, url, follow=True)
    assert "Campaign launched" in " ".join(_texts(response))
    campaign.refresh_from_db()
    assert campaign.state != Campaign.State.DRAFT
    results = CallResult.objects.filter(campaign=campaign)
    assert results.count() == 4
    assert results.filter(state=CallResult.State.EXCLUDED).count() == 1
    assert sorted(call.phone for call in onurix.state.calls()) == sorted(
        results.exclude(state=CallResult.State.EXCLUDED).values_list("phone", flat=True)
    )

    with django_capture_on_commit_callbacks(execute=True):
        again = _post(auth_client, url, follow=True)
    assert "This campaign was already launched." in _texts(again)
    assert CallResult.objects.filter(campaign=campaign).count() == 4
    assert len(onurix.state.calls()) == 3
    assert not results.filter(state__in=["queued", "sending", "unknown"]).exists()
    # Launched: the page shows progress instead of the preview.
    assert "preview" not in again.context and again.context["progress"].total == 3


def test_launch_is_refused_when_the_balance_cannot_cover_it(
    auth_client, settings, make_sandbox, group
):
    _point_at(settings, make_sandbox(balance=1))
    campaign = _draft(group)
    page = _get(auth_client, campaign.get_absolute_url())
    assert "Your balance cannot cover this campaign." in page.text
    response = _post(auth_client, reverse("campaign_launch", args=[campaign.pk]), follow=True)
    assert any("cannot cover the estimate" in text for text in _texts(response))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT
    assert not CallResult.objects.filter(campaign=campaign).exists()


def test_the_preview_says_what_to_fix_when_onurix_cannot_be_reached(auth_client, settings, group):
    settings.ONURIX_BASE_URL = "http://127.0.0.1:9/api/v1"
    settings.ONURIX_TIMEOUT = 1
    campaign = _draft(group)
    page = _get(auth_client, campaign.get_absolute_url())
    assert "The balance could not be checked" in page.text
    assert "cannot be reached" in page.text
    assert 'class="button button-primary button-launch"' in page.text and " disabled>" in page.text


def test_test_call_is_recorded_apart_and_reaches_onurix(auth_client, onurix, group):
    campaign = _draft(group)
    response = _post(
        auth_client,
        reverse("campaign_test_call", args=[campaign.pk]),
        {"phone": "(+57) 300 999 8877"},
    )
    assert response.status_code == 302
    assert response["Location"] == campaign.get_absolute_url() + "#test-calls"
    test_call = TestCall.objects.get(campaign=campaign)
    assert test_call.phone == "573009998877"
    assert [call.phone for call in onurix.state.calls()] == ["573009998877"]
    assert not CallResult.objects.filter(campaign=campaign).exists()
    page = _get(auth_client, campaign.get_absolute_url())
    assert "Test call sent to 573009998877" in " ".join(_texts(page))
    assert 'data-testid="test-calls"' in page.text and test_call.onurix_state in page.text


def test_a_test_call_to_an_invalid_phone_says_why_next_to_the_field(auth_client, onurix, group):
    campaign = _draft(group)
    response = _post(
        auth_client, reverse("campaign_test_call", args=[campaign.pk]), {"phone": "12"}
    )
    assert response.status_code == 302  # redirect after the POST: a reload never posts
    page = _get(auth_client, response["Location"])
    assert 'id="id_phone_error"' in page.text and "too short" in page.text
    assert 'value="12"' in page.text
    again = _get(auth_client, campaign.get_absolute_url())
    assert 'id="id_phone_error"' not in again.text  # said once
    assert not TestCall.objects.exists() and onurix.state.calls() == []


def test_pause_resume_and_cancel(auth_client, group, django_capture_on_commit_callbacks):
    campaign = _draft(group, state=Campaign.State.SCHEDULED)
    for _ in range(3):
        make_result(campaign=campaign)
    make_result(campaign=campaign, state=CallResult.State.ANSWERED)

    response = _post(auth_client, reverse("campaign_pause", args=[campaign.pk]), follow=True)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED
    assert "Campaign paused." in " ".join(_texts(response))
    assert _get(auth_client, reverse("campaign_pause", args=[campaign.pk])).status_code == 405

    response = _post(auth_client, reverse("campaign_pause", args=[campaign.pk]), follow=True)
    assert "nothing to pause" in " ".join(_texts(response))

    with django_capture_on_commit_callbacks(execute=False):
        response = _post(auth_client, reverse("campaign_resume", args=[campaign.pk]), follow=True)
    campaign.refresh_from_db()
    assert campaign.state in {Campaign.State.SENDING, Campaign.State.SCHEDULED}
    assert "Campaign resumed." in _texts(response)

    response = _post(auth_client, reverse("campaign_cancel", args=[campaign.pk]), follow=True)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.CANCELLED
    assert "3 phones not yet called were cancelled" in " ".join(_texts(response))
    assert CallResult.objects.filter(state=CallResult.State.CANCELLED).count() == 3
    assert CallResult.objects.filter(state=CallResult.State.ANSWERED).count() == 1

    response = _post(auth_client, reverse("campaign_cancel", args=[campaign.pk]), follow=True)
    assert "cannot be cancelled any more" in " ".join(_texts(response))


def test_the_cancel_button_asks_first_and_says_what_it_does(auth_client, group):
    campaign = _draft(group, state=Campaign.State.SENDING)
    make_result(campaign=campaign)
    make_result(campaign=campaign)
    page = _get(auth_client, campaign.get_absolute_url())
    assert 'data-confirm="Cancel this campaign? The 2 phones not yet called' in page.text


def test_resend_unknown_asks_first_with_the_count_and_cost(
    auth_client, group, django_capture_on_commit_callbacks
):
    campaign = _draft(group, state=Campaign.State.FINISHED)
    for _ in range(2):
        make_result(campaign=campaign, state=CallResult.State.UNKNOWN)
    make_result(campaign=campaign, state=CallResult.State.ANSWERED)
    url = reverse("campaign_resend_unknown", args=[campaign.pk])

    detail = _get(auth_client, campaign.get_absolute_url())
    assert "Re-send 2 phones with unknown outcome" in detail.text
    page = _get(auth_client, url)
    assert page.status_code == 200
    assert 'data-testid="unknown-count">2<' in page.text
    assert "Send 2 phones again" in page.text
    assert CallResult.objects.filter(state=CallResult.State.UNKNOWN).count() == 2

    with django_capture_on_commit_callbacks(execute=False):
        response = _post(auth_client, url, {"expected": 2}, follow=True)
    assert "2 phones with an unknown outcome were queued again." in _texts(response)
    assert CallResult.objects.filter(state=CallResult.State.QUEUED).count() == 2


def test_progress_polls_while_sending_and_stops_when_finished(auth_client, group):
    campaign = _draft(group, state=Campaign.State.SENDING)
    make_result(campaign=campaign, state=CallResult.State.ANSWERED)
    make_result(campaign=campaign)
    make_result(campaign=campaign, state=CallResult.State.EXCLUDED, exclusion_reason="invalid")
    url = reverse("campaign_progress", args=[campaign.pk])

    partial = _get(auth_client, url)
    assert 'hx-trigger="every 2s"' in partial.text
    assert 'data-testid="progress-percent">50%<' in partial.text
    assert 'data-testid="count-excluded">1<' in partial.text
    assert 'href="' + campaign.get_absolute_url() + '"' in partial.text  # refresh without JS

    htmx = auth_client.get(url, HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true")
    assert 'id="campaign-state" hx-swap-oob="true"' in htmx.text

    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.FINISHED)
    CallResult.objects.filter(state=CallResult.State.QUEUED).update(state="failed")
    partial = _get(auth_client, url)
    assert "hx-trigger" not in partial.text
    assert 'data-testid="progress-percent">100%<' in partial.text


def test_paused_campaign_shows_why_and_stops_polling(auth_client, group):
    campaign = _draft(
        group, state=Campaign.State.PAUSED, state_message="Onurix rejected the credentials."
    )
    page = _get(auth_client, campaign.get_absolute_url())
    assert "Onurix rejected the credentials." in page.text
    assert "hx-trigger" not in page.text.split('id="campaign-progress"')[1].split(">")[0]
    assert reverse("campaign_resume", args=[campaign.pk]) in page.text


def test_the_list_shows_state_progress_and_credits(
    auth_client, group, django_assert_max_num_queries
):
    sending = _draft(group, state=Campaign.State.SENDING)
    make_result(campaign=sending, state=CallResult.State.ANSWERED, credits=2)
    make_result(campaign=sending)
    for index in range(10):
        make_campaign(name=f"Borrador {index}")
    with django_assert_max_num_queries(12):
        page = _get(auth_client, reverse("campaign_list"))
    assert "New campaign" in page.text and reverse("campaign_create") in page.text
    assert 'value="50"' in page.text  # the progress bar of the sending campaign
    assert "Sending" in page.text and "not launched" in page.text
    found = _get(auth_client, reverse("campaign_list") + "?q=Borrador 3")
    assert "Borrador 3" in found.text and "Citas" not in found.text


def test_campaign_list_query_count_does_not_grow_with_the_campaigns(auth_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_launched(count):
        for _ in range(count):
            campaign = make_campaign(state=Campaign.State.SENDING)
            make_result(campaign=campaign, state="sent", credits=1)
            make_result(campaign=campaign, state="queued")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = auth_client.get(reverse("campaign_list"), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        return len(captured), response

    add_launched(2)
    before, _response = queries()
    add_launched(10)
    after, response = queries()
    assert after == before
    assert "50%" in response.text  # each launched campaign shows its own progress


def test_the_preview_speaks_plainly_names_the_phones_left_out_and_counts_in_words(
    auth_client, onurix, group
):
    campaign = _draft(group)
    page = _get(auth_client, campaign.get_absolute_url())
    assert "requests to Onurix" not in page.text  # jargon for a coordinator
    assert "Pedro" in page.text  # the do-not-call contact, by name, among those left out
    spanish = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert "Lanzar: llamar a 3 teléfonos (alrededor de 3 créditos)" in spanish.text
    one = make_campaign(name="Uno", message=MESSAGE, extra_phones="3001234567")
    spanish = auth_client.get(one.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert "Lanzar: llamar a 1 teléfono (alrededor de 1 crédito)" in spanish.text


def test_a_name_that_looks_like_a_formula_is_shown_first_among_the_samples(auth_client, onurix):
    group = make_group(name="Importados")
    for first_name in ["Ana", "Luis", "Eva", "Rosa"]:
        make_contact(first_name=first_name).groups.add(group)
    make_contact(first_name='=HYPERLINK("http://x","clic")').groups.add(group)
    campaign = _draft(group)
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert "1 contacto tiene un nombre o campo que parece una fórmula" in page.text
    assert 'data-testid="suspicious-sample"' in page.text
    assert "Hola =HYPERLINK(" in page.text.replace("&quot;", '"')
