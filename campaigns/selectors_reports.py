"""Read queries of the reports: answer rates and costs across campaigns, dead numbers and
the billing reconciliation.

The reports add up `ReportCell` rows (calls per campaign, Bogota day, hour and state, kept
by triggers; see the model), never the results: the number of queries and their time
depend on campaigns, days and hours, not on how many phones were called.

A call is a phone Onurix accepted: sent, answered, failed or unknown. The answer rate is
answered / calls; the cost of an answered call is net credits (charged minus refunded)
/ answered. A campaign's figures count for each group it was sent to; a campaign with
typed phones only counts under "no group".
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q, QuerySet, Subquery, Sum
from django.db.models.functions import ExtractIsoWeekDay
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from .calling_hours import LEGAL_HOURS
from .models import CallResult, Campaign, ContactGroup, PhoneHistory, ReportCell

State = CallResult.State
CALL_STATES = (State.SENT, State.ANSWERED, State.FAILED, State.UNKNOWN)
ZERO = Decimal(0)
# The sort keys of the campaigns and groups tables (a `-` first: descending), defined once.
REPORT_SORTS = ("name", "calls", "answer_rate", "net", "cost_per_answered")


@dataclass(frozen=True)
class Figures:
    """Calls, answers and credits of one slice of the report."""

    calls: int = 0
    answered: int = 0
    failed: int = 0
    unknown: int = 0
    charged: Decimal = ZERO
    refunded: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.charged - self.refunded

    @property
    def answer_rate(self) -> float | None:
        """Percent of calls answered, None without calls."""
        return round(100 * self.answered / self.calls, 1) if self.calls else None

    @property
    def cost_per_answered(self) -> Decimal | None:
        """Net credits per answered call, None without answers."""
        if not self.answered:
            return None
        return (self.net / self.answered).quantize(Decimal("0.01"))

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(
            calls=self.calls + other.calls,
            answered=self.answered + other.answered,
            failed=self.failed + other.failed,
            unknown=self.unknown + other.unknown,
            charged=self.charged + other.charged,
            refunded=self.refunded + other.refunded,
        )


@dataclass(frozen=True)
class SliceRow:
    """One bar of a chart: an hour, a weekday or a day."""

    key: int | dt.date
    label: str
    figures: Figures


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: int
    name: str
    uses_audio: bool
    leave_voicemail: bool
    figures: Figures


@dataclass(frozen=True)
class GroupRow:
    group_id: int | None  # None: campaigns with typed phones only
    name: str
    figures: Figures
    trend: list[SliceRow]  # one per day of the range with calls, oldest first


@dataclass(frozen=True)
class Comparison:
    """Two kinds of campaigns side by side (TTS and audio, voicemail on and off)."""

    title: str
    sides: list[tuple[str, Figures]]


@dataclass(frozen=True)
class Report:
    start: dt.date
    end: dt.date
    totals: Figures
    hours: list[SliceRow]
    weekdays: list[SliceRow]
    days: list[SliceRow]
    campaigns: list[CampaignRow]
    groups: list[GroupRow]
    comparisons: list[Comparison] = field(default_factory=list)


def _figures(rows: Iterable[dict]) -> Figures:
    """Figures from rows of (state, calls, charged, refunded)."""
    counts: dict[str, int] = defaultdict(int)
    charged = refunded = ZERO
    for row in rows:
        counts[row["state"]] += row["calls"] or 0
        charged += row["charged"] or ZERO
        refunded += row["refunded"] or ZERO
    return Figures(
        calls=sum(counts[state] for state in CALL_STATES),
        answered=counts[State.ANSWERED],
        failed=counts[State.FAILED],
        unknown=counts[State.UNKNOWN],
        charged=Decimal(charged),
        refunded=Decimal(refunded),
    )


def _grouped(cells: QuerySet[ReportCell], *keys: str) -> dict[tuple, Figures]:
    """One query: the cells summed per `keys` and state, as Figures per key."""
    rows = (
        cells.values(*keys, "state")
        .annotate(calls_sum=Sum("calls"), charged=Sum("credits"), refunded=Sum("credits_refunded"))
        .order_by()
    )
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        by_key[tuple(row[key] for key in keys)].append(
            {
                "state": row["state"],
                "calls": row["calls_sum"],
                "charged": row["charged"],
                "refunded": row["refunded"],
            }
        )
    return {key: _figures(value) for key, value in by_key.items()}


def report_cells(
    *,
    start: dt.date,
    end: dt.date,
    group_ids: Iterable[int] = (),
    campaign_ids: Iterable[int] = (),
) -> QuerySet[ReportCell]:
    """The report cells of calls sent from `start` to `end` (both included, Bogota days),
    of the chosen campaigns and of the campaigns sent to the chosen groups (all when
    neither is chosen)."""
    cells = ReportCell.objects.filter(day__gte=start, day__lte=end)
    group_ids, campaign_ids = list(group_ids), list(campaign_ids)
    if group_ids or campaign_ids:
        chosen = Q(campaign_id__in=campaign_ids) if campaign_ids else Q(pk__in=[])
        if group_ids:
            chosen |= Q(
                campaign_id__in=Subquery(
                    Campaign.groups.through.objects.filter(contactgroup_id__in=group_ids).values(
                        "campaign_id"
                    )
                )
            )
        cells = cells.filter(chosen)
    return cells


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00-{hour + 1:02d}:00"


def _weekday_labels() -> dict[int, str]:
    # ISO weekdays (Monday = 1); django's WEEKDAYS counts from Monday = 0.
    return {day + 1: str(name) for day, name in WEEKDAYS.items()}


def campaigns_report(
    *,
    start: dt.date,
    end: dt.date,
    group_ids: Iterable[int] = (),
    campaign_ids: Iterable[int] = (),
    sort: str = "",
) -> Report:
    """Every figure of the reports page for a range of days, in six queries whatever the
    number of calls: by hour, by weekday, by day, by campaign, by group and day, and the
    campaigns' names and kinds."""
    cells = report_cells(start=start, end=end, group_ids=group_ids, campaign_ids=campaign_ids)

    by_hour = _grouped(cells, "hour")
    legal = {
        hour for opens, closes in LEGAL_HOURS.values() for hour in range(opens.hour, closes.hour)
    }
    hours = [
        SliceRow(hour, _hour_label(hour), by_hour.get((hour,), Figures()))
        for hour in sorted(legal | {key[0] for key in by_hour})
    ]

    by_weekday = _grouped(cells.annotate(weekday=ExtractIsoWeekDay("day")), "weekday")
    names = _weekday_labels()
    # Monday to Saturday are legal; Sunday shows only when calls were made on one.
    weekday_keys = sorted({weekday + 1 for weekday in LEGAL_HOURS} | {k[0] for k in by_weekday})
    weekdays = [
        SliceRow(weekday, names[weekday], by_weekday.get((weekday,), Figures()))
        for weekday in weekday_keys
    ]

    by_day = _grouped(cells, "day")
    days = [
        SliceRow(day, day.strftime("%d/%m"), figures) for (day,), figures in sorted(by_day.items())
    ]

    by_campaign = _grouped(cells, "campaign_id")
    campaigns = Campaign.objects.filter(pk__in=[key[0] for key in by_campaign]).values_list(
        "pk", "name", "audio_code_id", "leave_voicemail"
    )
    campaign_rows = [
        CampaignRow(pk, name, audio_id is not None, voicemail, by_campaign[(pk,)])
        for pk, name, audio_id, voicemail in campaigns
    ]

    group_rows = _group_rows(cells)
    totals = sum((row.figures for row in campaign_rows), Figures())
    return Report(
        start=start,
        end=end,
        totals=totals,
        hours=hours,
        weekdays=weekdays,
        days=days,
        campaigns=sort_rows(campaign_rows, sort),
        groups=sort_rows(group_rows, sort),
        comparisons=_comparisons(campaign_rows),
    )


