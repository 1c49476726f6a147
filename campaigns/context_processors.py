from django.conf import settings


def language_choices(request):
    """The languages of the switcher, each named in itself (not translated)."""
    return {"language_choices": settings.LANGUAGES}
