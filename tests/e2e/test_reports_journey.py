"""Friday, Andrés opens the reports in Spanish: when people answer, what an answered call
cost, sorts the campaigns by cost, and downloads the discrepancies file for Onurix."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign
from tests.factories import make_campaign, make_group, make_result

pytestmark = pytest.mark.django_db(transaction=True)

BOGOTA = ZoneInfo("America/Bogota")
VIOLATION = re.compile(r"Content Security Policy|Refused to", re.IGNORECASE)


@pytest.fixture
def week_of_calls():
    """Yesterday at 10:xx (Bogota): "Citas" 3 calls, 2 answered, 1 rejected and charged;
    "Promoción" 2 calls, 0 answered."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    ten = dt.datetime.combine(yesterday, dt.time(10, 5), tzinfo=BOGOTA)
    group = make_group(name="Pacientes Chapinero")
    citas = make_campaign(name="Citas", state=Campaign.State.FINISHED)
    citas.groups.add(group)
    promo = make_campaign(name="Promoción", state=Campaign.State.FINISHED)
    sent = {"sent_at": ten, "credits": Decimal(1), "dispatch_id": "d-1"}
    make_result(campaign=citas, phone="573001000001", state="answered", call_id="c1", **sent)
    make_result(campaign=citas, phone="573001000002", state="answered", call_id="c2", **sent)
    make_result(
        campaign=citas,
        phone="573001000003",
        state="failed",
        onurix_state="Rechazado",
        call_id="c3",
        **sent,
    )
    make_result(campaign=promo, phone="573001000004", state="failed", call_id="c4", **sent)
    make_result(campaign=promo, phone="573001000005", state="unknown", call_id="c5", **sent)
    return citas, promo


def test_the_reports_page_in_spanish_and_the_discrepancies_download(
    week_of_calls, signed_in_page, live_server, tmp_path
):
    page = signed_in_page
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))

    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Informes").click()
    expect(page.get_by_role("heading", name="Informes", level=1)).to_be_visible()
    # 5 calls, 2 answered: 40 %, 5 net credits over 2 answers.
    expect(page.get_by_test_id("report-calls")).to_have_text("5")
    expect(page.get_by_test_id("report-answer-rate")).to_have_text("40,0 %")
    expect(page.get_by_test_id("report-cost-per-answered")).to_have_text("2,50")
    # The chart's numbers are in the table: the 10:00 hour.
    hours = page.get_by_test_id("hours-table")
    expect(hours.get_by_role("row", name=re.compile("10:00-11:00"))).to_contain_text("40,0 %")
    expect(page.locator("#hours svg rect.bar")).to_have_count(1)

    # Sort the campaigns by answer rate, highest first.
    page.get_by_test_id("campaigns-table").get_by_role("link", name="Tasa de respuesta").click()
    expect(page).to_have_url(re.compile(r"sort=-answer_rate"))
    rows = page.get_by_test_id("campaigns-table").locator("tbody tr")
    expect(rows.first).to_contain_text("Citas")
    expect(rows.nth(1)).to_contain_text("Promoción")

    # The file for Onurix support.
    with page.expect_download() as download_info:
        page.get_by_test_id("reconciliation-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("informe-reconciliation-")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    header, *lines = text.splitlines()
    assert header.startswith("Diferencia;ID de la campaña;Campaña;Teléfono")
    assert {line.split(";")[3] for line in lines} == {"573001000003", "573001000005"}

    assert [message for message in messages if VIOLATION.search(message)] == []
