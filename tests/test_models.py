"""Invariants that hold at the database and model level, whatever writes the row."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from campaigns.models import Campaign, Contact
from tests.factories import make_audio_code, make_campaign, make_contact, make_result

pytestmark = pytest.mark.django_db


def test_one_result_per_phone_per_campaign_is_enforced_by_the_database():
    campaign = make_campaign()
    make_result(campaign=campaign, phone="573001234567")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_result(campaign=campaign, phone="573001234567")
    # The same phone in another campaign is fine.
    make_result(campaign=make_campaign(), phone="573001234567")


def test_campaign_with_both_tts_and_audio_is_refused_by_the_database():
    audio = make_audio_code()
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(name="Both", voice="Mariana", message="Hola", audio_code=audio)


@pytest.mark.parametrize(
    "fields",
    [
        {"voice": "", "message": ""},
        {"voice": "Mariana", "message": ""},
        {"voice": "", "message": "Hola"},
    ],
    ids=["nothing", "voice-without-message", "message-without-voice"],
)
def test_campaign_without_complete_content_is_refused_by_the_database(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(name="Incomplete", **fields)


def test_tts_or_audio_alone_is_accepted():
    tts = make_campaign(voice="Lucia", message="Hola")
    audio = make_campaign(audio_code=make_audio_code())
    assert not tts.uses_audio
    assert audio.uses_audio


def test_model_validation_explains_the_tts_or_audio_rule():
    campaign = Campaign(name="Both", voice="Mariana", message="Hola", audio_code=make_audio_code())
    with translation.override("en"), pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "never both" in str(error.value)


@pytest.mark.parametrize("retries", [0, 4])
def test_retries_outside_one_to_three_are_refused(retries):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_campaign(retries=retries)


def test_contact_phone_is_unique_and_normalised():
    make_contact(phone="573001234567")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_contact(phone="573001234567")
    for bad in ["+573001234567", "300 123 4567", "0573001234567"]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Contact.objects.create(phone=bad)


def test_contact_in_many_groups_and_group_with_many_contacts():
    from tests.factories import make_group

    first, second = make_group(name="Pacientes Chapinero"), make_group(name="Pacientes Usaquén")
    ana, luis = make_contact(first_name="Ana"), make_contact(first_name="Luis")
    ana.groups.add(first, second)
    luis.groups.add(first)
    assert set(first.contacts.all()) == {ana, luis}
    assert set(ana.groups.all()) == {first, second}


def test_an_audio_code_used_by_a_campaign_cannot_be_deleted():
    from django.db.models import ProtectedError

    audio = make_audio_code()
    make_campaign(audio_code=audio)
    with pytest.raises(ProtectedError):
        audio.delete()
