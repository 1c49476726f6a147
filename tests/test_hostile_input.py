"""Hostile input gets a clear refusal: never a server error, never a partial write, HTML
always escaped. Property tests (hypothesis) on the contact form, the campaign form, the
contact import and the audio upload."""

import codecs
import io
import itertools
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, assume, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns.models import AudioCode, Campaign, Contact, ContactGroup, ContactImport
from campaigns.phones import parse_phone_list

pytestmark = pytest.mark.django_db

FIXTURE_SETTINGS = hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

MALICIOUS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE campaigns_contact; --",
    "1' OR '1'='1",
    "=cmd|' /C calc'!A0",
    "+57 300 123 4567\x00",
    "\x00",
    "Ana\x00Rojas",
    "x" * 10_000,
    "<script>" * 1_250,
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "\u202eevil\u202c",
    "\ufeff",
    "\r\n\r\n",
    "../../etc/passwd",
]
# Text the test client can send (no lone surrogates), NUL and control characters included.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
HOSTILE = st.one_of(st.sampled_from(MALICIOUS), ANY_TEXT)
HOSTILE_OR_EMPTY = st.one_of(st.just(""), HOSTILE)


def _media_files() -> set[Path]:
    return {path for path in Path(django_settings.MEDIA_ROOT).rglob("*") if path.is_file()}


