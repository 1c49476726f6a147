"""Read queries the pages need: counts, totals and filtered lists."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet, Sum

from .calling_hours import BOGOTA
from .models import (
    ActivityEntry,
    AudioCode,
    CallResult,
    Campaign,
    CampaignTotals,
    Contact,
    ContactGroup,
    DoNotCallChange,
    TestCall,
)
from .phones import phone_search_digits
from .selectors_reports import dead_numbers


def campaign_totals(*, campaign: Campaign) -> CampaignTotals:
    """Phones per state and credits of a campaign: one row the database keeps current
    (see CampaignTotals), read fresh, and kept on the instance for the rest of the request."""
    totals = getattr(campaign, "_fresh_totals", None)
    if totals is None:
        totals = CampaignTotals.objects.get(campaign_id=campaign.pk)
        campaign._fresh_totals = totals
    return totals


def campaign_state_counts(*, campaign: Campaign) -> dict[str, int]:
    """How many phones of a campaign are in each state, every state present (0 if none)."""
    return campaign_totals(campaign=campaign).counts


def campaign_totals_from_results(*, campaign: Campaign) -> dict:
    """The same figures as CampaignTotals, added up from the results (slow: every row is
    read). For recounting and for checking the triggers."""
    rows = (
        campaign.results.values("state")
        .annotate(n=Count("id"), charged=Sum("credits"), refunded=Sum("credits_refunded"))
        .order_by()
    )
    figures = {state: 0 for state in CallResult.State.values}
    figures["credits"] = figures["credits_refunded"] = Decimal(0)
    for row in rows:
        figures[row["state"]] = row["n"]
        figures["credits"] += row["charged"] or 0
        figures["credits_refunded"] += row["refunded"] or 0
    return figures


@dataclass(frozen=True)
class DashboardTotals:
    contacts: int
    groups: int
    audio_codes: int
    campaigns: int
    campaigns_active: int


def dashboard_totals() -> DashboardTotals:
    """The headline numbers of the dashboard."""
    return DashboardTotals(
        contacts=Contact.objects.count(),
        groups=ContactGroup.objects.count(),
        audio_codes=AudioCode.objects.count(),
        # Follow-up waves are part of their campaign (a running one is active, though).
        campaigns=Campaign.objects.filter(is_template=False, wave__isnull=True).count(),
        campaigns_active=Campaign.objects.filter(state__in=Campaign.ACTIVE_STATES).count(),
    )


def campaign_list(*, search: str = "") -> QuerySet[Campaign]:
    """Campaigns, newest first, with their totals (`campaign.totals`) in the same query."""
    campaigns = Campaign.objects.select_related("audio_code", "created_by", "totals")
    campaigns = campaigns.filter(is_template=False)  # templates: see campaign_templates
    campaigns = campaigns.filter(wave__isnull=True)  # waves: shown under their campaign
    if search:
        campaigns = campaigns.filter(name__icontains=search)
    return campaigns.order_by("-created_at", "-id")


def contact_list(
    *,
    search: str = "",
    group_id: int | None = None,
    do_not_call: bool | None = None,
    dead: bool = False,
) -> QuerySet[Contact]:
    """Contacts matching a search by name, email or phone (typed in any format); with
    `dead`, only dead numbers (selectors_reports.dead_numbers)."""
    contacts = Contact.objects.all()
    if search:
        digits = phone_search_digits(search)
        if digits and not any(char.isalpha() or char == "@" for char in search):
            # Typed like a phone: no name or email holds "300 123", look at phones only.
            matches = Q(phone__contains=digits)
        else:
            matches = Q(first_name__icontains=search) | Q(last_name__icontains=search)
            matches |= Q(email__icontains=search)
            first, _space, rest = search.partition(" ")
            if rest:
                matches |= Q(first_name__icontains=first, last_name__icontains=rest)
            if digits:
                matches |= Q(phone__contains=digits)
        contacts = contacts.filter(matches)
    if group_id:
        contacts = contacts.filter(groups__id=group_id)
    if do_not_call is not None:
        contacts = contacts.filter(do_not_call=do_not_call)
    if dead:
        contacts = contacts.filter(phone__in=dead_numbers().values("phone"))
    return contacts.order_by("-id")


def contact_call_history(*, contact: Contact) -> QuerySet[CallResult]:
    """Every call made to a contact's phone across campaigns, newest first."""
    return (
        CallResult.objects.filter(phone=contact.phone)
        .exclude(state=CallResult.State.EXCLUDED)
        .select_related("campaign")
        .order_by("-created_at", "-id")
    )


