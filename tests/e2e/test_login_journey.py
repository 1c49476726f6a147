"""First run, in a real browser: sign in, see the dashboard and Onurix, switch language."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_wrong_password_says_so_in_spanish(page, live_server, user):
    page.goto(live_server.url + "/campaigns/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/campaigns/"))
    page.get_by_label("Nombre de usuario").fill(user.username)
    page.get_by_label("Contraseña").fill("not-the-password")
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("alert")).to_contain_text("nombre de usuario y clave correctos")


def test_sign_in_see_dashboard_and_switch_language(
    onurix_sandbox_settings, signed_in_page, live_server
):
    page = signed_in_page
    expect(page.get_by_role("heading", name="Inicio", level=1)).to_be_visible()
    # The Onurix panel is loaded by htmx after the page: the sandbox answers with its balance.
    expect(page.locator("#onurix-status")).to_contain_text("Onurix responde")
    expect(page.get_by_test_id("balance")).to_have_text("8.000")
    page.screenshot(path="test-artifacts/dashboard-es.png")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.locator("#onurix-status")).to_contain_text("Onurix answers")
    expect(page.get_by_test_id("balance")).to_have_text("8,000")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", name="Contactos", level=1)).to_be_visible()

    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("button", name="Iniciar sesión")).to_be_visible()
