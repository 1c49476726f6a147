"""Do-not-call: every way of marking a person keeps a history and stops the calls already
queued for them in every campaign; only a launcher may clear a mark, and says why."""

from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from campaigns import services
from campaigns.contact_import import guess_mapping
from campaigns.forms import ContactForm
from campaigns.models import CallResult, Campaign, Contact, ContactImport, DoNotCallChange
from campaigns.text import clean_json, clean_text
from tests.factories import make_campaign, make_contact, make_result

pytestmark = pytest.mark.django_db

State = CallResult.State
Source = DoNotCallChange.Source
PHONE = "573001234567"


@pytest.fixture
def calls():
    """Calls to PHONE: queued in a sending and in a paused campaign (to be cancelled), and
    sent, answered, or to another phone (to be left alone)."""
    sending = make_campaign(name="Citas", state=Campaign.State.SENDING)
    paused = make_campaign(name="Cobranza", state=Campaign.State.PAUSED)
    other = make_campaign(name="Encuesta", state=Campaign.State.SENDING)
    finished = make_campaign(name="Aviso", state=Campaign.State.FINISHED)
    queued = [
        make_result(campaign=sending, phone=PHONE, state=State.QUEUED),
        make_result(campaign=paused, phone=PHONE, state=State.QUEUED),
    ]
    kept = [
        make_result(campaign=other, phone=PHONE, state=State.SENT),
        make_result(campaign=finished, phone=PHONE, state=State.ANSWERED),
        make_result(campaign=sending, phone="573109876543", state=State.QUEUED),
    ]
    return queued, kept


def assert_cancelled(calls):
    queued, kept = calls
    for result in queued:
        result.refresh_from_db()
        assert result.state == State.EXCLUDED
        assert result.exclusion_reason == CallResult.ExclusionReason.DO_NOT_CALL_LATE
    for result in kept:
        before = (result.state, result.exclusion_reason, result.updated_at)
        result.refresh_from_db()
        assert (result.state, result.exclusion_reason, result.updated_at) == before


def assert_not_cancelled(calls):
    queued, _kept = calls
    for result in queued:
        result.refresh_from_db()
        assert result.state == State.QUEUED


def history(contact):
    return list(
        contact.do_not_call_changes.order_by("id").values_list(
            "do_not_call", "reason", "source", "changed_by"
        )
    )


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


@pytest.fixture
def editor_client(client, editor_user):
    client.force_login(editor_user)
    return client


# -- the service --------------------------------------------------------------------------------


def test_marking_records_why_who_and_from_where_and_stops_queued_calls(user, calls):
    contact = make_contact(phone=PHONE)

    done = services.contacts_set_do_not_call(
        contacts=Contact.objects.filter(pk=contact.pk),
        do_not_call=True,
        reason="Pidió no ser llamada",
        source=Source.LIST,
        user=user,
    )

    assert (done.changed, done.calls_cancelled) == (1, 2)
    contact.refresh_from_db()
    assert contact.do_not_call and contact.do_not_call_at is not None
    assert contact.do_not_call_reason == "Pidió no ser llamada"
    assert history(contact) == [(True, "Pidió no ser llamada", Source.LIST, user.pk)]
    assert_cancelled(calls)


def test_marking_again_keeps_the_first_mark_but_still_stops_new_queued_calls(user, calls):
    contact = make_contact(phone=PHONE)
    first = Contact.objects.filter(pk=contact.pk)
    services.contacts_set_do_not_call(
        contacts=first, do_not_call=True, reason="Primera", source=Source.FORM, user=user
    )
    contact.refresh_from_db()
    marked_at = contact.do_not_call_at
    # The calls of `calls` were queued before the mark; say a launch slipped in: queue more.
    late = make_result(
        campaign=make_campaign(state=Campaign.State.SENDING), phone=PHONE, state=State.QUEUED
    )

    done = services.contacts_set_do_not_call(
        contacts=first, do_not_call=True, reason="Segunda", source=Source.ADMIN, user=user
    )

    assert (done.changed, done.calls_cancelled) == (0, 1)
    contact.refresh_from_db()
    assert (contact.do_not_call_reason, contact.do_not_call_at) == ("Primera", marked_at)
    assert len(history(contact)) == 1
    late.refresh_from_db()
    assert late.state == State.EXCLUDED