def contact_do_not_call_history(*, contact: Contact) -> QuerySet[DoNotCallChange]:
    """Every mark and clearing of a contact's do-not-call flag, newest first."""
    return contact.do_not_call_changes.select_related("changed_by").order_by("-created_at", "-id")


def group_members(*, group: ContactGroup, search: str = "") -> QuerySet[Contact]:
    return contact_list(search=search, group_id=group.pk)


def group_list(*, search: str = "") -> QuerySet[ContactGroup]:
    groups = ContactGroup.objects.all()
    if search:
        groups = groups.filter(name__icontains=search)
    return groups.annotate(member_count=Count("contacts")).order_by("name")


def audio_code_list(*, search: str = "") -> QuerySet[AudioCode]:
    codes = AudioCode.objects.all()
    if search:
        codes = codes.filter(Q(name__icontains=search) | Q(code__icontains=search))
    return codes


def campaigns_with_progress(*, campaigns: list[Campaign]) -> list[Campaign]:
    """Attach `progress` to each launched campaign of a page (totals from campaign_list)."""
    for campaign in campaigns:
        if campaign.is_launched:
            campaign._fresh_totals = campaign.totals
            campaign.progress = campaign_progress(campaign=campaign)
    return campaigns


@dataclass(frozen=True)
class CampaignProgress:
    """How far a campaign got: phones to call (excluded not counted), how many are done
    (no longer queued or in flight), the percentage, counts by state and credits."""

    total: int
    done: int
    percent: int
    counts: dict[str, int]
    credits: Decimal


def campaign_progress(*, campaign: Campaign) -> CampaignProgress:
    totals = campaign_totals(campaign=campaign)
    total = totals.phone_count
    done = total - (totals.queued + totals.sending)
    return CampaignProgress(
        total=total,
        done=done,
        percent=100 if not total else int(100 * done / total),
        counts=totals.counts,
        credits=totals.credits,
    )


def resendable_unknown(*, campaign: Campaign) -> QuerySet[CallResult]:
    """The unknown phones of a campaign that a re-send would queue: all but those whose
    contact is do-not-call now (their call may have happened; they are never re-sent)."""
    do_not_call = Contact.objects.filter(do_not_call=True).values("phone")
    return CallResult.objects.filter(campaign=campaign, state=CallResult.State.UNKNOWN).exclude(
        phone__in=do_not_call
    )


@dataclass(frozen=True)
class ResendEstimate:
    phones: int  # phones a re-send would queue
    credits: Decimal  # what calling them would cost (estimated)
    do_not_call: int  # unknown phones left out: do-not-call now


def campaign_unknown_estimate(*, campaign: Campaign) -> ResendEstimate:
    """What re-sending a campaign's unknown phones would do and cost."""
    unknown = campaign_totals(campaign=campaign).unknown
    phones = resendable_unknown(campaign=campaign).count() if unknown else 0
    per_call, _from_history = credits_per_call_estimate()
    return ResendEstimate(phones=phones, credits=per_call * phones, do_not_call=unknown - phones)


