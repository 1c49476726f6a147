"""Uploaded files stay private: no public URL, only views that check permissions."""

import importlib
import io
import wave
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import clear_url_caches, reverse

import onurix_site.urls
from campaigns.models import AudioCode, ContactImport
from onurix_site import settings as project_settings
from tests.factories import make_audio_code

pytestmark = pytest.mark.django_db

EVIL_HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def _wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 400)
    return buffer.getvalue()


def _audio_with_file(name: str, content: bytes, *, audio_name: str = "Recordatorio") -> AudioCode:
    """An audio whose stored file is saved as is, as the admin could do, unchecked."""
    audio = make_audio_code(name=audio_name)
    audio.audio_file.save(name, ContentFile(content))
    return audio


@pytest.fixture
def debug_urls():
    """The URLconf as built with DEBUG on, the .env.example default."""
    with override_settings(DEBUG=True):
        clear_url_caches()
        importlib.reload(onurix_site.urls)
        yield
    clear_url_caches()
    importlib.reload(onurix_site.urls)


def _media_url(name: str) -> str:
    return f"/{django_settings.MEDIA_URL.lstrip('/')}{name}"


def test_no_url_pattern_serves_media_even_with_debug_on(debug_urls):
    patterns = [str(pattern.pattern) for pattern in onurix_site.urls.urlpatterns]
    assert not any(pattern.lstrip("^").startswith("media") for pattern in patterns)


def test_a_stored_audio_answers_404_under_media_even_with_debug_on(debug_urls, client, staff_user):
    audio = _audio_with_file("stored.wav", _wav_bytes())
    client.force_login(staff_user)
    assert client.get(_media_url(audio.audio_file.name)).status_code == 404


def test_a_stored_contact_file_answers_404_under_media_and_has_a_random_name(
    debug_urls, client, editor_user
):
    client.force_login(editor_user)
    upload = SimpleUploadedFile("pacientes.csv", b"telefono,nombre\n3001234567,Ana\n", "text/csv")
    response = client.post(reverse("contact_import"), {"file": upload})
    assert response.status_code == 302
    job = ContactImport.objects.get()
    assert "pacientes" not in job.file.name
    assert len(job.file.name.rsplit("/", 1)[-1].split(".")[0]) == 32
    assert client.get(_media_url(job.file.name)).status_code == 404
    # The import's own page shows what was read, never a link to the raw file.
    page = client.get(job.get_absolute_url())
    assert job.file.name not in page.text


def test_the_media_root_is_not_under_a_folder_served_as_static():
    media_root = Path(project_settings.MEDIA_ROOT).resolve()
    for static_dir in [project_settings.STATIC_ROOT, *project_settings.STATICFILES_DIRS]:
        assert not media_root.is_relative_to(Path(static_dir).resolve())
    assert not hasattr(project_settings, "WHITENOISE_ROOT")


def test_a_read_only_user_gets_the_audio_inline_with_its_type_and_nosniff(client, read_only_user):
    audio = _audio_with_file("stored.wav", _wav_bytes(), audio_name='Cita "final" <1>')
    client.force_login(read_only_user)
    response = client.get(reverse("audio_code_file", args=[audio.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="cita-final-1.wav"'
    assert b"".join(response.streaming_content) == _wav_bytes()


def test_anonymous_visitors_are_sent_to_sign_in_for_an_audio_file(client):
    audio = _audio_with_file("stored.wav", _wav_bytes())
    url = reverse("audio_code_file", args=[audio.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_role_may_not_read_an_audio_file(client, no_role_user):
    audio = _audio_with_file("stored.wav", _wav_bytes())
    client.force_login(no_role_user)
    assert client.get(reverse("audio_code_file", args=[audio.pk])).status_code == 403


def test_an_html_file_named_evil_html_is_refused_at_upload(client, editor_user):
    client.force_login(editor_user)
    fields = {"code": "3f2b8c1e-9d4a-4c1b-8e2f-0a1b2c3d4e5f", "name": "Evil", "notes": ""}
    upload = SimpleUploadedFile("evil.html", EVIL_HTML, content_type="audio/wav")
    response = client.post(reverse("audio_code_create"), {**fields, "audio_file": upload})
    assert response.status_code == 200
    assert not AudioCode.objects.exists()


def test_an_html_file_stored_behind_the_forms_back_is_never_served(client, read_only_user):
    audio = _audio_with_file("evil.html", EVIL_HTML)
    client.force_login(read_only_user)
    response = client.get(reverse("audio_code_file", args=[audio.pk]))
    assert response.status_code == 404
    assert EVIL_HTML not in response.content


def test_audio_that_hides_html_is_served_as_audio_never_as_html(client, read_only_user):
    # Starts like an MP3, so it is audio as far as the player knows; nosniff keeps the
    # browser from reading the HTML after it.
    audio = _audio_with_file("evil.html", b"ID3" + EVIL_HTML, audio_name="evil.html")
    client.force_login(read_only_user)
    response = client.get(reverse("audio_code_file", args=[audio.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="evilhtml.mp3"'


def test_the_admin_links_an_audio_file_to_the_checked_view_not_to_media(admin_client):
    audio = _audio_with_file("saludo.wav", _wav_bytes())
    page = admin_client.get(reverse("admin:campaigns_audiocode_change", args=[audio.pk]))
    assert page.status_code == 200
    checked = reverse("audio_code_file", args=[audio.pk])
    assert f'href="{checked}"' in page.text
    assert _media_url(audio.audio_file.name) not in page.text
    assert admin_client.get(checked).status_code == 200
