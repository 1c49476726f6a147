"""Spanish first, English one click away, and no page shows an untranslated string."""

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from campaigns.models import CallResult, DoNotCallChange
from tests.factories import make_audio_code, make_campaign, make_contact, make_group, make_result

PO_FILE = settings.BASE_DIR / "locale" / "es" / "LC_MESSAGES" / "django.po"

# Text that is legitimately the same in both languages on our pages.
SAME_IN_BOTH = {
    "Audio",
    "Audios",
    "audios",
    "Onurix",
    "Español",
    "English",
    "—",
    "←",
    "·",
}


class _VisibleText(HTMLParser):
    """Collects text nodes and the human-facing attributes of a page."""

    ATTRIBUTES = {"placeholder", "aria-label", "title", "alt"}

    def __init__(self):
        super().__init__()
        self.texts: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "code"}:  # code (a command) reads the same anywhere
            self._skip += 1
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.texts.add(value.strip())
            if tag == "input" and name == "value" and ("type", "submit") in attrs:
                self.texts.add(value.strip())

    def handle_endtag(self, tag):
        if tag in {"script", "style", "code"}:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            for line in data.splitlines():
                if text := line.strip():
                    self.texts.add(text)


def _texts(html: str) -> set[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.texts


def _is_data(text: str, data: set[str]) -> bool:
    return (
        text in SAME_IN_BOTH
        or text in data
        or re.fullmatch(r"[\d.,:/ ()+%-]*", text) is not None
        or any(text.startswith(value) or text.endswith(value) for value in data)
    )


def test_spanish_catalogue_is_complete():
    catalogue = polib.pofile(str(PO_FILE))
    assert len(catalogue) > 100
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_spanish_catalogue_holds_every_string_of_the_code(tmp_path):
    """`make messages` would add nothing: every translatable string is in the catalogue."""
    copy = tmp_path / "project"
    shutil.copytree(
        settings.BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "*.sqlite3*", "__pycache__", "media"),
    )
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "es",
            "--no-location",
            "--ignore",
            ".venv/*",
            "--ignore",
            "tests/*",
            "--ignore",
            "bench/*",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "true"},
    )
    fresh = polib.pofile(str(copy / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    committed = {entry.msgid for entry in polib.pofile(str(PO_FILE))}
    assert {entry.msgid for entry in fresh if not entry.obsolete} - committed == set()


@pytest.mark.django_db
def test_login_page_is_spanish_by_default_and_english_on_request(client):
    spanish = client.get(reverse("login"))
    assert 'lang="es-co"' in spanish.text
    assert "Iniciar sesión" in spanish.text
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="en"' in english.text
    assert "Sign in" in english.text


@pytest.mark.django_db
def test_the_switcher_changes_the_language_and_remembers_it(auth_client):
    response = auth_client.post(
        reverse("set_language"), {"language": "en", "next": reverse("contact_list")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("contact_list")
    page = auth_client.get(reverse("contact_list"))
    assert "Contacts" in page.text and "Contactos" not in page.text
    auth_client.post(reverse("set_language"), {"language": "es-co"})
    assert "Contactos" in auth_client.get(reverse("contact_list")).text


@pytest.mark.django_db
def test_numbers_and_dates_use_colombian_formats(auth_client):
    group = make_group(name="Pacientes Chapinero")
    for _ in range(3):
        make_contact().groups.add(group)
    campaign = make_campaign(name="Citas")
    page = auth_client.get(reverse("campaign_list"))
    created = timezone.localtime(campaign.created_at).strftime("%d/%m/%Y %H:%M")
    assert created in page.text
    assert "3" in auth_client.get(reverse("group_list")).text


@pytest.fixture
def pages_with_data(db):
    group = make_group(name="Pacientes Chapinero", description="Sede norte")
    contact = make_contact(first_name="Ana", last_name="Muñoz", email="ana@example.com")
    contact.groups.add(group)
    marked = make_contact(phone="573009998877", do_not_call=True, do_not_call_reason="Se quejó")
    DoNotCallChange.objects.create(
        contact=marked, do_not_call=True, reason="Se quejó", source=DoNotCallChange.Source.LIST
    )
    make_audio_code(name="Aviso de corte", code="7d1c4a3e-aaaa-4bbb-8ccc-123456789012")
    campaign = make_campaign(name="Recordatorio de citas", message="Hola {nombre}")
    make_result(campaign=campaign, contact=contact, phone=contact.phone)
    make_result(campaign=campaign, state=CallResult.State.ANSWERED)
    data = {
        "Pacientes Chapinero",
        "Sede norte",
        "Ana Muñoz",
        "ana@example.com",
        "Se quejó",
        "Aviso de corte",
        "7d1c4a3e-aaaa-4bbb-8ccc-123456789012",
        "Recordatorio de citas",
        "Hola {nombre}",
        "Mariana",
        contact.phone,
        "573009998877",
    }
    urls = [
        reverse("dashboard"),
        reverse("contact_list"),
        reverse("group_list"),
        reverse("audio_code_list"),
        reverse("campaign_list"),
        reverse("campaign_detail", args=[campaign.pk]),
        reverse("contact_detail", args=[marked.pk]),
        reverse("contact_update", args=[marked.pk]),
    ]
    return urls, data


def test_our_pages_have_no_untranslated_text(client, user, pages_with_data, sandbox, settings):
    """Render each page in both languages: any text identical in both is data or a bug."""
    settings.ONURIX_BASE_URL = sandbox.url
    urls, data = pages_with_data
    data.add(user.username)
    client.force_login(user)
    urls = [*urls, reverse("onurix_status")]
    for url in urls:
        spanish = _texts(client.get(url, HTTP_ACCEPT_LANGUAGE="es").text)
        english = _texts(client.get(url, HTTP_ACCEPT_LANGUAGE="en").text)
        same = {text for text in spanish & english if not _is_data(text, data)}
        assert same == set(), f"untranslated on {url}: {sorted(same)}"
    client.logout()
    spanish = _texts(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es").text)
    english = _texts(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").text)
    assert {text for text in spanish & english if not _is_data(text, set())} == set()


def test_po_file_path_is_inside_the_project():
    assert Path(PO_FILE).is_file()
