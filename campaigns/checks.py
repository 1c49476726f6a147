"""System checks that keep production from starting with unsafe settings.

They run when `DJANGO_ENFORCE_PRODUCTION_CHECKS` is on (by default whenever
`DJANGO_DEBUG=false`), and every finding is an ERROR, so `runserver`, `migrate`,
`db_worker` and `check --deploy` stop, and `onurix_site/wsgi.py` refuses to serve.
What they refuse:

- onurix.E001: a secret key shorter than 50 characters, with fewer than 5 distinct
  characters, or a known sample value (a key anyone can read signs anyone's session).
- onurix.E002: ONURIX_BASE_URL pointing at the local sandbox.
- onurix.E003: ONURIX_KEY empty or the sandbox's key.
- onurix.E004: DJANGO_ALLOWED_HOSTS empty.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error

SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT_CHARACTERS = 5
# Sample values published in this repository or in tutorials.
KNOWN_SAMPLE_SECRET_KEYS = {
    "change-me",
    "changeme",
    "secret",
    "django-insecure-development-only-never-use-in-production",
    "test-secret-key-not-used-anywhere-else-0123456789",
}
SANDBOX_BASE_URL = "http://127.0.0.1:8765/api/v1"
SANDBOX_HOSTS = {"127.0.0.1", "localhost", "::1"}
SANDBOX_PORT = 8765
SANDBOX_KEY = "sandbox-key"


def production_settings_check(app_configs, **kwargs):
    """Return an ERROR for each setting production must not run with."""
    if not settings.DJANGO_ENFORCE_PRODUCTION_CHECKS:
        return []
    return [
        *_secret_key_errors(settings.SECRET_KEY),
        *_onurix_errors(settings.ONURIX_BASE_URL, settings.ONURIX_KEY),
        *_allowed_hosts_errors(settings.ALLOWED_HOSTS),
    ]


def _secret_key_errors(secret_key):
    if (
        len(secret_key) >= SECRET_KEY_MIN_LENGTH
        and len(set(secret_key)) >= SECRET_KEY_MIN_DISTINCT_CHARACTERS
        and secret_key not in KNOWN_SAMPLE_SECRET_KEYS
        and not secret_key.startswith("django-insecure-")
    ):
        return []
    return [
        Error(
            "DJANGO_SECRET_KEY is weak: it must be at least "
            f"{SECRET_KEY_MIN_LENGTH} characters, with at least "
            f"{SECRET_KEY_MIN_DISTINCT_CHARACTERS} different characters, and not a sample value.",
            hint="Set DJANGO_SECRET_KEY to the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'",
            id="onurix.E001",
        )
    ]


def _onurix_errors(base_url, key):
    errors = []
    url = urlsplit(base_url)
    try:
        port = url.port
    except ValueError:
        port = None
    if base_url == SANDBOX_BASE_URL or (url.hostname in SANDBOX_HOSTS and port == SANDBOX_PORT):
        errors.append(
            Error(
                f"ONURIX_BASE_URL points at the local Onurix sandbox ({base_url}): no real "
                "call would be placed.",
                hint="Set ONURIX_BASE_URL=https://www.onurix.com/api/v1",
                id="onurix.E002",
            )
        )
    if not key or key == SANDBOX_KEY:
        errors.append(
            Error(
                "ONURIX_KEY is empty or the sandbox's key.",
                hint="Set ONURIX_KEY (and ONURIX_CLIENT_ID) to your account's, from the "
                "Onurix portal.",
                id="onurix.E003",
            )
        )
    return errors


def _allowed_hosts_errors(allowed_hosts):
    if allowed_hosts:
        return []
    return [
        Error(
            "DJANGO_ALLOWED_HOSTS is empty: every request would be refused.",
            hint="Set DJANGO_ALLOWED_HOSTS to the host names of this site, comma-separated "
            "(campaigns.example.com).",
            id="onurix.E004",
        )
    ]
