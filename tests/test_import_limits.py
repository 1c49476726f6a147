"""Hostile and broken contact files: each is refused (or its bad rows skipped) within the
import's limits, with a message a person can act on, in bounded time and memory; the web
request reads only what the mapping step needs; custom-field names and every export's
header cells are formula-safe."""

import io
import os
import time
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from campaigns import services
from campaigns.contact_import import reading
from campaigns.models import Contact, ContactImport
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _upload(client, content: bytes, name: str):
    return client.post(
        reverse("contact_import"),
        {"file": SimpleUploadedFile(name, content)},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _measured(action):
    """(result, seconds, peak bytes allocated) of `action()`, run twice: timed, then traced
    (tracing slows it down)."""
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        return action(), seconds, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _preview(client, job: ContactImport, capture, **targets: str):
    """Post the mapping (the recognised one, changed by `targets`); the worker counts."""
    data = {f"column_{index}": target for index, target in enumerate(job.mapping)}
    data.update(targets)
    with capture(execute=True):
        response = client.post(job.get_absolute_url(), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    job.refresh_from_db()
    return client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")


# -- the upload --------------------------------------------------------------------------------


def test_an_upload_over_the_limit_is_stopped_while_it_streams(settings, rf):
    settings.IMPORT_MAX_BYTES = 1 * MB
    settings.AUDIO_MAX_BYTES = 1 * MB  # the handler stops at the larger of the two
    request = rf.post("/", {"file": SimpleUploadedFile("big.csv", b"3" * 5 * MB)})

    upload = request.FILES["file"]

    assert upload.refused
    # The handlers that store files got no more than the limit and the chunk it fell in.
    stored = request.upload_handlers[-1].file
    assert os.path.getsize(stored.temporary_file_path()) <= 1 * MB + 64 * 1024


def test_an_upload_over_the_limit_gets_the_limit_and_keeps_nothing(settings, auth_client):
    settings.IMPORT_MAX_BYTES = 1 * MB
    response = _upload(auth_client, b"telefono\n" + b"3001234567\n" * 200_000, "big.csv")
    assert response.status_code == 200
    assert "The file is larger than 1.0\xa0MB. Split it into smaller files." in response.text
    assert not ContactImport.objects.exists()


# -- hostile files, refused at the upload -------------------------------------------------------


def _shared_strings_bomb(uncompressed: int) -> bytes:
    """An .xlsx whose one shared string (the first column's name) is `uncompressed` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            "</Types>",
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            '<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
            "</sheetData></worksheet>",
        )
        with archive.open("xl/sharedStrings.xml", "w") as strings:
            strings.write(b'<sst count="1"><si><t>')
            for _ in range(uncompressed // MB):
                strings.write(b"A" * MB)
            strings.write(b"</t></si></sst>")
    return buffer.getvalue()


def test_a_shared_strings_bomb_is_refused_in_well_under_a_second_and_50_mb(auth_client):
    bomb = _shared_strings_bomb(300 * MB)
    assert len(bomb) < 1 * MB

    response, seconds, peak = _measured(lambda: _upload(auth_client, bomb, "pacientes.xlsx"))

    assert "This workbook would take 300.0\xa0MB once opened" in response.text
    assert seconds < 1
    assert peak < 50 * MB
    assert not ContactImport.objects.exists()


def test_a_bomb_under_the_size_limits_is_refused_by_its_compression(auth_client):
    response = _upload(auth_client, _shared_strings_bomb(40 * MB), "pacientes.xlsx")
    assert "more than the import accepts" in response.text
    assert not ContactImport.objects.exists()


def test_a_csv_of_200_000_columns_is_refused_at_once(auth_client):
    header = ";".join(f"c{n}" for n in range(200_000)).encode()
    content = header + b"\n" + b";".join([b"3001234567"] * 200_000) + b"\n"

    response, seconds, peak = _measured(lambda: _upload(auth_client, content, "wide.csv"))

    assert "The file has more than 200 columns." in response.text
    assert seconds < 1
    assert peak < 50 * MB
    assert not ContactImport.objects.exists()


def test_a_workbook_with_a_cell_beyond_the_column_limit_is_refused(auth_client):
    workbook = openpyxl.Workbook()
    workbook.active.append(["telefono", "nombre"])
    workbook.active.append(["3001234567", "Ana"])
    workbook.active.cell(row=2, column=5000, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = _upload(auth_client, buffer.getvalue(), "pacientes.xlsx")

    assert "The file has more than 200 columns." in response.text


def test_a_column_name_over_200_characters_is_refused(auth_client):
    response = _upload(auth_client, b"telefono;" + b"n" * 201 + b"\n3001234567;Ana\n", "a.csv")
    assert "A column name is longer than 200 characters" in response.text
    assert not ContactImport.objects.exists()


def test_a_workbook_declaring_a_million_rows_and_columns_costs_nothing(
    auth_client, django_capture_on_commit_callbacks
):
    """openpyxl trusts the sheet's declared size: it would pad 16,384 cells a row."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["telefono", "nombre"])
    workbook.active.append(["3001234567", "Ana"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(buffer)
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'ref="A1:B2"', b'ref="A1:XFD1048576"')
                assert b"XFD1048576" in data
            archive.writestr(entry, data)

    started = time.perf_counter()
    _upload(auth_client, patched.getvalue(), "pacientes.xlsx")
    job = ContactImport.objects.get()
    _preview(auth_client, job, django_capture_on_commit_callbacks)

    assert time.perf_counter() - started < 3
    assert (job.state, job.rows_total, job.to_create) == (ContactImport.State.PREVIEWED, 1, 1)


# -- broken files fail politely -----------------------------------------------------------------


def _malformed_workbook() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["telefono", "nombre"])
    for n in range(30):
        workbook.active.append([f"30012345{n:02d}", "Ana"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(buffer)
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                # Row 21 is not XML: the sheet breaks in its middle.
                data = data.replace(b'<row r="21"', b'<row r="21" <', 1)
            archive.writestr(entry, data)
    return broken.getvalue()


def test_malformed_workbook_xml_is_a_message_in_the_page(
    auth_client, django_capture_on_commit_callbacks
):
    response = _upload(auth_client, _malformed_workbook(), "pacientes.xlsx")
    assert response.status_code == 302  # the header and the sample read fine
    job = ContactImport.objects.get()

    page = _preview(auth_client, job, django_capture_on_commit_callbacks)

    assert page.status_code == 200
    assert job.state == ContactImport.State.UPLOADED
    assert "The workbook is damaged after line 20" in page.text
    assert Contact.objects.count() == 0


def test_malformed_workbook_xml_is_a_message_from_the_command(tmp_path):
    path = tmp_path / "pacientes.xlsx"
    path.write_bytes(_malformed_workbook())
    with pytest.raises(CommandError, match="The workbook is damaged after line 20"):
        call_command("import_contacts", str(path), stdout=io.StringIO())
    assert Contact.objects.count() == 0


def test_an_unclosed_quote_skips_its_row_with_its_line_and_reads_the_rest(
    auth_client, django_capture_on_commit_callbacks
):
    rows = [f"30012{n:05d};Paciente {n}" for n in range(300)]
    rows[1] = '3001200001;"Ana sin cerrar'  # line 3 of the file
    content = ("telefono;nombre\n" + "\n".join(rows) + "\n").encode()
    _upload(auth_client, content, "pacientes.csv")
    job = ContactImport.objects.get()

    page = _preview(auth_client, job, django_capture_on_commit_callbacks)

    assert (job.to_create, job.skipped) == (299, 1)
    [skipped] = job.skipped_rows
    assert skipped["line"] == 3
    assert "A quote opened in this row is never closed" in skipped["reason"]
    assert "A quote opened in this row is never closed" in page.text


def test_a_quoted_cell_over_several_lines_is_still_one_cell(
    auth_client, django_capture_on_commit_callbacks
):
    content = b'telefono;notas\n3001234567;"primera\nsegunda ""dos""\ntercera"\n3107654321;x\n'
    _upload(auth_client, content, "pacientes.csv")
    job = ContactImport.objects.get()
    _preview(auth_client, job, django_capture_on_commit_callbacks, column_1="custom")
    assert (job.to_create, job.skipped) == (2, 0)


def test_a_cell_over_10_000_characters_skips_its_row(
    auth_client, django_capture_on_commit_callbacks
):
    content = b"telefono;nombre\n3001234567;" + b"a" * 10_001 + b"\n3107654321;Ana\n"
    _upload(auth_client, content, "pacientes.csv")
    job = ContactImport.objects.get()
    _preview(auth_client, job, django_capture_on_commit_callbacks)
    assert (job.to_create, job.skipped) == (1, 1)
    assert job.skipped_rows[0]["line"] == 2
    assert "longer than 10,000 characters" in job.skipped_rows[0]["reason"]


def test_a_wrong_encoding_names_its_line(auth_client, django_capture_on_commit_callbacks):
    # Not UTF-8 (a lone é in Windows-1252), and 0x81 is no Windows-1252 character either.
    content = b"telefono;nombre\n3001234567;Jos\xe9\n3107654321;Ana\n3112223344;\x81\n"
    response = _upload(auth_client, content, "pacientes.csv")
    assert "Line 4 could not be read as text" in response.text
    assert not ContactImport.objects.exists()


def test_a_file_over_the_row_limit_is_refused_by_the_preview(
    settings, auth_client, django_capture_on_commit_callbacks
):
    settings.IMPORT_MAX_ROWS = 10
    content = ("telefono\n" + "\n".join(f"30012{n:05d}" for n in range(11)) + "\n").encode()
    _upload(auth_client, content, "pacientes.csv")
    job = ContactImport.objects.get()

    page = _preview(auth_client, job, django_capture_on_commit_callbacks)

    assert job.state == ContactImport.State.UPLOADED
    assert "The file has more than 10 rows. Split it into smaller files." in page.text


# -- the web request reads a bounded part of the file ------------------------------------------


def test_a_200_000_row_file_is_previewed_by_the_worker_not_the_web_request(
    auth_client, monkeypatch, django_capture_on_commit_callbacks
):
    content = ("telefono;nombre\n" + "".join(f"3{n:09d};P{n}\n" for n in range(200_000))).encode()
    lines_read = []
    clean_text = reading.clean_text

    def counted(line: str) -> str:
        lines_read.append(1)
        return clean_text(line)

    monkeypatch.setattr(reading, "clean_text", counted)

    _upload(auth_client, content, "pacientes.csv")
    job = ContactImport.objects.get()
    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "3000000004" in page.text  # the sample
    data = {f"column_{index}": target for index, target in enumerate(job.mapping)}
    with django_capture_on_commit_callbacks(execute=False) as worker:
        response = auth_client.post(job.get_absolute_url(), data, HTTP_ACCEPT_LANGUAGE="en")
        progress = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    # Upload, mapping page, preview request and its progress page: a few rows each.
    assert response.status_code == 302
    assert len(lines_read) < 100
    job.refresh_from_db()
    assert job.state == ContactImport.State.PREVIEWING
    assert "hx-get" in progress.text and "Checking the file" in progress.text

    for task in worker:  # the worker's turn
        task()
    job.refresh_from_db()
    assert (job.state, job.to_create, job.rows_total) == ("previewed", 200_000, 200_000)
    assert len(lines_read) > 200_000


# -- formula-safe names and headers -------------------------------------------------------------

FORMULA_NAMES = ['=HYPERLINK("http://x","clic")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]


@pytest.mark.parametrize("name", FORMULA_NAMES)
def test_a_formula_column_cannot_become_a_custom_field(auth_client, name):
    content = f"telefono;{name}\n3001234567;x\n".encode()
    _upload(auth_client, content, "pacientes.csv")
    job = ContactImport.objects.get()
    response = auth_client.post(
        job.get_absolute_url(),
        {"column_0": "phone", "column_1": "custom"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "This name cannot be a custom field" in response.text
    job.refresh_from_db()
    assert job.state == ContactImport.State.UPLOADED


def test_keeping_the_other_columns_leaves_out_formula_names(
    auth_client, django_capture_on_commit_callbacks
):
    content = b"telefono;Barrio;@SUM(1)\n3001234567;Chico;x\n"
    _upload(auth_client, content, "pacientes.csv")
    job = ContactImport.objects.get()
    data = {"column_0": "phone", "column_1": "ignore", "column_2": "ignore"}
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(job.get_absolute_url(), {**data, "keep_other_columns": "1"})
    job.refresh_from_db()
    assert job.mapping == ["phone", "custom", "ignore"]


def test_the_command_refuses_a_formula_custom_field(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"telefono;=1+1\n3001234567;x\n")
    with pytest.raises(CommandError, match="«=1\\+1»"):
        call_command("import_contacts", str(path), "--map", "=1+1=custom", stdout=io.StringIO())
    assert not Contact.objects.exists()


def test_the_contact_form_refuses_a_formula_custom_field(auth_client):
    response = auth_client.post(
        reverse("contact_create"),
        {"phone": "3001234567", "custom_fields_text": "@SUM(1) = x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "cannot start with =, +, - or @" in response.text
    assert not Contact.objects.exists()


def test_every_export_header_cell_is_neutralised(auth_client):
    # A name from before the rule, or from the admin: the export still neutralises it.
    make_contact(phone="573001234567", custom_fields={"=HYPERLINK(1)": "x", "Sede": "Norte"})
    response = auth_client.get(reverse("contact_export"))
    header = b"".join(response.streaming_content).decode("utf-8").splitlines()[0]
    assert "'=HYPERLINK(1)" in header
    assert ",=HYPERLINK" not in header

    rows = services.contact_import_report_rows(
        job=ContactImport(skipped_rows=[{"line": 2, "phone": "=1", "reason": "@x"}])
    )
    lines = "".join(rows).splitlines()
    assert lines[1] == "2,'=1,'@x,"
