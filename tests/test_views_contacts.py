"""Contacts and groups in the browser's terms: forms, lists, bulk actions, export."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Contact, ContactGroup
from tests.factories import make_contact, make_group

pytestmark = pytest.mark.django_db


def _post(client, url, data, **extra):
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en", **extra)


def test_add_contact_normalises_the_phone(auth_client):
    group = make_group(name="Pacientes Chapinero")
    response = _post(
        auth_client,
        reverse("contact_create"),
        {
            "phone": "(+57) 300 123 4567",
            "first_name": "Ana",
            "last_name": "Muñoz",
            "email": "ana@example.com",
            "groups": [group.pk],
            "custom_fields_text": "sede = Chapinero\ncita = 2026-12-01",
        },
    )
    contact = Contact.objects.get()
    assert response.status_code == 302 and response["Location"] == contact.get_absolute_url()
    assert contact.phone == "573001234567"
    assert contact.custom_fields == {"sede": "Chapinero", "cita": "2026-12-01"}
    assert list(contact.groups.all()) == [group]


def test_adding_an_existing_phone_says_so_and_links_to_it(auth_client):
    existing = make_contact(phone="573001234567", first_name="Ana")
    response = _post(auth_client, reverse("contact_create"), {"phone": "300-123-4567"})
    assert response.status_code == 200
    assert "already belongs to a contact: Ana" in response.text
    assert existing.get_absolute_url() in response.text
    assert Contact.objects.count() == 1


def test_an_invalid_phone_is_explained_next_to_the_field(auth_client):
    response = _post(auth_client, reverse("contact_create"), {"phone": "3.00123457E+09"})
    assert response.status_code == 200
    assert 'class="field-error"' in response.text
    assert not Contact.objects.exists()


def test_edit_keeps_the_contact_and_marks_do_not_call_with_a_date(auth_client):
    contact = make_contact(phone="573001234567", first_name="Ana")
    response = _post(
        auth_client,
        reverse("contact_update", args=[contact.pk]),
        {
            "phone": "573001234567",
            "first_name": "Ana María",
            "do_not_call": "on",
            "do_not_call_reason": "Pidió no ser llamada",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "Ana María"
    assert contact.do_not_call and contact.do_not_call_at is not None
    assert contact.do_not_call_reason == "Pidió no ser llamada"


def test_delete_asks_first(auth_client):
    contact = make_contact(first_name="Ana")
    url = reverse("contact_delete", args=[contact.pk])
    page = auth_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert "Delete Ana" in page.text
    assert Contact.objects.exists()
    assert auth_client.post(url).status_code == 302
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Muñoz", {"Ana"}),
        ("ana muñoz", {"Ana"}),
        ("300 123 4567", {"Ana"}),
        ("+57 300-123-4567", {"Ana"}),
        ("3001234567", {"Ana"}),
        ("310", {"Luis"}),
        ("luis@example", {"Luis"}),
        ("nadie", set()),
    ],
)
def test_search_by_name_phone_in_any_format_or_email(auth_client, query, expected):
    make_contact(phone="573001234567", first_name="Ana", last_name="Muñoz")
    make_contact(phone="573109876543", first_name="Luis", email="luis@example.com")
    response = auth_client.get(reverse("contact_list"), {"q": query})
    assert {contact.first_name for contact in response.context["page"].object_list} == expected


def test_filter_by_group_and_do_not_call(auth_client):
    group = make_group()
    inside = make_contact(first_name="Dentro")
    inside.groups.add(group)
    make_contact(first_name="Fuera", do_not_call=True)
    by_group = auth_client.get(reverse("contact_list"), {"group": group.pk})
    assert [c.first_name for c in by_group.context["page"].object_list] == ["Dentro"]
    by_dnc = auth_client.get(reverse("contact_list"), {"dnc": "yes"})
    assert [c.first_name for c in by_dnc.context["page"].object_list] == ["Fuera"]
    callable_only = auth_client.get(reverse("contact_list"), {"dnc": "no"})
    assert [c.first_name for c in callable_only.context["page"].object_list] == ["Dentro"]


def test_htmx_search_returns_only_the_table(auth_client):
    make_contact(first_name="Ana")
    response = auth_client.get(reverse("contact_list"), {"q": "Ana"}, HTTP_HX_REQUEST="true")
    assert "<html" not in response.text and "Ana" in response.text


def _bulk_contacts(count: int) -> None:
    Contact.objects.bulk_create(
        [Contact(phone=f"5730{n:08d}", first_name=f"N{n}") for n in range(count)],
        batch_size=2000,
    )


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "params", [{}, {"q": "N9"}, {"page": "2"}, {"dnc": "no"}], ids=["page1", "search", "p2", "dnc"]
)
def test_list_query_count_does_not_grow_with_the_contacts(auth_client, params):
    make_group()
    _bulk_contacts(60)
    small = _queries(auth_client, reverse("contact_list"), params)
    _bulk_contacts_offset = 10_000
    Contact.objects.bulk_create(
        [Contact(phone=f"5731{n:08d}", first_name=f"N{n}") for n in range(_bulk_contacts_offset)],
        batch_size=2000,
    )
    large = _queries(auth_client, reverse("contact_list"), params)
    assert large == small


def _bulk(client, action, contacts, **extra):
    data = {"action": action, "contacts": [c.pk for c in contacts], **extra}
    return client.post(reverse("contact_bulk"), data, HTTP_ACCEPT_LANGUAGE="en")


def test_bulk_add_and_remove_from_group(auth_client):
    group = make_group()
    ana, luis = make_contact(), make_contact()
    assert _bulk(auth_client, "add_to_group", [ana, luis], group=group.pk).status_code == 302
    assert set(group.contacts.all()) == {ana, luis}
    _bulk(auth_client, "remove_from_group", [ana], group=group.pk)
    assert set(group.contacts.all()) == {luis}
    assert Contact.objects.count() == 2


def test_bulk_action_without_group_says_so(auth_client):
    ana = make_contact()
    response = _bulk(auth_client, "add_to_group", [ana])
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "Choose the group." in messages


def test_bulk_mark_do_not_call(auth_client):
    ana, luis = make_contact(), make_contact()
    _bulk(auth_client, "mark_do_not_call", [ana])
    ana.refresh_from_db()
    luis.refresh_from_db()
    assert ana.do_not_call and not luis.do_not_call


def test_bulk_delete_asks_first_then_deletes(auth_client):
    ana, luis = make_contact(first_name="Ana"), make_contact(first_name="Luis")
    ask = _bulk(auth_client, "delete", [ana, luis])
    assert ask.status_code == 200 and "Delete 2 contacts?" in ask.text
    assert Contact.objects.count() == 2
    done = _bulk(auth_client, "delete", [ana, luis], confirmed="True")
    assert done.status_code == 302
    assert not Contact.objects.exists()


def test_groups_create_rename_and_delete_keeps_members(auth_client):
    response = _post(auth_client, reverse("group_create"), {"name": "Pacientes Chapinero"})
    group = ContactGroup.objects.get()
    assert response["Location"] == group.get_absolute_url()
    duplicate = _post(auth_client, reverse("group_create"), {"name": "Pacientes Chapinero"})
    assert duplicate.status_code == 200 and 'class="field-error"' in duplicate.text
    _post(auth_client, reverse("group_update", args=[group.pk]), {"name": "Chapinero"})
    group.refresh_from_db()
    assert group.name == "Chapinero"
    ana = make_contact()
    ana.groups.add(group)
    ask = auth_client.get(reverse("group_delete", args=[group.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "1 member stays as a contact" in ask.text
    auth_client.post(reverse("group_delete", args=[group.pk]))
    assert not ContactGroup.objects.exists()
    assert Contact.objects.filter(pk=ana.pk).exists()


def test_group_list_shows_member_counts(auth_client):
    group = make_group(name="Grande")
    for _ in range(3):
        make_contact().groups.add(group)
    response = auth_client.get(reverse("group_list"))
    assert response.context["page"].object_list[0].member_count == 3


def test_group_page_lists_members_with_search(auth_client):
    group = make_group()
    ana = make_contact(first_name="Ana")
    ana.groups.add(group)
    make_contact(first_name="Luis")
    page = auth_client.get(reverse("group_detail", args=[group.pk]))
    assert [c.first_name for c in page.context["page"].object_list] == ["Ana"]
    none = auth_client.get(reverse("group_detail", args=[group.pk]), {"q": "Luis"})
    assert list(none.context["page"].object_list) == []


def test_pasting_phones_adds_members_and_creates_new_contacts(auth_client):
    group = make_group()
    known = make_contact(phone="573001234567")
    response = _post(
        auth_client,
        reverse("group_add_members", args=[group.pk]),
        {"phones": "300 123 4567\n+57 310 987 6543, 3209998877\nno es un teléfono"},
    )
    assert response.status_code == 302
    members = set(group.contacts.values_list("phone", flat=True))
    assert members == {"573001234567", "573109876543", "573209998877"}
    assert Contact.objects.count() == 3
    assert known in group.contacts.all()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("no es un teléfono" in m for m in messages)


def _export(client, **params) -> list[list[str]]:
    response = client.get(reverse("contact_export"), params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def test_export_is_excel_friendly_and_formula_safe(auth_client):
    make_contact(
        phone="573001234567",
        first_name='=HYPERLINK("http://x")',
        last_name="Peñalosa",
        custom_fields={"sede": "+Norte"},
    )
    rows = _export(auth_client)
    assert rows[0] == ["Phone", "First name", "Last name", "Email", "sede"]
    assert rows[1][0] == "573001234567"
    assert rows[1][1].startswith("'=")
    assert rows[1][2] == "Peñalosa"
    assert rows[1][4] == "'+Norte"


def test_export_follows_the_search_and_the_group(auth_client):
    group = make_group()
    make_contact(first_name="Ana").groups.add(group)
    make_contact(first_name="Luis")
    assert [row[1] for row in _export(auth_client, group=group.pk)[1:]] == ["Ana"]
    assert [row[1] for row in _export(auth_client, q="Luis")[1:]] == ["Luis"]


def test_phones_are_shown_as_people_read_them_and_exported_as_stored(auth_client):
    contact = make_contact(phone="573001234567", first_name="Ana")
    group = make_group()
    contact.groups.add(group)
    for url in [
        reverse("contact_list"),
        reverse("contact_detail", args=[contact.pk]),
        reverse("group_detail", args=[group.pk]),
    ]:
        assert "+57 300 123 4567" in auth_client.get(url).text, url
    export = b"".join(auth_client.get(reverse("contact_export")).streaming_content).decode()
    assert "573001234567" in export and "+57 300" not in export
