import csv
import io
import os
import zipfile

import openpyxl
import pytest
from django.utils import timezone, translation

from campaigns.contact_import import (
    IMPORT_TARGETS,
    ImportFileError,
    guess_mapping,
    import_file,
    keep_other_columns,
    open_table,
    preview_file,
)
from campaigns.csv_files import csv_safe
from campaigns.models import Contact
from tests.factories import make_contact, make_group

GOOGLE_HEADER = (
    "Name,Given Name,Additional Name,Family Name,Yomi Name,Given Name Yomi,"
    "Additional Name Yomi,Family Name Yomi,Name Prefix,Name Suffix,Initials,Nickname,"
    "Short Name,Maiden Name,Birthday,Gender,Location,Billing Information,Directory Server,"
    "Mileage,Occupation,Hobby,Sensitivity,Priority,Subject,Notes,Language,Photo,"
    "Group Membership,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,"
    "Phone 2 - Type,Phone 2 - Value,Organization 1 - Type,Organization 1 - Name"
)
OUTLOOK_HEADER = [
    "Title",
    "First Name",
    "Middle Name",
    "Last Name",
    "Suffix",
    "Company",
    "Department",
    "Job Title",
    "Business Street",
    "Business City",
    "Home City",
    "Business Fax",
    "Business Phone",
    "Business Phone 2",
    "Home Phone",
    "Home Phone 2",
    "Mobile Phone",
    "Other Phone",
    "Pager",
    "E-mail Address",
    "E-mail Display Name",
    "E-mail 2 Address",
    "Notes",
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def run_import(path, *, keep_others=False, **options):
    """Import with the recognised mapping; `keep_others` keeps the columns recognised as
    nothing as custom fields, as the button of the mapping step does."""
    table = open_table(path, filename=path.name)
    mapping = options.pop("mapping", None) or guess_mapping(table.headers)
    if keep_others:
        mapping = keep_other_columns(headers=table.headers, mapping=mapping)
    return import_file(path=path, filename=path.name, mapping=mapping, **options)


def preview(path, mapping=None):
    table = open_table(path, filename=path.name)
    return preview_file(
        path=path, filename=path.name, mapping=mapping or guess_mapping(table.headers)
    )


# -- reading files ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_semicolon_windows_1252_file_with_accents(tmp_path):
    text = (
        "Teléfono;Nombre;Apellido;Ciudad\r\n"
        "300 123 4567;José;Muñoz;Bogotá\r\n"
        "310 765 4321;María;Peñalosa;Medellín\r\n"
    )
    path = write(tmp_path, "contactos.csv", text, encoding="cp1252")
    table = open_table(path, filename="contactos.csv")
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.headers == ["Teléfono", "Nombre", "Apellido", "Ciudad"]
    assert guess_mapping(table.headers) == ["phone", "first_name", "last_name", "custom"]

    report = run_import(path)

    assert (report.created, report.skipped) == (2, 0)
    munoz = Contact.objects.get(phone="573001234567")
    assert (munoz.first_name, munoz.last_name) == ("José", "Muñoz")
    assert munoz.custom_fields == {"Ciudad": "Bogotá"}
    assert Contact.objects.get(phone="573107654321").last_name == "Peñalosa"


@pytest.mark.django_db
def test_google_contacts_export(tmp_path):
    columns = GOOGLE_HEADER.split(",")
    empty = dict.fromkeys(columns, "")
    rows = [
        {
            **empty,
            "Name": "Ana María Muñoz",
            "Given Name": "Ana María",
            "Family Name": "Muñoz",
            "Group Membership": "* myContacts",
            "E-mail 1 - Type": "* Home",
            "E-mail 1 - Value": "ana@example.com",
            "Phone 1 - Type": "Mobile",
            "Phone 1 - Value": "+57 300 123 4567 ::: +57 310 000 0000",
            "Phone 2 - Type": "Home",
            "Phone 2 - Value": "+57 601 234 5678",
            "Organization 1 - Name": "Clínica Norte",
        },
        {**empty, "Name": "Pedro Gómez", "Phone 1 - Value": "311 222 3344"},
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path = write(tmp_path, "contacts.csv", buffer.getvalue())

    mapping = guess_mapping(open_table(path, filename="contacts.csv").headers)
    targets = dict(zip(columns, mapping, strict=True))
    assert targets["Phone 1 - Value"] == "phone"
    assert targets["Phone 2 - Value"] == "ignore"  # a second phone: known, not used
    assert targets["Phone 1 - Type"] == "ignore"
    assert targets["E-mail 1 - Value"] == "email"
    assert targets["Name"] == "full_name"
    assert targets["Given Name"] == "first_name"
    assert targets["Additional Name"] == "ignore"  # the middle name
    assert targets["Family Name"] == "last_name"
    assert targets["Group Membership"] == targets["Organization 1 - Name"] == "ignore"
    assert mapping.count("phone") == 1

    report = run_import(path)

    assert report.created == 2
    ana = Contact.objects.get(phone="573001234567")
    assert (ana.first_name, ana.last_name, ana.email) == ("Ana María", "Muñoz", "ana@example.com")
    assert ana.custom_fields == {}  # unrecognised columns are ignored unless kept
    # Only Name given: split into first and last name.
    pedro = Contact.objects.get(phone="573112223344")
    assert (pedro.first_name, pedro.last_name) == ("Pedro", "Gómez")


@pytest.mark.django_db
def test_outlook_export_prefers_the_mobile_phone(tmp_path):
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(OUTLOOK_HEADER)
    row = dict.fromkeys(OUTLOOK_HEADER, "")
    row.update(
        {
            "First Name": "Luis",
            "Middle Name": "Carlos",
            "Last Name": "Peñalosa",
            "Business Phone": "+57 601 234 5678",
            "Home Phone": "604 444 1234",
            "Mobile Phone": "+57 (315) 555-0101",
            "E-mail Address": "luis@example.com",
            "E-mail 2 Address": "luis@work.example.com",
        }
    )
    writer.writerow(row.values())
    path = write(tmp_path, "outlook.csv", buffer.getvalue())

    mapping = guess_mapping(open_table(path, filename="outlook.csv").headers)
    targets = dict(zip(OUTLOOK_HEADER, mapping, strict=True))
    assert targets["Mobile Phone"] == "phone"
    assert mapping.count("phone") == 1
    assert targets["Business Phone"] == targets["Home Phone"] == "ignore"
    assert targets["E-mail Address"] == "email"
    assert targets["E-mail 2 Address"] == "ignore"
    assert targets["Middle Name"] == "ignore"

    run_import(path)

    luis = Contact.objects.get()
    assert luis.phone == "573155550101"
    assert (luis.first_name, luis.last_name) == ("Luis", "Peñalosa")
    assert luis.email == "luis@example.com"
    assert luis.custom_fields == {}


@pytest.mark.django_db
def test_xlsx_with_number_float_and_text_cells(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Celular", "Nombres", "Apellidos", "Cita"])
    sheet.append([3001234567, "José", "Muñoz", "lunes"])
    sheet.append([573107654321.0, "María", "Peñalosa", "martes"])
    sheet.append(["+57 311 222 3344", "Juan", "Pérez", 15])
    sheet.append([None, None, None, None])  # trailing empty rows are not reported
    path = tmp_path / "contactos.bin"  # told by content, not by name
    workbook.save(path)

    table = open_table(path, filename="contactos.bin")
    assert (table.encoding, table.delimiter) == (None, None)
    assert table.headers == ["Celular", "Nombres", "Apellidos", "Cita"]
    assert next(table.rows()) == (2, ["3001234567", "José", "Muñoz", "lunes"])

    report = run_import(path)

    assert (report.created, report.skipped) == (3, 0)
    assert set(Contact.objects.values_list("phone", flat=True)) == {
        "573001234567",
        "573107654321",
        "573112223344",
    }
    assert Contact.objects.get(phone="573112223344").custom_fields == {"Cita": "15"}


@pytest.mark.django_db
def test_duplicates_in_different_formats(tmp_path):
    text = "telefono,nombre\n300 123 4567,Ana\n310 000 0000,Bea\n+57 3001234567,Otra Ana\n"
    path = write(tmp_path, "dup.csv", text)

    report = run_import(path)

    assert report.created == 2
    [skipped] = report.skipped_rows
    assert (skipped.line, skipped.raw_phone) == (4, "+57 3001234567")
    assert skipped.reason == "Duplicate of line 2."
    assert Contact.objects.get(phone="573001234567").first_name == "Ana"


@pytest.mark.django_db
def test_formula_cells_are_text_never_evaluated(tmp_path):
    text = (
        "telefono;nombre;nota\n"
        '300 123 4567;=1+1;=HYPERLINK("http://evil.example","clic")\n'
        "310 000 0000;'=2+2;@SUM(A1)\n"
    )
    path = write(tmp_path, "formulas.csv", text)

    run_import(path, keep_others=True)

    first = Contact.objects.get(phone="573001234567")
    assert first.first_name == "=1+1"
    assert first.custom_fields == {"nota": '=HYPERLINK("http://evil.example","clic")'}
    second = Contact.objects.get(phone="573100000000")
    assert second.first_name == "=2+2"  # the export's apostrophe is removed
    assert second.custom_fields == {"nota": "@SUM(A1)"}


@pytest.mark.django_db
def test_xlsx_formula_without_cached_value_is_kept_as_text(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["telefono", "nombre", "nota"])
    sheet.append(["3001234567", "Ana", "=1+1"])
    path = tmp_path / "formula.xlsx"
    workbook.save(path)

    run_import(path, keep_others=True)

    assert Contact.objects.get().custom_fields == {"nota": "=1+1"}


@pytest.mark.django_db
def test_utf8_with_bom_tab_separated(tmp_path):
    text = "\ufeffPhone\tFirst name\tLast name\tEmail\n3001234567\tÑoño\tNúñez\tn@example.com\n"
    path = write(tmp_path, "export.txt", text)
    table = open_table(path, filename="export.txt")
    assert (table.encoding, table.delimiter) == ("utf-8-sig", "\t")
    assert table.headers[0] == "Phone"  # no BOM left in the first header

    run_import(path)

    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.email) == (
        "Ñoño",
        "Núñez",
        "n@example.com",
    )


@pytest.mark.django_db
def test_skipped_rows_say_why(tmp_path):
    text = (
        "telefono;nombre\n"  # line 1
        "3.00123457E+09;Excel\n"  # 2
        ";Sin teléfono\n"  # 3
        ";\n"  # 4: empty
        "abc;Letras\n"  # 5
        "300 123 4567;Ana\n"  # 6
        "\n"  # trailing blank lines are not reported
        "\n"
    )
    path = write(tmp_path, "bad.csv", text)

    report = run_import(path)

    assert report.created == 1
    reasons = {row.line: row.reason for row in report.skipped_rows}
    assert set(reasons) == {2, 3, 4, 5}
    assert "spreadsheet rounded" in reasons[2]
    assert reasons[3] == "No phone in this row."
    assert reasons[4] == "Empty row."
    assert reasons[5] == "The phone contains letters."
    assert report.rows == 5


# -- bad files -------------------------------------------------------------------------------


def assert_bad_file(path, message):
    with pytest.raises(ImportFileError) as error:
        open_table(path, filename=path.name)
    assert message in str(error.value.reason)


def test_empty_file(tmp_path):
    assert_bad_file(write(tmp_path, "empty.csv", b""), "The file is empty.")
    assert_bad_file(write(tmp_path, "blank.csv", "\ufeff\r\n;;\r\n"), "The file is empty.")


def test_binary_file(tmp_path):
    content = bytes(range(256)) * 20 + os.urandom(2000)
    assert_bad_file(write(tmp_path, "photo.csv", content), "looks binary")


def test_not_an_xlsx_inside_a_zip(tmp_path):
    path = tmp_path / "contacts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hello")
    assert_bad_file(path, "could not be opened as an Excel workbook")


def test_old_xls_file(tmp_path):
    path = write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert_bad_file(path, "old Excel file (.xls)")


def test_file_without_header(tmp_path):
    path = write(tmp_path, "noheader.csv", "3001234567;Ana\n3107654321;Bea\n")
    assert_bad_file(path, "The first line holds a phone (3001234567), not column names")


def test_too_large_file(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    path = write(tmp_path, "big.csv", "telefono\n" + "3001234567\n" * 120_000)
    assert_bad_file(path, "The file is larger than 1 MB")


@pytest.mark.django_db
def test_no_phone_column(tmp_path):
    path = write(tmp_path, "nophone.csv", "nombre;ciudad\nAna;Bogotá\n")
    mapping = guess_mapping(open_table(path, filename=path.name).headers)
    assert "phone" not in mapping
    with pytest.raises(ImportFileError) as error:
        preview(path, mapping)
    assert str(error.value.reason).startswith("No column holds the phone.")
    with pytest.raises(ImportFileError):
        import_file(path=path, filename=path.name, mapping=mapping)
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_two_phone_columns_are_refused(tmp_path):
    path = write(tmp_path, "two.csv", "a;b\n3001234567;3107654321\n")
    with pytest.raises(ImportFileError) as error:
        preview(path, ["phone", "phone"])
    assert str(error.value.reason) == "Only one column can be the phone."


# -- preview ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_preview_counts_and_writes_nothing(tmp_path, django_assert_max_num_queries):
    make_contact(phone="573001234567", first_name="Ana")
    text = "telefono;nombre\n300 123 4567;Ana\n3107654321;Bea\nabc;X\n+57 310 765 4321;Bis\n"
    path = write(tmp_path, "p.csv", text)
    before = Contact.objects.count()

    with django_assert_max_num_queries(1):
        result = preview(path)

    assert Contact.objects.count() == before
    assert (result.to_create, result.to_update, result.skipped, result.rows) == (1, 1, 2, 4)
    assert [row.line for row in result.skipped_rows] == [4, 5]
    assert result.skipped_rows[1].reason == "Duplicate of line 3."
    assert [sample["phone"] for sample in result.sample] == ["573001234567", "573107654321"]
    assert result.sample[1]["first_name"] == "Bea"


# -- update rules ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_fills_empty_fields_only(tmp_path):
    make_contact(phone="573001234567", first_name="Ana", custom_fields={"ciudad": "Cali"})
    text = "telefono;nombre;apellido;ciudad;barrio\n3001234567;Anita;Muñoz;Bogotá;Chapinero\n"
    path = write(tmp_path, "u.csv", text)

    report = run_import(path, keep_others=True)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Ana", "Muñoz")
    assert contact.custom_fields == {"ciudad": "Cali", "barrio": "Chapinero"}

    again = run_import(path, keep_others=True)
    assert (again.updated, again.unchanged) == (0, 1)


@pytest.mark.django_db
def test_update_with_overwrite_replaces(tmp_path):
    make_contact(phone="573001234567", first_name="Ana", custom_fields={"ciudad": "Cali"})
    path = write(tmp_path, "o.csv", "telefono;nombre;ciudad\n3001234567;Anita;Bogotá\n")

    report = run_import(path, overwrite=True)

    assert report.updated == 1
    contact = Contact.objects.get()
    assert contact.first_name == "Anita"
    assert contact.custom_fields == {"ciudad": "Bogotá"}


@pytest.mark.django_db
def test_overwrite_never_blanks_a_field(tmp_path):
    make_contact(phone="573001234567", first_name="Ana", last_name="Muñoz")
    path = write(tmp_path, "b.csv", "telefono;nombre;apellido\n3001234567;;\n")

    run_import(path, overwrite=True)

    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Ana", "Muñoz")


@pytest.mark.django_db
def test_import_never_clears_do_not_call(tmp_path):
    marked_at = timezone.now()
    make_contact(
        phone="573001234567",
        do_not_call=True,
        do_not_call_reason="Pidió no ser llamado",
        do_not_call_at=marked_at,
    )
    path = write(tmp_path, "d.csv", "telefono;nombre;do_not_call\n3001234567;Ana;no\n")

    run_import(path, overwrite=True)

    contact = Contact.objects.get()
    assert contact.do_not_call is True
    assert contact.do_not_call_reason == "Pidió no ser llamado"
    assert contact.do_not_call_at == marked_at
    assert contact.first_name == "Ana"


@pytest.mark.django_db
def test_group_membership_added_once(tmp_path):
    group = make_group(name="Pacientes")
    member = make_contact(phone="573001234567")
    member.groups.add(group)
    make_contact(phone="573107654321")  # known, not a member yet
    path = write(tmp_path, "g.csv", "telefono\n3001234567\n3107654321\n3112223344\n")

    report = run_import(path, group=group)

    assert report.added_to_group == 2
    assert group.contacts.count() == 3
    assert run_import(path, group=group).added_to_group == 0
    assert Contact.groups.through.objects.filter(contactgroup=group).count() == 3


@pytest.mark.django_db
def test_progress_is_called_after_each_chunk(tmp_path, monkeypatch):
    from campaigns.contact_import import writing as engine

    monkeypatch.setattr(engine, "CHUNK_ROWS", 10)
    lines = ["telefono"] + [f"3{n:09d}" for n in range(1_000_000, 1_000_025)]
    path = write(tmp_path, "many.csv", "\n".join(lines))
    seen = []

    report = run_import(path, progress=lambda so_far: seen.append(so_far.rows))

    assert seen == [10, 20, 25]
    assert report.created == 25


# -- round trip with the export's csv_safe --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "exported"),
    [
        ("Ana", "Ana"),
        ("=1+1", "'=1+1"),
        ("+57 300", "'+57 300"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("'quoted", "'quoted"),
        ("'=already", "''=already"),
        ("", ""),
    ],
)
def test_csv_safe(value, exported):
    assert csv_safe(value) == exported


@pytest.mark.django_db
def test_export_then_import_gives_the_same_contacts(tmp_path):
    contacts = [
        ("573001234567", "=Ana", "+Muñoz", "ana@example.com", {"nota": "=1+1", "ciudad": "Bogotá"}),
        ("573107654321", "@María", "-Peñalosa", "", {"nota": "'=literal", "ciudad": ""}),
        ("12125550123", "John", "O'Neil", "john@example.com", {"nota": "'quoted", "ciudad": "NY"}),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Teléfono", "Nombre", "Apellido", "Correo", "nota", "ciudad"])
    for phone, first, last, email, custom in contacts:
        cells = [phone, first, last, email, custom["nota"], custom["ciudad"]]
        writer.writerow([csv_safe(cell) for cell in cells])
    path = write(tmp_path, "export.csv", buffer.getvalue(), encoding="utf-8-sig")

    report = run_import(path, keep_others=True)

    assert report.created == 3
    imported = {
        contact.phone: (
            contact.first_name,
            contact.last_name,
            contact.email,
            contact.custom_fields,
        )
        for contact in Contact.objects.all()
    }
    assert imported == {
        phone: (first, last, email, {key: value for key, value in custom.items() if value})
        for phone, first, last, email, custom in contacts
    }


def test_import_targets_cover_every_guess():
    values = {value for value, _label in IMPORT_TARGETS}
    assert values == {
        "phone",
        "first_name",
        "last_name",
        "email",
        "full_name",
        "do_not_call",
        "custom",
        "ignore",
    }
    headers = [
        "Teléfono",
        "NOMBRE",
        "apellidos",
        "E-mail",
        "Nombre completo",
        "No llamar",
        "Ciudad",
        "",
    ]
    assert set(guess_mapping(headers)) <= values


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["Teléfono", "Nombre"], ["phone", "first_name"]),
        (["TELEFONO", "nombres", "APELLIDOS"], ["phone", "first_name", "last_name"]),
        (["tel", "correo electrónico"], ["phone", "email"]),
        (["Número", "Nombre completo"], ["phone", "full_name"]),
        (["Móvil", "e-mail"], ["phone", "email"]),
        (["Teléfono fijo", "Celular"], ["ignore", "phone"]),
        (["Número de documento", "Celular"], ["custom", "phone"]),
        (["phone number", "given name", "surname"], ["phone", "first_name", "last_name"]),
        (["Fax", "Mobile"], ["ignore", "phone"]),
        (["Cell", "Name"], ["phone", "full_name"]),
        (["ciudad", ""], ["custom", "ignore"]),
        # One column per field: the best one; the others known and ignored.
        (["First Name", "Middle Name", "Last Name"], ["first_name", "ignore", "last_name"]),
        (
            ["Primer apellido", "Segundo apellido", "Nombres", "Segundo nombre", "Celular"],
            ["last_name", "ignore", "first_name", "ignore", "phone"],
        ),
        (["E-mail 2 Address", "E-mail Address", "E-mail Type"], ["ignore", "email", "ignore"]),
        (["Home Phone", "Business Phone 2", "Pager", "Home Fax"], ["phone"] + ["ignore"] * 3),
        # Unknown columns are ignored, but for those a reminder says in its message.
        (
            ["Celular", "Sede", "Fecha de cita", "Labels", "Notas"],
            ["phone", "custom", "custom", "ignore", "ignore"],
        ),
    ],
)
def test_guess_mapping(headers, expected):
    assert guess_mapping(headers) == expected


