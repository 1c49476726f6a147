"""Drafts: starting one, what stops its launch, and throwing it away."""

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from tests.factories import make_campaign, make_contact, make_group, make_result

pytestmark = pytest.mark.django_db


def test_a_new_campaign_starts_with_mariana_and_an_edited_one_keeps_its_voice(auth_client):
    page = auth_client.get(reverse("campaign_create"))
    assert '<option value="Mariana" selected>' in page.text
    campaign = make_campaign(voice="Lucia")
    page = auth_client.get(reverse("campaign_update", args=[campaign.pk]))
    assert '<option value="Lucia" selected>' in page.text
    assert '<option value="Mariana" selected>' not in page.text


def test_launch_of_a_draft_with_an_empty_group_is_disabled_and_says_why(auth_client, settings):
    settings.ONURIX_BASE_URL = "http://127.0.0.1:9/api/v1"
    settings.ONURIX_TIMEOUT = 1
    campaign = make_campaign()
    campaign.groups.add(make_group(name="Vacío"))
    page = auth_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert 'aria-describedby="launch-disabled-reason" disabled>' in page.text
    assert 'id="launch-disabled-reason"' in page.text
    assert "There is nobody to call: the chosen groups are empty" in page.text


def test_an_editor_deletes_a_draft_after_confirming(client, editor_user):
    campaign = make_campaign(name="Borrador viejo")
    group = make_group()
    make_contact().groups.add(group)
    campaign.groups.add(group)
    client.force_login(editor_user)
    detail = client.get(campaign.get_absolute_url())
    url = reverse("campaign_delete", args=[campaign.pk])
    assert url in detail.text
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "¿Eliminar el borrador Borrador viejo?" in confirm.text
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("campaign_list")
    assert "Borrador Borrador viejo eliminado." in response.text
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert group.contacts.count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_launched_campaign_is_never_deleted(client, editor_user, method):
    campaign = make_campaign(state=Campaign.State.FINISHED)
    make_result(campaign=campaign)
    client.force_login(editor_user)
    assert (
        reverse("campaign_delete", args=[campaign.pk])
        not in client.get(campaign.get_absolute_url()).text
    )
    response = getattr(client, method)(reverse("campaign_delete", args=[campaign.pk]), follow=True)
    assert response.redirect_chain[-1][0] == campaign.get_absolute_url()
    assert "Solo se puede eliminar un borrador" in response.text
    assert Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.FINISHED).exists()


def test_the_delete_service_refuses_a_campaign_launched_after_the_page_was_read(editor_user):
    from campaigns import services

    campaign = make_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.SENDING)
    assert services.campaign_delete(campaign=campaign, user=editor_user) is False
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_read_only_people_may_not_delete_a_draft(client, read_only_user):
    campaign = make_campaign()
    client.force_login(read_only_user)
    url = reverse("campaign_delete", args=[campaign.pk])
    assert url not in client.get(campaign.get_absolute_url()).text
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists()
