"""Input validation only: the filters of the activity page."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import ActivityEntry

# The user choice for entries nobody signed in made (the worker, a command).
SYSTEM = "-"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ActivityFilterForm(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=_date_input())
    until = forms.DateField(label=_("To"), required=False, widget=_date_input())
    user = forms.ChoiceField(label=_("Person"), required=False)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Every action")), *ActivityEntry.Action.choices],
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Campaign, phone, name")}),
    )

    def __init__(self, *args, usernames: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [
            ("", _("Everyone")),
            (SYSTEM, _("The system (no one signed in)")),
            *[(name, name) for name in usernames],
        ]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("This day is before the first one: choose a later day."))
        return cleaned

    def filters(self) -> dict:
        """The selector's arguments from the valid fields (an invalid one filters nothing)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        user = data.get("user") or ""
        return {
            "since": _start_of(data.get("since")),
            "until": _start_of(data["until"] + timedelta(days=1)) if data.get("until") else None,
            "username": None if not user else "" if user == SYSTEM else user,
            "action": data.get("action") or "",
            "search": (data.get("q") or "").strip(),
        }


def _start_of(day: date | None) -> datetime | None:
    """Midnight of `day` in the site's time zone (Colombia)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))
