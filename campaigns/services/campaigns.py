"""Campaigns from draft to launch: audience, preview, launch, pause, resume, cancel, test call.

The sending itself is in `dispatch.py`; it runs in the background worker only. Nothing here
holds a database transaction open while Onurix is called.
"""

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import tasks
from ..calling_hours import CallingWindow, calling_window, describe_start
from ..csv_files import looks_like_formula
from ..models import (
    ActivityEntry,
    AudioCode,
    CallResult,
    Campaign,
    Contact,
    ContactGroup,
    FollowUpWave,
    OnurixRequest,
    RegistryList,
    TestCall,
)
from ..personalisation import (
    MESSAGE_MAX_LENGTH,
    count_requests,
    has_placeholders,
    render_message,
)
from ..phones import parse_phone_list
from ..selectors import credits_per_call_estimate, phones_answered_recently, resendable_unknown
from ..selectors_reports import dead_number_phones
from . import limiter
from .activity import activity_record
from .onurix_health import OnurixHealth, onurix_health
from .registry import (
    registry_applies,
    registry_current,
    registry_is_stale,
    registry_members_in_groups,
    registry_phones_in,
    registry_reason_label,
)
from .sending import record_request, send_phones

logger = logging.getLogger(__name__)

Reason = CallResult.ExclusionReason
PHONE_FIELD_LENGTH = CallResult._meta.get_field("phone").max_length


@dataclass(frozen=True)
class AudienceEntry:
    phone: str
    contact_id: int | None
    text: str


@dataclass(frozen=True)
class ExcludedPhone:
    phone: str
    contact_id: int | None
    reason: str
    detail: str = ""  # a more precise label: the registry list's date

    @property
    def reason_label(self) -> str:
        return self.detail or str(Reason(self.reason).label)


@dataclass(frozen=True)
class Audience:
    to_call: list[AudienceEntry]
    excluded: list[ExcludedPhone]
    names: dict[str, str] = field(default_factory=dict)
    # Phones to call whose name or fields look like a spreadsheet formula ("=HYPERLINK(")
    # or code: the voice would read them aloud; the preview shows them first.
    suspicious: list[str] = field(default_factory=list)
    # Commercial campaigns: the registry list checked (None when none is loaded).
    registry: RegistryList | None = None
    # Phones to call that are dead numbers (see selectors_reports.dead_numbers), while the
    # campaign does not leave them out.
    dead: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RenderedSample:
    phone: str
    name: str
    text: str
    suspicious: bool = False


@dataclass(frozen=True)
class CampaignPreview:
    phones: int
    excluded: list[ExcludedPhone]
    excluded_counts: dict[str, int]
    samples: list[RenderedSample]
    requests: int
    credits_per_call: Decimal
    estimated_credits: Decimal
    estimate_from_history: bool
    health: OnurixHealth
    enough_balance: bool | None
    wait_message: str
    suspicious: int  # phones whose name or fields look like a formula (see Audience)
    credits_text: str  # "about 1 credit", "about 1.200 credits": the estimate in words
    excluded_names: dict[str, str]  # the names of the phones left out, where known
    starts_at: datetime | None  # when the calls would really start if launched now
    starts_now: bool  # launching calls at once (else it waits for starts_at)
    start_message: str
    # Commercial campaigns: the registry's reason with its list date, and a warning when
    # no list is loaded or it is older than RNE_MAX_AGE_DAYS.
    registry_label: str = ""
    registry_warning: str = ""
    # Dead numbers in the audience (left out when the campaign chose so) and the credits
    # leaving them out saves.
    dead_numbers: int = 0
    dead_numbers_credits: Decimal = Decimal(0)
    dead_number_failures: int = 0  # CAMPAIGN_DEAD_NUMBER_FAILURES, for the wording

    def reason_label(self, reason: str) -> str:
        """How the preview names an exclusion reason (the registry's with its date)."""
        if reason == Reason.REGISTRY and self.registry_label:
            return self.registry_label
        return str(Reason(reason).label)


def campaign_window(campaign: Campaign) -> CallingWindow:
    """The calling window of a campaign: the legal hours, narrowed by the campaign's own."""
    return calling_window(start=campaign.calling_window_start, end=campaign.calling_window_end)