def _assert_escaped(html: str, value: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    if value.strip():
        assert escape(value) in html


# -- the contact form ------------------------------------------------------------------------


_PHONE_NUMBERS = itertools.count(1_000_000)
ONE_LINE = HOSTILE.map(lambda text: " ".join(text.splitlines()))
CONTACT_FIELDS = {
    "phone": HOSTILE,
    "first_name": HOSTILE,
    "last_name": HOSTILE,
    "email": HOSTILE,
    "custom_fields_text": st.one_of(
        HOSTILE, st.tuples(ONE_LINE, ONE_LINE).map(lambda pair: f"{pair[0]} = {pair[1]}")
    ),
}


@FIXTURE_SETTINGS
@given(
    hostile=st.lists(
        st.sampled_from(sorted(CONTACT_FIELDS)), min_size=1, max_size=3, unique=True
    ).flatmap(lambda names: st.fixed_dictionaries({name: CONTACT_FIELDS[name] for name in names})),
)
def test_the_contact_form_refuses_or_saves_and_always_escapes(auth_client, hostile):
    # A valid contact (a phone never used before) with one to three fields made hostile.
    data = {
        "phone": f"300 {next(_PHONE_NUMBERS)}",
        "first_name": "Ana",
        "last_name": "Rojas",
        "email": "ana@example.com",
        "custom_fields_text": "sede = Norte",
        **hostile,
    }
    before = Contact.objects.count()
    response = auth_client.post(reverse("contact_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 302)
    event(f"contact form: {response.status_code}")
    if response.status_code == 200:
        assert Contact.objects.count() == before
        assert "<script>alert" not in response.text
        return
    assert Contact.objects.count() == before + 1
    contact = Contact.objects.latest("pk")
    assert "\x00" not in contact.first_name + contact.last_name + contact.email
    page = auth_client.get(response["Location"])
    assert page.status_code == 200
    _assert_escaped(page.text, contact.first_name)
    _assert_escaped(page.text, contact.last_name)
    for name, value in contact.custom_fields.items():
        _assert_escaped(page.text, name)
        _assert_escaped(page.text, value)
    listing = auth_client.get(reverse("contact_list"), {"q": contact.phone})
    assert listing.status_code == 200
    _assert_escaped(listing.text, contact.first_name)


@pytest.mark.parametrize(
    "field", ["phone", "first_name", "last_name", "email", "custom_fields_text"]
)
def test_a_nul_byte_is_refused_next_to_its_field(auth_client, field):
    data = {"phone": "300 123 4567", "first_name": "Ana", "last_name": "", "email": ""}
    data[field] = "Ana\x00" if field != "custom_fields_text" else "sede = Norte\x00"
    response = auth_client.post(reverse("contact_create"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.text
    assert f'id="id_{field}_error"' in response.text
    assert not Contact.objects.exists()


# -- the phone normaliser --------------------------------------------------------------------


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(HOSTILE, st.sampled_from(["300 123 4567", "+57 310 987 6543"])), max_size=8)
)
def test_a_pasted_list_splits_into_canonical_phones_and_reasons(entries):
    # tests/test_phones.py covers one phone at a time; this is the paste box's list.
    phones, invalid = parse_phone_list("\n".join(entries))
    assert all(re.fullmatch(r"[1-9]\d{7,14}", phone) for phone in phones)
    assert len(phones) == len(set(phones))
    assert all(text.strip() and str(reason).strip() for text, reason in invalid)


# -- the campaign form -----------------------------------------------------------------------

BRACES = ["{", "}", "{{x}}", "{nombre", "nombre}", "{nombre}", "{}", "{0}", "{!r}", "{a.b}"]
MESSAGE = st.one_of(
    HOSTILE,
    st.lists(st.one_of(st.sampled_from(BRACES), ANY_TEXT), min_size=1, max_size=6).map("".join),
)


@FIXTURE_SETTINGS
@given(
    name=st.one_of(st.just("Recordatorio"), HOSTILE),
    message=MESSAGE,
    phones=st.one_of(st.just("300 123 4567, 310 987 6543"), HOSTILE, HOSTILE_OR_EMPTY),
)
def test_the_campaign_form_refuses_or_saves_and_always_escapes(
    auth_client, settings, name, message, phones
):
    settings.ONURIX_BASE_URL = "http://127.0.0.1:9/api/v1"  # nothing may be really sent
    before = Campaign.objects.count()
    response = auth_client.post(
        reverse("campaign_create"),
        {"name": name, "voice": "Mariana", "message": message, "retries": "1", "phones": phones},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code in (200, 302)
    event(f"campaign form: {response.status_code}")
    if response.status_code == 200:
        assert Campaign.objects.count() == before
        assert "<script>alert" not in response.text
        return
    assert Campaign.objects.count() == before + 1
    campaign = Campaign.objects.latest("pk")
    page = auth_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    _assert_escaped(page.text, campaign.name)
    assert "<script>alert" not in page.text


# -- the contact import ----------------------------------------------------------------------

TEXT_ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"])
CELL = st.one_of(
    st.sampled_from(MALICIOUS),
    st.sampled_from(["3001234567", "+57 310 987 6543", '=HYPERLINK("http://x")', "@SUM(1)"]),
    ANY_TEXT,
)


def _csv_text(rows: list[list[str]], delimiter: str) -> str:
    return "\n".join(delimiter.join(row) for row in rows)


CSV_FILES = st.builds(
    lambda header, rows, delimiter, encoding: _csv_text([header, *rows], delimiter).encode(
        encoding, errors="replace"
    ),
    header=st.one_of(st.just(["telefono", "nombre"]), st.lists(CELL, min_size=1, max_size=4)),
    rows=st.lists(st.lists(CELL, min_size=1, max_size=4), max_size=5),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=TEXT_ENCODINGS,
)
HUGE_CELLS = st.sampled_from(
    [
        b"telefono;nombre\n3001234567;" + b"a" * 1_048_576 + b"\n",
        b"telefono;" + b"n" * 1_048_576 + b"\n3001234567;Ana\n",
        b'telefono;nombre\n3001234567;"' + b"a" * 300_000 + b"\n",
        codecs.BOM_UTF16_LE + "telefono\tnombre\n3001234567\tAna\n".encode("utf-16-le") + b"\x00",
        codecs.BOM_UTF16_LE + b"t\x00e\x00\x00\xd8",
        b"\xff\xfe" + b"\x00" * 10,
        "telefono;nombre\n3001234567;José\n".encode("cp1252") + "Peña".encode(),
        b"PK\x03\x04" + b"not a zip",
        b"\xd0\xcf\x11\xe0 old excel",
        b"telefono\n=cmd|' /C calc'!A0\n+57 300 123 4567\n@SUM(A1)\n",
    ]
)
UPLOADS = st.one_of(st.binary(min_size=1, max_size=2_000), CSV_FILES, HUGE_CELLS)


def _import_and_preview(client, content: bytes, name: str, **mapping: str):
    """Upload a file; if it is taken, open its mapping page and ask for the preview (the
    first column as the phone unless `mapping` says otherwise)."""
    response = client.post(
        reverse("contact_import"),
        {"file": SimpleUploadedFile(name, content, "text/csv")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        return response, None
    job = ContactImport.objects.latest("pk")
    mapping_page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert mapping_page.status_code == 200
    assert "<script>alert" not in mapping_page.text
    columns = {f"column_{index}": "ignore" for index in range(len(job.headers))}
    columns["column_0"] = "phone"
    columns.update(mapping)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the worker's count
        preview = client.post(response["Location"], columns, HTTP_ACCEPT_LANGUAGE="en")
    assert preview.status_code in (200, 302)
    if preview.status_code == 200:  # refused: the reason is on the mapping form
        assert 'class="form-error"' in preview.text or 'class="field-error"' in preview.text
        assert "<script>alert" not in preview.text
        return preview, job
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    return page, job


@FIXTURE_SETTINGS
@given(content=UPLOADS, name=st.sampled_from(["contactos.csv", "c.xlsx", "a", "../../x.csv"]))
def test_the_import_gives_a_clear_message_or_a_preview(auth_client, content, name):
    contacts, imports, files = (
        Contact.objects.count(),
        ContactImport.objects.count(),
        _media_files(),
    )
    page, job = _import_and_preview(auth_client, content, name)
    event("import: refused" if job is None else "import: kept")
    if job is None:
        assert 'class="field-error"' in page.text or 'class="form-error' in page.text
        assert ContactImport.objects.count() == imports
        assert _media_files() == files
    else:
        assert ContactImport.objects.count() == imports + 1
        assert Path(job.file.path).is_relative_to(django_settings.MEDIA_ROOT)
    # Nothing is written to the contacts before the import is confirmed.
    assert Contact.objects.count() == contacts


@pytest.mark.parametrize(
    "content",
    [
        b"telefono;nombre\n3001234567;" + b"a" * 1_048_576 + b"\n",
        codecs.BOM_UTF16_LE + "telefono\tnombre\n3001234567\tAna\n".encode("utf-16-le") + b"\x00",
    ],
    ids=["1 MB cell", "utf-16 cut in half"],
)
def test_unreadable_rows_are_refused_at_the_preview_with_a_reason(auth_client, content):
    page, job = _import_and_preview(auth_client, content, "contactos.csv")
    assert job is not None
    # The row with the 1 MB cell is skipped with its reason; the file cut in half is not
    # read past its last whole line.
    assert "could not be read" in page.text or "longer than 10,000 characters" in page.text


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01\x02binary", codecs.BOM_UTF16_LE + b"t\x00e\x00\x00\xd8", b"PK\x03\x04 no zip"],
    ids=["binary", "broken utf-16", "broken xlsx"],
)
def test_a_refused_upload_leaves_no_row_and_no_file(auth_client, content):
    files = _media_files()
    page, job = _import_and_preview(auth_client, content, "contactos.csv")
    assert job is None
    assert 'class="field-error"' in page.text or 'class="form-error' in page.text
    assert not ContactImport.objects.exists()
    assert _media_files() == files


def test_formula_cells_are_kept_as_text_and_exported_neutralised(
    auth_client, django_capture_on_commit_callbacks
):
    content = b"telefono;nombre\n3001234567;=cmd|' /C calc'!A0\n"
    _import_and_preview(auth_client, content, "contactos.csv", column_1="first_name")
    job = ContactImport.objects.get()
    assert job.to_create == 1
    assert not Contact.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the worker's run, at once
        auth_client.post(reverse("contact_import_detail", args=[job.pk]), {"confirm": "1"})
    contact = Contact.objects.get()
    assert contact.first_name == "=cmd|' /C calc'!A0"
    exported = b"".join(auth_client.get(reverse("contact_export")).streaming_content).decode()
    assert "'=cmd|' /C calc'!A0" in exported
    assert ContactGroup.objects.count() == 0


# -- audio uploads ---------------------------------------------------------------------------

AUDIO_CODE = "3f2b8c1e-9d4a-4c1b-8e2f-0a1b2c3d4e5f"


@FIXTURE_SETTINGS
@given(content=st.binary(max_size=2_000), declared=st.sampled_from(["audio/mpeg", "audio/wav"]))
def test_random_bytes_are_never_taken_for_audio(auth_client, content, declared):
    assume(not content.startswith((b"ID3", b"RIFF", b"OggS")))
    assume(not (len(content) >= 2 and content[0] == 0xFF and content[1] & 0xE0 == 0xE0))
    files = _media_files()
    response = auth_client.post(
        reverse("audio_code_create"),
        {
            "code": AUDIO_CODE,
            "name": "Cita",
            "audio_file": SimpleUploadedFile("cita.mp3", content, declared),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert 'id="id_audio_file_error"' in response.text
    assert not AudioCode.objects.exists()
    assert _media_files() == files


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.mp3",
        "/etc/passwd.mp3",
        "C:\\x\\a.mp3",
        "..\\..\\etc\\passwd.mp3",
        "..%2F..%2Fpasswd.mp3",
        "a..mp3",
    ],
)
def test_a_path_in_the_uploaded_name_never_reaches_the_disk(auth_client, name):
    # Over HTTP Django's upload parser keeps only the part after the last / or \; what is
    # left is refused if it still holds "..", else the file is stored under a generated
    # name inside MEDIA_ROOT. (A Windows path in an upload built in code is refused by the
    # form: tests/test_views_audio.py.)
    mp3 = io.BytesIO(b"ID3\x04\x00" + b"\x00" * 64)
    mp3.name = name
    response = auth_client.post(
        reverse("audio_code_create"),
        {"code": AUDIO_CODE, "name": "Cita", "audio_file": mp3},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert "is not allowed" in response.text
        assert not AudioCode.objects.exists()
        return
    stored = Path(AudioCode.objects.get().audio_file.path).resolve()
    assert stored.is_relative_to(Path(django_settings.MEDIA_ROOT).resolve() / "audios")
    assert re.fullmatch(r"[0-9a-f]{32}\.mp3", stored.name)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (codecs.BOM_UTF16_LE + b"\x00" * 10, "contactos.csv"),  # NUL characters
        (b"\xf0\xdd*\xd5", "c.xlsx"),  # decodes to a lone surrogate
    ],
    ids=["nul", "lone-surrogate"],
)
def test_text_postgresql_cannot_store_is_dropped_not_a_server_error(auth_client, content, name):
    """Found by hypothesis on PostgreSQL, which refuses NUL and lone surrogates in JSON."""
    page, _job = _import_and_preview(auth_client, content, name)
    assert page.status_code < 500
