"""Changing a launched campaign's credit limit."""

from django import forms
from django.utils.translation import gettext_lazy as _


class CreditCapForm(forms.Form):
    """The new credit limit of a campaign: a whole number of credits, or empty for none."""

    credit_cap = forms.IntegerField(
        label=_("New credit limit"),
        required=False,
        min_value=1,
        max_value=2_000_000_000,
        help_text=_("Credits this campaign may spend in all, the ones already charged included."),
        error_messages={
            "invalid": _("Write the limit as a whole number of credits, for example 500."),
            "min_value": _("The limit must be at least 1 credit, or empty for no limit."),
        },
    )