def campaign_starts_at(*, campaign: Campaign, now: datetime | None = None) -> datetime | None:
    """When the calls of a campaign really start: its start time (or now, if none or
    past), moved to the next moment the calling window is open. None when its window never
    opens. The one answer the form, the preview, the launch dialog and its page give."""
    now = now or timezone.now()
    wanted = max(campaign.scheduled_at or now, now)
    try:
        return campaign_window(campaign).next_opening(wanted)
    except ValueError:
        return None


def campaign_audience(*, campaign: Campaign) -> Audience:
    """Who a campaign would call now, and who is left out and why.

    Group members come first, then the phones typed by hand. A phone is called once; a
    do-not-call contact, a commercial campaign's phone in the national registry (RNE),
    an invalid phone, a repeated phone, a phone that answered a call recently (the
    contact-frequency rule) and a contact whose personalised text is longer than
    MESSAGE_MAX_LENGTH are left out with that reason.
    """
    to_call: list[AudienceEntry] = []
    excluded: list[ExcludedPhone] = []
    names: dict[str, str] = {}
    suspicious: list[str] = []
    seen: set[str] = set()
    recent = phones_answered_recently(now=timezone.now())
    dead = dead_number_phones()
    dead_to_call: list[str] = []
    message = campaign.message if not campaign.uses_audio else ""
    personalised = has_placeholders(message)
    group_ids = list(campaign.groups.values_list("pk", flat=True))
    typed, invalid = parse_phone_list(campaign.extra_phones)
    registry = registry_current() if registry_applies(campaign) else None
    in_registry: set[str] = set()
    registry_label = ""
    if registry is not None:
        in_registry = registry_phones_in(registry_list=registry, phones=typed)
        if group_ids:
            in_registry |= registry_members_in_groups(registry_list=registry, group_ids=group_ids)
        registry_label = registry_reason_label(registry)

    def consider(phone, contact_id, do_not_call, first_name="", last_name="", custom=None):
        if phone in seen:
            excluded.append(ExcludedPhone(phone, contact_id, Reason.DUPLICATE))
            return
        seen.add(phone)
        names[phone] = f"{first_name} {last_name}".strip()
        if do_not_call:
            excluded.append(ExcludedPhone(phone, contact_id, Reason.DO_NOT_CALL))
        elif phone in in_registry:
            excluded.append(ExcludedPhone(phone, contact_id, Reason.REGISTRY, registry_label))
        elif phone in recent:
            excluded.append(ExcludedPhone(phone, contact_id, Reason.FREQUENCY))
        elif phone in dead and campaign.exclude_dead_numbers:
            excluded.append(ExcludedPhone(phone, contact_id, Reason.DEAD))
        else:
            text = (
                render_message(
                    message, first_name=first_name, last_name=last_name, custom_fields=custom
                )
                if personalised
                else message
            )
            if len(text) > MESSAGE_MAX_LENGTH:
                excluded.append(ExcludedPhone(phone, contact_id, Reason.TOO_LONG))
                return
            to_call.append(AudienceEntry(phone, contact_id, text))
            if phone in dead:
                dead_to_call.append(phone)
            values = (first_name, last_name, *(custom or {}).values())
            if personalised and any(looks_like_formula(value) for value in values):
                suspicious.append(phone)

    if group_ids:
        members = (
            Contact.objects.filter(groups__in=group_ids)
            .distinct()
            .order_by("pk")
            .values_list("phone", "pk", "do_not_call", "first_name", "last_name", "custom_fields")
        )
        for phone, pk, do_not_call, first, last, custom in members.iterator(chunk_size=2000):
            consider(phone, pk, do_not_call, first, last, custom)

    known = {
        row[0]: row
        for row in Contact.objects.filter(phone__in=typed).values_list(
            "phone", "pk", "do_not_call", "first_name", "last_name", "custom_fields"
        )
    }
    for phone in typed:
        if phone in known:
            consider(*known[phone])
        else:
            consider(phone, None, False)
    for raw, _reason in invalid:
        excluded.append(ExcludedPhone(raw[:PHONE_FIELD_LENGTH], None, Reason.INVALID))
    return Audience(
        to_call=to_call,
        excluded=excluded,
        names=names,
        suspicious=suspicious,
        registry=registry,
        dead=dead_to_call,
    )


