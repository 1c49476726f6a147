"""Laura's journey: the front office's Excel CSV into the group "Pacientes Chapinero"."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Contact, ContactGroup

pytestmark = pytest.mark.django_db(transaction=True)

FILE = (
    "Documento;Nombres;Apellidos;Teléfono fijo;Celular;Correo\r\n"
    "1010;Ana;Muñoz;601 234 5678;300 123 4567;ana@example.com\r\n"
    "1011;Luis;Peñalosa;;+57 310-987-6543;\r\n"
    "1012;Eva;Gómez;;3.00123457E+09;\r\n"
    "1013;José;Núñez;;(+57) 320 999 8877;jose@example.com\r\n"
).encode("cp1252")


def test_import_fix_a_column_confirm_and_find_them_in_the_group(
    signed_in_page, live_server, tmp_path
):
    page = signed_in_page
    upload = tmp_path / "pacientes.csv"
    upload.write_bytes(FILE)

    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Contactos").click()
    page.get_by_role("link", name="Importar desde un archivo").click()
    page.get_by_label("Archivo").set_input_files(str(upload))
    page.get_by_role("button", name="Subir y revisar").click()

    # The sample is decoded right and the mobile column is recognised as the phone.
    expect(page.locator("table.mapping")).to_contain_text("Peñalosa")
    phone_column = page.get_by_label("La columna «Celular» es")
    expect(phone_column).to_have_value("phone")
    # Fix one column: the landline should not be kept; the document is a custom field.
    page.get_by_label("La columna «Teléfono fijo» es").select_option("ignore")
    page.get_by_label("…o cree un grupo nuevo").fill("Pacientes Chapinero")
    page.get_by_role("button", name="Ver la vista previa de la importación").click()

    preview = page.locator("#preview-heading").locator("..")
    expect(preview).to_contain_text("3")  # to create
    expect(preview.get_by_text(re.compile(r"^filas? omitidas?$"))).to_be_visible()
    expect(page.locator("details")).to_contain_text("3.00123457E+09")
    assert Contact.objects.count() == 0
    page.screenshot(path="test-artifacts/import-preview.png", full_page=True)

    page.get_by_role("button", name="Confirmar: importar 3 contactos").click()
    expect(page.get_by_role("status")).to_contain_text("Importación terminada")
    page.get_by_role("link", name="Ver los contactos").click()
    expect(page.locator("#results")).to_contain_text("Peñalosa")
    expect(page.locator("#results")).to_contain_text("3 contactos")

    group = ContactGroup.objects.get(name="Pacientes Chapinero")
    assert group.contacts.count() == 3
    ana = Contact.objects.get(phone="573001234567")
    assert ana.custom_fields == {"Documento": "1010"}
