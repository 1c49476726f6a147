"""Andrés, an administrator, checks who did what: he deletes a group, opens "Actividad" in
Spanish, finds his deletion with his address, filters the pauses and downloads them."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns import services
from campaigns.models import ActivityEntry
from tests.factories import make_group, make_user

pytestmark = pytest.mark.django_db(transaction=True)

Action = ActivityEntry.Action


def test_an_admin_reads_filters_and_exports_the_activity_in_spanish(page, live_server, tmp_path):
    andres = make_user(username="andres", is_staff=True, is_superuser=True)
    laura = make_user(username="laura")
    pause = services.activity_record(
        action=Action.CAMPAIGN_PAUSE, user=laura, target_text="Recordatorio de citas"
    )
    ActivityEntry.objects.filter(pk=pause.pk).update(at=timezone.now() - timedelta(days=1))
    group = make_group(name="Pacientes Suba")

    page.goto(live_server.url + "/")
    page.get_by_label("Nombre de usuario").fill("andres")
    page.get_by_label("Contraseña").fill("a-long-test-password")
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(live_server.url + "/")

    # A deletion made in the browser...
    page.goto(live_server.url + f"/groups/{group.pk}/delete/")
    page.get_by_role("button", name="Sí, eliminar el grupo").click()
    expect(page.get_by_role("status")).to_be_visible()

    # ...is on the Actividad page, newest first, with who and from where.
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Actividad").click()
    expect(page.get_by_role("heading", name="Actividad", level=1)).to_be_visible()
    first = page.locator(".activity-table tbody tr").first
    expect(first).to_contain_text("Grupo eliminado")
    expect(first).to_contain_text("Pacientes Suba")
    expect(first).to_contain_text("andres")
    expect(first).to_contain_text("127.0.0.1")
    deleted = ActivityEntry.objects.get(action=Action.GROUP_DELETE)
    assert (deleted.username, deleted.address) == (andres.username, "127.0.0.1")

    # Filter the pauses by Laura.
    page.get_by_label("Persona").select_option("laura")
    page.get_by_label("Acción", exact=True).select_option(label="Campaña pausada")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator(".activity-table tbody tr")).to_have_count(1)
    expect(page.locator(".activity-table")).to_contain_text("Recordatorio de citas")
    expect(page.locator(".activity-table")).not_to_contain_text("Pacientes Suba")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exportar CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("actividad-")
    path = tmp_path / "actividad.csv"
    download.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Cuándo", "Usuario", "Acción"]
    assert [row[1:3] for row in rows[1:]] == [["laura", "Campaña pausada"]]