def _estimate(phones: int) -> tuple[Decimal, Decimal, bool]:
    per_call, from_history = credits_per_call_estimate()
    total = (per_call * phones).quantize(Decimal("1"), rounding=ROUND_CEILING)
    return per_call, total, from_history


def campaign_preview(*, campaign: Campaign) -> CampaignPreview:
    """What launching would do: phones, exclusions, texts, requests, cost against balance."""
    audience = campaign_audience(campaign=campaign)
    per_call, estimated, from_history = _estimate(len(audience.to_call))
    health = onurix_health()
    samples = []
    if not campaign.uses_audio:
        # The suspicious ones first (up to 3), so a person sees what the voice would read.
        flagged = set(audience.suspicious[:3])
        shown = [entry for entry in audience.to_call if entry.phone in flagged]
        shown += [entry for entry in audience.to_call[:3] if entry.phone not in flagged]
        samples = [
            RenderedSample(
                entry.phone,
                audience.names.get(entry.phone, ""),
                entry.text,
                suspicious=entry.phone in flagged,
            )
            for entry in shown[: max(3, len(flagged))]
        ]
    now = timezone.now()
    window = campaign_window(campaign)
    return CampaignPreview(
        phones=len(audience.to_call),
        excluded=audience.excluded,
        excluded_counts=dict(Counter(item.reason for item in audience.excluded)),
        samples=samples,
        requests=count_requests(
            (entry.text for entry in audience.to_call), batch_size=settings.ONURIX_BATCH_SIZE
        ),
        credits_per_call=per_call,
        estimated_credits=estimated,
        credits_text=credits_in_words(estimated),
        excluded_names={
            item.phone: audience.names.get(item.phone, "") for item in audience.excluded
        },
        estimate_from_history=from_history,
        health=health,
        enough_balance=None if health.balance is None else health.balance >= estimated,
        wait_message="" if window.is_open(now) else window.describe_wait(now),
        suspicious=len(audience.suspicious),
        **_start(campaign, now),
        **_dead_numbers(audience, per_call),
        **_registry_notes(campaign, audience),
    )


def _registry_notes(campaign: Campaign, audience: Audience) -> dict:
    if not registry_applies(campaign):
        return {}
    registry = audience.registry
    if registry is None:
        warning = _(
            "This campaign is commercial but no list of the Registro de Números Excluidos "
            "is loaded: an administrator must load it before the campaign leaves out "
            "the people who refused commercial calls."
        )
        return {"registry_warning": warning}
    notes = {"registry_label": registry_reason_label(registry)}
    if registry_is_stale(registry):
        notes["registry_warning"] = _(
            "The list of the Registro de Números Excluidos is from %(date)s, more than "
            "%(days)s days ago: ask an administrator to load the latest one."
        ) % {
            "date": formats.date_format(registry.list_date, "SHORT_DATE_FORMAT"),
            "days": settings.RNE_MAX_AGE_DAYS,
        }
    return notes


def _dead_numbers(audience: Audience, per_call: Decimal) -> dict:
    count = len(audience.dead) + sum(item.reason == Reason.DEAD for item in audience.excluded)
    return {
        "dead_numbers": count,
        "dead_numbers_credits": per_call * count,
        "dead_number_failures": settings.CAMPAIGN_DEAD_NUMBER_FAILURES,
    }


def _start(campaign: Campaign, now: datetime) -> dict:
    starts_at = campaign_starts_at(campaign=campaign, now=now)
    return {
        "starts_at": starts_at,
        "starts_now": starts_at is not None and starts_at <= now + timedelta(minutes=1),
        "start_message": describe_start(starts_at, now) if starts_at else "",
    }


class CampaignNotDraft(ValidationError):
    """The campaign was launched (or left draft) before this change could be saved."""


