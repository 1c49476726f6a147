"""The filters of the reports page and of a campaign's results table."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import selectors
from ..models import CallResult, Campaign, ContactGroup
from ..selectors_reports import REPORT_SORTS, report_filter_choices

DATE_FORMAT = "%Y-%m-%d"
DEFAULT_DAYS = 30
MAX_DAYS = 366


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format=DATE_FORMAT)


class ReportFilterForm(forms.Form):
    """The range of days (`from`, `to`: YYYY-MM-DD, Bogota days, both included; the last
    30 days when left out), optional groups and campaigns, and the tables' sort."""

    BAD_DATE = _("Write the date as YYYY-MM-DD, for example 2026-11-30.")

    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"),
        queryset=ContactGroup.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("That group no longer exists: choose again.")},
    )
    campaigns = forms.ModelMultipleChoiceField(
        label=_("Campaigns"),
        queryset=Campaign.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("That campaign no longer exists: choose again.")},
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[("", "")] + [(f"{sign}{key}", key) for key in REPORT_SORTS for sign in ("", "-")],
        widget=forms.HiddenInput,
    )

    def __init__(self, data=None, **kwargs):
        today = timezone.localdate()
        if data is not None:
            # An empty date means the default range: shown in the fields, not only applied.
            data = data.copy()
            defaults = {"from": today - dt.timedelta(days=DEFAULT_DAYS - 1), "to": today}
            for name, default in defaults.items():
                if not data.get(name):
                    data[name] = default.strftime(DATE_FORMAT)
        super().__init__(data, **kwargs)
        # "from" is a Python keyword: the fields are added by name.
        self.fields["from"] = forms.DateField(
            label=_("From"),
            required=False,
            input_formats=[DATE_FORMAT],
            widget=DateInput(),
            initial=today - dt.timedelta(days=DEFAULT_DAYS - 1),
            error_messages={"invalid": self.BAD_DATE},
        )
        self.fields["to"] = forms.DateField(
            label=_("To"),
            required=False,
            input_formats=[DATE_FORMAT],
            widget=DateInput(),
            initial=today,
            error_messages={"invalid": self.BAD_DATE},
        )
        self.order_fields(["from", "to", "groups", "campaigns", "sort"])
        groups, campaigns = report_filter_choices()
        self.fields["groups"].queryset = groups
        self.fields["campaigns"].queryset = campaigns

    def clean(self):
        cleaned = super().clean()
        start = cleaned.get("from") or self.fields["from"].initial
        end = cleaned.get("to") or self.fields["to"].initial
        if "from" in self.errors or "to" in self.errors:
            return cleaned
        if start > end:
            self.add_error("to", _("The end date must be on or after the start date."))
        elif (end - start).days >= MAX_DAYS:
            self.add_error("to", _("Choose at most %(days)s days at a time.") % {"days": MAX_DAYS})
        cleaned["from"], cleaned["to"] = start, end
        return cleaned

    def report_filters(self) -> dict:
        """The arguments of `campaigns_report` (call after is_valid())."""
        data = self.cleaned_data
        return {
            "start": data["from"],
            "end": data["to"],
            "group_ids": [group.pk for group in data.get("groups") or ()],
            "campaign_ids": [campaign.pk for campaign in data.get("campaigns") or ()],
            "sort": data.get("sort") or "",
        }


class ResultsFilterForm(forms.Form):
    """The filter, search and sort of a campaign's results table (from the query string,
    or the POST of an action on the filtered phones). Unknown values fall back to none."""

    state = forms.ChoiceField(required=False, choices=())
    q = forms.CharField(required=False, strip=True, max_length=200)
    sort = forms.ChoiceField(required=False, choices=())

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["state"].choices = [
            ("", _("All phones")),
            ("not_answered", _("Did not answer (sent, failed or unknown)")),
            *[(state.value, state.label) for state in CallResult.State],
        ]
        self.fields["sort"].choices = [("", "")] + [
            (f"{sign}{key}", key) for key in selectors.RESULT_SORTS for sign in ("", "-")
        ]

    def filters(self) -> dict:
        """The arguments of `selectors.campaign_results`: what is invalid counts as empty."""
        self.is_valid()  # the fields that are valid are in cleaned_data, the others not
        data = self.cleaned_data
        return {
            "state_filter": data.get("state", ""),
            "search": data.get("q", ""),
            "sort": data.get("sort", ""),
        }