def answered_recently(*, now: datetime) -> QuerySet[CallResult] | None:
    """The calls answered in any campaign within the last CAMPAIGN_CONTACT_FREQUENCY_DAYS
    (the contact-frequency rule); None when the rule is off (0)."""
    days = settings.CAMPAIGN_CONTACT_FREQUENCY_DAYS
    if days <= 0:
        return None
    return CallResult.objects.filter(
        state=CallResult.State.ANSWERED, sent_at__gte=now - timedelta(days=days)
    )


def phones_answered_recently(*, now: datetime) -> set[str]:
    """The phones the contact-frequency rule leaves out now."""
    answered = answered_recently(now=now)
    if answered is None:
        return set()
    return set(answered.values_list("phone", flat=True).distinct())


def phones_called_today(
    *, now: datetime, phones: Iterable[str] | None = None, besides: Campaign | None = None
) -> set[str]:
    """The phones (of `phones`, or all) already called CAMPAIGN_MAX_ATTEMPTS_PER_DAY times
    since midnight in Bogota, in any campaign but `besides` (0 turns the rule off). A call
    is one Onurix accepted: a refusal is not a call."""
    limit = settings.CAMPAIGN_MAX_ATTEMPTS_PER_DAY
    if limit <= 0:
        return set()
    midnight = now.astimezone(BOGOTA).replace(hour=0, minute=0, second=0, microsecond=0)
    called = CallResult.objects.filter(sent_at__gte=midnight)
    if phones is not None:
        called = called.filter(phone__in=list(phones))
    if besides is not None:
        called = called.exclude(campaign=besides)
    return set(
        called.values("phone")
        .annotate(calls=Count("id"))
        .filter(calls__gte=limit)
        .values_list("phone", flat=True)
    )


def custom_field_names(*, group_ids: list[int]) -> set[str]:
    """The custom field names of the contacts in some groups."""
    names: set[str] = set()
    fields = (
        Contact.objects.filter(groups__in=group_ids)
        .exclude(custom_fields={})
        .values_list("custom_fields", flat=True)
    )
    for value in fields.iterator(chunk_size=2000):
        names.update(value or {})
    return names


# -- results and credits ----------------------------------------------------------------------

# The state filter of the results table: a state, or several under one name.
RESULT_FILTERS = {
    "not_answered": (CallResult.State.SENT, CallResult.State.FAILED, CallResult.State.UNKNOWN),
    **{state: (state,) for state in CallResult.State.values},
}
# Sort keys of the results table -> columns, the id last so pages never overlap.
RESULT_SORTS = {
    "phone": ("phone",),
    "state": ("state", "id"),
    "sent_at": ("sent_at", "id"),
    "credits": ("credits", "id"),
}


def campaign_results(
    *, campaign: Campaign, state_filter: str = "", search: str = "", sort: str = ""
) -> QuerySet[CallResult]:
    """The per-phone results of a campaign, filtered, searched (phone in any format, or
    name) and sorted (a RESULT_SORTS key, `-` first for descending)."""
    results = CallResult.objects.filter(campaign=campaign).select_related("contact")
    if states := RESULT_FILTERS.get(state_filter):
        results = results.filter(state__in=states)
    if search:
        matches = Q(contact__first_name__icontains=search)
        matches |= Q(contact__last_name__icontains=search)
        first, _space, rest = search.partition(" ")
        if rest:
            matches |= Q(contact__first_name__icontains=first, contact__last_name__icontains=rest)
        if digits := phone_search_digits(search):
            matches |= Q(phone__contains=digits)
        results = results.filter(matches)
    descending = sort.startswith("-")
    columns = RESULT_SORTS.get(sort.lstrip("-"), ("id",))
    return results.order_by(*(f"-{column}" if descending else column for column in columns))


@dataclass(frozen=True)
class ResultsSummary:
    """Everything the results summary shows: phones per state with percentages (of the
    phones to call; excluded ones of all targeted), credits charged, refunded and net,
    and credits per answered call (None before the first answer)."""

    targeted: int
    to_call: int
    pending: int
    counts: dict[str, int]
    percent: dict[str, float]
    pending_percent: float
    not_answered: int
    charged: Decimal
    refunded: Decimal
    net: Decimal
    per_answered: Decimal | None