def campaign_save(
    *,
    campaign: Campaign | None = None,
    user,
    name: str,
    voice: str,
    message: str,
    audio_code: AudioCode | None,
    retries: int,
    leave_voicemail: bool,
    groups: Iterable[ContactGroup],
    extra_phones: str = "",
    scheduled_at: datetime | None = None,
    calling_window_start: time | None = None,
    calling_window_end: time | None = None,
    parent: Campaign | None = None,
    credit_cap: int | None = None,
    purpose: str = Campaign.Purpose.INFORMATIONAL,
) -> Campaign:
    """Create a draft, or change one.

    A change is saved only while the campaign is still a draft, checked by the same
    conditional UPDATE that writes it: an edit racing a launch either lands before the
    launch freezes the audience, or raises CampaignNotDraft and changes nothing.
    Raises ValidationError for content that breaks the model's rules.
    """
    values = {
        "name": name,
        "voice": "" if audio_code is not None else voice,
        "message": "" if audio_code is not None else message,
        "audio_code": audio_code,
        "retries": retries,
        "leave_voicemail": leave_voicemail,
        "extra_phones": extra_phones,
        "scheduled_at": scheduled_at,
        "calling_window_start": calling_window_start,
        "calling_window_end": calling_window_end,
        "credit_cap": credit_cap,
        "purpose": purpose,
    }
    draft = Campaign(created_by=user, parent=parent, **values)
    if campaign is not None and campaign.pk is not None:
        draft.pk, draft.created_by_id, draft.parent_id = (
            campaign.pk,
            campaign.created_by_id,
            campaign.parent_id,
        )
    draft.full_clean(exclude=["groups", "created_by", "parent"], validate_unique=False)
    with transaction.atomic():
        if draft.pk is None:
            draft.save()
        elif not Campaign.objects.move(draft.pk, "edit", **values):
            raise CampaignNotDraft(
                _(
                    "This campaign was launched meanwhile: your changes were not saved. "
                    "Nothing else changed; copy what you need from this page."
                )
            )
        draft.groups.set(groups)
    if campaign is not None:
        campaign.refresh_from_db()
        return campaign
    return draft


def campaign_launch(*, campaign: Campaign, user, balance_unknown_ok: bool = False) -> bool:
    """Freeze the audience (one result per phone) and start sending, or schedule it.

    Returns False when the campaign had already been launched (a double click, two tabs).
    Raises ValidationError when there is no phone to call, when Onurix cannot be asked,
    or when the live balance cannot cover the estimate. When Onurix answers but does not
    tell the balance, the launcher must say so (`balance_unknown_ok`).
    """
    if not campaign.can("launch"):
        return False
    # A first look, outside any transaction: the balance is read over HTTP.
    _check_launchable(campaign_audience(campaign=campaign))
    health = onurix_health()
    if not health.ok:
        raise ValidationError(
            _("Onurix could not confirm the balance: %(problem)s %(fix)s")
            % {"problem": health.problem, "fix": health.fix}
        )
    if health.balance is None and not balance_unknown_ok:
        raise ValidationError(
            _(
                "Onurix answered but did not say the balance. Check it in the Onurix portal, "
                "then confirm that you launch without it."
            )
        )
    with transaction.atomic():
        # Under the row's lock (SQLite's write lock on an IMMEDIATE transaction): an edit
        # saved since the first look is what gets frozen, and none can land from now on.
        locked = Campaign.objects.select_for_update(no_key=True).filter(pk=campaign.pk).first()
        if locked is None or not locked.can("launch"):
            return False
        audience = campaign_audience(campaign=locked)
        _check_launchable(audience)
        _per_call, estimated, _from_history = _estimate(len(audience.to_call))
        if health.balance is not None and health.balance < estimated:
            raise ValidationError(
                _(
                    "The balance (%(balance)s credits) cannot cover the estimate of "
                    "%(estimate)s credits. Buy credits in Onurix or reduce the audience."
                )
                % {"balance": _number(health.balance), "estimate": _number(estimated)}
            )
        now = timezone.now()
        scheduled = locked.scheduled_at is not None and locked.scheduled_at > now
        moved = Campaign.objects.move(
            campaign.pk,
            "launch",
            state=Campaign.State.SCHEDULED if scheduled else Campaign.State.SENDING,
            launched_by=user,
            launched_at=now,
            estimated_credits=estimated,
            balance_before=health.balance,
            state_message="",
        )
        if not moved:
            return False
        _freeze_audience(locked, audience)
        activity_record(
            action=ActivityEntry.Action.CAMPAIGN_LAUNCH,
            target=locked,
            user=user,
            details={
                "phones": len(audience.to_call),
                "estimated_credits": _number(estimated),
                "scheduled": scheduled,
            },
        )
        transaction.on_commit(lambda: enqueue_dispatch(campaign_id=campaign.pk))
    campaign.refresh_from_db()
    return True


