"""Who may do what: every view, for anonymous, read-only, editor and launcher users.

Only launchers spend credits (launch, resume, test call, re-send unknown); editors change
data and drafts; read-only people review everything; anonymous visitors sign in first.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, get_resolver, reverse

from campaigns.models import Campaign, ContactImport
from tests.factories import make_audio_code, make_campaign, make_contact, make_group

pytestmark = pytest.mark.django_db

ANY, VIEW, EDIT, LAUNCH, ADMIN = "any", "view", "edit", "launch", "admin"
# A signed-in person without a role gets nothing at all, not even the dashboard (which
# would read the Onurix balance for them): ANY is the level of any role.
LEVEL = {"no_role": 0, "read_only": 1, "editor": 2, "launcher": 3}
NEEDED = {ANY: 1, VIEW: 1, EDIT: 2, LAUNCH: 3, ADMIN: 4}  # ADMIN: superusers only

# url name: (method, level needed). Written by hand on purpose: a new view must be added
# here, with a decision about who may use it.
TABLE = {
    "dashboard": ("get", ANY),
    "onurix_status": ("get", ANY),
    "activity": ("get", ADMIN),
    "activity_export": ("get", ADMIN),
    "registry": ("get", ADMIN),
    "contact_list": ("get", VIEW),
    "contact_detail": ("get", VIEW),
    "contact_export": ("get", VIEW),
    "contact_create": ("get", EDIT),
    "contact_update": ("get", EDIT),
    "contact_delete": ("get", EDIT),
    "contact_bulk": ("post", EDIT),
    "contact_import": ("get", EDIT),
    "contact_import_detail": ("get", EDIT),
    "contact_import_progress": ("get", EDIT),
    "contact_import_report": ("get", EDIT),
    "group_list": ("get", VIEW),
    "group_detail": ("get", VIEW),
    "group_create": ("get", EDIT),
    "group_update": ("get", EDIT),
    "group_delete": ("get", EDIT),
    "group_add_members": ("post", EDIT),
    "audio_code_list": ("get", VIEW),
    "audio_code_file": ("get", VIEW),
    "audio_code_create": ("get", EDIT),
    "audio_code_update": ("get", EDIT),
    "audio_code_delete": ("get", EDIT),
    "campaign_list": ("get", VIEW),
    "campaign_detail": ("get", VIEW),
    "campaign_progress": ("get", VIEW),
    "campaign_results": ("get", VIEW),
    "campaign_results_csv": ("get", VIEW),
    "campaign_results_xlsx": ("get", VIEW),
    "campaign_refresh": ("post", EDIT),
    "campaign_create": ("get", EDIT),
    "campaign_update": ("get", EDIT),
    "campaign_delete": ("get", EDIT),
    "campaign_follow_up": ("post", EDIT),
    "campaign_duplicate": ("post", EDIT),
    "campaign_save_as_template": ("post", EDIT),
    "campaign_credit_cap": ("get", LAUNCH),
    "campaign_results_action": ("post", EDIT),
    "campaign_pause": ("post", EDIT),
    "campaign_cancel": ("post", EDIT),
    "campaign_wave_cancel": ("post", EDIT),
    "campaign_launch": ("post", LAUNCH),
    "campaign_resume": ("post", LAUNCH),
    "campaign_test_call": ("post", LAUNCH),
    "campaign_resend_unknown": ("get", LAUNCH),
    "campaign_dead_numbers": ("post", EDIT),
    "reports": ("get", VIEW),
    "reports_export_csv": ("get", VIEW),
    "reports_export_xlsx": ("get", VIEW),
    "reports_reconciliation_csv": ("get", VIEW),
    "reports_reconciliation_xlsx": ("get", VIEW),
}


def test_the_table_covers_every_view_of_the_app():
    names = {
        pattern.name
        for pattern in get_resolver("campaigns.urls").url_patterns
        if getattr(pattern, "name", None)
    }
    assert names == set(TABLE)


@pytest.fixture
def objects(settings, tmp_path):
    settings.ONURIX_BASE_URL = "http://127.0.0.1:9/api/v1"  # nothing may be really sent
    contact = make_contact()
    group = make_group()
    audio = make_audio_code()
    campaign = make_campaign()
    job = ContactImport.objects.create(
        original_name="p.csv", file=SimpleUploadedFile("p.csv", b"telefono\n3001234567\n")
    )
    return {
        "contact": contact.pk,
        "group": group.pk,
        "audio": audio.pk,
        "campaign": campaign.pk,
        "import": job.pk,
    }


def _url(name: str, objects: dict) -> str:
    prefix = name.split("_")[0]
    key = {"contact": "contact", "group": "group", "audio": "audio", "campaign": "campaign"}
    if name.startswith("contact_import_"):
        return reverse(name, args=[objects["import"]])
    try:
        return reverse(name)
    except NoReverseMatch:  # the view takes the object's id
        return reverse(name, args=[objects[key[prefix]]])


@pytest.mark.parametrize("name", sorted(TABLE))
def test_anonymous_visitors_are_sent_to_sign_in(client, objects, name):
    method, _level = TABLE[name]
    response = getattr(client, method)(_url(name, objects))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["no_role", "read_only", "editor", "launcher"])
@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_role_gets_what_it_may_and_nothing_more(
    client, objects, name, role, no_role_user, read_only_user, editor_user, user
):
    person = {
        "no_role": no_role_user,
        "read_only": read_only_user,
        "editor": editor_user,
        "launcher": user,
    }[role]
    client.force_login(person)
    method, level = TABLE[name]
    response = getattr(client, method)(_url(name, objects), HTTP_ACCEPT_LANGUAGE="en")
    allowed = LEVEL[role] >= NEEDED[level]
    if allowed:
        assert response.status_code != 403, f"{role} refused {name}"
        assert response.status_code < 500
    else:
        assert response.status_code == 403, f"{role} got {name}: {response.status_code}"


def test_a_read_only_user_cannot_launch_even_a_ready_campaign(client, read_only_user):
    campaign = make_campaign()
    client.force_login(read_only_user)
    assert client.post(reverse("campaign_launch", args=[campaign.pk])).status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT


def test_pages_offer_only_the_actions_a_role_may_take(
    client, read_only_user, editor_user, user, settings
):
    settings.ONURIX_BASE_URL = "http://127.0.0.1:9/api/v1"
    campaign = make_campaign()
    url = reverse("campaign_detail", args=[campaign.pk])
    launch = reverse("campaign_launch", args=[campaign.pk])
    add_contact = reverse("contact_create")
    seen = {}
    for role, person in [
        ("read_only", read_only_user),
        ("editor", editor_user),
        ("launcher", user),
    ]:
        client.force_login(person)
        seen[role] = (
            launch in client.get(url).text,
            add_contact in client.get(reverse("contact_list")).text,
        )
    assert seen == {
        "read_only": (False, False),
        "editor": (False, True),
        "launcher": (True, True),
    }