def test_clearing_needs_a_launcher_and_a_reason(editor_user, user, calls):
    contact = make_contact(phone=PHONE, do_not_call=True, do_not_call_reason="Se quejó")
    selection = Contact.objects.filter(pk=contact.pk)

    with pytest.raises(PermissionDenied):
        services.contacts_set_do_not_call(
            contacts=selection,
            do_not_call=False,
            reason="Ya no",
            source=Source.FORM,
            user=editor_user,
        )
    with pytest.raises(ValidationError):
        services.contacts_set_do_not_call(
            contacts=selection, do_not_call=False, reason="  ", source=Source.FORM, user=user
        )
    contact.refresh_from_db()
    assert contact.do_not_call and contact.do_not_call_reason == "Se quejó"
    assert history(contact) == []

    done = services.contacts_set_do_not_call(
        contacts=selection,
        do_not_call=False,
        reason="Pidió que la llamen",
        source=Source.FORM,
        user=user,
    )

    assert (done.changed, done.calls_cancelled) == (1, 0)
    contact.refresh_from_db()
    assert not contact.do_not_call
    assert (contact.do_not_call_reason, contact.do_not_call_at) == ("", None)
    assert history(contact) == [(False, "Pidió que la llamen", Source.FORM, user.pk)]
    assert_not_cancelled(calls)  # clearing never touches calls


# -- the contact form and page -----------------------------------------------------------------


def _contact_data(contact, **changes):
    data = {"phone": contact.phone, "first_name": contact.first_name, "last_name": ""}
    if contact.do_not_call:
        data["do_not_call"] = "on"
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def _post_edit(client, contact, **changes):
    return client.post(
        reverse("contact_update", args=[contact.pk]),
        _contact_data(contact, **changes),
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )


def test_ticking_do_not_call_in_the_form_keeps_history_and_says_calls_were_cancelled(
    auth_client, user, calls
):
    contact = make_contact(phone=PHONE, first_name="Ana")

    response = _post_edit(
        auth_client, contact, do_not_call="on", do_not_call_reason="Pidió no ser llamada"
    )

    assert "Changes saved. 2 pending calls were cancelled." in messages_of(response)
    contact.refresh_from_db()
    assert contact.do_not_call and contact.do_not_call_reason == "Pidió no ser llamada"
    assert history(contact) == [(True, "Pidió no ser llamada", Source.FORM, user.pk)]
    assert_cancelled(calls)