def _group_rows(cells: QuerySet[ReportCell]) -> list[GroupRow]:
    by_group_day = _grouped(cells, "campaign__groups__id", "campaign__groups__name", "day")
    per_group: dict[tuple, list[SliceRow]] = defaultdict(list)
    for (group_id, name, day), figures in sorted(
        by_group_day.items(), key=lambda item: (item[0][1] or "", item[0][2])
    ):
        per_group[(group_id, name)].append(SliceRow(day, day.strftime("%d/%m"), figures))
    return [
        GroupRow(
            group_id,
            name if group_id is not None else _("No group (typed phones)"),
            sum((point.figures for point in trend), Figures()),
            trend,
        )
        for (group_id, name), trend in per_group.items()
    ]


def _comparisons(rows: list[CampaignRow]) -> list[Comparison]:
    """TTS against audio and voicemail on against off, each only when the range has both."""

    def side(label, chosen):
        return (label, sum((row.figures for row in rows if chosen(row)), Figures()))

    comparisons = []
    if len({row.uses_audio for row in rows}) == 2:
        comparisons.append(
            Comparison(
                _("Text read by a voice or recorded audio"),
                [
                    side(_("Text (TTS)"), lambda row: not row.uses_audio),
                    side(_("Audio"), lambda row: row.uses_audio),
                ],
            )
        )
    if len({row.leave_voicemail for row in rows}) == 2:
        comparisons.append(
            Comparison(
                _("Voicemail"),
                [
                    side(_("Voicemail on"), lambda row: row.leave_voicemail),
                    side(_("Voicemail off"), lambda row: not row.leave_voicemail),
                ],
            )
        )
    return comparisons


