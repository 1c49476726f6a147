from django import template

from campaigns.phones import phone_display as format_phone

register = template.Library()


@register.filter
def phone_display(phone) -> str:
    """`{{ contact.phone|phone_display }}`: "573001234567" shown as "+57 300 123 4567"."""
    if phone in (None, ""):
        return ""
    return format_phone(phone)
