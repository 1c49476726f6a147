"""Laura's Monday, in a real browser: duplicate last week's campaign, set a credit limit,
check the preview, launch; the worker stops at the limit, she raises it, the rest go out."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, CampaignTotals
from tests.factories import DB_TASKS, make_audience, make_campaign
from tests.workers import running_workers, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(onurix_sandbox_settings, settings):
    settings.TASKS = DB_TASKS
    with running_workers(worker_environment(onurix_url=onurix_sandbox_settings.url)) as procs:
        yield procs[0]


@pytest.fixture
def last_week():
    campaign = make_campaign(
        name="Recordatorio semanal",
        message="Hola {nombre}, le recordamos su cita de mañana.",
        extra_phones="300 555 1234",
        state=Campaign.State.FINISHED,
    )
    campaign.groups.add(make_audience(29, name="Pacientes Chapinero"))
    return campaign


def test_duplicate_a_finished_campaign_set_a_cap_preview_and_launch(
    onurix_sandbox_settings, worker, last_week, signed_in_page, live_server
):
    sandbox = onurix_sandbox_settings
    page = signed_in_page
    page.goto(live_server.url + last_week.get_absolute_url())

    page.get_by_role("button", name="Duplicar").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recordatorio semanal (copia)")
    expect(page.get_by_role("status")).to_contain_text("Copia de Recordatorio semanal")
    expect(page.get_by_test_id("preview-phones")).to_have_text("30")

    page.get_by_role("link", name="Editar").click()
    expect(page.get_by_label("Mensaje", exact=True)).to_have_value(
        "Hola {nombre}, le recordamos su cita de mañana."
    )
    expect(page.get_by_label("Teléfonos adicionales")).to_have_value("300 555 1234")
    expect(page.get_by_label("Pacientes Chapinero (29 contactos)")).to_be_checked()
    page.get_by_label("Límite de créditos").fill("10")
    page.get_by_role("button", name="Guardar borrador").click()

    cap = page.get_by_test_id("preview-credit-cap")
    expect(cap).to_contain_text("Límite de créditos: 10 créditos, menos que la estimación.")
    expect(cap).to_contain_text("Se llamará a unos 10 de los 30 teléfonos")
    expect(page.get_by_test_id("credit-cap")).to_have_text(re.compile(r"^10 créditos"))
    page.screenshot(path="test-artifacts/copy-cap-preview.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile(r"^Lanzar: llamar a 30 teléfonos")).click()

    # The worker calls 10 phones and pauses; the page says why and offers the limit.
    expect(page.locator("#campaign-progress")).to_contain_text(
        "Límite de créditos alcanzado", timeout=20_000
    )
    expect(page.get_by_test_id("credit-cap-form")).to_be_visible()
    copy = Campaign.objects.get(name="Recordatorio semanal (copia)")
    assert CampaignTotals.objects.get(campaign=copy).net_credits == 10
    assert sandbox.state.call_count == 10
    page.screenshot(path="test-artifacts/copy-cap-paused.png", full_page=True)

    page.get_by_label("Nuevo límite de créditos").fill("30")
    page.get_by_role("button", name="Subir el límite y reanudar").click()
    expect(page.get_by_role("status")).to_contain_text("la campaña continúa")
    expect(page.get_by_test_id("progress-percent")).to_have_text("100%", timeout=20_000)
    assert worker.poll() is None

    called = [call.phone for call in sandbox.state.calls()]
    assert len(called) == 30 and len(set(called)) == 30
    copy.refresh_from_db()
    assert copy.credit_cap == 30
    last_week.refresh_from_db()
    assert last_week.state == Campaign.State.FINISHED and not last_week.results.exists()
