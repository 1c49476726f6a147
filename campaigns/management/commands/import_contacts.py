"""Import contacts from a CSV or .xlsx file: `manage.py import_contacts FILE`.

Runs the services the import pages run (upload, preview, confirm), in this process: the
import is listed on the import page like the others.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from campaigns import services
from campaigns.contact_import import IMPORT_TARGETS, guess_mapping
from campaigns.models import ContactGroup, ContactImport

# Skipped rows listed in the output; the rest are counted.
MAX_LISTED = 50


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV or .xlsx file: shows the columns recognised, then what "
        "was (or, with --dry-run, would be) created, updated and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", type=Path, help="CSV (, ; or tab; UTF-8 or Windows-1252) or .xlsx"
        )
        parser.add_argument(
            "--group", help="Add every imported contact to this group (created if new)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would happen; write nothing."
        )
        parser.add_argument(
            "--overwrite", action="store_true", help="Replace filled fields of known contacts."
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=TARGET",
            help="Set a column's target (repeatable). Targets: "
            + ", ".join(value for value, _label in IMPORT_TARGETS),
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            table = services.contact_import_table(path=path, filename=path.name)
            mapping = self._mapping(table.headers, options["map"])
            self._show_mapping(table, mapping)
            with path.open("rb") as file:
                job = services.contact_import_start(upload=File(file, name=path.name), user=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        group, new_group_name = None, ""
        if options["group"]:
            group = ContactGroup.objects.filter(name=options["group"]).first()
            new_group_name = "" if group else options["group"]
        services.contact_import_preview(
            job=job,
            mapping=mapping,
            group=group,
            new_group_name=new_group_name,
            overwrite=options["overwrite"],
            in_background=False,
        )
        if job.state != ContactImport.State.PREVIEWED:
            raise CommandError(job.error)
        if not options["dry_run"]:
            services.contact_import_confirm(job=job, in_background=False)
            job.refresh_from_db()
            if job.state != ContactImport.State.DONE:
                raise CommandError(job.error)
        self._show_summary(job, dry_run=options["dry_run"])

    def _mapping(self, headers: list[str], overrides: list[str]) -> list[str]:
        mapping = guess_mapping(headers)
        targets = {value for value, _label in IMPORT_TARGETS}
        folded = [header.casefold() for header in headers]
        for override in overrides:
            column, sep, target = override.rpartition("=")
            column, target = column.strip(), target.strip()
            if not sep or target not in targets:
                raise CommandError(
                    _("--map takes COLUMN=TARGET, TARGET one of: %(targets)s")
                    % {"targets": ", ".join(sorted(targets))}
                )
            if column.casefold() not in folded:
                raise CommandError(
                    _("No column named %(column)s. The columns are: %(columns)s")
                    % {"column": column, "columns": ", ".join(headers)}
                )
            index = folded.index(column.casefold())
            if target == "phone":
                # One phone column: the one named replaces the guessed one.
                mapping = ["custom" if value == "phone" else value for value in mapping]
            mapping[index] = target
        return mapping

    def _show_mapping(self, table, mapping: list[str]) -> None:
        if table.delimiter is None:
            self.stdout.write(_("Excel workbook"))
        else:
            separator = {"\t": _("tab")}.get(table.delimiter, table.delimiter)
            self.stdout.write(
                _("CSV file, encoding %(encoding)s, separator %(separator)s")
                % {"encoding": table.encoding, "separator": separator}
            )
        self.stdout.write(_("Columns:"))
        labels = dict(IMPORT_TARGETS)
        for header, target in zip(table.headers, mapping, strict=False):
            self.stdout.write(f"  {header or '-'} -> {target} ({labels[target]})")

    def _show_summary(self, job: ContactImport, *, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
            self.stdout.write(_("%(count)d to create") % {"count": job.to_create})
            self.stdout.write(_("%(count)d to update") % {"count": job.to_update})
            self.stdout.write(
                _("%(count)d to mark do-not-call") % {"count": job.to_mark_do_not_call}
            )
        else:
            self.stdout.write(_("%(count)d created") % {"count": job.created})
            self.stdout.write(_("%(count)d updated") % {"count": job.updated})
            self.stdout.write(_("%(count)d unchanged") % {"count": job.unchanged})
            self.stdout.write(_("%(count)d added to the group") % {"count": job.added_to_group})
            self.stdout.write(_("%(count)d marked do-not-call") % {"count": job.marked_do_not_call})
            if job.calls_cancelled:
                self.stdout.write(
                    _("%(count)d pending calls cancelled") % {"count": job.calls_cancelled}
                )
        self.stdout.write(_("%(count)d skipped") % {"count": job.skipped})
        for row in job.skipped_rows[:MAX_LISTED]:
            phone = f" ({row['phone']})" if row["phone"] else ""
            self.stdout.write(
                _("  line %(line)d%(phone)s: %(reason)s")
                % {"line": row["line"], "phone": phone, "reason": row["reason"]}
            )
        if job.skipped > MAX_LISTED:
            self.stdout.write(_("  and %(count)d more") % {"count": job.skipped - MAX_LISTED})
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(_("Import finished.")))
