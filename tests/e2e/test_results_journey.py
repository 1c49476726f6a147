"""Andrés reviews a finished campaign in a real browser: filters the phones that failed and
the unknown ones, creates a follow-up campaign for them and downloads the results."""

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import CallResult, Campaign
from tests.factories import make_campaign, make_contact, make_result

pytestmark = pytest.mark.django_db(transaction=True)

State = CallResult.State


@pytest.fixture
def finished_campaign():
    now = timezone.now()
    campaign = make_campaign(
        name="Recordatorio de citas",
        state=Campaign.State.FINISHED,
        started_at=now - timedelta(hours=2),
        finished_at=now - timedelta(hours=1),
        balance_before=8010,
        balance_after=8000,
    )
    sent = {"campaign": campaign, "sent_at": now - timedelta(hours=2), "credits": 1}
    for n, name in enumerate(["Ana", "Luis", "José"]):
        contact = make_contact(phone=f"57300100000{n}", first_name=name)
        make_result(
            phone=contact.phone,
            contact=contact,
            state=State.ANSWERED,
            onurix_state="Entregado",
            **sent,
        )
    failed = make_contact(phone="573002000001", first_name="Marta")
    make_result(
        phone=failed.phone,
        contact=failed,
        state=State.FAILED,
        onurix_state="Rechazado",
        credits_refunded=1,
        **sent,
    )
    make_result(
        phone="573002000002",
        state=State.FAILED,
        error_code=1081,
        onurix_state="Error:1081 msg: Destino inaccesible",
        error_message="Destino inaccesible",
        **sent,
    )
    make_result(phone="573003000001", state=State.UNKNOWN, **sent)
    make_result(phone="573003000002", state=State.UNKNOWN, **sent)
    make_result(phone="573004000001", state=State.SENT, onurix_state="Enviado", **sent)
    return campaign


@pytest.fixture
def english_page(browser, live_server, user):
    """A signed-in browser page that asks for English."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    yield page
    context.close()


def test_filter_failed_and_unknown_follow_up_and_download(
    onurix_sandbox_settings, finished_campaign, english_page, live_server, tmp_path
):
    page = english_page
    campaign = finished_campaign
    page.goto(live_server.url + campaign.get_absolute_url())
    expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible()
    expect(page.get_by_test_id("count-answered")).to_have_text("3")
    expect(page.get_by_test_id("count-failed")).to_have_text("2")
    expect(page.get_by_test_id("count-unknown")).to_have_text("2")
    expect(page.get_by_test_id("credits-net")).to_have_text("7")
    expect(page.get_by_role("img", name="Phones called, by state")).to_be_visible()
    expect(page.get_by_test_id("results-count")).to_have_text("8 phones")

    # The ones that failed, and why.
    page.get_by_label("Filter by state").select_option(label="Failed")
    expect(page.get_by_test_id("results-count")).to_have_text("2 phones")
    table = page.locator(".results-table")
    expect(table).to_contain_text("Destino inaccesible")
    expect(table).to_contain_text("Rechazado")
    expect(table.get_by_role("link", name="Marta")).to_be_visible()

    # The unknown ones: call them again in a new campaign.
    page.get_by_label("Filter by state").select_option(label="Unknown")
    # Two failed and two unknown phones: wait for the rows, not only the count, to change.
    expect(table).to_contain_text("+57 300 300 0001")
    expect(table).not_to_contain_text("Destino inaccesible")
    expect(page.get_by_test_id("results-count")).to_have_text("2 phones")
    page.get_by_role("button", name="New campaign for these 2 phones").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Recordatorio de citas (follow-up)"
    )
    expect(page.get_by_role("status")).to_contain_text("Draft created from Recordatorio de citas")
    follow_up = Campaign.objects.get(parent=campaign)
    assert follow_up.state == Campaign.State.DRAFT
    assert follow_up.extra_phones.splitlines() == ["573003000001", "573003000002"]
    expect(page.get_by_test_id("preview-phones")).to_have_text("2")

    # Back to the results: download the failed ones for the report.
    page.goto(live_server.url + campaign.get_absolute_url() + "?state=failed")
    expect(page.get_by_test_id("results-count")).to_have_text("2 phones")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "results.csv"
    download.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["phone", "first_name", "last_name", "state"]
    assert sorted(row[0] for row in rows[1:]) == ["573002000001", "573002000002"]
