"""Input validation only: forms never write and never call Onurix."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ..csv_files import CUSTOM_FIELD_NAME_RULE, is_custom_field_name
from ..models import Contact, ContactGroup
from ..phones import InvalidPhone, normalize_phone, parse_phone_list
from ..text import clean_text

MAX_CUSTOM_FIELDS = 50

BLOCK_AT_ONURIX_LABEL = _("Also block at Onurix")
BLOCK_AT_ONURIX_HELP = _(
    "Onurix keeps its own do-not-contact list: a blocked phone is never called through "
    "this Onurix account again, from any product. This cannot be undone from here."
)


def block_at_onurix_field() -> forms.BooleanField:
    """The "also block at Onurix" checkbox, ticked when ONURIX_BLOCK_PHONE_SYNC is on."""
    return forms.BooleanField(
        label=BLOCK_AT_ONURIX_LABEL,
        help_text=BLOCK_AT_ONURIX_HELP,
        required=False,
        initial=settings.ONURIX_BLOCK_PHONE_SYNC,
    )


def _parse_custom_fields(text: str) -> dict[str, str]:
    """`name = value` lines into a dict; raises ValidationError naming the bad line."""
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, separator, value = clean_text(line).partition("=")
        name = name.strip()
        if not separator or not name:
            raise forms.ValidationError(
                _("Line %(number)d: write it as name = value."), params={"number": number}
            )
        fields[name] = value.strip()
    if len(fields) > MAX_CUSTOM_FIELDS:
        raise forms.ValidationError(
            _("At most %(max)d custom fields."), params={"max": MAX_CUSTOM_FIELDS}
        )
    return fields


class ContactForm(forms.ModelForm):
    """Add or edit a contact. The phone is accepted in any format and stored normalised.

    Unticking "do not call" on a marked contact lets credits be spent on the person
    again: only someone who may launch campaigns can (`can_clear_do_not_call`; for
    anyone else the mark is shown, not editable, and a forged POST is refused next to
    the field), and only with a reason (`clear_reason`). The reason of a mark is the one
    given when it was made.
    """

    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        help_text=_("Any format: 300 123 4567, +57 300 123 4567, or with another country code."),
    )
    custom_fields_text = forms.CharField(
        label=_("Custom fields"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: name = value. Usable as {name} in messages."),
    )
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"),
        queryset=ContactGroup.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    clear_reason = forms.CharField(
        label=_("If you untick it: why may this person be called again?"),
        max_length=255,
        required=False,
        help_text=_(
            "Required to remove the mark, for example: she asked to be called again. "
            "It is kept in the contact's history."
        ),
    )

    class Meta:
        model = Contact
        fields = [
            "phone",
            "first_name",
            "last_name",
            "email",
            "groups",
            "do_not_call",
            "do_not_call_reason",
        ]

    def __init__(self, *args, can_clear_do_not_call: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicate: Contact | None = None
        self.fields["block_at_onurix"] = block_at_onurix_field()
        if self.instance.pk and not self.is_bound:
            self.initial["custom_fields_text"] = "\n".join(
                f"{name} = {value}" for name, value in self.instance.custom_fields.items()
            )
        # The instance still holds what the database has: the form has not cleaned yet.
        self.was_do_not_call = bool(self.instance.pk and self.instance.do_not_call)
        self.can_clear_do_not_call = can_clear_do_not_call
        # The template shows the mark without a checkbox to untick, and sends it back.
        self.do_not_call_locked = self.was_do_not_call and not can_clear_do_not_call
        if self.was_do_not_call:
            reason = self.fields["do_not_call_reason"]
            reason.disabled = True
            reason.help_text = _("Given when the contact was marked; see the history.")
        if not self.was_do_not_call or self.do_not_call_locked:
            del self.fields["clear_reason"]

    def clean_phone(self):
        try:
            phone = normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone as error:
            raise forms.ValidationError(error.reason) from None
        self.duplicate = Contact.objects.filter(phone=phone).exclude(pk=self.instance.pk).first()
        if self.duplicate is not None:
            raise forms.ValidationError(
                _("This phone already belongs to a contact: %(name)s."),
                params={"name": self.duplicate},
            )
        return phone

    def clean_custom_fields_text(self):
        fields = _parse_custom_fields(self.cleaned_data["custom_fields_text"])
        # New names only: a contact saved before the rule keeps the names it has.
        known = self.instance.custom_fields or {}
        for name in fields:
            if name not in known and not is_custom_field_name(name):
                raise forms.ValidationError(
                    "«%(name)s»: %(rule)s",
                    params={"name": name, "rule": CUSTOM_FIELD_NAME_RULE},
                )
        return fields

    def clean(self):
        cleaned = super().clean()
        clearing = self.was_do_not_call and not cleaned.get("do_not_call")
        if clearing and not self.can_clear_do_not_call:
            self.add_error(
                "do_not_call",
                _(
                    "Only someone who can launch campaigns may remove the do-not-call mark. "
                    "The contact is still marked."
                ),
            )
        elif clearing and not cleaned.get("clear_reason", "").strip():
            self.add_error("clear_reason", _("Write why this person may be called again."))
        if not cleaned.get("do_not_call") and not self.was_do_not_call:
            cleaned["do_not_call_reason"] = ""
        return cleaned


class GroupForm(forms.ModelForm):
    class Meta:
        model = ContactGroup
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class PastePhonesForm(forms.Form):
    """Phones pasted from anywhere: one per line, or separated by commas or semicolons."""

    phones = forms.CharField(
        label=_("Phones"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One per line, or separated by commas. Any format."),
    )

    def clean_phones(self):
        valid, invalid = parse_phone_list(self.cleaned_data["phones"])
        if not valid and not invalid:
            raise forms.ValidationError(_("Paste at least one phone."))
        self.invalid_phones = invalid
        return valid


class ContactBulkForm(forms.Form):
    """An action on the contacts selected in the list."""

    ACTIONS = [
        ("add_to_group", _("Add to group")),
        ("remove_from_group", _("Remove from group")),
        ("mark_do_not_call", _("Mark do-not-call")),
        ("delete", _("Delete")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.all(),
        error_messages={"required": _("Select at least one contact.")},
    )
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=ContactGroup.objects.order_by("name"), required=False
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["block_at_onurix"] = block_at_onurix_field()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in {"add_to_group", "remove_from_group"} and not cleaned.get(
            "group"
        ):
            self.add_error("group", _("Choose the group."))
        return cleaned
