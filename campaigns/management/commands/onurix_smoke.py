"""`manage.py onurix_smoke --phone 573001234567`: the first run against a real Onurix
account. Sends one short call, follows it to the end and says which of our assumptions
about Onurix's answers held; every request and answer goes to a JSON file (without the
key) for the developers. The work is done by campaigns.onurix_smoke."""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns import onurix
from campaigns.onurix_smoke import (
    DEFAULT_MESSAGE,
    VOICE,
    Observations,
    TrafficRecorder,
    onurix_smoke_checks,
    onurix_smoke_record,
    onurix_smoke_run,
)
from campaigns.phones import InvalidPhone, normalize_phone

# Exit codes: 1 aborted or unusable arguments (CommandError's own), 2 an assumption failed.
EXIT_SOME_CHECK_FAILED = 2


class Command(BaseCommand):
    help = (
        "Send ONE real call through Onurix to your own phone(s), follow it to the end, and "
        "check what Onurix answers against what the product assumes. Spends credits. Writes "
        "every request and answer (without the key) to a JSON file."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--phone",
            action="append",
            required=True,
            help="A phone to call (repeatable); yours, with or without the country code.",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation before sending."
        )
        parser.add_argument(
            "--output",
            type=Path,
            help="JSON file to write (default: onurix-smoke-<timestamp>.json here).",
        )
        parser.add_argument(
            "--message", default=DEFAULT_MESSAGE, help="Text read aloud in the call."
        )
        parser.add_argument(
            "--timeout-minutes",
            type=float,
            default=10.0,
            help="How long to wait for every call to reach a final state (default 10).",
        )
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=5.0,
            help="Seconds between two reads of the calls' states (default 5).",
        )

    def handle(self, *args, **options):
        phones = self._phones(options["phone"])
        message = options["message"].strip()
        if not message:
            raise CommandError(_("The message must not be empty."))
        if options["timeout_minutes"] < 0 or options["poll_seconds"] <= 0:
            raise CommandError(
                _("--timeout-minutes must be 0 or more and --poll-seconds more than 0.")
            )
        try:
            client = onurix.get_onurix_client()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        started = timezone.now()
        output = options["output"] or Path(
            f"onurix-smoke-{timezone.localtime(started):%Y%m%d-%H%M%S}.json"
        )
        folder = output.resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise CommandError(_("Cannot write %(file)s.") % {"file": output})

        self._show_plan(client, phones, message, output)
        if not options["yes"] and not self._confirmed(options.get("stdin") or sys.stdin):
            raise CommandError(_("Aborted: nothing was sent."))

        recorder = TrafficRecorder(str(settings.ONURIX_KEY))
        obs = Observations(phones=phones, timeout_seconds=options["timeout_minutes"] * 60)
        try:
            onurix_smoke_run(
                obs=obs,
                client=client,
                recorder=recorder,
                message=message,
                poll_seconds=options["poll_seconds"],
                say=self.stdout.write,
            )
        finally:
            # The record is written whatever happened (even Ctrl-C): the developers need it.
            with translation.override("en"):
                text = onurix_smoke_record(
                    obs=obs,
                    checks=onurix_smoke_checks(obs),
                    recorder=recorder,
                    context={
                        "command": "onurix_smoke",
                        "started_at": started.isoformat(),
                        "finished_at": timezone.now().isoformat(),
                        "base_url": client.base_url,
                        "client_id": client.client_id,
                        "phones": phones,
                        "voice": VOICE,
                        "message": message,
                    },
                )
            output.write_text(text, encoding="utf-8")
        checks = onurix_smoke_checks(obs)
        self._show_checks(checks)
        self.stdout.write(_("Every request and answer is in %(file)s.") % {"file": output})
        if not all(check.held for check in checks):
            raise CommandError(
                _(
                    "Some of our assumptions about Onurix did not hold: please send %(file)s "
                    "to the developers (it does not contain the key)."
                )
                % {"file": output},
                returncode=EXIT_SOME_CHECK_FAILED,
            )
        self.stdout.write(self.style.SUCCESS(_("Every assumption held.")))

    def _phones(self, typed: list[str]) -> list[str]:
        phones: list[str] = []
        for raw in typed:
            try:
                phone = normalize_phone(raw)
            except InvalidPhone as error:
                raise CommandError(
                    _("Invalid phone “%(phone)s”: %(reason)s") % {"phone": raw, "reason": error}
                ) from None
            if phone not in phones:
                phones.append(phone)
        return phones

    def _show_plan(self, client, phones: list[str], message: str, output: Path) -> None:
        self.stdout.write(
            _("This sends ONE real call through Onurix to check what Onurix answers:")
        )
        self.stdout.write(
            "  "
            + _("Onurix: %(url)s, client %(client)s")
            % {"url": client.base_url, "client": client.client_id}
        )
        self.stdout.write("  " + _("Phones: %(phones)s") % {"phones": ", ".join(phones)})
        self.stdout.write(
            "  "
            + _("Message (voice %(voice)s): “%(message)s”") % {"voice": VOICE, "message": message}
        )
        self.stdout.write(
            self.style.WARNING(
                _("Each phone will ring, and each call spends credits of the Onurix account.")
            )
        )
        self.stdout.write(
            _("Every request and answer will be written to %(file)s (without the key).")
            % {"file": output}
        )

    def _confirmed(self, stdin) -> bool:
        self.stdout.write(_("Type yes to send: "), ending="")
        self.stdout.flush()
        answer = stdin.readline().strip().casefold()
        return answer in {"yes", _("yes").casefold()}

    def _show_checks(self, checks) -> None:
        held, failed = self._marks()
        self.stdout.write("")
        self.stdout.write(_("What Onurix answered, against what the product assumes:"))
        for check in checks:
            if check.held:
                self.stdout.write(self.style.SUCCESS(held) + " " + check.text)
            else:
                self.stdout.write(self.style.ERROR(failed) + " " + check.text)

    def _marks(self) -> tuple[str, str]:
        """✔ and ✘, or OK and NO on a console that cannot print them."""
        encoding = getattr(self.stdout, "encoding", None) or "utf-8"
        try:
            "✔✘".encode(encoding)
        except (LookupError, UnicodeEncodeError):
            return "OK", "NO"
        return "✔", "✘"
