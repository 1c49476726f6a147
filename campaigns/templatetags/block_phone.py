"""The "also block at Onurix" checkbox for the lists' action bars, which have no form."""

from django import template
from django.conf import settings

from ..forms.contacts import BLOCK_AT_ONURIX_HELP, BLOCK_AT_ONURIX_LABEL

register = template.Library()


@register.inclusion_tag("campaigns/partials/_block_at_onurix.html")
def block_at_onurix_checkbox(form_id: str) -> dict:
    """The checkbox, ticked when ONURIX_BLOCK_PHONE_SYNC is on, with its warning."""
    return {
        "form_id": form_id,
        "checked": settings.ONURIX_BLOCK_PHONE_SYNC,
        "label": BLOCK_AT_ONURIX_LABEL,
        "help": BLOCK_AT_ONURIX_HELP,
    }
