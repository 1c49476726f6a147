from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from campaigns import services


class Command(BaseCommand):
    help = "Check that Onurix answers with the configured client id and key; show the balance."

    def handle(self, *args, **options):
        self.stdout.write(
            _("Onurix at %(url)s, client %(client)s")
            % {
                "url": settings.ONURIX_BASE_URL,
                "client": settings.ONURIX_CLIENT_ID or "-",
            }
        )
        health = services.onurix_health()
        if not health.ok:
            raise CommandError(f"{health.problem}\n{health.fix}")
        if health.balance is None:
            self.stdout.write(
                self.style.WARNING(
                    _("Onurix answers, but did not say the balance: check it in its portal.")
                )
            )
            return
        balance = number_format(health.balance, decimal_pos=2, force_grouping=True)
        self.stdout.write(
            self.style.SUCCESS(
                _("Onurix answers. Credits available: %(balance)s") % {"balance": balance}
            )
        )
