"""Laura's Monday, in a real browser: duplicate last week's campaign, add a follow-up wave
for those who don't answer and a credit limit, check the preview, launch; the campaign's
page then shows the wave waiting for its day, and she can cancel it on its own."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, FollowUpWave
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
        state=Campaign.State.FINISHED,
    )
    campaign.groups.add(make_audience(30, name="Pacientes Chapinero"))
    return campaign


def test_duplicate_add_a_wave_and_a_cap_preview_launch_and_cancel_the_wave(
    onurix_sandbox_settings, worker, last_week, signed_in_page, live_server
):
    sandbox = onurix_sandbox_settings
    page = signed_in_page
    page.goto(live_server.url + last_week.get_absolute_url())
    page.get_by_role("button", name="Duplicar").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recordatorio semanal (copia)")

    page.get_by_role("link", name="Editar").click()
    wave = page.get_by_test_id("wave-2")
    expect(wave.get_by_role("group").first).to_contain_text("Volver a llamar")
    wave.get_by_label("Sin respuesta").check()
    wave.get_by_label("Rechazada").check()
    wave.get_by_label("Días de llamada después de la ola anterior").fill("1")
    wave.get_by_label("A las (hora de Colombia)").fill("09:00")
    page.get_by_label("Límite de créditos").fill("100")
    page.get_by_role("button", name="Guardar borrador").click()

    waves = page.get_by_test_id("preview-waves")
    expect(waves).to_contain_text(
        "Ola 2, 1 día de llamada después a las 09:00, para los teléfonos cuyo resultado fue "
        "sin respuesta, rechazada: de 0 a unos 30 créditos."
    )
    expect(page.get_by_test_id("launch-waves")).to_contain_text(
        "Luego 1 ola de seguimiento volverá a llamar a quienes cumplan"
    )
    page.screenshot(path="test-artifacts/waves-preview.png", full_page=True)

    asked = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name=re.compile(r"^Lanzar: llamar a 30 teléfonos")).click()
    expect(page.get_by_test_id("progress-percent")).to_have_text("100%", timeout=20_000)
    assert "de 0 a unos 30 créditos más" in asked[0]

    page.reload()
    row = page.get_by_test_id("wave-row-2")
    expect(row).to_contain_text("Ola 2 de 2")
    expect(row).to_contain_text("Esperando su hora")
    expect(row).to_contain_text("Empieza hacia el")
    page.screenshot(path="test-artifacts/waves-waiting.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Cancelar la ola 2").click()
    expect(page.get_by_role("status")).to_contain_text("Ola 2 cancelada")
    expect(page.get_by_test_id("wave-row-2")).to_contain_text("Cancelada")

    copy = Campaign.objects.get(name="Recordatorio semanal (copia)")
    assert copy.credit_cap == 100
    assert copy.waves.get().state == FollowUpWave.State.CANCELLED
    assert sandbox.state.call_count == 30
    assert worker.poll() is None
