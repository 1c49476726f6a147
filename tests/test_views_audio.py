"""Audio codes in the browser's terms: add, edit, listen, delete."""

import io
import wave

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import services
from campaigns.audio_files import detect_audio_type
from campaigns.forms import AudioCodeForm
from campaigns.models import AudioCode
from tests.factories import make_audio_code, make_campaign

pytestmark = pytest.mark.django_db

CODE = "3f2b8c1e-9d4a-4c1b-8e2f-0a1b2c3d4e5f"


def _wav_bytes(frames: int = 800) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * frames)
    return buffer.getvalue()


def _wav(name: str = "recordatorio.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, _wav_bytes(), content_type="audio/wav")


def _post(client, url, data=None):
    return client.post(url, data or {}, HTTP_ACCEPT_LANGUAGE="en")


def _get(client, url):
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def _add(client, **data):
    fields = {"code": CODE, "name": "Recordatorio de cita", "notes": ""}
    return _post(client, reverse("audio_code_create"), {**fields, **data})


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def test_add_with_a_wav_stores_it_under_a_generated_name_and_serves_it(auth_client):
    response = _add(auth_client, code=f"  {CODE} ", audio_file=_wav("Mi audio (final).wav"))
    assert response.status_code == 302 and response["Location"] == reverse("audio_code_list")
    audio = AudioCode.objects.get()
    assert audio.code == CODE
    assert audio.audio_file.name.startswith("audios/") and audio.audio_file.name.endswith(".wav")
    assert "Mi audio" not in audio.audio_file.name

    served = _get(auth_client, reverse("audio_code_file", args=[audio.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] == "audio/wav"
    assert served["Content-Disposition"].startswith("inline")
    assert _content(served) == _wav_bytes()


def test_the_list_plays_through_the_file_view_and_counts_campaigns(auth_client):
    _add(auth_client, audio_file=_wav())
    audio = AudioCode.objects.get()
    make_campaign(audio_code=audio)
    page = _get(auth_client, reverse("audio_code_list"))
    file_url = reverse("audio_code_file", args=[audio.pk])
    assert f'<audio controls preload="none" src="{file_url}"' in page.text
    assert reverse("audio_code_update", args=[audio.pk]) in page.text
    assert reverse("audio_code_create") in page.text
    assert '<td class="num">1</td>' in page.text
    assert "/media/" not in page.text


def test_the_file_is_only_for_signed_in_users(auth_client, client):
    _add(auth_client, audio_file=_wav())
    url = reverse("audio_code_file", args=[AudioCode.objects.get().pk])
    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_no_file_answers_404(auth_client):
    audio = make_audio_code()
    assert _get(auth_client, reverse("audio_code_file", args=[audio.pk])).status_code == 404


def test_a_text_file_named_mp3_is_refused(auth_client):
    fake = SimpleUploadedFile("cancion.mp3", b"just some text, not audio", "audio/mpeg")
    response = _add(auth_client, audio_file=fake)
    assert response.status_code == 200
    assert "is not MP3, WAV or OGG audio" in response.text
    assert 'class="field-error"' in response.text
    assert not AudioCode.objects.exists()


def test_a_too_large_file_is_refused(auth_client, settings):
    settings.AUDIO_MAX_BYTES = 100
    response = _add(auth_client, audio_file=_wav())
    assert response.status_code == 200
    assert "The file is too large" in response.text
    assert not AudioCode.objects.exists()


def test_a_file_name_with_dots_is_refused(auth_client):
    response = _add(auth_client, audio_file=_wav("..recordatorio.wav"))
    assert response.status_code == 200
    assert "is not allowed" in response.text
    assert not AudioCode.objects.exists()


@pytest.mark.parametrize("name", ["C:\\audios\\cita.wav", "..\\..\\cita.wav"])
def test_a_file_name_with_a_path_is_refused(name):
    # Over HTTP Django's parser already drops directories from upload names, and
    # UploadedFile drops "/" ones; an upload built in code can still carry a Windows path.
    form = AudioCodeForm(
        {"code": CODE, "name": "Cita"}, {"audio_file": SimpleUploadedFile(name, _wav_bytes())}
    )
    assert not form.is_valid()
    assert "is not allowed" in form.errors["audio_file"][0]


@pytest.mark.parametrize("code", ["abc", "3f2b 8c1e?", "-leading-hyphen", "x" * 65])
def test_a_badly_shaped_code_is_explained_next_to_the_field(auth_client, code):
    response = _add(auth_client, code=code)
    assert response.status_code == 200
    assert 'id="id_code_error"' in response.text
    assert "for example 3f2b8c1e-9d4a-4c1b-8e2f-0a1b2c3d4e5f" in response.text
    assert not AudioCode.objects.exists()


def test_spaces_inside_a_pasted_code_are_removed(auth_client):
    _add(auth_client, code="3f2b8c1e-9d4a-4c1b- 8e2f-0a1b2c3d4e5f\n")
    assert AudioCode.objects.get().code == CODE


def test_a_duplicate_code_says_so_and_links_to_the_existing_audio(auth_client):
    existing = make_audio_code(code=CODE, name="Cobranza")
    response = _add(auth_client)
    assert response.status_code == 200
    assert "already saved as the audio “Cobranza”" in response.text
    assert reverse("audio_code_update", args=[existing.pk]) in response.text
    assert AudioCode.objects.count() == 1


def test_edit_without_a_file_keeps_the_file(auth_client):
    _add(auth_client, audio_file=_wav())
    audio = AudioCode.objects.get()
    stored = audio.audio_file.name
    page = _get(auth_client, reverse("audio_code_update", args=[audio.pk]))
    assert f'src="{reverse("audio_code_file", args=[audio.pk])}"' in page.text
    response = _post(
        auth_client,
        reverse("audio_code_update", args=[audio.pk]),
        {"code": CODE, "name": "Recordatorio nuevo", "notes": "Grabado en marzo"},
    )
    assert response.status_code == 302
    audio.refresh_from_db()
    assert audio.name == "Recordatorio nuevo" and audio.notes == "Grabado en marzo"
    assert audio.audio_file.name == stored
    assert audio.audio_file.storage.exists(stored)


def test_remove_clears_and_deletes_the_file(auth_client, django_capture_on_commit_callbacks):
    _add(auth_client, audio_file=_wav())
    audio = AudioCode.objects.get()
    stored, storage = audio.audio_file.name, audio.audio_file.storage
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            auth_client,
            reverse("audio_code_update", args=[audio.pk]),
            {"code": CODE, "name": audio.name, "remove_file": "on"},
        )
    assert response.status_code == 302
    audio.refresh_from_db()
    assert not audio.audio_file
    assert not storage.exists(stored)


def test_a_new_file_replaces_the_old_one(auth_client, django_capture_on_commit_callbacks):
    _add(auth_client, audio_file=_wav())
    audio = AudioCode.objects.get()
    old = audio.audio_file.name
    ogg = SimpleUploadedFile("nuevo.ogg", b"OggS\x00\x02" + b"\x00" * 40, "audio/ogg")
    with django_capture_on_commit_callbacks(execute=True):
        _post(
            auth_client,
            reverse("audio_code_update", args=[audio.pk]),
            {"code": CODE, "name": audio.name, "audio_file": ogg},
        )
    audio.refresh_from_db()
    assert audio.audio_file.name.endswith(".ogg")
    assert not audio.audio_file.storage.exists(old)
    served = _get(auth_client, reverse("audio_code_file", args=[audio.pk]))
    assert served["Content-Type"] == "audio/ogg"


def test_delete_asks_first(auth_client, django_capture_on_commit_callbacks):
    _add(auth_client, audio_file=_wav())
    audio = AudioCode.objects.get()
    stored, storage = audio.audio_file.name, audio.audio_file.storage
    url = reverse("audio_code_delete", args=[audio.pk])
    page = _get(auth_client, url)
    assert page.status_code == 200
    assert "stays in the Onurix portal" in page.text
    assert "Yes, delete the audio" in page.text
    assert AudioCode.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(auth_client, url)
    assert response.status_code == 302
    assert not AudioCode.objects.exists()
    assert not storage.exists(stored)


def test_an_audio_used_by_a_campaign_cannot_be_deleted(auth_client):
    audio = make_audio_code()
    campaign = make_campaign(name="Cobranza marzo", audio_code=audio)
    url = reverse("audio_code_delete", args=[audio.pk])
    page = _get(auth_client, url)
    assert page.status_code == 200
    assert "cannot be deleted" in page.text
    assert f'<a href="{campaign.get_absolute_url()}">Cobranza marzo</a>' in page.text
    assert "Yes, delete the audio" not in page.text

    refused = _post(auth_client, url)
    assert refused.status_code == 409
    assert "Cobranza marzo" in refused.text
    assert AudioCode.objects.filter(pk=audio.pk).exists()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"ID3\x04\x00", "mp3"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
        (b"OggS\x00\x02", "ogg"),
        (b"RIFF\x24\x00\x00\x00AVI ", None),
        (b"\xff\xd8\xff\xe0", None),
        (b"<html>", None),
        (b"", None),
    ],
)
def test_detect_audio_type_reads_the_content(head, expected):
    assert detect_audio_type(head) == expected


def test_the_service_refuses_what_is_not_audio_even_without_the_form():
    with pytest.raises(ValidationError) as refused:
        services.audio_code_save(
            code=CODE, name="Cita", notes="", upload=SimpleUploadedFile("a.wav", b"<html>")
        )
    assert "audio_file" in refused.value.error_dict
    assert not AudioCode.objects.exists()


def test_a_code_taken_meanwhile_is_refused_and_leaves_no_file(settings):
    make_audio_code(code=CODE)
    files_before = set(settings.MEDIA_ROOT.rglob("*"))
    with pytest.raises(ValidationError) as refused:
        services.audio_code_save(code=CODE, name="Cita", notes="", upload=_wav())
    assert "code" in refused.value.error_dict
    assert set(settings.MEDIA_ROOT.rglob("*")) - files_before <= {
        path for path in settings.MEDIA_ROOT.rglob("*") if path.is_dir()
    }