def test_keep_other_columns_keeps_only_the_unrecognised_ignored_ones():
    headers = ["Mobile Phone", "Middle Name", "Company", "Notes", "Labels"]
    mapping = ["phone", "ignore", "ignore", "first_name", "ignore"]

    kept = keep_other_columns(headers=headers, mapping=mapping)

    # "Middle Name" is known and stays ignored; "Notes" keeps the person's choice.
    assert kept == ["phone", "ignore", "custom", "first_name", "custom"]


@pytest.mark.django_db
def test_a_file_of_bad_rows_counts_them_all_but_keeps_only_the_first_in_memory(
    tmp_path, monkeypatch
):
    """A million bad rows must not mean a million rows of text held for the report."""
    from campaigns.contact_import import writing

    monkeypatch.setattr(writing, "SKIPPED_ROWS_KEPT", 10)
    bad = "".join(f"no es un teléfono {n};Nombre {n}\n" for n in range(2500))
    path = write(tmp_path, "malo.csv", "telefono;nombre\n3001234567;Ana\n" + bad)

    result = preview(path)
    assert (result.skipped, len(result.skipped_rows), result.to_create) == (2500, 10, 1)
    assert [row.line for row in result.skipped_rows] == list(range(3, 13))

    report = run_import(path)
    assert (report.skipped, len(report.skipped_rows), report.created) == (2500, 10, 1)


