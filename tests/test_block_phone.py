"""Blocking phones at Onurix (`POST /block-phone`) when people are marked do-not-call:
the client and the sandbox over HTTP, the checkbox, the worker's task with its retries
when Onurix cannot be reached, and the outcome in the contact's history."""

import logging
import socket
from datetime import timedelta

import pytest
import requests
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from campaigns import services, tasks
from campaigns.models import CallResult, Campaign, Contact, DoNotCallChange
from campaigns.onurix import (
    OnurixAuthError,
    OnurixClient,
    OnurixInvalidRequest,
    OnurixRefused,
)
from campaigns.services.blocking import RETRY_DELAYS
from tests.factories import make_campaign, make_contact, make_group, make_user
from tests.onurix_fixtures import CANARY_KEY, SANDBOX_CLIENT_ID, SANDBOX_KEY

PHONE = "573001234567"
OTHER = "573001234568"
Block = DoNotCallChange.OnurixBlock


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _blocked_at(sandbox) -> dict:
    return requests.get(sandbox.root_url + "/_sandbox/blocked", timeout=5).json()["blocked"]


def _free_port() -> int:
    """A port of 127.0.0.1 where nothing listens: Onurix not reached."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the client against the sandbox -----------------------------------------------------------


def test_a_blocked_phone_is_refused_by_a_later_send_and_never_charged(make_sandbox):
    sandbox = make_sandbox(settle_seconds=3600)
    client = OnurixClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_KEY, timeout=2)

    result = client.block_phone(phone=PHONE, channel="CALL")
    assert (result.phone, result.channel) == (PHONE, "CALL")
    assert _blocked_at(sandbox) == {PHONE: ["CALL"]}

    balance = sandbox.state.balance
    sent = client.send_call(phones=[PHONE, OTHER], voice="Mariana", message="Hola")
    calls = {call.phone: call for call in sent.calls}
    assert (calls[PHONE].state, calls[PHONE].credits) == ("Rechazado", 0)
    assert (calls[OTHER].state, calls[OTHER].credits) == ("Enviado", 1)
    assert sandbox.state.balance == balance - 1  # only the other phone was charged
    states = {state.phone: state.state for state in client.messages_state(id=sent.dispatch_id)}
    assert states[PHONE] == "Rechazado"


def test_with_batch_reject_the_whole_send_is_refused_naming_the_blocked_phone(make_sandbox):
    sandbox = make_sandbox(dialect="batch_reject")
    client = OnurixClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_KEY, timeout=2)
    client.block_phone(phone=PHONE, channel="ALL")
    with pytest.raises(OnurixRefused) as refused:
        client.send_call(phones=[OTHER, PHONE], voice="Mariana", message="Hola")
    assert refused.value.code == 1016 and PHONE in refused.value.onurix_message
    assert sandbox.state.calls() == []


def test_blocking_sms_or_whatsapp_does_not_stop_calls(make_sandbox):
    sandbox = make_sandbox()
    client = OnurixClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_KEY, timeout=2)
    client.block_phone(phone=PHONE, channel="SMS")
    client.block_phone(phone=PHONE, channel="WA")
    sent = client.send_call(phones=[PHONE], voice="Mariana", message="Hola")
    assert sent.calls[0].state == "Enviado"


@pytest.mark.parametrize(
    "dialect",
    [
        "standard",
        "phones_national,numbers_as_strings,status_number",
        "phones_plus,spanish_refusals,states_caps",
        "balance_in_data,states_object,batch_reject",
    ],
)
def test_block_phone_works_in_every_dialect(make_sandbox, dialect):
    sandbox = make_sandbox(dialect=dialect)
    client = OnurixClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_KEY, timeout=2)
    assert client.block_phone(phone=PHONE, channel="CALL").phone == PHONE
    assert _blocked_at(sandbox) == {PHONE: ["CALL"]}


def test_the_sandbox_refuses_a_bad_channel_or_phone_as_documented(make_sandbox):
    sandbox = make_sandbox()
    form = {"client": SANDBOX_CLIENT_ID, "key": SANDBOX_KEY, "phone": PHONE}
    bad_channel = requests.post(sandbox.url + "/block-phone", data=form, timeout=5)
    assert bad_channel.status_code == 400 and bad_channel.json()["error"] == 1015
    form.update(channel="CALL", phone="+57 300")
    bad_phone = requests.post(sandbox.url + "/block-phone", data=form, timeout=5)
    assert bad_phone.status_code == 400 and bad_phone.json()["error"] == 1011
    assert _blocked_at(sandbox) == {}


def test_the_client_checks_its_arguments_before_any_request(make_sandbox):
    sandbox = make_sandbox()
    client = OnurixClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_KEY, timeout=2)
    with pytest.raises(OnurixInvalidRequest):
        client.block_phone(phone=PHONE, channel="call")
    with pytest.raises(OnurixInvalidRequest):
        client.block_phone(phone="+573001234567", channel="CALL")
    assert _blocked_at(sandbox) == {}


def test_the_key_never_reaches_a_log_or_an_error(make_sandbox, caplog):
    sandbox = make_sandbox(key=CANARY_KEY)
    caplog.set_level(logging.DEBUG)
    client = OnurixClient(sandbox.url, SANDBOX_CLIENT_ID, CANARY_KEY, timeout=2)
    client.block_phone(phone=PHONE, channel="CALL")
    wrong = OnurixClient(sandbox.url, SANDBOX_CLIENT_ID, CANARY_KEY + "x", timeout=2)
    with pytest.raises(OnurixAuthError) as refused:
        wrong.block_phone(phone=PHONE, channel="CALL")
    assert CANARY_KEY not in str(refused.value) + refused.value.onurix_message
    assert CANARY_KEY not in caplog.text


# -- the checkbox -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_checkbox_is_off_by_default_and_says_it_cannot_be_undone(auth_client, settings):
    settings.ONURIX_BLOCK_PHONE_SYNC = False
    make_contact(phone=OTHER)
    form = auth_client.get(reverse("contact_create"), HTTP_ACCEPT_LANGUAGE="es")
    field = form.context["form"]["block_at_onurix"]
    assert field.value() is False
    assert "Bloquear también en Onurix" in form.text
    assert "Esto no se puede deshacer desde aquí." in form.text

    listing = auth_client.get(reverse("contact_list"), HTTP_ACCEPT_LANGUAGE="es")
    assert 'name="block_at_onurix"' in listing.text
    assert 'id="bulk-form-block"' in listing.text and "checked" not in _checkbox(listing.text)


@pytest.mark.django_db
def test_onurix_block_phone_sync_ticks_the_checkbox(auth_client, settings):
    settings.ONURIX_BLOCK_PHONE_SYNC = True
    make_contact(phone=OTHER)
    form = auth_client.get(reverse("contact_create"))
    assert form.context["form"]["block_at_onurix"].value() is True
    listing = auth_client.get(reverse("contact_list"))
    assert "checked" in _checkbox(listing.text)


def _checkbox(page: str) -> str:
    start = page.index('name="block_at_onurix"')
    return page[start : page.index(">", start)]


@pytest.mark.django_db
def test_marking_without_the_checkbox_blocks_nothing(auth_client, onurix):
    onurix()
    contact = make_contact(phone=PHONE)
    auth_client.post(
        reverse("contact_bulk"), {"action": "mark_do_not_call", "contacts": [contact.pk]}
    )
    change = DoNotCallChange.objects.get(contact=contact)
    assert change.onurix_block == ""
    assert not DBTaskResult.objects.filter(task_path=tasks.do_not_call_block_task.module_path)


@pytest.mark.django_db
def test_blocking_needs_the_role_that_may_mark_do_not_call(read_only_user):
    contact = make_contact(phone=PHONE)
    with pytest.raises(PermissionDenied):
        services.contacts_set_do_not_call(
            contacts=Contact.objects.filter(pk=contact.pk),
            do_not_call=True,
            reason="x",
            source=DoNotCallChange.Source.LIST,
            user=read_only_user,
            block_at_onurix=True,
        )
    contact.refresh_from_db()
    assert not contact.do_not_call and not DoNotCallChange.objects.exists()


# -- the worker -------------------------------------------------------------------------------


def _run_worker() -> None:
    """The worker, once: every task due now."""
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0")


def _waiting_block_tasks():
    return DBTaskResult.objects.filter(
        task_path=tasks.do_not_call_block_task.module_path, status="READY"
    )


@pytest.mark.django_db(transaction=True)
def test_bulk_mark_with_block_is_sent_by_the_worker_and_shown_in_the_history(
    client, editor_user, onurix
):
    sandbox = onurix()
    client.force_login(editor_user)
    contacts = [make_contact(phone=PHONE, first_name="Ana"), make_contact(phone=OTHER)]
    response = client.post(
        reverse("contact_bulk"),
        {
            "action": "mark_do_not_call",
            "contacts": [contact.pk for contact in contacts],
            "block_at_onurix": "on",
        },
        follow=True,
    )
    assert "2 teléfonos también se bloquearán en Onurix" in response.text
    assert "no se puede deshacer desde aquí" in response.text
    # Nothing left from the web request: the worker sends it.
    assert _blocked_at(sandbox) == {}
    assert set(DoNotCallChange.objects.values_list("onurix_block", flat=True)) == {Block.PENDING}

    _run_worker()
    assert _blocked_at(sandbox) == {PHONE: ["CALL"], OTHER: ["CALL"]}
    change = DoNotCallChange.objects.get(contact=contacts[0])
    assert (change.onurix_block, change.onurix_block_attempts) == (Block.BLOCKED, 1)
    assert change.onurix_block_at is not None

    page = client.get(contacts[0].get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es")
    assert "Bloqueado en Onurix" in page.text


@pytest.mark.django_db(transaction=True)
def test_onurix_not_reached_is_retried_later_until_it_answers(client, user, onurix, settings):
    sandbox = onurix()
    settings.ONURIX_BASE_URL = f"http://127.0.0.1:{_free_port()}/api/v1"
    client.force_login(user)
    contact = make_contact(phone=PHONE)
    client.post(
        reverse("contact_update", args=[contact.pk]),
        {
            "phone": PHONE,
            "do_not_call": "on",
            "do_not_call_reason": "Lo pidió",
            "block_at_onurix": "on",
        },
    )
    before = timezone.now()
    _run_worker()

    change = DoNotCallChange.objects.get(contact=contact)
    assert (change.onurix_block, change.onurix_block_attempts) == (Block.PENDING, 1)
    assert "could not be reached" in change.onurix_block_message
    retry = _waiting_block_tasks().get()
    assert before + timedelta(seconds=RETRY_DELAYS[0] - 5) < retry.run_after
    assert retry.run_after < timezone.now() + timedelta(seconds=RETRY_DELAYS[0] + 5)
    page = client.get(contact.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es")
    assert "Esperando envío" in page.text and "1 intento, se intentará de nuevo" in page.text

    # The retry's time comes, and Onurix answers again.
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    settings.ONURIX_BASE_URL = sandbox.url
    _run_worker()
    change.refresh_from_db()
    assert (change.onurix_block, change.onurix_block_attempts) == (Block.BLOCKED, 2)
    assert _blocked_at(sandbox) == {PHONE: ["CALL"]}
    assert not _waiting_block_tasks().exists()


@pytest.mark.django_db
def test_after_the_last_retry_the_history_says_onurix_could_not_be_reached(settings):
    settings.ONURIX_BASE_URL = f"http://127.0.0.1:{_free_port()}/api/v1"
    contact = make_contact(phone=PHONE)
    change = DoNotCallChange.objects.create(
        contact=contact,
        do_not_call=True,
        source=DoNotCallChange.Source.LIST,
        onurix_block=Block.PENDING,
        onurix_block_attempts=len(RETRY_DELAYS),
    )
    run = services.do_not_call_block_at_onurix(change_ids=[change.pk])
    assert (run.gave_up, run.retry) == (1, [])
    change.refresh_from_db()
    assert change.onurix_block == Block.NOT_REACHED
    assert change.onurix_block_attempts == len(RETRY_DELAYS) + 1


@pytest.mark.django_db(transaction=True)
def test_a_refusal_is_kept_with_onurix_words_and_not_retried(user, onurix, settings):
    onurix()
    settings.ONURIX_KEY = "wrong-key"
    contact = make_contact(phone=PHONE)
    services.contacts_set_do_not_call(
        contacts=Contact.objects.filter(pk=contact.pk),
        do_not_call=True,
        reason="Lo pidió",
        source=DoNotCallChange.Source.LIST,
        user=user,
        block_at_onurix=True,
    )
    _run_worker()
    change = DoNotCallChange.objects.get(contact=contact)
    assert change.onurix_block == Block.REFUSED
    assert change.onurix_block_message == "Credenciales inválidas"
    assert "wrong-key" not in change.onurix_block_message
    assert not _waiting_block_tasks().exists()


@pytest.mark.django_db(transaction=True)
def test_results_page_mark_blocks_and_a_later_call_is_refused_by_onurix(client, user, onurix):
    """Laura marks a patient from the results (also blocked at Onurix). Months later a
    launcher clears the mark here: Onurix still refuses the call and charges nothing."""
    sandbox = onurix(settle_seconds=0)
    client.force_login(user)
    group = make_group()
    make_contact(phone=PHONE, first_name="Ana").groups.add(group)
    first = make_campaign(name="Citas", state=Campaign.State.FINISHED)
    result = CallResult.objects.create(campaign=first, phone=PHONE, state=CallResult.State.ANSWERED)
    client.post(
        reverse("campaign_results_action", args=[first.pk]),
        {"action": "do_not_call", "results": [result.pk], "block_at_onurix": "on"},
    )
    _run_worker()
    assert _blocked_at(sandbox) == {PHONE: ["CALL"]}

    contact = Contact.objects.get(phone=PHONE)
    services.contacts_set_do_not_call(
        contacts=Contact.objects.filter(pk=contact.pk),
        do_not_call=False,
        reason="Pidió que la llamaran de nuevo",
        source=DoNotCallChange.Source.FORM,
        user=user,
    )
    second = make_campaign(name="Promo")
    second.groups.add(group)
    assert services.campaign_launch(campaign=second, user=make_user())
    balance = sandbox.state.balance
    assert services.campaign_dispatch(campaign_id=second.pk) == "finished"
    called = second.results.get(phone=PHONE)
    assert (called.onurix_state, called.credits) == ("Rechazado", 0)
    assert sandbox.state.balance == balance


@pytest.mark.django_db
def test_the_sweep_queues_again_a_block_whose_task_was_lost(onurix):
    """A mark waiting to be blocked whose task was lost (its worker died with it queued)
    is queued again by the sweep, and then blocked; one whose retry is merely scheduled
    for later is left alone."""
    from campaigns.services.blocking import do_not_call_blocks_sweep

    sandbox = onurix()
    changes = {}
    for phone, attempts in ((PHONE, 0), (OTHER, 3)):
        changes[phone] = DoNotCallChange.objects.create(
            contact=make_contact(phone=phone),
            do_not_call=True,
            reason="Pidió no ser llamado",
            onurix_block=Block.PENDING,
            onurix_block_attempts=attempts,
        )
    # Marked 20 minutes ago: the first was due then; the second, tried three times, is
    # due again 1 + 5 + 30 minutes after the mark: not yet.
    DoNotCallChange.objects.update(created_at=timezone.now() - timedelta(minutes=20))

    assert do_not_call_blocks_sweep() == 1
    queued = DBTaskResult.objects.filter(task_path__endswith="do_not_call_block_task")
    assert [task.args_kwargs["kwargs"]["change_ids"] for task in queued] == [[changes[PHONE].pk]]

    tasks.do_not_call_block_task.call(change_ids=[changes[PHONE].pk])
    assert _blocked_at(sandbox) == {PHONE: ["CALL"]}
    changes[OTHER].refresh_from_db()
    assert changes[OTHER].onurix_block == Block.PENDING
