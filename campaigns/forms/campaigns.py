"""The campaign form and the test-call form: the API's rules, checked before anything is saved."""

import datetime as dt

from django import forms
from django.db.models import Count
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import selectors
from ..calling_hours import BOGOTA, calling_window
from ..models import AudioCode, CallResult, Campaign, ContactGroup, Voice
from ..personalisation import (
    BUILT_IN_NAMES,
    MESSAGE_MAX_LENGTH,
    estimate_speech_seconds,
    normalise_name,
    unknown_placeholders,
)
from ..phones import InvalidPhone, normalize_phone, parse_phone_list
from .contacts import block_at_onurix_field

RETRY_CHOICES = [(1, "1"), (2, "2"), (3, "3")]
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# Invalid typed phones quoted in an error; the preview lists every one of them.
INVALID_PHONES_SHOWN = 5
# The placeholders every contact can fill, in the order the form mentions them.
SHOWN_BUILT_INS = ("nombre", "apellido")

# One template for the server's first text and for static/js/campaign_form.js.
MESSAGE_METER_TEMPLATE = _("{chars} of {max} characters · about {seconds} s spoken")


def message_meter_text(message: str) -> str:
    """The counter under the message: characters used and roughly how long it sounds."""
    return str(MESSAGE_METER_TEMPLATE).format(
        chars=len(message), max=MESSAGE_MAX_LENGTH, seconds=estimate_speech_seconds(message)
    )


