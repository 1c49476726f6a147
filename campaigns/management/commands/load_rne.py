"""Load the Registro de Números Excluidos: `manage.py load_rne FILE --date YYYY-MM-DD`."""

import time
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from campaigns import services


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("Write the date as YYYY-MM-DD, for example 2026-11-30.")) from None


class Command(BaseCommand):
    help = (
        "Load the national registry's list of excluded numbers (RNE, Ley 2300): a CSV or "
        "text file with one number per line. It replaces the current list at once; "
        "commercial campaigns leave these numbers out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV or text file, one number per line")
        parser.add_argument("--date", required=True, type=_date, help="The list's date, YYYY-MM-DD")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        started = time.perf_counter()
        try:
            with path.open("rb") as file:
                load = services.registry_load(
                    file=file, list_date=options["date"], file_name=path.name
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            _(
                "Loaded the list of %(date)s: %(numbers)s numbers, %(skipped)s lines "
                "skipped (not a phone), in %(seconds).1f s."
            )
            % {
                "date": options["date"].isoformat(),
                "numbers": load.numbers,
                "skipped": load.skipped,
                "seconds": time.perf_counter() - started,
            }
        )
