"""Dead numbers: phones that failed again and again and never answered are flagged; the
preview proposes leaving them out with the credits it saves; the choice is recorded and
the launch follows it; the contacts list filters them."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import CallResult, Campaign, PhoneHistory
from campaigns.selectors_reports import dead_number_phones
from tests.factories import make_campaign, make_contact, make_group, make_result

DEAD = "573001110001"  # failed in 3 campaigns, never answered
REVIVED = "573001110002"  # failed in 3, answered once
TWICE = "573001110003"  # failed in 2
FRESH = "573001110004"  # never called


def _history(outcomes: dict[str, list[str]], credits="2"):
    """One finished campaign per position in the lists: phone -> its state there."""
    rounds = max(len(states) for states in outcomes.values())
    for index in range(rounds):
        campaign = make_campaign(name=f"Semana {index}", state=Campaign.State.FINISHED)
        for phone, states in outcomes.items():
            if index < len(states):
                make_result(
                    campaign=campaign,
                    phone=phone,
                    state=states[index],
                    credits=Decimal(credits),
                    sent_at=timezone.now(),
                )


@pytest.fixture
def history(db):
    _history(
        {
            DEAD: ["failed", "failed", "unknown", "failed"],
            REVIVED: ["failed", "failed", "failed", "answered"],
            TWICE: ["failed", "failed"],
        }
    )


def test_a_phone_failed_in_three_campaigns_and_never_answered_is_dead(history):
    assert dead_number_phones() == {DEAD}
    assert PhoneHistory.objects.get(phone=DEAD).failed == 3


def test_the_threshold_is_a_setting(history, settings):
    settings.CAMPAIGN_DEAD_NUMBER_FAILURES = 2
    assert dead_number_phones() == {DEAD, TWICE}


def test_an_answer_later_clears_the_flag(history):
    result = CallResult.objects.filter(phone=DEAD, state="unknown").get()
    result.state = "answered"
    result.save()
    assert dead_number_phones() == set()
    CallResult.objects.filter(pk=result.pk).delete()
    assert dead_number_phones() == {DEAD}


@pytest.fixture
def draft(history, settings):
    # The phone that answered last week stays in the audience.
    settings.CAMPAIGN_CONTACT_FREQUENCY_DAYS = 0
    group = make_group(name="Pacientes Chapinero")
    for phone in (DEAD, REVIVED, TWICE, FRESH):
        make_contact(phone=phone).groups.add(group)
    campaign = make_campaign(name="Citas de diciembre")
    campaign.groups.add(group)
    return campaign


def test_the_preview_proposes_leaving_dead_numbers_out_with_the_credits_saved(
    client, user, onurix, draft
):
    onurix(balance=8000)
    client.force_login(user)
    page = client.get(draft.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    preview = page.context["preview"]
    # The history charged 2 credits a call: leaving out one phone saves 2.
    assert (preview.phones, preview.dead_numbers, preview.dead_numbers_credits) == (
        4,
        1,
        Decimal(2),
    )
    text = page.content.decode()
    assert "1 teléfono falló o fue rechazado en al menos 3 campañas y nunca contestó" in text
    assert "ahorra unos 2 créditos" in text
    assert "Dejarlos fuera" in text and "Llamarlos de todos modos" in text
    draft.refresh_from_db()
    assert draft.exclude_dead_numbers is None  # nothing decided yet


def test_accepting_is_recorded_and_the_launch_leaves_them_out(client, user, onurix, draft):
    sandbox = onurix(balance=8000)
    client.force_login(user)
    response = client.post(reverse("campaign_dead_numbers", args=[draft.pk]), {"exclude": "1"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.exclude_dead_numbers is True

    page = client.get(draft.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    preview = page.context["preview"]
    assert preview.phones == 3
    assert [item.phone for item in preview.excluded] == [DEAD]
    assert "1 número muerto queda fuera: ahorra unos 2 créditos." in page.content.decode()

    assert services.campaign_launch(campaign=draft, user=user)
    excluded = CallResult.objects.get(campaign=draft, phone=DEAD)
    assert (excluded.state, excluded.exclusion_reason) == ("excluded", "dead")
    services.campaign_dispatch(campaign_id=draft.pk)
    assert DEAD not in {call.phone for call in sandbox.state.calls()}


def test_declining_is_recorded_and_the_dead_number_is_called(client, user, onurix, draft):
    onurix(balance=8000)
    client.force_login(user)
    client.post(reverse("campaign_dead_numbers", args=[draft.pk]), {"exclude": "0"})
    draft.refresh_from_db()
    assert draft.exclude_dead_numbers is False
    page = client.get(draft.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert page.context["preview"].phones == 4
    assert "Usted eligió llamarlos de todos modos." in page.content.decode()
    assert services.campaign_launch(campaign=draft, user=user)
    assert CallResult.objects.get(campaign=draft, phone=DEAD).state != "excluded"


def test_a_launched_campaign_keeps_its_choice(client, user, draft):
    Campaign.objects.filter(pk=draft.pk).update(state=Campaign.State.SENDING)
    client.force_login(user)
    client.post(reverse("campaign_dead_numbers", args=[draft.pk]), {"exclude": "1"})
    draft.refresh_from_db()
    assert draft.exclude_dead_numbers is None


def test_read_only_people_cannot_choose(client, read_only_user, draft):
    client.force_login(read_only_user)
    response = client.post(reverse("campaign_dead_numbers", args=[draft.pk]), {"exclude": "1"})
    assert response.status_code == 403


def test_the_contacts_list_filters_dead_numbers(client, read_only_user, draft):
    client.force_login(read_only_user)
    page = client.get(reverse("contact_list"), {"dead": "yes"}, HTTP_ACCEPT_LANGUAGE="es-co")
    assert [contact.phone for contact in page.context["page"]] == [DEAD]
    assert "Solo números muertos" in page.content.decode()
    everyone = client.get(reverse("contact_list"))
    assert len(everyone.context["page"]) == 4