def _check_launchable(audience: Audience) -> None:
    if not audience.to_call:
        raise ValidationError(_("There is no phone to call: every phone was left out."))


def credits_in_words(credits: Decimal) -> str:
    """ "about 1 credit", "about 1.200 credits": an estimate with its plural."""
    count = int(credits.to_integral_value(rounding=ROUND_CEILING))
    return ngettext("about %(count)s credit", "about %(count)s credits", count) % {
        "count": _number(credits)
    }


def _number(value: Decimal) -> str:
    return number_format(value, decimal_pos=0, force_grouping=True)


def _freeze_audience(campaign: Campaign, audience: Audience) -> None:
    # Sorted by text so that identical messages get consecutive ids and travel together.
    to_call = sorted(audience.to_call, key=lambda entry: entry.text)
    rows = [
        CallResult(
            campaign=campaign,
            phone=entry.phone,
            contact_id=entry.contact_id,
            message_text=entry.text,
            state=CallResult.State.QUEUED,
        )
        for entry in to_call
    ]
    seen = {entry.phone for entry in to_call}
    for item in audience.excluded:
        if item.phone in seen:  # a duplicate: the phone already has its row
            continue
        seen.add(item.phone)
        rows.append(
            CallResult(
                campaign=campaign,
                phone=item.phone,
                contact_id=item.contact_id,
                state=CallResult.State.EXCLUDED,
                exclusion_reason=item.reason,
            )
        )
    CallResult.objects.bulk_create(rows, batch_size=2000)


def enqueue_dispatch(*, campaign_id: int, run_after=None) -> None:
    """Wake the worker for a campaign (now, or at `run_after`).

    A backend that cannot defer (django-tasks' immediate backend, used by some tests) gets
    no deferred wake-up: the periodic sweep starts such campaigns when their time comes.
    """
    task = tasks.campaign_dispatch_task
    if run_after is not None:
        if not task.get_backend().supports_defer:
            logger.info("Campaign %s: backend cannot defer; left to the sweep", campaign_id)
            return
        task = task.using(run_after=run_after)
    task.enqueue(campaign_id=campaign_id)


def campaign_pause(*, campaign: Campaign, user) -> bool:
    """Stop sending after the requests in flight. False if it was not sending or scheduled."""
    with transaction.atomic():
        paused = Campaign.objects.move(
            campaign.pk,
            "pause",
            state=Campaign.State.PAUSED,
            state_message=_("Paused by %(user)s.") % {"user": user},
            pause_reason=Campaign.PauseReason.USER,
        )
        if paused:
            activity_record(action=ActivityEntry.Action.CAMPAIGN_PAUSE, target=campaign, user=user)
    return paused


def campaign_resume(*, campaign: Campaign, user) -> bool:
    """Carry on sending a paused campaign (or wait for its start time)."""
    now = timezone.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update(no_key=True).filter(pk=campaign.pk).first()
        if locked is None or not locked.can("resume"):
            return False
        waits = locked.scheduled_at and locked.scheduled_at > now and not locked.started_at
        Campaign.objects.move(
            campaign.pk,
            "resume",
            state=Campaign.State.SCHEDULED if waits else Campaign.State.SENDING,
            state_message="",
            pause_reason="",
        )
        activity_record(action=ActivityEntry.Action.CAMPAIGN_RESUME, target=locked, user=user)
        transaction.on_commit(lambda: enqueue_dispatch(campaign_id=campaign.pk))
    return True


