"""The reports as files (CSV that Excel opens in Spanish, and .xlsx), the billing
reconciliation file for Onurix support, and the choice about dead numbers."""

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..csv_files import Echo, csv_safe, in_chunks
from ..models import Campaign
from ..selectors_reports import Figures, ReconciliationLine, Report, reconciliation_lines
from ..xlsx_files import xlsx_file

# The tables a report exports, by the name in its URL.
REPORT_SECTIONS = {
    "hours": gettext_lazy("By hour"),
    "weekdays": gettext_lazy("By weekday"),
    "days": gettext_lazy("By day"),
    "campaigns": gettext_lazy("By campaign"),
    "groups": gettext_lazy("By group"),
    "comparisons": gettext_lazy("Side by side"),
}
RECONCILIATION = "reconciliation"


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: Iterable[list]


def _figure_headers() -> list[str]:
    return [
        _("Calls"),
        _("Answered"),
        _("Answer rate (%)"),
        _("Failed"),
        _("Unknown"),
        _("Credits charged"),
        _("Credits refunded"),
        _("Net credits"),
        _("Credits per answered call"),
    ]


def _figure_cells(figures: Figures) -> list:
    rate = figures.answer_rate
    return [
        figures.calls,
        figures.answered,
        None if rate is None else Decimal(str(rate)),
        figures.failed,
        figures.unknown,
        figures.charged,
        figures.refunded,
        figures.net,
        figures.cost_per_answered,
    ]


def report_table(*, report: Report, section: str) -> Table:
    """One table of a report (a REPORT_SECTIONS key) in the current language."""
    title = str(REPORT_SECTIONS[section])
    figures = _figure_headers()
    if section in ("hours", "weekdays"):
        key = _("Hour") if section == "hours" else _("Weekday")
        slices = report.hours if section == "hours" else report.weekdays
        rows = [[row.label, *_figure_cells(row.figures)] for row in slices]
        return Table(title, [key, *figures], rows)
    if section == "days":
        rows = [[row.key, *_figure_cells(row.figures)] for row in report.days]
        return Table(title, [_("Day"), *figures], rows)
    if section == "campaigns":
        rows = [
            [
                row.campaign_id,
                row.name,
                _("Audio") if row.uses_audio else _("Text (TTS)"),
                _("Yes") if row.leave_voicemail else _("No"),
                *_figure_cells(row.figures),
            ]
            for row in report.campaigns
        ]
        headers = [_("Campaign id"), _("Campaign"), _("Content"), _("Voicemail"), *figures]
        return Table(title, headers, rows)
    if section == "groups":
        rows = [[row.name, *_figure_cells(row.figures)] for row in report.groups]
        return Table(title, [_("Group"), *figures], rows)
    rows = [
        [comparison.title, label, *_figure_cells(side)]
        for comparison in report.comparisons
        for label, side in comparison.sides
    ]
    return Table(title, [_("Comparison"), _("Kind"), *figures], rows)


def reconciliation_table(*, start: dt.date, end: dt.date) -> Table:
    """The billing discrepancies of calls sent from `start` to `end` (Bogota days, both
    included): one line per phone or campaign to claim or check, with campaign, phone,
    dispatch id and call id."""
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    kinds = {
        ReconciliationLine.REJECTED_CHARGED: _("Rejected but charged, not refunded"),
        ReconciliationLine.UNKNOWN_CHARGED: _("Unknown outcome, charged"),
        ReconciliationLine.BALANCE_MISMATCH: _("Balance change differs from the calls"),
    }
    headers = [
        _("Discrepancy"),
        _("Campaign id"),
        _("Campaign"),
        _("Phone"),
        _("Dispatch id"),
        _("Call id"),
        _("Sent at"),
        _("Onurix state"),
        _("Credits charged"),
        _("Credits refunded"),
        _("Credits recorded"),
        _("Balance change seen"),
        _("Credits to claim"),
    ]

    def rows() -> Iterator[list]:
        for line in reconciliation_lines(start=since, end=until):
            balance = line.kind == ReconciliationLine.BALANCE_MISMATCH
            yield [
                kinds[line.kind],
                line.campaign_id,
                line.campaign,
                line.phone,
                line.dispatch_id,
                line.call_id,
                line.sent_at.astimezone(zone).replace(tzinfo=None) if line.sent_at else None,
                line.onurix_state,
                None if balance else line.charged,
                None if balance else line.refunded,
                line.recorded,
                line.observed,
                line.to_claim,
            ]

    return Table(_("Billing reconciliation"), headers, rows())


def _text(value, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = f"{value.normalize():f}"
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def table_csv_lines(*, table: Table, language: str) -> Iterator[str]:
    """A table as CSV lines for the reader's language: in Spanish `;` and a decimal comma
    (as Excel in Colombia expects), else `,` and a point; UTF-8 with a BOM, every cell
    through csv_safe, in constant memory."""
    spanish = (language or "").startswith("es")
    writer = csv.writer(Echo(), delimiter=";" if spanish else ",")
    yield "\ufeff" + writer.writerow([csv_safe(str(header)) for header in table.headers])
    lines = (
        writer.writerow([csv_safe(_text(value, spanish)) for value in row]) for row in table.rows
    )
    yield from in_chunks(lines)


def table_xlsx(*, table: Table):
    """A table as an .xlsx workbook (write-only) in a rewound temporary file: text stays
    text (never a formula), numbers are numbers, dates are dates."""
    return xlsx_file(title=table.title, headers=table.headers, rows=table.rows)


def campaign_choose_dead_numbers(*, campaign: Campaign, exclude: bool) -> bool:
    """Record whether a draft leaves out dead numbers (the preview's proposal); the launch
    follows the choice. Returns False when the campaign is no longer a draft."""
    with transaction.atomic():
        moved = Campaign.objects.move(campaign.pk, "edit", exclude_dead_numbers=exclude)
    if moved:
        campaign.exclude_dead_numbers = exclude
    return moved