def campaign_results_summary(*, campaign: Campaign) -> ResultsSummary:
    """The results summary, from the campaign's totals (one row, kept by the database)."""
    totals = campaign_totals(campaign=campaign)
    counts = totals.counts
    charged, refunded = totals.credits, totals.credits_refunded
    state = CallResult.State
    targeted = sum(counts.values())
    to_call = targeted - counts[state.EXCLUDED]
    pending = counts[state.QUEUED] + counts[state.SENDING]

    def share(count: int, whole: int) -> float:
        return round(100 * count / whole, 1) if whole else 0.0

    net = charged - refunded
    answered = counts[state.ANSWERED]
    return ResultsSummary(
        targeted=targeted,
        to_call=to_call,
        pending=pending,
        counts=counts,
        percent={
            key: share(count, targeted if key == state.EXCLUDED else to_call)
            for key, count in counts.items()
        },
        pending_percent=share(pending, to_call),
        not_answered=counts[state.SENT] + counts[state.FAILED] + counts[state.UNKNOWN],
        charged=charged,
        refunded=refunded,
        net=net,
        per_answered=(net / answered) if answered else None,
    )


@dataclass(frozen=True)
class BalanceCheck:
    """Per-phone net credits (`reported`) against the balance change seen while the
    campaign ran (`observed`). `difference` > 0: the account lost more than the phones say."""

    observed: Decimal
    reported: Decimal
    difference: Decimal


def campaign_reconciliation(*, campaign: Campaign, net: Decimal) -> BalanceCheck | None:
    """The campaign's balance check, or None when a balance is missing."""
    if campaign.balance_before is None or campaign.balance_after is None:
        return None
    observed = campaign.balance_before - campaign.balance_after
    return BalanceCheck(observed=observed, reported=net, difference=observed - net)


def credits_net_between(start, end=None) -> Decimal:
    """Credits charged minus refunded for calls sent from `start` (to `end`), test calls
    included (a test call spends like any call)."""
    calls = CallResult.objects.filter(sent_at__gte=start)
    tests = TestCall.objects.filter(created_at__gte=start)
    if end is not None:
        calls = calls.filter(sent_at__lt=end)
        tests = tests.filter(created_at__lt=end)
    totals = calls.aggregate(charged=Sum("credits"), refunded=Sum("credits_refunded"))
    tested = tests.aggregate(charged=Sum("credits"))["charged"] or Decimal(0)
    return (totals["charged"] or Decimal(0)) - (totals["refunded"] or Decimal(0)) + tested


def credits_net_per_period(bounds: list) -> list[Decimal]:
    """Net credits of calls sent in each period [bounds[i], bounds[i + 1]), in one query.

    One range sum a period, joined by UNION ALL: each reads only its slice of the index on
    (sent_at, credits, credits_refunded), never the table. (One CASE over the whole range
    compares every call with every boundary: 7x slower at 100,000 calls in a day.)
    """
    from django.db.models import IntegerField, Value

    sums = [
        CallResult.objects.filter(sent_at__gte=start, sent_at__lt=end)
        .annotate(period=Value(index, output_field=IntegerField()))
        .values("period")
        .annotate(charged=Sum("credits"), refunded=Sum("credits_refunded"))
        .order_by()
        for index, (start, end) in enumerate(pairwise(bounds))
    ]
    net = [Decimal(0)] * (len(bounds) - 1)
    for row in sums[0].union(*sums[1:], all=True):
        net[row["period"]] = (row["charged"] or 0) - (row["refunded"] or 0)
    # Test calls spend like any call (their credits are Onurix's, refunds deducted): one
    # more query, over the few test calls of the range.
    tests = TestCall.objects.filter(created_at__gte=bounds[0], created_at__lt=bounds[-1])
    for created_at, credits in tests.values_list("created_at", "credits"):
        for index, (start, end) in enumerate(pairwise(bounds)):
            if start <= created_at < end:
                net[index] += credits
                break
    return net


