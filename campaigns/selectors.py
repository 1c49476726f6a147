"""Read queries the pages need: counts, totals and filtered lists."""

from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from .models import AudioCode, CallResult, Campaign, Contact, ContactGroup
from .phones import phone_search_digits


def campaign_state_counts(*, campaign: Campaign) -> dict[str, int]:
    """How many phones of a campaign are in each state, every state present (0 if none)."""
    rows = campaign.results.values("state").annotate(n=Count("id")).order_by()
    counts = {state: 0 for state in CallResult.State.values}
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def dashboard_totals() -> dict[str, int]:
    """The headline numbers of the dashboard."""
    return {
        "contacts": Contact.objects.count(),
        "groups": ContactGroup.objects.count(),
        "audio_codes": AudioCode.objects.count(),
        "campaigns": Campaign.objects.count(),
        "campaigns_active": Campaign.objects.filter(
            state__in=[Campaign.State.SENDING, Campaign.State.SCHEDULED, Campaign.State.PAUSED]
        ).count(),
    }


def campaign_list(*, search: str = "") -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("audio_code", "created_by")
    if search:
        campaigns = campaigns.filter(name__icontains=search)
    return campaigns.annotate(
        phone_count=Count("results", filter=~Q(results__state=CallResult.State.EXCLUDED))
    ).order_by("-created_at", "-id")


def contact_list(
    *, search: str = "", group_id: int | None = None, do_not_call: bool | None = None
) -> QuerySet[Contact]:
    """Contacts matching a search by name, email or phone (typed in any format)."""
    contacts = Contact.objects.all()
    if search:
        matches = Q(first_name__icontains=search) | Q(last_name__icontains=search)
        matches |= Q(email__icontains=search)
        first, _space, rest = search.partition(" ")
        if rest:
            matches |= Q(first_name__icontains=first, last_name__icontains=rest)
        if digits := phone_search_digits(search):
            matches |= Q(phone__contains=digits)
        contacts = contacts.filter(matches)
    if group_id:
        contacts = contacts.filter(groups__id=group_id)
    if do_not_call is not None:
        contacts = contacts.filter(do_not_call=do_not_call)
    return contacts.order_by("-created_at", "-id")


def contact_call_history(*, contact: Contact) -> QuerySet[CallResult]:
    """Every call made to a contact's phone across campaigns, newest first."""
    return (
        CallResult.objects.filter(phone=contact.phone)
        .exclude(state=CallResult.State.EXCLUDED)
        .select_related("campaign")
        .order_by("-created_at", "-id")
    )


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


def campaign_progress(*, campaign: Campaign) -> dict:
    """How far a campaign got: phones to call (excluded not counted), how many are done
    (no longer queued or in flight), the percentage, counts by state and credits."""
    rows = (
        campaign.results.values("state").annotate(n=Count("id"), credits=Sum("credits")).order_by()
    )
    counts = {state: 0 for state in CallResult.State.values}
    credits = Decimal(0)
    for row in rows:
        counts[row["state"]] = row["n"]
        credits += row["credits"] or 0
    total = sum(counts.values()) - counts[CallResult.State.EXCLUDED]
    pending = counts[CallResult.State.QUEUED] + counts[CallResult.State.SENDING]
    done = total - pending
    return {
        "total": total,
        "done": done,
        "percent": 100 if not total else int(100 * done / total),
        "counts": counts,
        "credits": credits,
    }


def campaign_unknown_estimate(*, campaign: Campaign) -> tuple[int, Decimal]:
    """Unknown phones of a campaign and what re-sending them would cost (estimated)."""
    from .services import credits_per_call_estimate

    unknown = campaign.results.filter(state=CallResult.State.UNKNOWN).count()
    per_call, _from_history = credits_per_call_estimate()
    return unknown, per_call * unknown


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
