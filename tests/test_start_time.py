"""When the calls really start: one answer in the preview, the launch dialog and the
campaign page, for start times the legal calling hours do not allow (frozen clock).

Ley 2300: Monday to Friday 07:00-19:00, Saturday 08:00-15:00, never Sundays or holidays
(8 December 2026 is a Tuesday and a holiday)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from tests.factories import make_campaign, make_contact, make_group

pytestmark = pytest.mark.django_db

BOGOTA = ZoneInfo("America/Bogota")
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=BOGOTA)  # a Friday morning

CASES = [
    # chosen start, when calls really start, what the pages say (Spanish)
    (datetime(2026, 12, 4, 20, 30), datetime(2026, 12, 5, 8, 0), "mañana a las 08:00"),
    (datetime(2026, 12, 5, 16, 0), datetime(2026, 12, 7, 7, 0), "el lunes 07/12/2026 a las 07:00"),
    (datetime(2026, 12, 6, 10, 0), datetime(2026, 12, 7, 7, 0), "el lunes 07/12/2026 a las 07:00"),
    (
        datetime(2026, 12, 8, 10, 0),
        datetime(2026, 12, 9, 7, 0),
        "el miércoles 09/12/2026 a las 07:00",
    ),
]
IDS = ["friday-20:30", "saturday-16:00", "sunday", "holiday"]


@pytest.fixture
def frozen(settings, monkeypatch, make_sandbox):
    settings.CAMPAIGN_CALLING_HOURS = "ley2300"
    settings.ONURIX_BASE_URL = make_sandbox().url
    settings.ONURIX_CLIENT_ID, settings.ONURIX_KEY = "1000", "sandbox-key"
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def _campaign(chosen: datetime) -> Campaign:
    group = make_group()
    make_contact(first_name="Ana").groups.add(group)
    campaign = make_campaign(scheduled_at=chosen.replace(tzinfo=BOGOTA))
    campaign.groups.add(group)
    return campaign


@pytest.mark.parametrize(("chosen", "starts", "said"), CASES, ids=IDS)
def test_one_answer_for_when_calls_start(frozen, auth_client, chosen, starts, said):
    campaign = _campaign(chosen)
    assert services.campaign_starts_at(campaign=campaign) == starts.replace(tzinfo=BOGOTA)

    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert f"Las llamadas empiezan {said} (hora de Colombia)." in page.text
    assert "dentro del horario de llamadas" not in page.text
    # The launch dialog schedules, it does not ask to call now.
    assert "¿Programar 1 teléfono?" in page.text
    assert "¿Llamar ahora" not in page.text

    launched = auth_client.post(
        reverse("campaign_launch", args=[campaign.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="es-co"
    )
    assert f"Campaña lanzada. Las llamadas empiezan {said}" in launched.text
    assert f'data-testid="start-message">Las llamadas empiezan {said}' in launched.text


def test_a_start_time_inside_the_hours_is_said_as_chosen(frozen, auth_client):
    campaign = _campaign(datetime(2026, 12, 7, 9, 30))
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "The calls start on Monday 12/07/2026 at 09:30 (Colombian time)." in page.text
    assert "Call 1 phone now?" not in page.text


def test_no_start_time_within_the_hours_calls_now(frozen, auth_client):
    campaign = _campaign(datetime(2026, 12, 4, 9, 0))
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=None)
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "The calls start as soon as you launch." in page.text
    assert "Call 1 phone now?" in page.text


def test_saving_a_closed_start_time_warns_next_to_the_draft(frozen, auth_client):
    group = make_group()
    make_contact().groups.add(group)
    response = auth_client.post(
        reverse("campaign_create"),
        {
            "name": "Recordatorio",
            "voice": "Mariana",
            "message": "Hola",
            "retries": 1,
            "groups": [group.pk],
            "scheduled_at": "2026-12-06T10:00",
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="es-co",
    )
    assert "La hora de inicio que eligió está fuera del horario de llamadas." in response.text
    assert "Las llamadas empiezan el lunes 07/12/2026 a las 07:00" in response.text
