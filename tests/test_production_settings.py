"""Production refuses unsafe settings, and sign-in limits hold behind a proxy."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import make_user
from tests.test_project import _manage

SAFE_PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "kq3V-8zR_pL2mW9xT4nB7cY1hJ6fD0sA5gE2uI8oK3rQ7vZ1wX4yN6",
    "DJANGO_ALLOWED_HOSTS": "campaigns.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://campaigns.example.com",
    "ONURIX_BASE_URL": "https://www.onurix.com/api/v1",
    "ONURIX_CLIENT_ID": "4321",
    "ONURIX_KEY": "a-real-looking-onurix-key",
}


@pytest.mark.parametrize(
    ("unsafe", "check_id"),
    [
        ({"DJANGO_SECRET_KEY": "too-short-but-varied-0123456789"}, "onurix.E001"),
        ({"DJANGO_SECRET_KEY": "ab" * 40}, "onurix.E001"),
        ({"DJANGO_SECRET_KEY": "change-me"}, "onurix.E001"),
        ({"ONURIX_BASE_URL": "http://127.0.0.1:8765/api/v1"}, "onurix.E002"),
        ({"ONURIX_BASE_URL": "http://localhost:8765/api/v1"}, "onurix.E002"),
        ({"ONURIX_BASE_URL": None}, "onurix.E002"),  # unset: the sandbox default
        ({"ONURIX_KEY": "sandbox-key"}, "onurix.E003"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "onurix.E004"),
    ],
)
def test_production_refuses_each_unsafe_setting(unsafe, check_id):
    environment = {**SAFE_PRODUCTION, **unsafe}
    environment = {name: value for name, value in environment.items() if value is not None}
    result = _manage("check", "--deploy", **environment)
    assert result.returncode != 0
    assert check_id in result.stderr
    assert "Set " in result.stderr  # each error says what to set


def _load_server(module, **environment):
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "ONURIX_")) and name != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "-c", f"import onurix_site.{module}"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "onurix_site.settings", **environment},
        timeout=60,
    )


@pytest.mark.parametrize("module", ["wsgi", "asgi"])
def test_the_web_server_refuses_to_start_with_unsafe_settings(module):
    result = _load_server(module, **{**SAFE_PRODUCTION, "ONURIX_KEY": "sandbox-key"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "onurix.E003" in result.stderr


@pytest.mark.parametrize("module", ["wsgi", "asgi"])
def test_the_web_server_starts_with_safe_settings(module):
    result = _load_server(module, **SAFE_PRODUCTION)
    assert result.returncode == 0, result.stderr


def _sign_in(client, username, password, forwarded_for=None, remote_addr="10.0.0.1"):
    extra = {"REMOTE_ADDR": remote_addr, "HTTP_ACCEPT_LANGUAGE": "en"}
    if forwarded_for:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_behind_a_proxy_the_client_is_locked_not_the_proxy(client, settings):
    from axes.models import AccessAttempt

    settings.DJANGO_TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 5
    make_user(username="laura", password="the-right-password")
    for _ in range(4):
        assert _sign_in(client, "laura", "guess", forwarded_for="1.2.3.4").status_code == 200
    assert _sign_in(client, "laura", "guess", forwarded_for="1.2.3.4").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"1.2.3.4"}
    # A forged entry on the left does not get the client out of its lock...
    forged = "9.9.9.9, 1.2.3.4"
    assert _sign_in(client, "laura", "the-right-password", forwarded_for=forged).status_code == 429
    # ...and the proxy's other clients are not locked.
    response = _sign_in(client, "laura", "the-right-password", forwarded_for="5.6.7.8")
    assert response.status_code == 302


def test_without_enough_forwarded_entries_the_peer_is_the_client(rf, settings):
    from campaigns.login_limits import client_address

    settings.DJANGO_TRUSTED_PROXY_COUNT = 2
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(request) == "10.0.0.1"
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4, 10.0.0.2")
    assert client_address(request) == "1.2.3.4"
    settings.DJANGO_TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.1"  # no proxy trusted: the header is ignored


@pytest.mark.django_db
def test_one_address_trying_many_usernames_is_locked(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.DJANGO_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 6
    make_user(username="laura", password="the-right-password")
    attempts = [
        _sign_in(client, username, "guess", remote_addr="10.0.0.7")
        for username in ["ana", "ana", "beto", "beto", "carla"]
    ]
    assert [response.status_code for response in attempts] == [200] * 5
    # The sixth failure from this address, whatever the username, locks the address.
    assert _sign_in(client, "dario", "guess", remote_addr="10.0.0.7").status_code == 429
    response = _sign_in(client, "laura", "the-right-password", remote_addr="10.0.0.7")
    assert response.status_code == 429
    # Other addresses still get in.
    response = _sign_in(client, "laura", "the-right-password", remote_addr="10.0.0.8")
    assert response.status_code == 302


def test_the_per_address_limit_defaults_to_twenty():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DJANGO_LOGIN_FAILURE_LIMIT_PER_ADDRESS)",
        DJANGO_DEBUG="true",
    )
    assert result.stdout.strip().splitlines()[-1] == "20", result.stderr
