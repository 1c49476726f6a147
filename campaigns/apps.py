from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    default = True  # this module also holds the configs below, of other apps
    name = "campaigns"
    verbose_name = _("Voice campaigns")

    def ready(self):
        from django.core import checks

        from campaigns.checks import production_settings_check

        checks.register(production_settings_check, checks.Tags.security)

        from campaigns.services.activity import connect_signals

        connect_signals()


# The admin lists apps by these names: ours, in the reader's language.
from axes.apps import AppConfig as _AxesConfig  # noqa: E402
from django_tasks_db.apps import TasksAppConfig as _TasksDatabaseConfig  # noqa: E402


class AxesConfig(_AxesConfig):
    default = False
    verbose_name = _("Sign-in attempts")


class TasksDatabaseConfig(_TasksDatabaseConfig):
    default = False
    verbose_name = _("Background tasks")
