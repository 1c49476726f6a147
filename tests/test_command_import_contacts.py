import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from campaigns.models import Contact, ContactGroup
from tests.factories import make_contact

CSV = (
    "Teléfono;Nombre;Apellido;Ciudad\n"
    "300 123 4567;José;Muñoz;Bogotá\n"
    "310 765 4321;María;Peñalosa;Medellín\n"
    "abc;Sin;Número;Cali\n"
    "+57 300 123 4567;José;Otra vez;Bogotá\n"
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def contacts_file(tmp_path):
    path = tmp_path / "contactos.csv"
    path.write_bytes(CSV.encode("cp1252"))
    return path


def run(*args):
    out = StringIO()
    call_command("import_contacts", *[str(arg) for arg in args], stdout=out)
    return out.getvalue()


def skipped_part(output):
    return output[output.index("skipped") :].replace("Import finished.\n", "")


@pytest.mark.django_db
def test_dry_run_prints_the_summary_and_writes_nothing(contacts_file):
    make_contact(phone="573107654321", first_name="María")

    output = run(contacts_file, "--dry-run", "--group", "Nuevos")

    assert "CSV file, encoding cp1252, separator ;" in output
    assert "Teléfono -> phone" in output
    assert "Ciudad -> custom" in output
    assert "Dry run: nothing was written." in output
    assert "1 to create\n" in output
    assert "1 to update\n" in output
    assert "2 skipped\n" in output
    assert "line 4 (abc): The phone contains letters." in output
    assert "line 5 (+57 300 123 4567): Duplicate of line 2." in output
    assert Contact.objects.count() == 1
    assert not ContactGroup.objects.exists()

    real = run(contacts_file, "--group", "Nuevos")
    assert "1 created\n" in real
    assert "1 updated\n" in real
    assert skipped_part(real) == skipped_part(output)


@pytest.mark.django_db
def test_import_creates_the_group_and_its_members(contacts_file):
    output = run(contacts_file, "--group", "Pacientes mayo")

    group = ContactGroup.objects.get(name="Pacientes mayo")
    assert set(group.contacts.values_list("phone", flat=True)) == {
        "573001234567",
        "573107654321",
    }
    assert "2 added to the group" in output
    assert Contact.objects.get(phone="573001234567").last_name == "Muñoz"

    again = run(contacts_file, "--group", "Pacientes mayo")
    assert "0 added to the group" in again
    assert ContactGroup.objects.count() == 1


@pytest.mark.django_db
def test_map_sets_a_column_target(contacts_file):
    run(contacts_file, "--map", "Ciudad=ignore", "--map", "apellido=first_name")

    contact = Contact.objects.get(phone="573001234567")
    assert contact.custom_fields == {}
    assert contact.first_name == "José Muñoz"


@pytest.mark.django_db
def test_overwrite(contacts_file):
    make_contact(phone="573001234567", first_name="Pepe")

    run(contacts_file)
    assert Contact.objects.get(phone="573001234567").first_name == "Pepe"
    run(contacts_file, "--overwrite")
    assert Contact.objects.get(phone="573001234567").first_name == "José"


@pytest.mark.django_db
def test_skipped_listing_is_capped(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("telefono\n" + "abc\n" * 60 + "3001234567\n", encoding="utf-8")

    output = run(path, "--dry-run")

    assert "60 skipped" in output
    assert output.count(": The phone contains letters.") == 50
    assert "and 10 more" in output


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\x00\x01\x02binary\x00" * 100, "looks binary"),
        ("nombre;ciudad\nAna;Bogotá\n".encode(), "No column holds the phone."),
    ],
)
def test_bad_file_exits_with_the_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        run(path)
    assert Contact.objects.count() == 0


def test_missing_file_and_bad_map(tmp_path, contacts_file):
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "nope.csv")
    with pytest.raises(CommandError, match="COLUMN=TARGET"):
        run(contacts_file, "--map", "Ciudad=nowhere")
    with pytest.raises(CommandError, match="No column named Barrio"):
        run(contacts_file, "--map", "Barrio=custom")


def test_bad_file_exits_non_zero_from_the_command_line(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    result = subprocess.run(
        [sys.executable, "manage.py", "import_contacts", str(path)],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("CommandError: ")
