"""The dashboard and the Onurix connection status, against the sandbox over HTTP."""

import socket

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.factories import make_campaign, make_contact, make_group
from tests.onurix_fixtures import CANARY_KEY, SANDBOX_CLIENT_ID, SANDBOX_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def onurix_settings(settings, sandbox):
    settings.ONURIX_BASE_URL = sandbox.url
    settings.ONURIX_CLIENT_ID = SANDBOX_CLIENT_ID
    settings.ONURIX_KEY = SANDBOX_KEY
    settings.ONURIX_TIMEOUT = 2
    return settings


@pytest.fixture
def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


def test_dashboard_shows_the_totals_and_recent_campaigns(auth_client):
    group = make_group()
    for _ in range(3):
        make_contact().groups.add(group)
    make_campaign(name="Recordatorio de citas")
    response = auth_client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["totals"].contacts == 3
    assert "Recordatorio de citas" in response.text
    assert reverse("onurix_status") in response.text  # works without JavaScript too


def test_status_shows_the_sandbox_balance(auth_client, onurix_settings, make_sandbox):
    sandbox = make_sandbox(balance=8000)
    onurix_settings.ONURIX_BASE_URL = sandbox.url
    response = auth_client.get(reverse("onurix_status"), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    assert "Onurix responde" in response.text
    assert "8.000" in response.text  # Colombian thousands separator


def test_status_partial_for_htmx(auth_client, onurix_settings):
    response = auth_client.get(reverse("onurix_status"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'data-testid="balance"' in response.text


def test_wrong_key_says_what_to_fix_without_showing_the_key(
    auth_client, onurix_settings, make_sandbox
):
    sandbox = make_sandbox(key="the-real-key")
    onurix_settings.ONURIX_BASE_URL = sandbox.url
    onurix_settings.ONURIX_KEY = CANARY_KEY
    response = auth_client.get(reverse("onurix_status"), HTTP_ACCEPT_LANGUAGE="es")
    assert "ONURIX_KEY" in response.text
    assert "Seguridad" in response.text
    assert CANARY_KEY not in response.text


def test_closed_port_is_diagnosed_as_unreachable(auth_client, onurix_settings, closed_port_url):
    onurix_settings.ONURIX_BASE_URL = closed_port_url
    response = auth_client.get(reverse("onurix_status"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "cannot be reached" in response.text
    assert "ONURIX_BASE_URL" in response.text


def test_onurix_check_command_passes_against_the_sandbox(onurix_settings, capsys):
    call_command("onurix_check")
    out = capsys.readouterr().out
    assert "100.000" in out or "100,000" in out


def test_onurix_check_command_fails_clearly_on_a_closed_port(onurix_settings, closed_port_url):
    onurix_settings.ONURIX_BASE_URL = closed_port_url
    with pytest.raises(CommandError) as error:
        call_command("onurix_check")
    assert "ONURIX_BASE_URL" in str(error.value)


def test_onurix_check_never_prints_the_key(onurix_settings, make_sandbox, capsys):
    sandbox = make_sandbox(key="another-key")
    onurix_settings.ONURIX_BASE_URL = sandbox.url
    onurix_settings.ONURIX_KEY = CANARY_KEY
    with pytest.raises(CommandError) as error:
        call_command("onurix_check")
    captured = capsys.readouterr()
    assert CANARY_KEY not in str(error.value) + captured.out + captured.err


@pytest.mark.parametrize(
    "sandbox_options",
    [
        {"key": "another-key"},  # 400, bad credentials
        {"key": CANARY_KEY, "error_520_rate": 1.0},  # 520: outcome unknown
        {"key": CANARY_KEY},  # success
    ],
    ids=["bad-credentials", "520", "success"],
)
def test_canary_key_never_reaches_logs_or_pages(
    auth_client, onurix_settings, make_sandbox, caplog, sandbox_options
):
    import logging

    caplog.set_level(logging.DEBUG)
    sandbox = make_sandbox(**sandbox_options)
    onurix_settings.ONURIX_BASE_URL = sandbox.url
    onurix_settings.ONURIX_KEY = CANARY_KEY
    page = auth_client.get(reverse("onurix_status"))
    assert page.status_code == 200
    assert caplog.records, "nothing was logged at DEBUG: the test would prove nothing"
    assert CANARY_KEY not in page.text
    assert CANARY_KEY not in caplog.text
    assert all(CANARY_KEY not in record.getMessage() for record in caplog.records)


def test_canary_key_never_reaches_logs_when_onurix_is_unreachable(
    auth_client, onurix_settings, closed_port_url, caplog
):
    import logging

    caplog.set_level(logging.DEBUG)
    onurix_settings.ONURIX_BASE_URL = closed_port_url
    onurix_settings.ONURIX_KEY = CANARY_KEY
    page = auth_client.get(reverse("onurix_status"))
    assert CANARY_KEY not in page.text + caplog.text
