"""Writing an import: a chunk costs a fixed number of statements, however many rows it has,
and every value arrives in the database exactly as the file gave it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from campaigns.contact_import import (
    ImportFileError,
    guess_mapping,
    import_file,
    open_table,
    writing,
)
from campaigns.models import Contact
from tests.factories import make_group


def write_csv(tmp_path, lines, name="contacts.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_import(path, **options):
    mapping = guess_mapping(open_table(path, filename=path.name).headers)
    return import_file(path=path, filename=path.name, mapping=mapping, **options)


def phones(start, count):
    return [f"573{n:09d}" for n in range(start, start + count)]


def statements_to_import(path, **options):
    """The import's report, and how many statements it ran: an executemany counts once
    per row it was given (Django logs it as "N times: ...")."""
    with CaptureQueriesContext(connection) as queries:
        report = run_import(path, **options)
    times = [query["sql"].partition(" times: ") for query in queries]
    return report, sum(int(count) if many else 1 for count, many, _sql in times)


@pytest.mark.django_db
def test_known_contacts_join_the_group_in_as_many_statements_for_1500_rows_as_for_10(
    tmp_path,
):
    counts = []
    for size, start in ((10, 100_000_000), (1500, 200_000_000)):
        known = phones(start, size)
        Contact.objects.bulk_create(Contact(phone=phone, first_name="Ana") for phone in known)
        group = make_group()
        path = write_csv(tmp_path, ["telefono;nombre", *(f"{p};Ana" for p in known)])

        report, statements = statements_to_import(path, group=group)

        assert (report.created, report.unchanged, report.added_to_group) == (0, size, size)
        assert group.contacts.count() == size
        counts.append(statements)
    assert counts[0] == counts[1]
    assert counts[1] <= 6


@pytest.mark.django_db
def test_new_and_known_contacts_join_the_group_in_a_bounded_number_of_statements(
    tmp_path, django_assert_max_num_queries
):
    group = make_group()
    known = phones(300_000_000, 700)
    members = known[:200]
    Contact.objects.bulk_create(Contact(phone=phone) for phone in known)
    Contact.groups.through.objects.bulk_create(
        Contact.groups.through(contact=contact, contactgroup=group)
        for contact in Contact.objects.filter(phone__in=members)
    )
    new = phones(110_000_000, 800)
    path = write_csv(tmp_path, ["telefono", *known, *new])

    with django_assert_max_num_queries(8):
        report = run_import(path, group=group)

    assert (report.created, report.unchanged) == (800, 700)
    # The 200 who were members already are not counted again.
    assert report.added_to_group == 500 + 800
    assert group.contacts.count() == 1500
    assert Contact.groups.through.objects.filter(contactgroup=group).count() == 1500


@pytest.mark.django_db
def test_importing_the_same_file_twice_adds_nobody_twice(tmp_path):
    group = make_group()
    path = write_csv(tmp_path, ["telefono", *phones(500_000_000, 300)])

    first = run_import(path, group=group)
    second = run_import(path, group=group)

    assert (first.created, first.added_to_group) == (300, 300)
    assert (second.created, second.unchanged, second.added_to_group) == (0, 300, 0)
    assert Contact.groups.through.objects.filter(contactgroup=group).count() == 300


@pytest.mark.django_db
def test_names_and_custom_fields_arrive_exactly_as_written(tmp_path):
    tricky = [
        ("O'Brien", 'Ana "la" Peñalosa', "Bogotá D.C."),
        ("back\\slash", "{curly} [square]", 'quote " and \\ both'),
        ("José 😀", "Nariño, Muñoz", "Sede; norte"),
        ("%s %(name)s", "?; --", "'; DROP TABLE x; --"),
    ]
    lines = ["telefono\tnombre\tapellido\tciudad"]
    for index, (first, last, city) in enumerate(tricky):
        lines.append(f"30012340{index:02d}\t{first}\t{last}\t{city}")
    path = tmp_path / "tricky.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = run_import(path, group=make_group())

    assert report.created == len(tricky)
    for index, (first, last, city) in enumerate(tricky):
        contact = Contact.objects.get(phone=f"5730012340{index:02d}")
        assert (contact.first_name, contact.last_name) == (first, last)
        assert contact.custom_fields == {"ciudad": city}
        assert contact.do_not_call is False
        assert contact.created_at is not None


@pytest.mark.django_db
def test_custom_fields_repeated_over_many_rows_are_each_kept_for_their_row(tmp_path):
    cities = ["Bogotá", "Cali", "Medellín"]
    lines = ["telefono;ciudad;sede"]
    lines += [f"3005{n:06d};{cities[n % 3]};{'Norte' if n % 2 else ''}" for n in range(60)]
    path = write_csv(tmp_path, lines)

    run_import(path)

    for n in (0, 1, 2, 3, 59):
        expected = {"ciudad": cities[n % 3]}
        if n % 2:
            expected["sede"] = "Norte"
        assert Contact.objects.get(phone=f"573005{n:06d}").custom_fields == expected


@pytest.mark.django_db
def test_skipped_rows_are_explained_in_the_language_of_the_import(tmp_path):
    path = write_csv(tmp_path, ["telefono", "3001234567", "300 123 4567", "abc"])

    # Not the site's default language (Spanish).
    with translation.override("en"):
        report = run_import(path)

    assert [row.reason for row in report.skipped_rows] == [
        "Duplicate of line 2.",
        "The phone contains letters.",
    ]


@pytest.mark.django_db
def test_a_file_refused_midway_keeps_the_chunks_written_before_and_says_why(
    tmp_path, settings, monkeypatch
):
    monkeypatch.setattr(writing, "CHUNK_ROWS", 10)
    settings.IMPORT_MAX_ROWS = 25
    path = write_csv(tmp_path, ["telefono", *phones(100_000_000, 40)])
    seen = []

    with pytest.raises(ImportFileError) as error:
        run_import(path, progress=lambda report: seen.append(report.rows))

    with translation.override("en"):
        assert "more than 25 rows" in str(error.value.reason)
    assert seen == [10, 20]
    assert Contact.objects.count() == 20
