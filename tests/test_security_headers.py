"""Security headers and CSRF: a Content Security Policy without inline scripts on every
page, no framing, secure cookies in production, and no POST without a CSRF token."""

import re

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from campaigns.models import ContactImport
from tests.factories import make_audio_code, make_campaign, make_contact, make_group, make_result
from tests.test_permissions import ADMIN, TABLE
from tests.test_permissions import _url as table_url
from tests.test_project import _manage
from tests.test_urls_login_required import ALL_PATHS

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
# Logging out on a GET is not allowed (405), and would end the walk's session anyway.
NOT_WALKED = {"/logout/", "/admin/logout/"}


def _directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_safe_page(response, where: str) -> None:
    directives = _directives(response)
    for directive in ("script-src", "default-src"):
        assert "'unsafe-inline'" not in directives[directive], where
        assert "'unsafe-eval'" not in directives[directive], where
    assert directives["script-src"] == ["'self'"], where
    assert directives["frame-ancestors"] == ["'none'"], where
    assert directives["object-src"] == ["'none'"], where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    if not response.get("Content-Type", "").startswith("text/html"):
        return
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), f"{where}: {INLINE_SCRIPT.search(html).group(0)}"
    assert not EVENT_HANDLER.search(html), f"{where}: {EVENT_HANDLER.search(html).group(0)}"
    assert not INLINE_STYLE.search(html), f"{where}: {INLINE_STYLE.search(html).group(0)}"
    assert not JAVASCRIPT_URL.search(html), f"{where}: {JAVASCRIPT_URL.search(html).group(0)}"


@pytest.fixture
def objects(settings):
    """One of each object, with id 1 where the URLconf walk puts a 1."""
    settings.ONURIX_BASE_URL = "http://127.0.0.1:9/api/v1"  # nothing may be really sent
    contact = make_contact(pk=1, first_name="Laura")
    group = make_group(pk=1)
    group.contacts.add(contact)
    audio = make_audio_code(pk=1)
    audio.audio_file.save("a.ogg", ContentFile(b"OggS\x00\x02" + b"\x00" * 40))
    campaign = make_campaign(pk=1)
    make_result(pk=1, campaign=campaign)
    job = ContactImport.objects.create(
        pk=1,
        original_name="p.csv",
        file=SimpleUploadedFile("p.csv", b"telefono\n3001234567\n"),
        headers=["telefono"],
        mapping=["phone"],
    )
    return {
        "contact": contact.pk,
        "group": group.pk,
        "audio": audio.pk,
        "campaign": campaign.pk,
        "import": job.pk,
    }


@pytest.mark.parametrize(
    "name", sorted(name for name, (method, _) in TABLE.items() if method == "get")
)
def test_every_page_of_the_app_has_a_strict_policy_and_no_inline_code(
    auth_client, staff_user, objects, name
):
    if TABLE[name][1] == ADMIN:  # administrators' pages: the activity log
        auth_client.force_login(staff_user)
    response = auth_client.get(table_url(name, objects), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code < 400, f"{name}: {response.status_code}"
    _assert_safe_page(response, name)


@pytest.mark.parametrize("path", sorted(set(ALL_PATHS) - NOT_WALKED))
def test_every_path_of_the_urlconf_admin_included_has_the_policy(staff_client, objects, path):
    response = staff_client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code < 500, f"{path}: {response.status_code}"
    _assert_safe_page(response, path)


def test_the_login_page_has_the_policy_too(client):
    _assert_safe_page(client.get(reverse("login")), "login")


def test_htmx_is_told_not_to_inject_styles_nor_eval(auth_client):
    html = auth_client.get(reverse("dashboard")).text
    assert '<meta name="htmx-config"' in html
    assert '"includeIndicatorStyles":false' in html
    assert '"allowEval":false' in html


def test_htmx_requests_carry_the_csrf_token(auth_client):
    response = auth_client.get(reverse("dashboard"))
    token = str(response.context["csrf_token"])
    assert f'<body hx-headers=\'{{"X-CSRFToken": "{token}"}}\'>' in response.text


def test_production_cookies_are_secure_and_framing_is_denied():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.X_FRAME_OPTIONS, 'csp.middleware.CSPMiddleware' in s.MIDDLEWARE)",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-production-secret-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="campaigns.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-5:] == ["True", "True", "True", "DENY", "True"]


# -- CSRF ------------------------------------------------------------------------------------

# Every view that accepts a POST: the POST-only ones of the permissions table, the GET/POST
# form views, and the project's own.
FORM_VIEWS = [
    "contact_create",
    "contact_update",
    "contact_delete",
    "group_create",
    "group_update",
    "group_delete",
    "audio_code_create",
    "audio_code_update",
    "audio_code_delete",
    "campaign_create",
    "campaign_update",
    "contact_import",
    "contact_import_detail",
    "campaign_resend_unknown",
]
POST_VIEWS = sorted({name for name, (method, _) in TABLE.items() if method == "post"}) + FORM_VIEWS
FORM_DATA = {
    "name": "Hostile",
    "phone": "3001234567",
    "phones": "3001234567",
    "voice": "Mariana",
    "message": "Hola",
    "retries": "1",
    "code": "3f2b8c1e-9d4a-4c1b-8e2f-0a1b2c3d4e5f",
    "action": "delete",
    "contacts": ["1"],
    "confirm": "1",
    "confirmed": "1",
    "language": "en",
}


def _database_snapshot() -> dict:
    return {
        model._meta.label: sorted(
            (repr(sorted(model_to_dict(row).items())) for row in model.objects.all()),
        )
        for model in apps.get_models()
    }


@pytest.fixture
def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_every_post_capable_view_is_listed():
    assert set(POST_VIEWS) >= {name for name, (method, _) in TABLE.items() if method == "post"}
    assert len(POST_VIEWS) == len(set(POST_VIEWS))


@pytest.mark.parametrize("name", POST_VIEWS)
def test_a_post_without_csrf_token_is_refused_and_changes_nothing(csrf_client, objects, name):
    before = _database_snapshot()
    response = csrf_client.post(table_url(name, objects), FORM_DATA)
    assert response.status_code == 403, f"{name}: {response.status_code}"
    assert _database_snapshot() == before


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/i18n/setlang/", {"language": "en", "next": "/"}),
        ("/logout/", {}),
        ("/admin/logout/", {}),
    ],
)
def test_language_and_logout_refuse_a_post_without_token(csrf_client, path, data):
    before = _database_snapshot()
    response = csrf_client.post(path, data)
    assert response.status_code == 403
    assert _database_snapshot() == before
    assert "onurix_language" not in response.cookies
    # Still signed in: the refused logout did not end the session.
    assert csrf_client.get(reverse("dashboard")).status_code == 200


def test_the_same_post_with_the_token_goes_through(csrf_client, objects):
    page = csrf_client.get(reverse("group_create"))
    token = str(page.context["csrf_token"])
    response = csrf_client.post(
        reverse("group_create"), {"name": "Con token", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    # And from htmx: the header that base.html puts on <body>.
    response = csrf_client.post(
        reverse("group_create"), {"name": "Por htmx"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 302
