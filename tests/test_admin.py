"""The Django admin: every model is there, renders, and its bulk actions work."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from campaigns.models import (
    ActivityEntry,
    CallResult,
    CampaignTotals,
    ContactImport,
    DoNotCallChange,
    FollowUpWave,
    OnurixPace,
    OnurixRequest,
    OnurixSlot,
    PhoneHistory,
    RegistryList,
    RegistryNumber,
    ReportCell,
    TestCall,
    WorkerHeartbeat,
)
from tests.factories import (
    make_audio_code,
    make_campaign,
    make_contact,
    make_group,
    make_result,
)

pytestmark = pytest.mark.django_db

CAMPAIGN_MODELS = [model for model in admin.site._registry if model._meta.app_label == "campaigns"]
READ_ONLY_MODELS = {
    ActivityEntry,
    CallResult,
    ContactImport,
    DoNotCallChange,
    FollowUpWave,
    OnurixPace,
    OnurixRequest,
    OnurixSlot,
    RegistryList,
    RegistryNumber,
    TestCall,
    WorkerHeartbeat,
}


def _ids(model):
    return model._meta.model_name


def test_every_campaigns_model_is_in_the_admin():
    from django.apps import apps

    # Campaign totals are the database's sums of the results, shown on the campaign's page;
    # report cells and phone histories likewise, shown on the reports page.
    derived = {CampaignTotals, ReportCell, PhoneHistory}
    models = set(apps.get_app_config("campaigns").get_models()) - derived
    assert models == set(CAMPAIGN_MODELS)


@pytest.mark.parametrize("model", CAMPAIGN_MODELS, ids=_ids)
def test_changelist_renders_with_data(staff_client, model):
    campaign = make_campaign()
    make_result(campaign=campaign, state=CallResult.State.SENT)
    make_contact(first_name="Ana").groups.add(make_group())
    make_audio_code()
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = staff_client.get(url, {"q": "Ana"})
    assert response.status_code == 200


@pytest.mark.parametrize("model", CAMPAIGN_MODELS, ids=_ids)
def test_add_page_renders_unless_the_model_is_an_audit_record(staff_client, model):
    opts = model._meta
    response = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    assert response.status_code == (403 if model in READ_ONLY_MODELS else 200)


def test_campaign_results_are_read_only_and_summarised_on_the_campaign(staff_client):
    campaign = make_campaign()
    result = make_result(campaign=campaign, state=CallResult.State.ANSWERED)
    page = staff_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200
    assert "Answered: 1" in page.text
    result_page = staff_client.get(reverse("admin:campaigns_callresult_change", args=[result.pk]))
    assert result_page.status_code == 200
    assert 'name="phone"' not in result_page.text  # shown, not editable
    post = staff_client.post(
        reverse("admin:campaigns_callresult_change", args=[result.pk]), {"phone": "570000"}
    )
    assert post.status_code == 403


def test_changelist_filters_by_group_and_do_not_call(staff_client):
    group = make_group(name="Pacientes Chapinero")
    inside = make_contact(first_name="Dentro")
    inside.groups.add(group)
    make_contact(first_name="Fuera", do_not_call=True)
    url = reverse("admin:campaigns_contact_changelist")
    by_group = staff_client.get(url, {"groups__id__exact": group.pk})
    assert "Dentro" in by_group.text and "Fuera" not in by_group.text
    by_dnc = staff_client.get(url, {"do_not_call__exact": "1"})
    assert "Fuera" in by_dnc.text and "Dentro" not in by_dnc.text


def test_bulk_mark_do_not_call(staff_client):
    ana, luis, eva = make_contact(), make_contact(), make_contact()
    response = staff_client.post(
        reverse("admin:campaigns_contact_changelist"),
        {"action": "mark_do_not_call", ACTION_CHECKBOX_NAME: [ana.pk, luis.pk]},
        follow=True,
    )
    assert response.status_code == 200
    ana.refresh_from_db()
    eva.refresh_from_db()
    assert ana.do_not_call and ana.do_not_call_at is not None and ana.do_not_call_reason
    assert not eva.do_not_call


def test_bulk_add_to_group_asks_for_the_group_then_adds(staff_client):
    group = make_group(name="Recordatorios")
    ana, luis = make_contact(), make_contact()
    ana.groups.add(group)
    url = reverse("admin:campaigns_contact_changelist")
    ask = staff_client.post(
        url, {"action": "add_to_group", ACTION_CHECKBOX_NAME: [ana.pk, luis.pk]}
    )
    assert ask.status_code == 200
    assert "Recordatorios" in ask.text
    assert not luis.groups.exists()
    done = staff_client.post(
        url,
        {
            "action": "add_to_group",
            ACTION_CHECKBOX_NAME: [ana.pk, luis.pk],
            "group": group.pk,
            "apply": "1",
        },
        follow=True,
    )
    assert done.status_code == 200
    assert set(group.contacts.all()) == {ana, luis}


def test_non_staff_user_cannot_open_the_admin(auth_client):
    response = auth_client.get(reverse("admin:index"))
    assert response.status_code == 302


def test_the_admin_speaks_spanish_and_names_roles_apart_from_contact_groups(staff_client):
    index = staff_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="es-co").text
    for spanish in ("Intentos de inicio de sesión", "Tareas en segundo plano", "Roles"):
        assert spanish in index
    for english in ("Axes", "Task Results", "Tasks Database Backend", "Access attempts"):
        assert english not in index
    roles = staff_client.get(
        reverse("admin:campaigns_role_changelist"), HTTP_ACCEPT_LANGUAGE="es-co"
    ).text
    assert "Lanzador" in roles and "todo lo que gasta créditos" in roles


def test_a_person_s_page_in_the_admin_calls_their_groups_roles_and_says_what_each_may_do(
    staff_client, staff_user
):
    page = staff_client.get(
        reverse("admin:auth_user_change", args=[staff_user.pk]), HTTP_ACCEPT_LANGUAGE="es-co"
    ).text
    assert re.search(r'<label[^>]*for="id_groups"[^>]*>Roles', page)
    assert "Lanzador: Además lanza y reanuda campañas" in page
