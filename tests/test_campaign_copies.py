"""Copies of campaigns ("Duplicar") and templates ("Guardar como plantilla")."""

from datetime import time

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import CallResult, Campaign
from tests.factories import make_audio_code, make_campaign, make_contact, make_group, make_user

TYPED = "300 555 1234\n+57 310 555 9876"


@pytest.fixture
def finished(db):
    """Last week's reminder: launched, finished, with results and credits."""
    group = make_group(name="Pacientes Chapinero")
    make_contact(phone="573001112233", first_name="Ana").groups.add(group)
    campaign = make_campaign(
        name="Recordatorio semanal",
        message="Hola {nombre}, le recordamos su cita.",
        voice="Lucia",
        retries=3,
        leave_voicemail=False,
        extra_phones=TYPED,
        calling_window_start=time(8, 0),
        calling_window_end=time(12, 0),
        credit_cap=500,
        state=Campaign.State.FINISHED,
        launched_by=make_user(),
        estimated_credits=3,
    )
    campaign.groups.add(group)
    CallResult.objects.create(campaign=campaign, phone="573001112233", state="answered", credits=1)
    return campaign


def _duplicate(client, campaign):
    return client.post(reverse("campaign_duplicate", args=[campaign.pk]))


def test_duplicar_makes_a_draft_with_the_same_content_groups_and_typed_phones(
    auth_client, finished, user
):
    response = _duplicate(auth_client, finished)

    copy = Campaign.objects.exclude(pk=finished.pk).get()
    assert response.status_code == 302 and response.url == copy.get_absolute_url()
    assert copy.name == "Recordatorio semanal (copia)"
    assert copy.state == Campaign.State.DRAFT and copy.can_launch
    assert (copy.voice, copy.message, copy.retries, copy.leave_voicemail) == (
        "Lucia",
        "Hola {nombre}, le recordamos su cita.",
        3,
        False,
    )
    assert copy.extra_phones == TYPED
    assert (copy.calling_window_start, copy.calling_window_end) == (time(8, 0), time(12, 0))
    assert copy.credit_cap == 500
    assert list(copy.groups.values_list("name", flat=True)) == ["Pacientes Chapinero"]
    # Its life starts afresh: no results, nobody launched it, created by who copied it.
    assert not copy.results.exists()
    assert copy.launched_by is None and copy.estimated_credits is None
    assert copy.created_by == user and not copy.is_template
    page = auth_client.get(response.url).content.decode()
    assert "Copia de Recordatorio semanal creada como borrador" in page
    assert 'data-testid="preview-phones">3<' in page  # Ana and the two typed phones


def test_copies_of_copies_get_numbered_names(auth_client, finished):
    _duplicate(auth_client, finished)
    _duplicate(auth_client, finished)
    first = Campaign.objects.get(name="Recordatorio semanal (copia)")
    _duplicate(auth_client, first)
    names = set(Campaign.objects.values_list("name", flat=True))
    assert names == {
        "Recordatorio semanal",
        "Recordatorio semanal (copia)",
        "Recordatorio semanal (copia 2)",
        "Recordatorio semanal (copia 3)",
    }


def test_a_long_name_keeps_its_copy_suffix_within_the_field(auth_client):
    campaign = make_campaign(name="R" * 200, extra_phones="3005551234")
    _duplicate(auth_client, campaign)
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert len(copy.name) == 200 and copy.name.endswith(" (copia)")


def test_an_audio_campaign_is_copied_with_its_audio(auth_client):
    audio = make_audio_code(name="Cita")
    campaign = make_campaign(audio_code=audio, extra_phones="3005551234")
    _duplicate(auth_client, campaign)
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert copy.audio_code == audio and copy.voice == "" and copy.message == ""


def test_the_campaign_page_offers_duplicar_to_editors_not_to_read_only(
    client, finished, editor_user, read_only_user
):
    client.force_login(read_only_user)
    assert "Duplicar" not in client.get(finished.get_absolute_url()).content.decode()
    assert _duplicate(client, finished).status_code == 403
    client.force_login(editor_user)
    assert "Duplicar" in client.get(finished.get_absolute_url()).content.decode()
    assert _duplicate(client, finished).status_code == 302
    assert Campaign.objects.count() == 2


def test_duplicar_only_answers_post(auth_client, finished):
    response = auth_client.get(reverse("campaign_duplicate", args=[finished.pk]))
    assert response.status_code == 405
    assert Campaign.objects.count() == 1


