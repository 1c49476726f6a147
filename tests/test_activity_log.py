"""The activity log: every action that spends credits, changes consent or changes access
leaves one entry (who, when, what, from which address); a refused or rolled-back action
leaves none; administrators read it on "Actividad", filter it and export it; nobody can
change it."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import ActivityEntry, CallResult, Campaign, Contact, DoNotCallChange
from campaigns.roles import EDITOR, LAUNCHER, READ_ONLY
from campaigns.services.activity import acting_as
from tests.factories import (
    make_audio_code,
    make_campaign,
    make_contact,
    make_group,
    make_result,
    make_user,
)
from tests.test_i18n import _is_data, _texts

pytestmark = pytest.mark.django_db

Action = ActivityEntry.Action
ADDRESS = "203.0.113.7"


def entries(action):
    return list(ActivityEntry.objects.filter(action=action))


def the_entry(action):
    """The one entry of `action`: fails when there is none or more than one."""
    found = entries(action)
    assert len(found) == 1, f"{action}: {len(found)} entries"
    return found[0]


def post(client, url, data=None, **extra):
    return client.post(url, data or {}, REMOTE_ADDR=ADDRESS, HTTP_ACCEPT_LANGUAGE="en", **extra)


def assert_by(entry, person, *, address=ADDRESS):
    assert entry.user_id == person.pk
    assert entry.username == person.username
    assert entry.address == address
    assert timezone.now() - entry.at < timedelta(minutes=1)


@pytest.fixture
def draft():
    group = make_group(name="Pacientes Chapinero")
    for name in ["Ana", "Luis"]:
        make_contact(first_name=name).groups.add(group)
    campaign = make_campaign(name="Recordatorio de citas")
    campaign.groups.add(group)
    return campaign


@pytest.fixture
def admin_user(db):
    return make_user(username="andres", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# -- what spends credits ---------------------------------------------------------------------


def test_a_launch_is_recorded_with_who_when_what_and_from_where(auth_client, user, onurix, draft):
    onurix(balance=8000)
    response = post(auth_client, reverse("campaign_launch", args=[draft.pk]))
    assert response.status_code == 302
    entry = the_entry(Action.CAMPAIGN_LAUNCH)
    assert_by(entry, user)
    assert (entry.target_type, entry.target_id, entry.target) == (
        "campaign",
        draft.pk,
        "Recordatorio de citas",
    )
    assert entry.details["phones"] == 2


def test_a_launch_refused_for_the_balance_leaves_no_entry(auth_client, onurix, draft):
    onurix(balance=1)
    post(auth_client, reverse("campaign_launch", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.state == Campaign.State.DRAFT
    assert entries(Action.CAMPAIGN_LAUNCH) == []


def test_pause_resume_and_cancel_each_leave_one_entry_and_refusals_none(
    auth_client, user, draft, django_capture_on_commit_callbacks
):
    Campaign.objects.filter(pk=draft.pk).update(state=Campaign.State.SENDING)
    for _ in range(3):
        make_result(campaign=draft)

    post(auth_client, reverse("campaign_pause", args=[draft.pk]))
    post(auth_client, reverse("campaign_pause", args=[draft.pk]))  # nothing left to pause
    assert_by(the_entry(Action.CAMPAIGN_PAUSE), user)

    with django_capture_on_commit_callbacks(execute=False):
        post(auth_client, reverse("campaign_resume", args=[draft.pk]))
        post(auth_client, reverse("campaign_resume", args=[draft.pk]))  # already running
    assert_by(the_entry(Action.CAMPAIGN_RESUME), user)

    post(auth_client, reverse("campaign_cancel", args=[draft.pk]))
    post(auth_client, reverse("campaign_cancel", args=[draft.pk]))  # already over
    cancel = the_entry(Action.CAMPAIGN_CANCEL)
    assert_by(cancel, user)
    assert cancel.target_id == draft.pk and cancel.details == {"calls_cancelled": 3}


def test_a_resend_is_recorded_and_one_whose_count_changed_is_not(
    auth_client, user, draft, django_capture_on_commit_callbacks
):
    Campaign.objects.filter(pk=draft.pk).update(state=Campaign.State.FINISHED)
    for _ in range(2):
        make_result(campaign=draft, state=CallResult.State.UNKNOWN)
    url = reverse("campaign_resend_unknown", args=[draft.pk])

    post(auth_client, url, {"expected": 5})  # the person saw another count: nothing sent
    assert entries(Action.CAMPAIGN_RESEND) == []

    with django_capture_on_commit_callbacks(execute=False):
        post(auth_client, url, {"expected": 2})
    entry = the_entry(Action.CAMPAIGN_RESEND)
    assert_by(entry, user)
    assert entry.details == {"phones": 2}


def test_a_test_call_is_recorded_and_a_refused_one_is_not(auth_client, user, onurix, draft):
    onurix()
    make_contact(phone="573001112233", do_not_call=True)
    url = reverse("campaign_test_call", args=[draft.pk])

    post(auth_client, url, {"phone": "3001112233"})  # do-not-call: refused
    assert entries(Action.CAMPAIGN_TEST_CALL) == []

    post(auth_client, url, {"phone": "(+57) 300 999 8877"})
    entry = the_entry(Action.CAMPAIGN_TEST_CALL)
    assert_by(entry, user)
    assert entry.target_id == draft.pk
    assert entry.details["phone"] == "573009998877"


def test_a_deleted_draft_keeps_its_entry(auth_client, user, draft):
    post(auth_client, reverse("campaign_delete", args=[draft.pk]))
    assert not Campaign.objects.filter(pk=draft.pk).exists()
    entry = the_entry(Action.CAMPAIGN_DELETE)
    assert_by(entry, user)
    assert (entry.target_id, entry.target) == (draft.pk, "Recordatorio de citas")


def test_an_action_rolled_back_leaves_no_entry(user, draft):
    Campaign.objects.filter(pk=draft.pk).update(state=Campaign.State.SENDING)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert services.campaign_pause(campaign=draft, user=user)
        raise RuntimeError("something after the pause failed")
    draft.refresh_from_db()
    assert draft.state == Campaign.State.SENDING
    assert entries(Action.CAMPAIGN_PAUSE) == []


# -- consent ----------------------------------------------------------------------------------


def test_marking_do_not_call_from_the_list_is_one_entry_for_all_the_contacts(auth_client, user):
    contacts = [make_contact(phone=f"57300000000{n}") for n in range(3)]
    make_contact(phone="573000000009", do_not_call=True)
    data = {"action": "mark_do_not_call", "contacts": [c.pk for c in contacts]}
    post(auth_client, reverse("contact_bulk"), data)
    entry = the_entry(Action.DO_NOT_CALL_MARK)
    assert_by(entry, user)
    assert entry.target_type == "contact"
    assert entry.target == "573000000000, 573000000001, 573000000002"
    assert entry.details["count"] == 3
    assert entry.details["source"] == DoNotCallChange.Source.LIST

    post(auth_client, reverse("contact_bulk"), data)  # already marked: nothing changes
    assert len(entries(Action.DO_NOT_CALL_MARK)) == 1


def test_clearing_a_mark_is_recorded_with_its_reason_and_a_refused_clearing_is_not(
    client, user, editor_user
):
    contact = make_contact(first_name="Ana", last_name="Muñoz", do_not_call=True)
    with acting_as(user=editor_user, address=ADDRESS), pytest.raises(PermissionDenied):
        services.contacts_set_do_not_call(
            contacts=Contact.objects.filter(pk=contact.pk),
            do_not_call=False,
            reason="Pidió volver",
            source=DoNotCallChange.Source.FORM,
            user=editor_user,
        )
    with pytest.raises(ValidationError):  # a launcher, but without a reason
        services.contacts_set_do_not_call(
            contacts=Contact.objects.filter(pk=contact.pk),
            do_not_call=False,
            reason=" ",
            source=DoNotCallChange.Source.FORM,
            user=user,
        )
    assert entries(Action.DO_NOT_CALL_CLEAR) == []

    client.force_login(user)
    post(
        client,
        reverse("contact_update", args=[contact.pk]),
        {
            "phone": contact.phone,
            "first_name": "Ana",
            "last_name": "Muñoz",
            "clear_reason": "Pidió volver",
        },
    )
    contact.refresh_from_db()
    assert not contact.do_not_call
    entry = the_entry(Action.DO_NOT_CALL_CLEAR)
    assert_by(entry, user)
    assert entry.target == f"Ana Muñoz ({contact.phone})" and entry.target_id == contact.pk
    assert entry.details["reason"] == "Pidió volver"


# -- deletions --------------------------------------------------------------------------------


def test_deleting_contacts_from_the_list_and_one_by_one_is_recorded(auth_client, user):
    bulk = [make_contact(phone=f"57310000000{n}") for n in range(2)]
    post(
        auth_client,
        reverse("contact_bulk"),
        {"action": "delete", "contacts": [c.pk for c in bulk], "confirmed": "True"},
    )
    entry = the_entry(Action.CONTACTS_DELETE)
    assert_by(entry, user)
    assert entry.target == "573100000000, 573100000001" and entry.details == {"count": 2}

    single = make_contact(first_name="Eva", phone="573109990000")
    post(auth_client, reverse("contact_delete", args=[single.pk]))
    latest = ActivityEntry.objects.filter(action=Action.CONTACTS_DELETE).first()
    assert (latest.target, latest.target_id) == ("Eva (573109990000)", single.pk)
    assert len(entries(Action.CONTACTS_DELETE)) == 2


def test_deleting_a_group_and_an_audio_is_recorded_and_a_refused_delete_is_not(auth_client, user):
    group = make_group(name="Pacientes Suba")
    post(auth_client, reverse("group_delete", args=[group.pk]))
    entry = the_entry(Action.GROUP_DELETE)
    assert_by(entry, user)
    assert (entry.target_type, entry.target) == ("group", "Pacientes Suba")

    used = make_audio_code(name="Aviso de corte")
    make_campaign(audio_code=used)
    post(auth_client, reverse("audio_code_delete", args=[used.pk]))  # a campaign uses it
    assert entries(Action.AUDIO_DELETE) == []

    free = make_audio_code(name="Bienvenida")
    post(auth_client, reverse("audio_code_delete", args=[free.pk]))
    entry = the_entry(Action.AUDIO_DELETE)
    assert_by(entry, user)
    assert entry.target == f"Bienvenida ({free.code})"


def test_deletions_in_the_admin_are_recorded(admin_client, admin_user):
    contact = make_contact(phone="573201234567")
    group = make_group(name="Temporal")
    post(
        admin_client, reverse("admin:campaigns_contact_delete", args=[contact.pk]), {"post": "yes"}
    )
    post(
        admin_client,
        reverse("admin:campaigns_contactgroup_changelist"),
        {"action": "delete_selected", "_selected_action": [group.pk], "post": "yes"},
    )
    assert not Contact.objects.exists()
    assert_by(the_entry(Action.CONTACTS_DELETE), admin_user)
    assert the_entry(Action.GROUP_DELETE).target == "Temporal"


# -- people and roles -------------------------------------------------------------------------


def _change_user(client, person, **fields):
    data = {
        "username": person.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": "2026-01-02",
        "date_joined_1": "08:00:00",
        "initial-date_joined_0": "2026-01-02",
        "initial-date_joined_1": "08:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(fields)
    data = {key: value for key, value in data.items() if value is not None}
    return post(client, reverse("admin:auth_user_change", args=[person.pk]), data)


def test_role_and_access_changes_in_the_admin_are_one_entry_each(admin_client, admin_user):
    laura = make_user(username="laura")
    laura.groups.add(Group.objects.get(name=READ_ONLY))  # outside a request: the system
    editor, launcher = Group.objects.get(name=EDITOR), Group.objects.get(name=LAUNCHER)

    response = _change_user(admin_client, laura, groups=[editor.pk, launcher.pk])
    assert response.status_code == 302
    by_admin = ActivityEntry.objects.filter(action=Action.USER_ROLES, user=admin_user)
    assert by_admin.count() == 1  # the form removes, then adds: still one entry
    entry = by_admin.get()
    assert_by(entry, admin_user)
    assert (entry.target_type, entry.target_id, entry.target) == ("user", laura.pk, "laura")
    assert entry.details == {"added": [EDITOR, LAUNCHER], "removed": [READ_ONLY]}

    _change_user(admin_client, laura, groups=[editor.pk], is_staff="on", is_active=None)
    access = the_entry(Action.USER_ACCESS)
    assert_by(access, admin_user)
    assert access.details == {"changes": {"is_active": [True, False], "is_staff": [False, True]}}
    assert ActivityEntry.objects.filter(action=Action.USER_ROLES, user=admin_user).count() == 2


def test_creating_and_deleting_a_user_is_recorded_and_the_name_outlives_the_person(
    admin_client, admin_user, client
):
    response = post(
        admin_client,
        reverse("admin:auth_user_add"),
        {
            "username": "asistente",
            "password1": "una-clave-larga-2026",
            "password2": "una-clave-larga-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    created = ActivityEntry.objects.get(action=Action.USER_CREATE, target="asistente")
    assert_by(created, admin_user)

    other_admin = make_user(username="camila", is_staff=True, is_superuser=True)
    client.force_login(other_admin)
    post(client, reverse("admin:auth_user_delete", args=[admin_user.pk]), {"post": "yes"})
    deleted = the_entry(Action.USER_DELETE)
    assert_by(deleted, other_admin)
    assert (deleted.target_id, deleted.target) == (admin_user.pk, "andres")
    created.refresh_from_db()
    assert created.user_id is None and created.username == "andres"


def test_a_role_given_outside_any_request_is_recorded_as_the_system():
    person = make_user(username="luis")
    person.groups.add(Group.objects.get(name=EDITOR))
    entry = the_entry(Action.USER_ROLES)
    assert (entry.user_id, entry.username, entry.address) == (None, "", None)
    assert entry.details == {"added": [EDITOR]}
    assert the_entry(Action.USER_CREATE).target == "luis"


def test_changing_a_roles_permissions_in_the_admin_is_one_entry(admin_client, admin_user):
    role = Group.objects.get(name=READ_ONLY)
    kept = list(role.permissions.exclude(codename="view_contact").values_list("pk", flat=True))
    response = post(
        admin_client,
        reverse("admin:campaigns_role_change", args=[role.pk]),
        {"name": role.name, "permissions": kept},
    )
    assert response.status_code == 302
    entry = the_entry(Action.ROLE_PERMISSIONS)
    assert_by(entry, admin_user)
    assert (entry.target_type, entry.target) == ("role", READ_ONLY)
    assert entry.details == {"removed": ["view_contact"]}


def test_a_password_set_in_the_admin_is_recorded(admin_client, admin_user):
    laura = make_user(username="laura")
    response = post(
        admin_client,
        reverse("admin:auth_user_password_change", args=[laura.pk]),
        {"password1": "otra-clave-larga-2026", "password2": "otra-clave-larga-2026"},
    )
    assert response.status_code == 302
    entry = the_entry(Action.USER_PASSWORD)
    assert_by(entry, admin_user)
    assert entry.target == "laura"


def test_a_sign_in_is_not_an_access_change(client, settings):
    laura = make_user(username="laura", password="a-long-test-password")  # the suite's MD5
    # The production hasher: signing in upgrades the stored hash, which saves the password.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    response = client.post(
        reverse("login"), {"username": "laura", "password": "a-long-test-password"}
    )
    assert response.status_code == 302
    laura.refresh_from_db()
    assert laura.password.startswith("argon2") and laura.last_login is not None
    assert entries(Action.USER_ACCESS) == [] and entries(Action.USER_PASSWORD) == []


# -- the address --------------------------------------------------------------------------------


def test_behind_a_trusted_proxy_the_address_is_the_clients(settings, auth_client, user, draft):
    settings.DJANGO_TRUSTED_PROXY_COUNT = 1
    Campaign.objects.filter(pk=draft.pk).update(state=Campaign.State.SENDING)
    auth_client.post(
        reverse("campaign_pause", args=[draft.pk]),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23",
    )
    assert_by(the_entry(Action.CAMPAIGN_PAUSE), user, address="198.51.100.23")


# -- the page ---------------------------------------------------------------------------------


def _record(action, *, who=None, target="", at=None, **fields):
    entry = services.activity_record(action=action, user=who, target_text=target, **fields)
    if at is not None:
        ActivityEntry.objects.filter(pk=entry.pk).update(at=at)
    return entry


@pytest.mark.parametrize("role", ["read_only", "editor", "launcher"])
def test_only_administrators_see_the_activity(
    client, role, read_only_user, editor_user, user, admin_user
):
    person = {"read_only": read_only_user, "editor": editor_user, "launcher": user}[role]
    client.force_login(person)
    assert client.get(reverse("activity")).status_code == 403
    assert client.get(reverse("activity_export")).status_code == 403
    assert 'href="/activity/"' not in client.get(reverse("dashboard")).text
    client.force_login(admin_user)
    assert client.get(reverse("activity")).status_code == 200
    assert 'href="/activity/"' in client.get(reverse("campaign_list")).text


def test_the_page_is_in_spanish_newest_first_and_filters(admin_client, admin_user):
    now = timezone.now()
    laura = make_user(username="laura")
    old = _record(
        Action.CAMPAIGN_LAUNCH, who=laura, target="Citas marzo", at=now - timedelta(days=40)
    )
    _record(Action.CAMPAIGN_PAUSE, who=laura, target="Citas abril", at=now - timedelta(days=1))
    _record(
        Action.DO_NOT_CALL_MARK, target="573001234567", details={"count": 1, "reason": "Se quejó"}
    )
    url = reverse("activity")

    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert "<h1>Actividad</h1>" in page.text
    rows = page.text.split("<tbody>")[1]
    assert rows.index("573001234567") < rows.index("Citas abril") < rows.index("Citas marzo")
    assert "Campaña lanzada" in rows and "el sistema" in rows and "motivo: Se quejó" in rows
    assert timezone.localtime(old.at).strftime("%d/%m/%Y") in rows

    def shown(**query):
        text = admin_client.get(url, query, HTTP_ACCEPT_LANGUAGE="es").text.split("<tbody>")
        return {
            name
            for name in ["Citas marzo", "Citas abril", "573001234567"]
            if len(text) > 1 and name in text[1]
        }

    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert shown(since=since) == {"Citas abril", "573001234567"}
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert shown(until=until) == {"Citas marzo"}
    assert shown(user="laura") == {"Citas marzo", "Citas abril"}
    assert shown(user="-") == {"573001234567"}
    assert shown(action=Action.CAMPAIGN_PAUSE) == {"Citas abril"}
    assert shown(q="marzo") == {"Citas marzo"}

    wrong = admin_client.get(url, {"since": "2026-05-02", "until": "2026-05-01"})
    assert 'id="id_until_error"' in wrong.text


def test_the_page_has_no_untranslated_text(admin_client, admin_user):
    _record(Action.CAMPAIGN_RESEND, who=admin_user, target="Citas", details={"phones": 2})
    _record(
        Action.USER_ACCESS,
        target="laura",
        details={"changes": {"is_staff": [False, True]}},
        address="198.51.100.23",
    )
    _record(Action.AUDIO_DELETE, target="Aviso", target_type="audio")
    url = reverse("activity")
    # The page's own content (the menu is checked with every page by test_i18n).
    main = 'id="main" class="container" tabindex="-1">'
    spanish = _texts(admin_client.get(url, HTTP_ACCEPT_LANGUAGE="es").text.split(main)[1])
    english = _texts(admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").text.split(main)[1])
    data = {"andres", "Citas", "laura", "Aviso", "198.51.100.23"}
    assert {text for text in spanish & english if not _is_data(text, data)} == set()


def test_the_export_follows_the_filters_in_the_readers_language(admin_client, admin_user):
    _record(
        Action.GROUP_DELETE,
        who=admin_user,
        target='=HYPERLINK("http://x")',
        target_type="group",
        address=ADDRESS,
    )
    _record(Action.CAMPAIGN_PAUSE, who=admin_user, target="Citas")
    url = reverse("activity_export")

    spanish = admin_client.get(url, {"action": Action.GROUP_DELETE}, HTTP_ACCEPT_LANGUAGE="es")
    assert spanish["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="actividad-' in spanish["Content-Disposition"]
    text = b"".join(spanish.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [
        "Cuándo",
        "Usuario",
        "Acción",
        "Tipo",
        "ID",
        "Sobre qué",
        "Detalles",
        "Dirección",
    ]
    assert len(rows) == 2
    assert rows[1][1:4] == ["andres", "Grupo eliminado", "grupo"]
    assert rows[1][5] == '\'=HYPERLINK("http://x")'  # never run as a formula
    assert rows[1][7] == ADDRESS

    english = admin_client.get(url, {"user": "andres"}, HTTP_ACCEPT_LANGUAGE="en")
    rows = list(
        csv.reader(io.StringIO(b"".join(english.streaming_content).decode().lstrip("\ufeff")))
    )
    assert rows[0][:3] == ["When", "User", "Action"]
    assert [row[2] for row in rows[1:]] == ["Campaign paused", "Group deleted"]


# -- nobody can change it -----------------------------------------------------------------------


def test_entries_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, admin_user):
    entry = _record(Action.CAMPAIGN_PAUSE, who=admin_user, target="Citas")
    changelist = admin_client.get(reverse("admin:campaigns_activityentry_changelist"))
    assert changelist.status_code == 200 and "Citas" in changelist.text
    assert 'value="delete_selected"' not in changelist.text
    assert admin_client.get(reverse("admin:campaigns_activityentry_add")).status_code == 403
    post(
        admin_client,
        reverse("admin:campaigns_activityentry_change", args=[entry.pk]),
        {"target": "Otra cosa", "action": Action.CAMPAIGN_LAUNCH},
    )
    response = post(
        admin_client,
        reverse("admin:campaigns_activityentry_delete", args=[entry.pk]),
        {"post": "yes"},
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert (entry.target, entry.action) == ("Citas", Action.CAMPAIGN_PAUSE)


def test_an_entry_refuses_to_be_saved_again_or_deleted(admin_user):
    entry = _record(Action.CAMPAIGN_PAUSE, who=admin_user, target="Citas")
    entry.target = "Otra cosa"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    assert ActivityEntry.objects.get(pk=entry.pk).target == "Citas"