def sort_rows(rows: list, sort: str) -> list:
    """Rows of campaigns or groups sorted by a REPORT_SORTS key (`-` first: descending);
    rows without a value (no calls, no answers) always last."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in REPORT_SORTS:
        return sorted(rows, key=lambda row: -row.figures.calls)
    if key == "name":
        return sorted(rows, key=lambda row: row.name.casefold(), reverse=descending)

    def value(row):
        return {
            "calls": row.figures.calls,
            "answer_rate": row.figures.answer_rate,
            "net": row.figures.net,
            "cost_per_answered": row.figures.cost_per_answered,
        }[key]

    present = [row for row in rows if value(row) is not None]
    missing = [row for row in rows if value(row) is None]
    return sorted(present, key=value, reverse=descending) + missing


def report_filter_choices() -> tuple[QuerySet[ContactGroup], QuerySet[Campaign]]:
    """The groups and the launched campaigns a report may be narrowed to."""
    return (
        ContactGroup.objects.order_by("name").only("pk", "name"),
        Campaign.objects.exclude(state=Campaign.State.DRAFT)
        .order_by("-created_at", "-id")
        .only("pk", "name"),
    )


# -- dead numbers -------------------------------------------------------------------------------


def dead_numbers() -> QuerySet[PhoneHistory]:
    """Phones that failed in at least CAMPAIGN_DEAD_NUMBER_FAILURES campaigns and never
    answered one: calling them again most likely spends credits for nothing."""
    return PhoneHistory.objects.filter(
        answered=0, failed__gte=settings.CAMPAIGN_DEAD_NUMBER_FAILURES
    )


def dead_number_phones() -> set[str]:
    return set(dead_numbers().values_list("phone", flat=True))


# -- billing reconciliation ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReconciliationLine:
    """One thing to claim or to check with Onurix support."""

    kind: str  # one of ReconciliationLine.KINDS
    campaign_id: int
    campaign: str
    phone: str = ""
    dispatch_id: str = ""
    call_id: str = ""
    sent_at: dt.datetime | None = None
    onurix_state: str = ""
    charged: Decimal = ZERO
    refunded: Decimal = ZERO
    # What the phones say was spent against what the balance lost (campaign lines only).
    recorded: Decimal | None = None
    observed: Decimal | None = None

    REJECTED_CHARGED = "rejected_charged"  # Onurix said Rechazado but kept the credits
    UNKNOWN_CHARGED = "unknown_charged"  # no outcome known, credits charged
    BALANCE_MISMATCH = "balance_mismatch"  # the balance moved more or less than recorded

    @property
    def to_claim(self) -> Decimal:
        """Credits this line asks back: the net charge of a phone, or the difference of a
        balance (what the account lost beyond what the phones say)."""
        if self.kind == self.BALANCE_MISMATCH:
            return (self.observed or ZERO) - (self.recorded or ZERO)
        return self.charged - self.refunded


def reconciliation_lines(*, start: dt.datetime, end: dt.datetime) -> Iterator[ReconciliationLine]:
    """The discrepancies of calls sent in [start, end): phones charged while rejected and
    not refunded, unknown outcomes that were charged, and campaigns started in the range
    whose balance change differs from the credits recorded per phone. Three queries, the
    phones read in chunks."""
    charged = Q(credits__gt=0) & Q(credits__gt=F("credits_refunded"))
    results = (
        CallResult.objects.filter(sent_at__gte=start, sent_at__lt=end)
        .filter(charged)
        .filter(Q(state=State.FAILED, onurix_state__iexact="rechazado") | Q(state=State.UNKNOWN))
        .order_by("campaign_id", "id")
        .values_list(
            "state",
            "campaign_id",
            "campaign__name",
            "phone",
            "dispatch_id",
            "call_id",
            "sent_at",
            "onurix_state",
            "credits",
            "credits_refunded",
        )
    )
    for state, *values in results.iterator(chunk_size=2000):
        kind = (
            ReconciliationLine.UNKNOWN_CHARGED
            if state == State.UNKNOWN
            else ReconciliationLine.REJECTED_CHARGED
        )
        yield ReconciliationLine(kind, *values)

    campaigns = (
        Campaign.objects.filter(
            started_at__gte=start,
            started_at__lt=end,
            balance_before__isnull=False,
            balance_after__isnull=False,
        )
        .select_related("totals")
        .order_by("pk")
    )
    for campaign in campaigns:
        observed = campaign.balance_before - campaign.balance_after
        recorded = campaign.totals.net_credits
        if observed != recorded:
            yield ReconciliationLine(
                ReconciliationLine.BALANCE_MISMATCH,
                campaign.pk,
                campaign.name,
                recorded=recorded,
                observed=observed,
            )
