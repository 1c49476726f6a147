"""Names that other apps show in our admin, so that our Spanish catalogue translates them
(gettext finds a translation in any catalogue). Listed here so that `make messages`
keeps them: nothing imports this module."""

from django.utils.translation import gettext_noop

NAMES = (
    # django-axes (no Spanish catalogue of its own)
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    # django-tasks-db
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
)