def test_a_contact_added_as_do_not_call_has_its_mark_in_the_history(auth_client, user):
    response = auth_client.post(
        reverse("contact_create"),
        {"phone": "300 123 4567", "do_not_call": "on", "do_not_call_reason": "Lista Claro"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    contact = Contact.objects.get()
    assert response.status_code == 302
    assert contact.do_not_call and contact.do_not_call_at is not None
    assert history(contact) == [(True, "Lista Claro", Source.FORM, user.pk)]


def test_an_editor_sees_the_mark_but_cannot_untick_it(editor_client):
    contact = make_contact(phone=PHONE, do_not_call=True, do_not_call_reason="Se quejó")

    page = editor_client.get(
        reverse("contact_update", args=[contact.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert page.status_code == 200
    assert "Only someone who can launch campaigns (a launcher) may remove this mark" in page.text
    assert 'id="do-not-call-locked" checked disabled' in page.text
    assert 'type="checkbox" name="do_not_call"' not in page.text
    assert 'name="clear_reason"' not in page.text


def test_an_editor_saving_other_fields_keeps_the_mark(editor_client, editor_user):
    contact = make_contact(phone=PHONE, first_name="Ana", do_not_call=True)

    response = _post_edit(editor_client, contact, first_name="Ana María")

    assert "Changes saved." in messages_of(response)
    contact.refresh_from_db()
    assert contact.first_name == "Ana María" and contact.do_not_call
    assert history(contact) == []


def test_a_forged_post_of_an_editor_clearing_the_mark_is_refused_next_to_the_field(
    editor_client,
):
    contact = make_contact(
        phone=PHONE, first_name="Ana", do_not_call=True, do_not_call_reason="Se quejó"
    )

    response = _post_edit(
        editor_client, contact, first_name="Ana María", do_not_call=None, clear_reason="Ya no"
    )

    assert response.status_code == 200
    assert response.redirect_chain == []
    assert 'class="field-error"' in response.text
    assert "Only someone who can launch campaigns may remove the do-not-call mark." in (
        response.text
    )
    assert 'value="Ana María"' in response.text  # what was typed is still there
    contact.refresh_from_db()
    assert contact.do_not_call and contact.do_not_call_reason == "Se quejó"
    assert contact.first_name == "Ana"
    assert history(contact) == []


def test_a_launcher_clears_the_mark_with_a_reason(auth_client, user):
    contact = make_contact(phone=PHONE, do_not_call=True, do_not_call_reason="Se quejó")
    page = auth_client.get(reverse("contact_update", args=[contact.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "why may this person be called again?" in page.text

    response = _post_edit(auth_client, contact, do_not_call=None, clear_reason="Pidió volver")

    assert "Changes saved." in messages_of(response)
    contact.refresh_from_db()
    assert not contact.do_not_call and contact.do_not_call_at is None
    assert history(contact) == [(False, "Pidió volver", Source.FORM, user.pk)]


def test_clearing_without_a_reason_asks_for_it_next_to_the_field(auth_client):
    contact = make_contact(phone=PHONE, do_not_call=True, do_not_call_reason="Se quejó")

    response = _post_edit(auth_client, contact, do_not_call=None, clear_reason="  ")

    assert response.status_code == 200
    assert 'id="id_clear_reason_error">Write why this person may be called again.' in (
        response.text
    )
    contact.refresh_from_db()
    assert contact.do_not_call
    assert history(contact) == []


def test_the_contact_page_lists_the_history_newest_first(auth_client, user):
    user.first_name, user.last_name = "Laura", "Gómez"
    user.save()
    contact = make_contact(phone=PHONE)
    selection = Contact.objects.filter(pk=contact.pk)
    services.contacts_set_do_not_call(
        contacts=selection, do_not_call=True, reason="Se quejó", source=Source.LIST, user=user
    )
    services.contacts_set_do_not_call(
        contacts=selection, do_not_call=False, reason="Pidió volver", source=Source.FORM, user=user
    )

    page = auth_client.get(contact.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    text = page.text
    assert "Do-not-call history" in text
    assert text.index("Pidió volver") < text.index("Se quejó")
    assert "Mark removed" in text and "Marked do-not-call" in text
    assert "Contact list" in text and "Contact form" in text
    assert "Laura Gómez" in text


def test_a_contact_never_marked_says_so(auth_client):
    contact = make_contact(phone=PHONE)
    page = auth_client.get(contact.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Never marked do-not-call." in page.text


def test_custom_fields_typed_in_the_form_are_cleaned():
    form = ContactForm(data={"phone": PHONE, "custom_fields_text": "no\udfffta = x\ud800y"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["custom_fields_text"] == {"nota": "xy"}


# -- the contact list's bulk action --------------------------------------------------------------


def test_bulk_marking_from_the_list_says_how_many_calls_were_cancelled(auth_client, user, calls):
    ana, luis = make_contact(phone=PHONE), make_contact()

    response = auth_client.post(
        reverse("contact_bulk"),
        {"action": "mark_do_not_call", "contacts": [ana.pk, luis.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert messages_of(response) == [
        "2 contacts marked do-not-call. 2 pending calls were cancelled."
    ]
    assert history(ana) == [(True, "Marked from the contact list", Source.LIST, user.pk)]
    assert len(history(luis)) == 1
    assert_cancelled(calls)


# -- the admin ------------------------------------------------------------------------------------


def test_admin_action_marks_with_history_and_cancels_calls(staff_client, staff_user, calls):
    ana = make_contact(phone=PHONE)

    response = staff_client.post(
        reverse("admin:campaigns_contact_changelist"),
        {"action": "mark_do_not_call", ACTION_CHECKBOX_NAME: [ana.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    assert "1 contact marked do-not-call. 2 pending calls were cancelled." in response.text
    [(marked, _reason, source, changed_by)] = history(ana)
    assert (marked, source, changed_by) == (True, Source.ADMIN, staff_user.pk)
    assert_cancelled(calls)
    page = staff_client.get(
        reverse("admin:campaigns_contact_change", args=[ana.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "do-not-call changes" in page.text.lower()  # the read-only history inline
    assert "Administration" in page.text


def _admin_change(client, contact, **changes):
    data = {
        "phone": contact.phone,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "custom_fields": "{}",
        "do_not_call_changes-TOTAL_FORMS": "0",
        "do_not_call_changes-INITIAL_FORMS": "0",
        "do_not_call_changes-MIN_NUM_FORMS": "0",
        "do_not_call_changes-MAX_NUM_FORMS": "1000",
        **changes,
    }
    return client.post(reverse("admin:campaigns_contact_change", args=[contact.pk]), data)


def test_admin_change_form_never_changes_the_flag(staff_client):
    marked = make_contact(do_not_call=True, do_not_call_reason="Se quejó")
    free = make_contact()

    assert _admin_change(staff_client, marked, first_name="Ana").status_code == 302
    assert _admin_change(staff_client, free, do_not_call="on").status_code == 302

    marked.refresh_from_db()
    free.refresh_from_db()
    assert marked.first_name == "Ana"
    assert marked.do_not_call and marked.do_not_call_reason == "Se quejó"
    assert not free.do_not_call
    assert not DoNotCallChange.objects.exists()


def test_admin_custom_fields_are_stored_without_unstorable_characters(staff_client):
    contact = make_contact()

    response = _admin_change(
        staff_client, contact, custom_fields='{"a": "x\\ud800y", "b\\u0000": ["\\u0000z", 1]}'
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.custom_fields == {"a": "xy", "b": ["z", 1]}


def test_do_not_call_history_is_read_only_in_the_admin(staff_client, user):
    contact = make_contact()
    services.contacts_set_do_not_call(
        contacts=Contact.objects.filter(pk=contact.pk),
        do_not_call=True,
        reason="Se quejó",
        source=Source.LIST,
        user=user,
    )
    change = DoNotCallChange.objects.get()
    url = reverse("admin:campaigns_donotcallchange_change", args=[change.pk])
    assert staff_client.get(url).status_code == 200
    assert staff_client.post(url, {"reason": "Otro"}).status_code == 403
    change.refresh_from_db()
    assert change.reason == "Se quejó"


# -- the results page --------------------------------------------------------------------------


def test_marking_from_the_results_keeps_history_also_for_new_contacts(user, calls):
    campaign = make_campaign(name="Recordatorio", state=Campaign.State.FINISHED)
    known = make_contact(phone=PHONE)
    picked = [
        make_result(campaign=campaign, phone=PHONE, state=State.ANSWERED),
        make_result(campaign=campaign, phone="573205550000", state=State.FAILED),
    ]

    with translation.override("en"):
        done = services.results_mark_do_not_call(
            campaign=campaign,
            results=CallResult.objects.filter(pk__in=[r.pk for r in picked]),
            user=user,
        )

    assert (done.marked, done.created, done.calls_cancelled) == (2, 1, 2)
    created = Contact.objects.get(phone="573205550000")
    for contact in (known, created):
        contact.refresh_from_db()
        assert contact.do_not_call
        assert history(contact) == [(True, "From campaign Recordatorio", Source.RESULTS, user.pk)]
    assert_cancelled(calls)


# -- the contact import ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["No llamar", "no_llamar", "Do not call", "do_not_call", "DNC", "Bloqueado"]
)
def test_a_do_not_call_column_is_recognised(header):
    assert guess_mapping(["Celular", "Nombre", header]) == ["phone", "first_name", "do_not_call"]


IMPORT_CSV = (
    "Celular;Nombre;No llamar\r\n"
    "300 123 4567;Ana;Sí\r\n"
    "310 987 6543;Luis;\r\n"
    "311 222 3344;Eva;x\r\n"
    "312 555 6677;Pedro;no\r\n"
    "313 444 5566;Rosa;VERDADERO\r\n"
).encode("cp1252")


def test_an_import_marks_the_rows_that_say_so_and_never_clears(
    auth_client, user, calls, django_capture_on_commit_callbacks
):
    make_contact(phone="573001234567", first_name="Ana")  # known: marked by the file
    pedro = make_contact(phone="573125556677", do_not_call=True, do_not_call_reason="Se quejó")
    auth_client.post(
        reverse("contact_import"),
        {"file": SimpleUploadedFile("pacientes.csv", IMPORT_CSV, content_type="text/csv")},
    )
    job = ContactImport.objects.get()
    assert job.mapping == ["phone", "first_name", "do_not_call"]
    columns = {f"column_{index}": target for index, target in enumerate(job.mapping)}
    with django_capture_on_commit_callbacks(execute=True):  # the worker's preview
        auth_client.post(job.get_absolute_url(), columns)

    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(job.get_absolute_url(), {"confirm": "1"})

    job.refresh_from_db()
    assert job.state == ContactImport.State.DONE
    marked = Contact.objects.filter(do_not_call=True)
    assert set(marked.values_list("first_name", flat=True)) == {"Ana", "Eva", "Rosa", "Pedro"}
    for contact in marked.exclude(pk=pedro.pk):
        [(flag, reason, source, changed_by)] = history(contact)
        assert (flag, source, changed_by) == (True, Source.IMPORT, user.pk)
        assert "pacientes.csv" in reason
        assert contact.do_not_call_reason == reason
    pedro.refresh_from_db()
    assert pedro.do_not_call_reason == "Se quejó" and history(pedro) == []
    assert not Contact.objects.get(first_name="Luis").do_not_call
    assert_cancelled(calls)
    page = auth_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "3 contacts marked do-not-call · 2 pending calls cancelled." in page.text


def test_the_import_command_marks_too(tmp_path, calls):
    path = tmp_path / "lista.csv"
    path.write_text("telefono;DNC\n3001234567;1\n3109876543;0\n", encoding="utf-8")
    out = StringIO()

    with translation.override("en"):
        call_command("import_contacts", str(path), stdout=out)

    assert "1 marked do-not-call" in out.getvalue()
    assert "2 pending calls cancelled" in out.getvalue()
    contact = Contact.objects.get(phone=PHONE)
    assert history(contact) == [(True, "Marked in the import of «lista.csv»", Source.IMPORT, None)]
    assert not Contact.objects.get(phone="573109876543").do_not_call
    assert_cancelled(calls)


# -- what the database can store ---------------------------------------------------------------


def test_clean_text_and_clean_json_drop_nul_and_lone_surrogates():
    assert clean_text("a\x00b\ud800c\udfffd ñ 😀") == "abcd ñ 😀"
    assert clean_json({"k\x00": ["\ud800v", 2, None, {"x": True}]}) == {
        "k": ["v", 2, None, {"x": True}]
    }