def campaign_auto_pause(*, campaign: Campaign, reason: str, message: str) -> bool:
    """The worker pauses a sending campaign by itself (Onurix faults, credits, credentials,
    a credit limit), in the activity log as the system's doing. Returns whether it did."""
    with transaction.atomic():
        paused = Campaign.objects.move(
            campaign.pk,
            "auto_pause",
            state=Campaign.State.PAUSED,
            state_message=message,
            pause_reason=reason,
        )
        if paused:
            activity_record(
                action=ActivityEntry.Action.CAMPAIGN_AUTO_PAUSE,
                target=campaign,
                details={"pause_reason": reason, "message": str(message)},
            )
    return paused


def campaigns_auto_resume(*, reasons: Iterable[str]) -> list[int]:
    """Resume the campaigns paused by the system for one of `reasons` (once the cause is
    gone: Onurix answers again, the day has room), each in the activity log. Returns
    their ids; the caller wakes them."""
    reasons = list(reasons)
    paused = Campaign.objects.filter(state=Campaign.State.PAUSED, pause_reason__in=reasons)
    resumed = []
    for campaign in paused.only("pk", "name", "pause_reason"):
        with transaction.atomic():
            # The reason is checked again in the update: a person may have paused it since.
            if Campaign.objects.move(
                campaign.pk,
                "auto_resume",
                extra=Q(pause_reason__in=reasons),
                state=Campaign.State.SENDING,
                state_message="",
                pause_reason="",
            ):
                activity_record(
                    action=ActivityEntry.Action.CAMPAIGN_AUTO_RESUME,
                    target=campaign,
                    details={"pause_reason": campaign.pause_reason},
                )
                resumed.append(campaign.pk)
    return resumed


def campaign_cancel(*, campaign: Campaign, user) -> int | None:
    """Stop for good: phones not sent yet become cancelled. Returns how many, or None
    when the campaign could not be cancelled (a draft, or already over)."""
    now = timezone.now()
    with transaction.atomic():
        stopped = Campaign.objects.move(
            campaign.pk,
            "cancel",
            state=Campaign.State.CANCELLED,
            state_message=_("Cancelled by %(user)s.") % {"user": user},
            finished_at=now,
        )
        if not stopped:
            return None
        cancelled = CallResult.objects.filter(
            campaign=campaign, state=CallResult.State.QUEUED
        ).update(state=CallResult.State.CANCELLED, updated_at=now)
        # Its follow-up waves that have not started never will (services/waves.py).
        FollowUpWave.objects.filter(campaign=campaign, state=FollowUpWave.State.PENDING).update(
            state=FollowUpWave.State.CANCELLED,
            ended_at=now,
            message=_("The campaign was cancelled."),
        )
        activity_record(
            action=ActivityEntry.Action.CAMPAIGN_CANCEL,
            target=campaign,
            user=user,
            details={"calls_cancelled": cancelled},
        )
        return cancelled


class ResendCountChanged(ValidationError):
    """The number of unknown phones is no longer the one the person confirmed."""


def campaign_resend_unknown(*, campaign: Campaign, user, expected: int) -> int:
    """Queue again the phones whose outcome is unknown: a deliberate choice of the user,
    who accepts that some of them may be called twice. Returns how many.

    A phone whose contact is do-not-call now stays unknown. Exactly `expected` phones
    (the count the confirmation showed) are queued, or none:
    raises ResendCountChanged when the count changed meanwhile, and ValidationError when
    the campaign's state does not allow it (cancelled, draft). A finished campaign sends
    again; a paused one stays paused (its phones go out when a person resumes it).
    """
    now = timezone.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update(no_key=True).filter(pk=campaign.pk).first()
        if locked is None or not locked.can("resend"):
            raise ValidationError(
                _("Unknown phones cannot be sent again: this campaign is %(state)s.")
                % {"state": (locked or campaign).get_state_display().lower()}
            )
        count = resendable_unknown(campaign=campaign).update(
            state=CallResult.State.QUEUED, claim_token=None, updated_at=now
        )
        if count != expected:
            # Raised inside the transaction: the update above is rolled back.
            raise ResendCountChanged(
                _(
                    "The number of phones with an unknown outcome changed to %(count)s "
                    "while you were confirming: nothing was sent. Check the new figures."
                )
                % {"count": count}
            )
        if not count:
            return 0
        activity_record(
            action=ActivityEntry.Action.CAMPAIGN_RESEND,
            target=locked,
            user=user,
            details={"phones": count},
        )
        if locked.state == Campaign.State.FINISHED:
            Campaign.objects.move(
                campaign.pk, "resend", state=Campaign.State.SENDING, finished_at=None
            )
        if locked.state != Campaign.State.PAUSED:
            transaction.on_commit(lambda: enqueue_dispatch(campaign_id=campaign.pk))
    logger.info("Campaign %s: %s unknown phones re-queued by %s", campaign.pk, count, user)
    return count


