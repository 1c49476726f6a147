from django.core.management.base import BaseCommand

from campaigns import services, tasks


class Command(BaseCommand):
    help = (
        "Wake campaigns whose wake-up was lost and mark phones left in sending by a dead "
        "worker unknown; with --schedule, also make sure the periodic sweep is queued."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Queue the every-minute sweep if none is waiting (run before workers start).",
        )

    def handle(self, *args, schedule=False, **options):
        result = services.campaigns_sweep()
        self.stdout.write(
            f"Recovered {result['recovered']} phones as unknown; woke {result['woken']} campaigns."
        )
        if schedule:
            queued = tasks.schedule_sweep(only_if_missing=True)
            self.stdout.write(
                "Periodic sweep queued." if queued else "Periodic sweep already queued."
            )