@dataclass(frozen=True)
class DayCredits:
    day: date
    net: Decimal


@dataclass(frozen=True)
class CreditsUsage:
    """Net credits today, this week (from Monday) and this month, and per day."""

    today: Decimal
    week: Decimal
    month: Decimal
    per_day: list[DayCredits]
    read_at: datetime


def credits_usage(*, now=None, days: int = 30) -> CreditsUsage:
    """Net credits today, this week (from Monday) and this month, Bogota day boundaries,
    and net credits per day for the last `days` days (oldest first, every day present).

    One query for the days (see credits_net_per_period): the number of queries never
    depends on how many calls there are.
    """
    from datetime import timedelta

    from django.utils import timezone

    local_now = timezone.localtime(now or timezone.now())
    today_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = today_start - timedelta(days=today_start.weekday())
    month_start = today_start.replace(day=1)
    # Local midnights (a day may last 23 or 25 hours where clocks change).
    day_starts = [
        timezone.localtime(today_start - timedelta(days=offset)).replace(hour=0)
        for offset in range(days - 1, -2, -1)
    ]
    per_day = [
        DayCredits(day=start.date(), net=net)
        for start, net in zip(day_starts, credits_net_per_period(day_starts), strict=False)
    ]
    by_start = dict(zip(day_starts, (row.net for row in per_day), strict=False))
    zero = Decimal(0)
    if month_start >= day_starts[0]:
        month = sum((net for start, net in by_start.items() if start >= month_start), zero)
    else:
        month = credits_net_between(month_start)
    return CreditsUsage(
        today=by_start[today_start],
        week=sum((net for start, net in by_start.items() if start >= week_start), zero),
        month=month,
        per_day=per_day,
        read_at=local_now,
    )


def recent_campaigns_with_cost(*, limit: int = 5) -> list[Campaign]:
    """The latest campaigns with their totals (phones, net credits)."""
    campaigns = Campaign.objects.filter(is_template=False).select_related("totals")
    return list(campaigns.order_by("-created_at", "-id")[:limit])


def credits_per_call_estimate() -> tuple[Decimal, bool]:
    """Credits a call costs: the average actually charged per sent call so far, or the
    configured price while there is no history. Returns (credits, from_history)."""
    charged = CallResult.objects.filter(
        state__in=[CallResult.State.SENT, CallResult.State.ANSWERED, CallResult.State.FAILED],
        credits__gt=0,
    ).aggregate(average=Avg("credits"))["average"]
    if charged:
        return Decimal(charged).quantize(Decimal("0.0001")), True
    return Decimal(str(settings.ONURIX_CREDITS_PER_CALL)), False


def activity_entries(
    *,
    since=None,
    until=None,
    username: str | None = None,
    action: str = "",
    search: str = "",
) -> QuerySet[ActivityEntry]:
    """The activity log, newest first: from `since` (included) to `until` (excluded), by
    one username ("" is the system) or action, with `search` inside the target's text."""
    entries = ActivityEntry.objects.all()
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    if username is not None:
        entries = entries.filter(username=username)
    if action:
        entries = entries.filter(action=action)
    if search:
        entries = entries.filter(target__icontains=search)
    return entries.order_by("-at", "-id")


def activity_usernames() -> list[str]:
    """Everyone who appears in the activity log (deleted people too), by name."""
    return list(
        ActivityEntry.objects.exclude(username="")
        .order_by("username")
        .values_list("username", flat=True)
        .distinct()
    )


def campaign_templates() -> QuerySet[Campaign]:
    """The templates a new campaign may start from, by name (services/copies.py)."""
    return Campaign.objects.filter(is_template=True).order_by("name", "id")