def campaign_test_call(*, campaign: Campaign, phone: str, user) -> TestCall:
    """Send the campaign's exact content to one phone now, apart from its results.

    Under the same rules as the campaign's calls: raises ValidationError for a launched
    campaign, a do-not-call phone, outside the calling hours, past
    CAMPAIGN_TEST_CALLS_PER_HOUR test calls of this person in the last hour, or a text
    longer than MESSAGE_MAX_LENGTH once personalised for that phone's contact.
    """
    if not campaign.can("launch"):
        raise ValidationError(_("Test calls are made before launching."))
    contact = Contact.objects.filter(phone=phone).first()
    if contact is not None and contact.do_not_call:
        raise ValidationError(
            _("%(phone)s is marked do-not-call: it is never called, not even for a test.")
            % {"phone": phone}
        )
    now = timezone.now()
    window = campaign_window(campaign)
    if not window.is_open(now):
        raise ValidationError(
            _("Test calls follow the calling hours too: %(wait)s")
            % {"wait": window.describe_wait(now)}
        )
    limit = settings.CAMPAIGN_TEST_CALLS_PER_HOUR
    recent = TestCall.objects.filter(requested_by=user, created_at__gte=now - timedelta(hours=1))
    if recent.count() >= limit:
        raise ValidationError(
            ngettext(
                "You made %(limit)s test call in the last hour, the most allowed: try again later.",
                "You made %(limit)s test calls in the last hour, the most allowed: try "
                "again later.",
                limit,
            )
            % {"limit": limit}
        )
    from .spending import daily_limit_refusal  # spending builds on this module

    refusal = daily_limit_refusal(now=now)
    if refusal:
        raise ValidationError(refusal)
    message = ""
    if not campaign.uses_audio:
        message = render_message(
            campaign.message,
            first_name=contact.first_name if contact else "",
            last_name=contact.last_name if contact else "",
            custom_fields=contact.custom_fields if contact else None,
        )
        if len(message) > MESSAGE_MAX_LENGTH:
            raise ValidationError(
                _(
                    "For this phone's contact the message is %(length)s characters long once "
                    "personalised, more than %(max)s: shorten it or the contact's fields."
                )
                % {"length": len(message), "max": MESSAGE_MAX_LENGTH}
            )
    request = OnurixRequest.objects.create(
        campaign=campaign, kind=OnurixRequest.Kind.SEND, phones=phone, phone_count=1
    )
    test_call = TestCall.objects.create(
        campaign=campaign, phone=phone, requested_by=user, request=request
    )
    limiter.pace_wait()  # the account's requests per second hold for test calls too
    outcome = send_phones(campaign=campaign, phones=[phone], message=message)
    record_request(request=request, outcome=outcome)
    item = outcome.calls.get(phone)
    test_call.state = outcome.state_for(phone)
    test_call.error_code = outcome.error_code
    test_call.error_message = outcome.error_message
    test_call.dispatch_id = outcome.dispatch_id
    if item is not None:
        test_call.call_id, test_call.onurix_state, test_call.credits = (
            item.call_id,
            item.state,
            item.credits,
        )
    with transaction.atomic():
        test_call.save()
        activity_record(
            action=ActivityEntry.Action.CAMPAIGN_TEST_CALL,
            target=campaign,
            user=user,
            details={"phone": phone, "state": test_call.state, "credits": str(test_call.credits)},
        )
    return test_call
