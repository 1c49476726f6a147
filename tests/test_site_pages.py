"""The site around the pages: its icon, and what people see when a page is missing or fails."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_svg_icon_without_signing_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"


def test_every_page_links_the_icon(auth_client):
    page = auth_client.get(reverse("contact_list"))
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text


def test_a_missing_campaign_shows_a_friendly_page_in_spanish_with_the_menu(auth_client):
    response = auth_client.get("/campaigns/999999/")
    assert response.status_code == 404
    assert "Página no encontrada" in response.text
    assert "Ir al tablero" in response.text
    assert 'class="mainnav"' in response.text


def test_a_failing_page_shows_a_short_apology_without_a_request_context(settings):
    settings.DEBUG = False
    request = RequestFactory().get("/campaigns/")
    response = server_error(request)
    assert response.status_code == 500
    text = response.content.decode()
    assert "Algo salió mal" in text
    assert "/static/css/app.css" in text
    assert "Traceback" not in text
