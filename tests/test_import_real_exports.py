"""Real exports import in one step: Google Contacts, Outlook and a front office's Excel.

Each file is made here with the exact columns its program writes, uploaded through the
pages, previewed with the recognised mapping as it is, and confirmed.
"""

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Contact, ContactImport

pytestmark = pytest.mark.django_db

# Google Contacts, "Google CSV" (the current format): one Label/Value pair per email,
# phone, address... as many as the contact with the most of them has.
GOOGLE_HEADER = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Phonetic First Name",
    "Phonetic Middle Name",
    "Phonetic Last Name",
    "Name Prefix",
    "Name Suffix",
    "Nickname",
    "File As",
    "Organization Name",
    "Organization Title",
    "Organization Department",
    "Birthday",
    "Notes",
    "Photo",
    "Labels",
    "E-mail 1 - Label",
    "E-mail 1 - Value",
    "E-mail 2 - Label",
    "E-mail 2 - Value",
    "Phone 1 - Label",
    "Phone 1 - Value",
    "Phone 2 - Label",
    "Phone 2 - Value",
    "Phone 3 - Label",
    "Phone 3 - Value",
    "Address 1 - Label",
    "Address 1 - Formatted",
    "Address 1 - Street",
    "Address 1 - City",
    "Address 1 - PO Box",
    "Address 1 - Region",
    "Address 1 - Postal Code",
    "Address 1 - Country",
    "Address 1 - Extended Address",
    "Website 1 - Label",
    "Website 1 - Value",
    "Event 1 - Label",
    "Event 1 - Value",
    "Relation 1 - Label",
    "Relation 1 - Value",
    "Custom Field 1 - Label",
    "Custom Field 1 - Value",
]

# Outlook's "Comma Separated Values" export: always these 88 columns.
OUTLOOK_HEADER = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Title",
    "Suffix",
    "Initials",
    "Web Page",
    "Gender",
    "Birthday",
    "Anniversary",
    "Location",
    "Language",
    "Internet Free Busy",
    "Notes",
    "E-mail Address",
    "E-mail 2 Address",
    "E-mail 3 Address",
    "Primary Phone",
    "Home Phone",
    "Home Phone 2",
    "Mobile Phone",
    "Pager",
    "Home Fax",
    "Home Address",
    "Home Street",
    "Home Street 2",
    "Home Street 3",
    "Home Address PO Box",
    "Home City",
    "Home State",
    "Home Postal Code",
    "Home Country",
    "Spouse",
    "Children",
    "Manager's Name",
    "Assistant's Name",
    "Referred By",
    "Company Main Phone",
    "Business Phone",
    "Business Phone 2",
    "Business Fax",
    "Assistant's Phone",
    "Company",
    "Job Title",
    "Department",
    "Office Location",
    "Organizational ID Number",
    "Profession",
    "Account",
    "Business Address",
    "Business Street",
    "Business Street 2",
    "Business Street 3",
    "Business Address PO Box",
    "Business City",
    "Business State",
    "Business Postal Code",
    "Business Country",
    "Other Phone",
    "Other Fax",
    "Other Address",
    "Other Street",
    "Other Street 2",
    "Other Street 3",
    "Other Address PO Box",
    "Other City",
    "Other State",
    "Other Postal Code",
    "Other Country",
    "Callback",
    "Car Phone",
    "ISDN",
    "Radio Phone",
    "TTY/TDD Phone",
    "Telex",
    "User 1",
    "User 2",
    "User 3",
    "User 4",
    "Keywords",
    "Mileage",
    "Hobby",
    "Billing Information",
    "Directory Server",
    "Sensitivity",
    "Priority",
    "Private",
    "Categories",
]

SPANISH_HEADER = [
    "Nombre",
    "Segundo nombre",
    "Apellidos",
    "Celular",
    "Teléfono fijo",
    "Correo",
    "Documento",
    "Ciudad",
    "Dirección",
    "Sede",
    "Fecha de cita",
]

