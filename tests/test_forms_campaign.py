"""The campaign form enforces the rules of `POST /call/send` before anything is saved."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from campaigns.calling_hours import BOGOTA
from campaigns.forms import CampaignForm, TestCallForm
from campaigns.forms.campaigns import message_meter_text
from tests.factories import make_audio_code, make_contact, make_group

pytestmark = pytest.mark.django_db

MESSAGE = "Hola {nombre}, le recordamos su cita de mañana"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def group():
    group = make_group(name="Pacientes Chapinero")
    make_contact(first_name="Ana", custom_fields={"Sede": "Chapinero"}).groups.add(group)
    make_contact(first_name="Luis").groups.add(group)
    return group


def _form(**overrides):
    data = {"name": "Citas", "voice": "Mariana", "message": MESSAGE, "retries": "2"}
    data.update(overrides)
    return CampaignForm(data={key: value for key, value in data.items() if value is not None})


def _errors(form, field):
    assert not form.is_valid()
    return " ".join(form.errors.get(field, []))


def test_a_tts_campaign_for_a_group_is_valid(group):
    form = _form(groups=[group.pk], leave_voicemail="on")
    assert form.is_valid(), form.errors
    fields = form.campaign_fields()
    assert fields["voice"] == "Mariana" and fields["message"] == MESSAGE
    assert fields["audio_code"] is None
    assert fields["retries"] == 2 and fields["leave_voicemail"] is True
    assert fields["groups"] == [group]
    assert fields["extra_phones"] == "" and fields["scheduled_at"] is None


def test_an_audio_campaign_for_typed_phones_is_valid():
    audio = make_audio_code(name="Aviso de corte")
    form = _form(voice="", message="", audio_code=str(audio.pk), phones="300 123 4567\n42")
    assert form.is_valid(), form.errors
    fields = form.campaign_fields()
    assert fields["audio_code"] == audio and fields["voice"] == "" and fields["message"] == ""
    # Typed phones are kept as written: the preview lists the invalid "42" as left out.
    assert fields["extra_phones"] == "300 123 4567\n42"
    assert fields["leave_voicemail"] is False  # an unticked checkbox


def test_audio_code_with_a_message_is_refused_on_the_audio_code(group):
    audio = make_audio_code()
    for voice, message in [("Mariana", MESSAGE), ("", MESSAGE)]:
        form = _form(voice=voice, message=message, audio_code=str(audio.pk), groups=[group.pk])
        error = _errors(form, "audio_code")
        assert "never both" in error
        assert "message" not in form.errors and "voice" not in form.errors


def test_an_audio_code_chosen_with_the_default_voice_left_selected_is_sent_alone(group):
    # The voice starts at Mariana: choosing an audio code must not require clearing it.
    audio = make_audio_code()
    form = _form(voice="Mariana", message="", audio_code=str(audio.pk), groups=[group.pk])
    assert form.is_valid(), form.errors
    assert form.campaign_fields()["voice"] == ""


def test_neither_a_voice_nor_an_audio_code_is_refused_on_the_message(group):
    form = _form(voice="", message="", groups=[group.pk])
    assert "choose a voice, or choose an audio code" in _errors(form, "message")


def test_a_voice_without_a_message_is_refused_on_the_message(group):
    form = _form(message="", groups=[group.pk])
    assert "Write the message the voice will read" in _errors(form, "message")


def test_a_message_without_a_voice_is_refused_on_the_voice(group):
    form = _form(voice="", groups=[group.pk])
    assert "Choose the voice" in _errors(form, "voice")


def test_an_unknown_voice_is_refused_listing_the_voices(group):
    form = _form(voice="Alexa", groups=[group.pk])
    error = _errors(form, "voice")
    assert "Mariana, Penelope, Conchita, Mia, Lucia, Enrique, Miguel" in error


@pytest.mark.parametrize("retries", ["0", "4", "", "dos"])
def test_retries_must_be_1_to_3(group, retries):
    form = _form(retries=retries, groups=[group.pk])
    assert form.errors.get("retries")


def test_retries_default_to_1_and_voicemail_to_on():
    form = CampaignForm()
    assert form["retries"].value() == 1
    assert form["leave_voicemail"].value() is True
    assert str(form["leave_voicemail"]).endswith(" checked>")


def test_a_message_over_1000_characters_is_refused(group):
    form = _form(message="a" * 1001, groups=[group.pk])
    assert "at most 1000 characters" in _errors(form, "message")


def test_an_unknown_placeholder_is_named_with_the_available_ones(group):
    form = _form(message="Hola {nombre}, su sede es {ciudad}", groups=[group.pk])
    error = _errors(form, "message")
    assert "{ciudad}" in error
    assert "{nombre}, {apellido}, {sede}" in error


def test_a_custom_field_of_the_groups_contacts_is_a_known_placeholder(group):
    form = _form(message="Hola {nombre}, le esperamos en la sede {sede}", groups=[group.pk])
    assert form.is_valid(), form.errors


def test_a_custom_field_of_another_group_is_not_available(group):
    other = make_group(name="Otros")
    make_contact(custom_fields={"ciudad": "Bogotá"}).groups.add(other)
    form = _form(message="Hola {nombre} de {ciudad}", groups=[group.pk])
    assert "{ciudad}" in _errors(form, "message")


def test_no_group_and_no_phone_is_refused():
    form = _form(phones="")
    assert "at least one group, or type at least one phone" in _errors(form, "groups")


def test_typed_phones_none_valid_without_a_group_is_refused_on_the_phones():
    form = _form(phones="42\nabc")
    error = _errors(form, "phones")
    assert "42" in error and "abc" in error


def test_invalid_typed_phones_are_not_an_error_when_a_valid_one_is_there():
    form = _form(phones="42\n+57 300 123 4567")
    assert form.is_valid(), form.errors


def test_invalid_typed_phones_are_not_an_error_with_a_group(group):
    form = _form(phones="42", groups=[group.pk])
    assert form.is_valid(), form.errors


def test_scheduled_in_the_past_is_refused(group):
    past = timezone.now().astimezone(BOGOTA) - dt.timedelta(hours=1)
    form = _form(scheduled_at=past.strftime("%Y-%m-%dT%H:%M"), groups=[group.pk])
    assert "in the future" in _errors(form, "scheduled_at")


def test_scheduled_at_is_read_in_bogota_time(group):
    with timezone.override("UTC"):
        form = _form(scheduled_at="2099-03-02T08:30", groups=[group.pk])
        assert form.is_valid(), form.errors
    scheduled = form.cleaned_data["scheduled_at"]
    assert scheduled == dt.datetime(2099, 3, 2, 8, 30, tzinfo=BOGOTA)


def test_a_calling_window_that_ends_before_it_starts_is_refused(group):
    form = _form(groups=[group.pk], calling_window_start="18:00", calling_window_end="09:00")
    assert "end after it starts" in _errors(form, "calling_window_end")


def test_a_calling_window_outside_the_legal_hours_is_refused(group, settings):
    settings.CAMPAIGN_CALLING_HOURS = "ley2300"
    form = _form(groups=[group.pk], calling_window_start="20:00", calling_window_end="22:00")
    assert "legal calling hours" in _errors(form, "calling_window_end")


def test_the_form_renders_the_html_names_the_issue_asks_for(group):
    html = str(CampaignForm().as_div())
    for name in [
        "name",
        "voice",
        "message",
        "audio_code",
        "retries",
        "leave_voicemail",
        "groups",
        "phones",
        "scheduled_at",
        "calling_window_start",
        "calling_window_end",
    ]:
        assert f'name="{name}"' in html, name
    assert 'type="datetime-local"' in html and 'type="time"' in html
    assert "Pacientes Chapinero (2 contacts)" in html
    assert 'maxlength="1000"' in html


def test_the_message_meter_counts_characters_and_spoken_seconds():
    assert message_meter_text("") == "0 of 1000 characters · about 0 s spoken"
    # 10 words at 150 words a minute: 4 seconds.
    text = "uno dos tres cuatro cinco seis siete ocho nueve diez"
    assert message_meter_text(text) == f"{len(text)} of 1000 characters · about 4 s spoken"
    assert _form(message=text).message_meter == message_meter_text(text)


def test_the_test_call_form_normalises_the_phone():
    form = TestCallForm(data={"phone": "(+57) 300-123-4567"})
    assert form.is_valid() and form.cleaned_data["phone"] == "573001234567"
    form = TestCallForm(data={"phone": "3.00123457E+09"})
    assert not form.is_valid() and "spreadsheet" in form.errors["phone"][0]
