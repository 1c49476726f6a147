"""Read queries the pages need: counts, totals and filtered lists."""

from django.db.models import Count, Q, QuerySet

from .models import AudioCode, CallResult, Campaign, Contact, ContactGroup


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


def contact_list(*, search: str = "", group_id: int | None = None) -> QuerySet[Contact]:
    contacts = Contact.objects.all()
    if search:
        contacts = contacts.filter(
            Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
            | Q(phone__contains=search)
        )
    if group_id:
        contacts = contacts.filter(groups__id=group_id)
    return contacts


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