GOOGLE_ROWS = [
    {
        "First Name": "Ana",
        "Middle Name": "María",
        "Last Name": "Muñoz",
        "File As": "Muñoz, Ana María",
        "Organization Name": "Clínica Norte",
        "Birthday": "1985-04-12",
        "Labels": "* myContacts ::: Pacientes",
        "E-mail 1 - Label": "* Home",
        "E-mail 1 - Value": "ana@example.com",
        "E-mail 2 - Label": "Work",
        "E-mail 2 - Value": "ana.munoz@clinicanorte.example",
        "Phone 1 - Label": "Mobile",
        "Phone 1 - Value": "+57 300 123 4567",
        "Phone 2 - Label": "Home",
        "Phone 2 - Value": "601 234 5678",
        "Address 1 - Label": "Home",
        "Address 1 - Formatted": "Cra. 7 # 72-41\nBogotá\nColombia",
        "Address 1 - Street": "Cra. 7 # 72-41",
        "Address 1 - City": "Bogotá",
        "Address 1 - Country": "Colombia",
    },
    {
        "First Name": "Luis",
        "Last Name": "Peñalosa",
        "Labels": "* myContacts",
        "Phone 1 - Label": "Mobile",
        "Phone 1 - Value": "(310) 987-6543 ::: 315 000 1111",
        "Phone 2 - Label": "Work",
        "Phone 2 - Value": "+57 601 555 1234",
        "Phone 3 - Label": "Other",
        "Phone 3 - Value": "320 111 2233",
    },
    {
        "First Name": "Eva",
        "Last Name": "Gómez",
        "Labels": "* myContacts",
        "E-mail 1 - Label": "* ",
        "E-mail 1 - Value": "eva@example.com",
        "Phone 1 - Label": "",
        "Phone 1 - Value": "3209998877",
    },
    {  # an email-only contact: Google exports those too
        "First Name": "Soporte",
        "Last Name": "Proveedor",
        "Labels": "* other",
        "E-mail 1 - Label": "* Work",
        "E-mail 1 - Value": "soporte@proveedor.example",
    },
]

OUTLOOK_ROWS = [
    {
        "First Name": "Luis",
        "Middle Name": "Carlos",
        "Last Name": "Peñalosa",
        "Title": "Sr.",
        "Initials": "L.C.P.",
        "Gender": "Unspecified",
        "Birthday": "0/0/00",
        "Anniversary": "0/0/00",
        "Notes": "Prefiere llamadas en la mañana",
        "E-mail Address": "luis@example.com",
        "E-mail 2 Address": "lpenalosa@empresa.example",
        "Primary Phone": "+57 601 234 0000",
        "Home Phone": "(604) 444-1234",
        "Mobile Phone": "+57 315 555 0101",
        "Business Phone": "+57 601 234 5678",
        "Business Phone 2": "601 234 5679",
        "Company": "Empresa S.A.S.",
        "Job Title": "Gerente",
        "Department": "Ventas",
        "Business City": "Medellín",
        "Home City": "Envigado",
        "Private": "False",
        "Sensitivity": "Normal",
        "Priority": "Normal",
        "Categories": "Pacientes;Chapinero",
    },
    {
        "First Name": "Marta",
        "Last Name": "Gómez",
        "Gender": "Unspecified",
        "Birthday": "0/0/00",
        "E-mail Address": "marta@example.com",
        "Mobile Phone": "(300) 123-4567",
        "Private": "False",
        "Sensitivity": "Normal",
        "Priority": "Normal",
    },
    {
        "First Name": "Julián",
        "Last Name": "Núñez",
        "Gender": "Unspecified",
        "Mobile Phone": "3011234567",
        "Home Fax": "601 765 4321",
        "Pager": "3001112222",
        "Private": "False",
        "Sensitivity": "Normal",
        "Priority": "Normal",
    },
]

SPANISH_ROWS = [
    [
        "Ana",
        "María",
        "Muñoz Peñalosa",
        3001234567,
        "601 234 5678",
        "ana@example.com",
        1010123456,
        "Bogotá",
        "Cra. 7 # 72-41",
        "Chapinero",
        datetime(2025, 3, 14, 9, 30),
    ],
    [
        "Luis",
        "",
        "Gómez",
        "+57 310 987 6543",
        "",
        "",
        79123456,
        "Bogotá",
        "Cl. 100 # 15-20",
        "Usaquén",
        datetime(2025, 3, 14, 10, 0),
    ],
    [
        "Eva",
        "Lucía",
        "Núñez",
        "(320) 999-8877",
        "604 444 1234",
        "eva@example.com",
        52987654,
        "Medellín",
        "",
        "Poblado",
        datetime(2025, 3, 15, 8, 15),
    ],
]


def google_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, GOOGLE_HEADER, lineterminator="\r\n")
    writer.writeheader()
    for row in GOOGLE_ROWS:
        writer.writerow(dict.fromkeys(GOOGLE_HEADER, "") | row)
    return buffer.getvalue().encode("utf-8")


def outlook_csv() -> bytes:
    # Outlook quotes every cell and writes the system's code page (Windows-1252).
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, OUTLOOK_HEADER, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writeheader()
    for row in OUTLOOK_ROWS:
        writer.writerow(dict.fromkeys(OUTLOOK_HEADER, "") | row)
    return buffer.getvalue().encode("cp1252")