@pytest.mark.django_db
def test_duplicates_are_found_across_the_spill_of_seen_phones_to_disk(tmp_path, monkeypatch):
    """Past SeenPhones.IN_MEMORY phones, the phones seen go to a scratch file on disk:
    duplicates before and after that point are still reported with their first line."""
    from campaigns.contact_import.cleaning import SeenPhones

    monkeypatch.setattr(SeenPhones, "IN_MEMORY", 50)
    rows = [f"300{n:07d};Persona {n}" for n in range(300)]
    rows[200] = "3000000003;Repetida antes del disco"  # line 202: first seen on line 5
    rows[280] = "3000000150;Repetida en el disco"  # line 282: first seen on line 152
    path = write(tmp_path, "largo.csv", "telefono;nombre\n" + "\n".join(rows) + "\n")

    result = preview(path)

    assert (result.to_create, result.skipped) == (298, 2)
    assert [(row.line, row.reason) for row in result.skipped_rows] == [
        (202, "Duplicate of line 5."),
        (282, "Duplicate of line 152."),
    ]
    assert run_import(path).created == 298


@pytest.mark.django_db
def test_memory_stays_flat_however_long_the_file(tmp_path, monkeypatch):
    """Reading a file three times longer takes the same memory (the phones seen
    beyond SeenPhones.IN_MEMORY live on disk; skipped rows beyond a cap are only counted)."""
    import tracemalloc

    from campaigns.contact_import.cleaning import SeenPhones

    monkeypatch.setattr(SeenPhones, "IN_MEMORY", 1000)

    def peak(rows: int) -> int:
        text = "".join(f"300{n:07d};Persona {n}\n" for n in range(rows))
        path = write(tmp_path, f"f{rows}.csv", "telefono;nombre\n" + text)
        tracemalloc.start()
        preview(path)
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    # Past the reader's buffers (a 1 MB block of text), three times the rows: the same.
    small, large = peak(40_000), peak(120_000)
    assert large < small * 1.1, (small, large)