class BogotaDateTimeField(forms.DateTimeField):
    """A `datetime-local` input read and shown as wall-clock time in America/Bogota,
    whatever time zone the request runs in: the clinic schedules in Colombian time."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT)
    input_formats = [DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value):
        with timezone.override(BOGOTA):
            return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(BOGOTA).replace(tzinfo=None)
        return value


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        count = obj.member_count
        members = ngettext("%(count)s contact", "%(count)s contacts", count) % {"count": count}
        return f"{obj.name} ({members})"


class CampaignForm(forms.Form):
    """A campaign's content, audience and timing, under the rules of `POST /call/send`.

    A voice with a message, or an audio code, never both; retries 1 to 3; placeholders
    that the chosen groups' contacts can fill; at least one group or one valid typed phone.
    Invalid typed phones are not an error: the preview shows them as left out.
    """

    name = forms.CharField(label=_("Name"), max_length=200)
    voice = forms.ChoiceField(
        label=_("Voice"),
        required=False,
        choices=[("", _("No voice (use an audio code)")), *Voice.choices],
        # A new campaign starts with the voice most campaigns use; an edited one keeps its own.
        initial=Voice.MARIANA,
        error_messages={
            "invalid_choice": format_lazy(
                _("Choose one of the voices: {voices}."), voices=", ".join(Voice.values)
            )
        },
    )
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Placeholders: {nombre}, {apellido} and the custom fields of the chosen groups' "
            "contacts, for example {sede}."
        ),
    )
    audio_code = forms.ModelChoiceField(
        label=_("Audio code"),
        required=False,
        queryset=AudioCode.objects.order_by("name"),
        empty_label=_("No audio (the voice reads the message)"),
        help_text=_("An audio uploaded in the Onurix portal, instead of a voice and a message."),
        error_messages={"invalid_choice": _("Choose an audio code from the list.")},
    )
    retries = forms.TypedChoiceField(
        label=_("Attempts per call"),
        choices=RETRY_CHOICES,
        coerce=int,
        initial=1,
        help_text=_("How many times Onurix tries each phone that does not answer: 1 to 3."),
        error_messages={"invalid_choice": _("Retries must be 1, 2 or 3.")},
    )
    leave_voicemail = forms.BooleanField(
        label=_("Leave the message in the voicemail when nobody answers"),
        required=False,
        initial=True,
    )
    groups = GroupChoiceField(
        label=_("Groups"),
        required=False,
        queryset=ContactGroup.objects.annotate(member_count=Count("contacts")).order_by("name"),
        widget=forms.CheckboxSelectMultiple,
    )
    phones = forms.CharField(
        label=_("Extra phones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line or separated by commas, in any format. Phones that are not valid "
            "are left out and listed in the preview."
        ),
    )
    scheduled_at = BogotaDateTimeField(
        label=_("Start at"),
        required=False,
        help_text=_("Colombian time. Leave it empty to start as soon as you launch."),
    )
    calling_window_start = forms.TimeField(
        label=_("Call from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Optional: a narrower daily window inside the legal calling hours."),
    )
    calling_window_end = forms.TimeField(
        label=_("Call until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=Campaign.Purpose.choices,
        # Left out of a request, a campaign is informational, as the model's default.
        required=False,
        initial=Campaign.Purpose.INFORMATIONAL,
        widget=forms.RadioSelect,
        help_text=_(
            "Ley 2300 de 2023: commercial or advertising calls (offers, promotions, new "
            "services) must leave out the numbers in the Registro de Números Excluidos; "
            "this campaign will. Informational or service calls (appointments, alerts, "
            "collections of existing obligations) are not bound by it."
        ),
        error_messages={"invalid_choice": _("Choose commercial or informational.")},
    )
    credit_cap = forms.IntegerField(
        label=_("Credit limit"),
        required=False,
        min_value=1,
        max_value=2_000_000_000,
        help_text=_(
            "Optional: the most credits this campaign may spend. When the next calls would "
            "pass it, the campaign pauses; a launcher may raise it and resume."
        ),
        error_messages={
            "invalid": _("Write the limit as a whole number of credits, for example 500."),
            "min_value": _("The limit must be at least 1 credit, or empty for no limit."),
        },
    )

    def __init__(self, *args, campaign: Campaign | None = None, **kwargs):
        if campaign is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": campaign.name,
                "voice": campaign.voice,
                "message": campaign.message,
                "audio_code": campaign.audio_code_id,
                "retries": campaign.retries,
                "leave_voicemail": campaign.leave_voicemail,
                "groups": list(campaign.groups.values_list("pk", flat=True)),
                "phones": campaign.extra_phones,
                "scheduled_at": campaign.scheduled_at,
                "calling_window_start": campaign.calling_window_start,
                "calling_window_end": campaign.calling_window_end,
                "purpose": campaign.purpose,
                "credit_cap": campaign.credit_cap,
            }
        super().__init__(*args, **kwargs)
        self.fields["message"].widget.attrs.update(
            {
                "data-meter": "message-meter",
                "data-meter-template": str(MESSAGE_METER_TEMPLATE),
                "data-max": str(MESSAGE_MAX_LENGTH),
            }
        )

    @property
    def message_meter(self) -> str:
        """The counter's text for the message as currently in the form."""
        value = self["message"].value() or ""
        return message_meter_text(str(value))

    def clean_phones(self):
        return self.cleaned_data["phones"].strip()

    def clean_purpose(self):
        return self.cleaned_data["purpose"] or Campaign.Purpose.INFORMATIONAL

    def clean_scheduled_at(self):
        scheduled_at = self.cleaned_data["scheduled_at"]
        if scheduled_at is not None and scheduled_at <= timezone.now():
            raise forms.ValidationError(
                _("Choose a moment in the future, or leave it empty to start when you launch.")
            )
        return scheduled_at

    def clean(self):
        cleaned = super().clean()
        self._clean_content(cleaned)
        self._clean_placeholders(cleaned)
        self._clean_audience(cleaned)
        self._clean_window(cleaned)
        return cleaned

    def _clean_content(self, cleaned):
        if any(name in self.errors for name in ("voice", "message", "audio_code")):
            return
        voice, message, audio = (
            cleaned.get("voice"),
            cleaned.get("message"),
            cleaned.get("audio_code"),
        )
        # The voice field starts at Mariana: with an audio code and no message it is
        # simply not sent (campaign_fields). A message with an audio code is a conflict.
        if audio is not None and message:
            self.add_error(
                "audio_code",
                _(
                    "Onurix plays either an audio code or a voice reading a message, never "
                    "both. Choose “No audio” to use the voice, or clear the voice and the "
                    "message to use the audio."
                ),
            )
        elif audio is None and not voice and not message:
            self.add_error(
                "message", _("Write the message and choose a voice, or choose an audio code.")
            )
        elif audio is None and not message:
            self.add_error("message", _("Write the message the voice will read."))
        elif audio is None and not voice:
            self.add_error("voice", _("Choose the voice that will read the message."))

    def _clean_placeholders(self, cleaned):
        message = cleaned.get("message")
        if not message or cleaned.get("audio_code") or self.has_error("message"):
            return
        group_ids = [group.pk for group in cleaned.get("groups") or []]
        custom = selectors.custom_field_names(group_ids=group_ids) if group_ids else set()
        unknown = unknown_placeholders(message, custom)
        if unknown:
            # Shown as written in a message: "Fecha de Pago" is filled by {fecha_de_pago}.
            written = {normalise_name(name) for name in custom} - BUILT_IN_NAMES
            available = [*SHOWN_BUILT_INS, *sorted(written)]
            self.add_error(
                "message",
                ngettext(
                    "Unknown placeholder %(unknown)s: the chosen groups' contacts have no such "
                    "field. You can use: %(available)s.",
                    "Unknown placeholders %(unknown)s: the chosen groups' contacts have no such "
                    "fields. You can use: %(available)s.",
                    len(unknown),
                )
                % {
                    "unknown": ", ".join(f"{{{name}}}" for name in sorted(unknown)),
                    "available": ", ".join(f"{{{name}}}" for name in available),
                },
            )

    def _clean_audience(self, cleaned):
        if "groups" in self.errors or "phones" in self.errors or cleaned.get("groups"):
            return
        valid, invalid = parse_phone_list(cleaned.get("phones", ""))
        if valid:
            return
        if invalid:
            shown = ", ".join(
                f"{text} ({reason})" for text, reason in invalid[:INVALID_PHONES_SHOWN]
            )
            self.add_error(
                "phones",
                _("None of these phones is valid: %(phones)s. Correct them or choose a group.")
                % {"phones": shown},
            )
        else:
            self.add_error("groups", _("Choose at least one group, or type at least one phone."))

    def _clean_window(self, cleaned):
        start, end = cleaned.get("calling_window_start"), cleaned.get("calling_window_end")
        if start is None and end is None:
            return
        if start is not None and end is not None and start >= end:
            self.add_error("calling_window_end", _("The window must end after it starts."))
            return
        try:
            calling_window(start=start, end=end).next_opening(timezone.now())
        except ValueError:
            self.add_error(
                "calling_window_end",
                _(
                    "This window never falls within the legal calling hours (Monday to "
                    "Friday 07:00 to 19:00, Saturday 08:00 to 15:00)."
                ),
            )

    def campaign_fields(self) -> dict:
        """The cleaned values as `services.campaign_save` takes them."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "voice": "" if data["audio_code"] else data["voice"],
            "message": "" if data["audio_code"] else data["message"],
            "audio_code": data["audio_code"],
            "retries": data["retries"],
            "leave_voicemail": data["leave_voicemail"],
            "groups": list(data["groups"]),
            "extra_phones": data["phones"],
            "scheduled_at": data["scheduled_at"],
            "calling_window_start": data["calling_window_start"],
            "calling_window_end": data["calling_window_end"],
            "purpose": data["purpose"],
            "credit_cap": data["credit_cap"],
        }


class TestCallForm(forms.Form):
    """One phone, in any format, to hear the campaign before launching it."""

    __test__ = False  # not a pytest test class, despite the name

    phone = forms.CharField(
        label=_("Phone for the test call"),
        max_length=40,
        help_text=_("Your own phone, in any format: 300 123 4567 or +57 300 123 4567."),
    )

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone as error:
            raise forms.ValidationError(error.reason) from None


class ResendForm(forms.Form):
    """The confirmation of a re-send: the number of unknown phones the person saw."""

    expected = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ResultsActionForm(forms.Form):
    """An action on phones selected in a campaign's results."""

    ACTIONS = [("do_not_call", _("Mark do-not-call")), ("add_to_group", _("Add to group"))]
    CHOOSE_ACTION = _("Choose what to do with the selected phones.")
    CHOOSE_GROUP = _("Choose the group to add the phones to.")

    action = forms.ChoiceField(
        choices=ACTIONS,
        error_messages={"required": CHOOSE_ACTION, "invalid_choice": CHOOSE_ACTION},
    )
    results = forms.ModelMultipleChoiceField(
        queryset=CallResult.objects.none(),
        error_messages={
            "required": _("Select at least one phone first."),
            "invalid_choice": _("Some selected phones are not in this campaign: select again."),
            "invalid_pk_value": _("Some selected phones are not in this campaign: select again."),
        },
    )
    group = forms.ModelChoiceField(
        queryset=ContactGroup.objects.all(),
        required=False,
        error_messages={"invalid_choice": CHOOSE_GROUP},
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["results"].queryset = CallResult.objects.filter(campaign=campaign)
        self.fields["block_at_onurix"] = block_at_onurix_field()

    def clean(self):
        cleaned = super().clean()
        wants_group = cleaned.get("action") == "add_to_group"
        if wants_group and not cleaned.get("group") and "group" not in self.errors:
            self.add_error("group", self.CHOOSE_GROUP)
        return cleaned