# -- templates ---------------------------------------------------------------------------


@pytest.fixture
def draft(db):
    group = make_group(name="Sede Norte")
    campaign = make_campaign(name="Aviso de corte", extra_phones=TYPED, credit_cap=40)
    campaign.groups.add(group)
    return campaign


def test_a_draft_saved_as_template_stays_a_draft_and_the_template_is_kept_apart(auth_client, draft):
    response = auth_client.post(reverse("campaign_save_as_template", args=[draft.pk]))

    assert response.status_code == 302 and response.url == draft.get_absolute_url()
    template = Campaign.objects.get(is_template=True)
    assert template.name == "Aviso de corte"
    assert template.extra_phones == TYPED and template.credit_cap == 40
    assert list(template.groups.values_list("name", flat=True)) == ["Sede Norte"]
    draft.refresh_from_db()
    assert not draft.is_template and draft.can_launch
    # Not a campaign of the list or the dashboard; its own page says what it is.
    listing = auth_client.get(reverse("campaign_list")).content.decode()
    assert template.get_absolute_url() + '"' not in listing
    page = auth_client.get(template.get_absolute_url()).content.decode()
    assert 'data-testid="template-note"' in page
    assert "Guardar como plantilla" not in page


def test_a_second_template_of_the_same_name_is_numbered(auth_client, draft):
    auth_client.post(reverse("campaign_save_as_template", args=[draft.pk]))
    auth_client.post(reverse("campaign_save_as_template", args=[draft.pk]))
    names = sorted(Campaign.objects.filter(is_template=True).values_list("name", flat=True))
    assert names == ["Aviso de corte", "Aviso de corte (2)"]


def test_a_launched_campaign_is_not_saved_as_a_template(auth_client, finished):
    response = auth_client.post(reverse("campaign_save_as_template", args=[finished.pk]))
    assert response.status_code == 302
    assert not Campaign.objects.filter(is_template=True).exists()


def test_a_new_campaign_starts_from_a_template(auth_client, draft, onurix):
    onurix()
    template = services.campaign_save_as_template(campaign=draft, user=None)

    page = auth_client.get(reverse("campaign_create")).content.decode()
    assert 'data-testid="template-choice"' in page and "Aviso de corte" in page
    response = auth_client.get(reverse("campaign_create"), {"template": template.pk})
    form = response.context["form"]
    assert form["name"].value() == "Aviso de corte"
    assert form["phones"].value() == TYPED
    assert form["credit_cap"].value() == 40
    assert [int(pk) for pk in form["groups"].value()] == [draft.groups.get().pk]

    # Saved as it came, it is a new draft of its own; the template is untouched.
    data = {
        "name": "Aviso de corte, marzo",
        "voice": template.voice,
        "message": template.message,
        "retries": "1",
        "leave_voicemail": "on",
        "groups": [draft.groups.get().pk],
        "phones": TYPED,
        "credit_cap": "40",
        "purpose": "informational",
    }
    response = auth_client.post(reverse("campaign_create") + f"?template={template.pk}", data)
    assert response.status_code == 302
    created = Campaign.objects.get(name="Aviso de corte, marzo")
    assert not created.is_template and created.credit_cap == 40
    assert created.extra_phones == TYPED
    template.refresh_from_db()
    assert template.name == "Aviso de corte" and template.is_template


def test_a_template_that_is_not_one_gives_an_empty_form(auth_client, finished):
    for chosen in (str(finished.pk), "abc", "999999"):
        response = auth_client.get(reverse("campaign_create"), {"template": chosen})
        assert response.status_code == 200
        assert response.context["form"]["name"].value() in (None, "")


def test_a_template_is_never_launched(auth_client, draft, onurix):
    onurix()
    template = services.campaign_save_as_template(campaign=draft, user=None)
    assert not template.can_launch
    response = auth_client.post(reverse("campaign_launch", args=[template.pk]))
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.state == Campaign.State.DRAFT and not template.results.exists()
    assert (
        'data-testid="preview-phones"'
        not in auth_client.get(template.get_absolute_url()).content.decode()
    )


def test_duplicar_on_a_template_makes_an_ordinary_draft(auth_client, draft):
    template = services.campaign_save_as_template(campaign=draft, user=None)
    response = _duplicate(auth_client, template)
    copy = Campaign.objects.get(name="Aviso de corte (copia)")
    assert response.url == copy.get_absolute_url()
    assert not copy.is_template and copy.can_launch
