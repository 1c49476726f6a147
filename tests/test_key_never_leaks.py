"""The Onurix key never leaks (issue 8, promise 6): run every flow with a canary key,
logging at DEBUG, through successes, refusals, 520s, hangs, dropped and refused
connections; then look for the canary in every log record, page, stored row, `dumpdata`
output and email."""

import io
import logging
import socket

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from campaigns import services
from campaigns.models import Campaign, Contact, ContactGroup
from tests.factories import DB_TASKS, make_campaign, make_user
from tests.onurix_fixtures import CANARY_KEY

pytestmark = pytest.mark.django_db(transaction=True)


def _campaign(phones: int, prefix: str) -> Campaign:
    group = ContactGroup.objects.create(name=f"Grupo {prefix}")
    for n in range(phones):
        Contact.objects.create(phone=f"573{prefix}{n:05d}").groups.add(group)
    campaign = make_campaign(name=f"Campaña {prefix}")
    campaign.groups.add(group)
    return campaign


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1"


def test_the_canary_key_appears_nowhere(client, user, settings, make_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "campaigns", "onurix_sandbox", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    settings.TASKS = DB_TASKS
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.ONURIX_CLIENT_ID, settings.ONURIX_KEY = "1000", CANARY_KEY
    settings.ONURIX_TIMEOUT = 0.5
    settings.ONURIX_BATCH_SIZE = 5
    settings.ONURIX_NOT_REACHED_RETRIES = 0
    settings.ONURIX_CIRCUIT_BREAKER_THRESHOLD = 1000
    good = make_sandbox(key=CANARY_KEY, settle_seconds=0.1, hang_seconds=1.0)
    client.force_login(user)
    pages = []

    # A campaign through faults: 520s, hangs past the timeout, dropped connections.
    settings.ONURIX_BASE_URL = good.url
    faulty = _campaign(40, "10")
    pages.append(
        client.post(reverse("campaign_test_call", args=[faulty.pk]), {"phone": "3001112233"})
    )
    assert services.campaign_launch(campaign=faulty, user=user)
    good.state.configure(error_520_rate=0.3, hang_rate=0.2, drop_rate=0.2)
    with translation.override("en"):
        services.campaign_dispatch(campaign_id=faulty.pk)
        good.state.configure(error_520_rate=0.0, hang_rate=0.0, drop_rate=0.0)
        services.campaign_poll(campaign_id=faulty.pk)

    # Refused: a key the sandbox does not know (bad credentials: the campaign pauses).
    refused = _campaign(5, "20")
    assert services.campaign_launch(campaign=refused, user=user)
    settings.ONURIX_BASE_URL = make_sandbox(key="another-key").url
    services.campaign_dispatch(campaign_id=refused.pk)
    assert Campaign.objects.get(pk=refused.pk).pause_reason == "credentials"

    # Never reached: launched while Onurix answered, sent when its port is closed.
    unreachable = _campaign(5, "30")
    settings.ONURIX_BASE_URL = good.url
    assert services.campaign_launch(campaign=unreachable, user=user)
    settings.ONURIX_BASE_URL = _closed_port_url()
    services.campaign_dispatch(campaign_id=unreachable.pk)
    services.campaigns_sweep()

    # Every page that shows Onurix data, in both languages; the admin's audit records.
    staff = make_user(is_staff=True, is_superuser=True)
    for campaign in (faulty, refused, unreachable):
        for language in ("es", "en"):
            pages.append(client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language))
        pages.append(client.get(reverse("campaign_results_csv", args=[campaign.pk])))
    pages.append(client.get(reverse("onurix_status")))
    pages.append(client.get(reverse("dashboard")))
    client.force_login(staff)
    for model in ("onurixrequest", "callresult", "testcall", "campaign"):
        pages.append(client.get(reverse(f"admin:campaigns_{model}_changelist")))
    request = faulty.requests.order_by("pk").first()
    pages.append(client.get(reverse("admin:campaigns_onurixrequest_change", args=[request.pk])))

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)

    texts = [
        b"".join(page.streaming_content).decode() if page.streaming else page.text for page in pages
    ]
    assert all(page.status_code < 500 for page in pages)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert any("urllib3" in record.name for record in caplog.records)
    assert CANARY_KEY not in caplog.text
    assert not [r for r in caplog.records if CANARY_KEY in r.getMessage()]
    assert not [text for text in texts if CANARY_KEY in text]
    assert CANARY_KEY not in dump.getvalue()
    assert "sandbox-key" not in dump.getvalue()
    assert all(CANARY_KEY not in message.body for message in mail.outbox)
