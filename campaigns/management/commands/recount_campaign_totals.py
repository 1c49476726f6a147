from django.core.management.base import BaseCommand

from campaigns import services


class Command(BaseCommand):
    help = (
        "Rebuild each campaign's totals (phones per state, credits) from its results. "
        "Only needed after the database's triggers were bypassed, for example by a restore "
        "with triggers disabled."
    )

    def handle(self, *args, **options):
        fixed = services.campaign_totals_recount()
        for campaign in fixed:
            self.stdout.write(f"Recounted campaign {campaign.pk} ({campaign.name}).")
        self.stdout.write(f"{len(fixed)} campaigns had totals that did not match their results.")
