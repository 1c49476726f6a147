"""The import pages: upload, fix the mapping, preview, confirm, see the report."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Contact, ContactGroup, ContactImport
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

FRONT_OFFICE_CSV = (
    "Cédula;Nombres;Apellidos;Celular;Correo;Sede\r\n"
    "1010;Ana;Muñoz;300 123 4567;ana@example.com;Chapinero\r\n"
    "1011;Luis;Peñalosa;+57 310-987-6543;;Chapinero\r\n"
    "1012;Eva;Gómez;3.00123457E+09;;Usaquén\r\n"
    ";;;;;\r\n"
    "1013;Ana bis;Muñoz;(+57) 300 123 4567;;Chapinero\r\n"
).encode("cp1252")


def _upload(client, content=FRONT_OFFICE_CSV, name="pacientes.csv"):
    return client.post(
        reverse("contact_import"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _mapping_data(job, **changes):
    data = {f"column_{i}": target for i, target in enumerate(job.mapping)}
    data.update(changes)
    return data


def test_full_import_journey(auth_client, django_capture_on_commit_callbacks):
    existing = make_contact(phone="573109876543", first_name="", email="luis@old.example")
    response = _upload(auth_client)
    job = ContactImport.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.headers[1] == "Nombres"
    assert job.mapping[3] == "phone"

    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Muñoz" in page.text  # the sample rows, decoded right

    # Keep "Cédula" as a custom field, put everyone in a new group, preview.
    # The worker counts the rows (the task runs when the request's transaction commits).
    with django_capture_on_commit_callbacks(execute=True):
        preview = auth_client.post(
            job.get_absolute_url(),
            {**_mapping_data(job, column_0="custom"), "new_group": "Pacientes Chapinero"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert preview.status_code == 302
    job.refresh_from_db()
    assert (job.to_create, job.to_update) == (1, 1)
    assert job.skipped == 3  # rounded phone, duplicate, empty row
    reasons = " ".join(row["reason"] for row in job.skipped_rows)
    assert "line 2" in reasons.lower()  # the duplicate points at the first occurrence
    assert Contact.objects.count() == 1  # nothing written yet
    assert not ContactGroup.objects.exists()

    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Confirm: import 2 contacts" in page.text

    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(job.get_absolute_url(), {"confirm": "1"})
    job.refresh_from_db()
    assert job.state == ContactImport.State.DONE
    assert (job.created, job.updated) == (1, 1)
    group = ContactGroup.objects.get(name="Pacientes Chapinero")
    assert set(group.contacts.values_list("phone", flat=True)) == {
        "573001234567",
        "573109876543",
    }
    ana = Contact.objects.get(phone="573001234567")
    assert (ana.first_name, ana.last_name) == ("Ana", "Muñoz")
    assert ana.custom_fields.get("Cédula") == "1010"
    existing.refresh_from_db()
    assert existing.first_name == "Luis"  # empty field filled
    assert existing.email == "luis@old.example"  # existing data kept

    report = auth_client.get(reverse("contact_import_report", args=[job.pk]))
    body = b"".join(report.streaming_content).decode("utf-8")
    assert "3.00123457E+09" in body

    again = auth_client.post(job.get_absolute_url(), {"confirm": "1"}, follow=True)
    assert Contact.objects.count() == 2
    assert again.status_code == 200


def test_mapping_without_a_phone_column_is_refused_next_to_the_columns(auth_client):
    _upload(auth_client)
    job = ContactImport.objects.get()
    data = _mapping_data(job, column_3="custom")
    response = auth_client.post(job.get_absolute_url(), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Choose the column that holds the phone." in response.text
    job.refresh_from_db()
    assert job.state == ContactImport.State.UPLOADED


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"", "empty.csv"), (b"\x00\x01\x02PK\xff\xfe" * 50, "binary.csv")],
    ids=["empty", "binary"],
)
def test_bad_files_get_a_clear_message_and_nothing_is_kept(auth_client, content, name):
    response = _upload(auth_client, content=content, name=name)
    assert response.status_code == 200
    assert 'role="alert"' in response.text or 'class="field-error"' in response.text
    assert not ContactImport.objects.exists()


def test_file_over_the_limit_is_refused(auth_client, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = _upload(auth_client)
    assert "The file is larger than 100\xa0bytes" in response.text
    assert not ContactImport.objects.exists()


def test_names_that_look_like_formulas_are_flagged_in_the_preview(
    auth_client, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from campaigns.models import ContactImport

    content = 'telefono;nombre\n3001234567;=HYPERLINK("http://x";"clic")\n3109876543;Ana\n'
    auth_client.post(
        reverse("contact_import"),
        {"file": SimpleUploadedFile("p.csv", content.encode(), content_type="text/csv")},
    )
    job = ContactImport.objects.get()
    columns = {f"column_{index}": target for index, target in enumerate(job.mapping)}
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(job.get_absolute_url(), columns, HTTP_ACCEPT_LANGUAGE="es-co")
    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es-co")
    assert "1 fila tiene un nombre que parece una fórmula" in page.text
    assert "Línea 2" in page.text
