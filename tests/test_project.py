"""The project as a whole: checks, migrations, settings and the set-up commands."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from tests.factories import make_user


def _manage(*args, **env):
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONURIX_"))}
    clean_env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**clean_env, "DJANGO_SETTINGS_MODULE": "onurix_site.settings", **env},
        timeout=60,
    )


@pytest.mark.django_db
def test_migrations_are_up_to_date():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_system_checks_pass():
    call_command("check", fail_level="WARNING")


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_runs_with_the_development_key():
    result = _manage("check", DJANGO_DEBUG="true", DJANGO_SECRET_KEY="")
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_demo_user_is_created_once_with_a_working_printed_password(capsys):
    call_command("ensure_demo_user")
    out = capsys.readouterr().out
    password = next(
        line.split(":", 1)[1].strip() for line in out.splitlines() if "password:" in line
    )
    user = authenticate(RequestFactory().post("/login/"), username="demo", password=password)
    assert user is not None and user.is_superuser
    call_command("ensure_demo_user")
    assert "password" not in capsys.readouterr().out
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_no_demo_user_when_users_exist(capsys):
    make_user(username="laura")
    call_command("ensure_demo_user")
    assert not get_user_model().objects.filter(username="demo").exists()


def test_env_example_lists_every_setting_the_code_reads():
    source = (settings.BASE_DIR / "onurix_site" / "settings.py").read_text()
    example = (settings.BASE_DIR / ".env.example").read_text()
    import re

    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))
    assert read, "no variables found in settings.py"
    missing = {name for name in read if name not in example}
    assert missing == set()


def test_production_settings_pass_the_deploy_checks():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-production-secret-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="campaigns.example.com",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://campaigns.example.com",
        # Production refuses the sandbox's URL and key (campaigns/checks.py).
        ONURIX_BASE_URL="https://www.onurix.com/api/v1",
        ONURIX_KEY="a-real-looking-onurix-key",
    )
    assert result.returncode == 0, result.stdout + result.stderr