def spanish_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(SPANISH_HEADER)
    for row in SPANISH_ROWS:
        sheet.append([cell if cell != "" else None for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def spanish_semicolon_csv() -> bytes:
    # Excel in Spanish saves "CSV (delimitado por comas)" with ; and Windows-1252.
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(SPANISH_HEADER)
    for row in SPANISH_ROWS:
        writer.writerow(
            [
                cell.strftime("%d/%m/%Y %H:%M") if isinstance(cell, datetime) else cell
                for cell in row
            ]
        )
    return buffer.getvalue().encode("cp1252")


def upload(client, name: str, content: bytes) -> ContactImport:
    response = client.post(
        reverse("contact_import"),
        {"file": SimpleUploadedFile(name, content)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    job = ContactImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    return job


def mapping_as_shown(job: ContactImport, **changes) -> dict[str, str]:
    """What the mapping step posts when nobody touches it (or with `changes`)."""
    return {f"column_{index}": target for index, target in enumerate(job.mapping)} | changes


def targets(job: ContactImport) -> dict[str, str]:
    return dict(zip(job.headers, job.mapping, strict=True))


def confirm(client, job: ContactImport, capture) -> ContactImport:
    with capture(execute=True):
        client.post(job.get_absolute_url(), {"confirm": "1"})
    job.refresh_from_db()
    assert job.state == ContactImport.State.DONE
    return job


def contacts() -> dict[str, tuple[str, str, str]]:
    return {c.phone: (c.first_name, c.last_name, c.email) for c in Contact.objects.all()}


EXPORTS = {
    "google": ("contacts.csv", google_csv),
    "outlook": ("contacts.CSV", outlook_csv),
    "spanish-xlsx": ("pacientes.xlsx", spanish_xlsx),
    "spanish-semicolon-csv": ("pacientes.csv", spanish_semicolon_csv),
}
# What each field is read from, by export.
RECOGNISED = {
    "google": {
        "phone": "Phone 1 - Value",
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "E-mail 1 - Value",
    },
    "outlook": {
        "phone": "Mobile Phone",
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "E-mail Address",
    },
    "spanish-xlsx": {
        "phone": "Celular",
        "first_name": "Nombre",
        "last_name": "Apellidos",
        "email": "Correo",
    },
}
RECOGNISED["spanish-semicolon-csv"] = RECOGNISED["spanish-xlsx"]
# (to create, skipped) in the preview.
COUNTS = {
    "google": (3, 1),  # the email-only contact has no phone
    "outlook": (3, 0),
    "spanish-xlsx": (3, 0),
    "spanish-semicolon-csv": (3, 0),
}
IMPORTED = {
    "google": {
        "573001234567": ("Ana", "Muñoz", "ana@example.com"),
        "573109876543": ("Luis", "Peñalosa", ""),  # the first of "... ::: ..."
        "573209998877": ("Eva", "Gómez", "eva@example.com"),
    },
    "outlook": {
        "573155550101": ("Luis", "Peñalosa", "luis@example.com"),
        "573001234567": ("Marta", "Gómez", "marta@example.com"),
        "573011234567": ("Julián", "Núñez", ""),
    },
    "spanish-xlsx": {
        "573001234567": ("Ana", "Muñoz Peñalosa", "ana@example.com"),
        "573109876543": ("Luis", "Gómez", ""),
        "573209998877": ("Eva", "Núñez", "eva@example.com"),
    },
}
IMPORTED["spanish-semicolon-csv"] = IMPORTED["spanish-xlsx"]
# Kept as custom fields without asking: what a reminder says in its message.
PLACEHOLDERS = {
    "google": set(),
    "outlook": set(),
    "spanish-xlsx": {"Documento", "Ciudad", "Sede", "Fecha de cita"},
    "spanish-semicolon-csv": {"Documento", "Ciudad", "Sede", "Fecha de cita"},
}


def test_the_exports_have_their_real_columns():
    assert len(OUTLOOK_HEADER) == len(set(OUTLOOK_HEADER)) == 88
    assert len(GOOGLE_HEADER) == len(set(GOOGLE_HEADER))


@pytest.mark.parametrize("export", EXPORTS)
def test_a_real_export_imports_in_one_step_without_touching_the_mapping(
    auth_client, django_capture_on_commit_callbacks, export
):
    name, make = EXPORTS[export]
    job = upload(auth_client, name, make())

    recognised = targets(job)
    for field, column in RECOGNISED[export].items():
        assert recognised[column] == field
        assert job.mapping.count(field) == 1
    assert {c for c, target in recognised.items() if target == "custom"} == PLACEHOLDERS[export]
    for column in (
        "Middle Name",
        "Segundo nombre",
        "Home Phone",
        "Teléfono fijo",
        "Phone 2 - Value",
    ):
        assert recognised.get(column, "ignore") == "ignore"

    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "field-error" not in page.text

    # The mapping as recognised, posted back unchanged, is accepted; the worker counts.
    with django_capture_on_commit_callbacks(execute=True):
        preview = auth_client.post(
            job.get_absolute_url(), mapping_as_shown(job), HTTP_ACCEPT_LANGUAGE="en"
        )
    assert preview.status_code == 302, preview.context["form"].errors
    job.refresh_from_db()
    assert job.state == ContactImport.State.PREVIEWED
    assert (job.to_create, job.skipped) == COUNTS[export]
    assert job.to_update == 0
    assert not Contact.objects.exists()

    job = confirm(auth_client, job, django_capture_on_commit_callbacks)

    assert job.created == COUNTS[export][0]
    assert contacts() == IMPORTED[export]
    kept = set().union(*(c.custom_fields.keys() for c in Contact.objects.all()))
    assert kept == PLACEHOLDERS[export]  # no custom field from the export's other columns


@pytest.mark.parametrize("export", ["spanish-xlsx", "spanish-semicolon-csv"])
def test_placeholder_columns_of_a_spanish_file_are_kept(
    auth_client, django_capture_on_commit_callbacks, export
):
    name, make = EXPORTS[export]
    job = upload(auth_client, name, make())
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(job.get_absolute_url(), mapping_as_shown(job))
    confirm(auth_client, job, django_capture_on_commit_callbacks)

    ana = Contact.objects.get(phone="573001234567")
    assert ana.custom_fields["Sede"] == "Chapinero"
    assert ana.custom_fields["Documento"] == "1010123456"  # no ".0", no 1.01E+09
    assert ana.custom_fields["Fecha de cita"].startswith(("2025-03-14T09:30", "14/03/2025 09:30"))
    assert "Dirección" not in ana.custom_fields


@pytest.mark.parametrize(
    ("export", "kept", "still_ignored"),
    [
        (
            "google",
            {"Labels": "* myContacts ::: Pacientes", "Organization Name": "Clínica Norte"},
            {"Middle Name", "Phone 2 - Value", "E-mail 2 - Value", "Phone 1 - Label"},
        ),
        (
            "outlook",
            {"Company": "Empresa S.A.S.", "Categories": "Pacientes;Chapinero"},
            {"Middle Name", "Home Phone", "Business Phone", "E-mail 2 Address", "Title"},
        ),
        (
            "spanish-xlsx",
            {"Dirección": "Cra. 7 # 72-41", "Sede": "Chapinero"},
            {"Segundo nombre", "Teléfono fijo"},
        ),
    ],
)
def test_one_click_keeps_the_other_columns_as_custom_fields(
    auth_client, django_capture_on_commit_callbacks, export, kept, still_ignored
):
    name, make = EXPORTS[export]
    job = upload(auth_client, name, make())
    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Keep the other columns as custom fields and preview" in page.text
    assert "ignored («" in page.text

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            job.get_absolute_url(),
            mapping_as_shown(job, keep_other_columns="1"),
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ContactImport.State.PREVIEWED
    recognised = targets(job)
    assert all(recognised[column] == "custom" for column in kept)
    assert all(recognised[column] == "ignore" for column in still_ignored)
    for field, column in RECOGNISED[export].items():
        assert recognised[column] == field
    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Keep the other columns as custom fields" not in page.text  # nothing left to keep

    confirm(auth_client, job, django_capture_on_commit_callbacks)
    first = Contact.objects.get(phone=next(iter(IMPORTED[export])))
    assert kept.items() <= first.custom_fields.items()
    assert not still_ignored & first.custom_fields.keys()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "«First Name» and «Middle Name» are mapped to First name"),
        ("es", "«First Name» y «Middle Name» están asignadas a Nombre"),
    ],
)
def test_two_columns_on_one_field_are_named_next_to_the_mapping(auth_client, language, message):
    job = upload(auth_client, "contacts.CSV", outlook_csv())
    middle = f"column_{OUTLOOK_HEADER.index('Middle Name')}"

    response = auth_client.post(
        job.get_absolute_url(),
        mapping_as_shown(job, **{middle: "first_name"}),
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 200
    form = response.context["form"]
    first = f"column_{OUTLOOK_HEADER.index('First Name')}"
    assert message in form.errors[first][0]
    assert form.errors[middle] == form.errors[first]
    assert message in response.text.replace("&laquo;", "«").replace("&raquo;", "»")
    job.refresh_from_db()
    assert job.state == ContactImport.State.UPLOADED


def test_two_phone_columns_are_named_too(auth_client):
    job = upload(auth_client, "contacts.CSV", outlook_csv())
    home = f"column_{OUTLOOK_HEADER.index('Home Phone')}"

    response = auth_client.post(
        job.get_absolute_url(), mapping_as_shown(job, **{home: "phone"}), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert (
        "«Home Phone» and «Mobile Phone» are mapped to Phone"
        in response.context["form"].errors[home][0]
    )
