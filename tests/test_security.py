"""Who gets in: login throttling and password hashing."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _try(client, username, password, ip="10.0.0.7"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_repeated_failures_lock_that_username_from_that_address(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user(username="laura", password="the-right-password")
    for _ in range(2):
        assert _try(client, "laura", "guess").status_code == 200
    locked = _try(client, "laura", "guess")
    assert locked.status_code == 429
    assert "Too many attempts" in locked.text
    # Even the right password is refused while locked...
    assert _try(client, "laura", "the-right-password").status_code == 429
    # ...but the same user from another address, and another user, still get in.
    assert _try(client, "laura", "the-right-password", ip="10.0.0.8").status_code == 302
    client.logout()
    make_user(username="andres", password="another-password")
    assert _try(client, "andres", "another-password").status_code == 302


def test_the_lock_lifts_by_itself_after_the_cool_off(client, settings):
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 2
    make_user(username="laura", password="the-right-password")
    _try(client, "laura", "guess")
    assert _try(client, "laura", "guess").status_code == 429
    # Age the failures past the cool-off, as if the time had passed.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    assert _try(client, "laura", "the-right-password").status_code == 302


def test_production_hashes_passwords_with_argon2(settings):
    from onurix_site import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS  # the tests use a fast one
    user = make_user(username="laura", password="a-long-password")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert check_password("a-long-password", user.password)
    assert make_password("x") != make_password("x")  # salted
