"""Campaigns from draft to launch: audience, preview, launch, pause, resume, cancel, test call.

The sending itself is in `dispatch.py`; it runs in the background worker only. Nothing here
holds a database transaction open while Onurix is called.
"""

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import onurix, tasks
from ..calling_hours import CallingWindow, calling_window
from ..models import CallResult, Campaign, Contact, OnurixRequest, TestCall
from ..personalisation import count_requests, has_placeholders, render_message
from ..phones import parse_phone_list
from ..selectors import credits_per_call_estimate
from .onurix_health import OnurixHealth, onurix_health

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

    @property
    def reason_label(self) -> str:
        return str(Reason(self.reason).label)


@dataclass(frozen=True)
class Audience:
    to_call: list[AudienceEntry]
    excluded: list[ExcludedPhone]
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedSample:
    phone: str
    name: str
    text: str


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


def campaign_window(campaign: Campaign) -> CallingWindow:
    """The calling window of a campaign: the legal hours, narrowed by the campaign's own."""
    return calling_window(start=campaign.calling_window_start, end=campaign.calling_window_end)


def campaign_audience(*, campaign: Campaign) -> Audience:
    """Who a campaign would call now, and who is left out and why.

    Group members come first, then the phones typed by hand. A phone is called once; a
    do-not-call contact, an invalid phone, a repeated phone and a phone that answered a
    call recently (the contact-frequency rule) are left out with that reason.
    """
    to_call: list[AudienceEntry] = []
    excluded: list[ExcludedPhone] = []
    names: dict[str, str] = {}
    seen: set[str] = set()
    recent = _recently_answered()
    message = campaign.message if not campaign.uses_audio else ""
    personalised = has_placeholders(message)

    def consider(phone, contact_id, do_not_call, first_name="", last_name="", custom=None):
        if phone in seen:
            excluded.append(ExcludedPhone(phone, contact_id, Reason.DUPLICATE))
            return
        seen.add(phone)
        names[phone] = f"{first_name} {last_name}".strip()
        if do_not_call:
            excluded.append(ExcludedPhone(phone, contact_id, Reason.DO_NOT_CALL))
        elif phone in recent:
            excluded.append(ExcludedPhone(phone, contact_id, Reason.FREQUENCY))
        else:
            text = (
                render_message(
                    message, first_name=first_name, last_name=last_name, custom_fields=custom
                )
                if personalised
                else message
            )
            to_call.append(AudienceEntry(phone, contact_id, text))

    group_ids = list(campaign.groups.values_list("pk", flat=True))
    if group_ids:
        members = (
            Contact.objects.filter(groups__in=group_ids)
            .distinct()
            .order_by("pk")
            .values_list("phone", "pk", "do_not_call", "first_name", "last_name", "custom_fields")
        )
        for phone, pk, do_not_call, first, last, custom in members.iterator(chunk_size=2000):
            consider(phone, pk, do_not_call, first, last, custom)

    typed, invalid = parse_phone_list(campaign.extra_phones)
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
    return Audience(to_call=to_call, excluded=excluded, names=names)


def _recently_answered() -> set[str]:
    days = settings.CAMPAIGN_CONTACT_FREQUENCY_DAYS
    if days <= 0:
        return set()
    since = timezone.now() - timedelta(days=days)
    return set(
        CallResult.objects.filter(state=CallResult.State.ANSWERED, sent_at__gte=since)
        .values_list("phone", flat=True)
        .distinct()
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
        samples = [
            RenderedSample(entry.phone, audience.names.get(entry.phone, ""), entry.text)
            for entry in audience.to_call[:3]
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
        estimate_from_history=from_history,
        health=health,
        enough_balance=None if health.balance is None else health.balance >= estimated,
        wait_message="" if window.is_open(now) else window.describe_wait(now),
    )


def campaign_save(*, campaign: Campaign | None = None, user, groups, **fields) -> Campaign:
    """Create a draft, or change one. Raises ValidationError once it was launched."""
    launched = (
        campaign is not None
        and campaign.pk is not None
        and not Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.DRAFT).exists()
    )
    if launched:
        raise ValidationError(_("This campaign was launched: it can no longer be changed."))
    campaign = campaign or Campaign(created_by=user)
    for name, value in fields.items():
        setattr(campaign, name, value)
    if campaign.uses_audio:
        campaign.voice, campaign.message = "", ""
    with transaction.atomic():
        campaign.full_clean(exclude=["groups"])
        campaign.save()
        campaign.groups.set(groups)
    return campaign


def campaign_launch(*, campaign: Campaign, user) -> bool:
    """Freeze the audience (one result per phone) and start sending, or schedule it.

    Returns False when the campaign had already been launched (a double click, two tabs).
    Raises ValidationError when there is no phone to call, or when the live balance cannot
    cover the estimate (or cannot be read).
    """
    if campaign.state != Campaign.State.DRAFT:
        return False
    audience = campaign_audience(campaign=campaign)
    if not audience.to_call:
        raise ValidationError(_("There is no phone to call: every phone was left out."))
    _per_call, estimated, _from_history = _estimate(len(audience.to_call))
    health = onurix_health()
    if not health.ok:
        raise ValidationError(
            _("Onurix could not confirm the balance: %(problem)s %(fix)s")
            % {"problem": health.problem, "fix": health.fix}
        )
    if health.balance < estimated:
        raise ValidationError(
            _(
                "The balance (%(balance)s credits) cannot cover the estimate of %(estimate)s "
                "credits. Buy credits in Onurix or reduce the audience."
            )
            % {"balance": _number(health.balance), "estimate": _number(estimated)}
        )
    now = timezone.now()
    scheduled = campaign.scheduled_at is not None and campaign.scheduled_at > now
    new_state = Campaign.State.SCHEDULED if scheduled else Campaign.State.SENDING
    with transaction.atomic():
        # The conditional update is the lock: of two launches, one changes the row.
        claimed = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.DRAFT).update(
            state=new_state,
            launched_by=user,
            launched_at=now,
            estimated_credits=estimated,
            balance_before=health.balance,
            state_message="",
            updated_at=now,
        )
        if not claimed:
            return False
        _freeze_audience(campaign, audience)
        transaction.on_commit(lambda: enqueue_dispatch(campaign_id=campaign.pk))
    campaign.refresh_from_db()
    return True


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
    paused = Campaign.objects.filter(
        pk=campaign.pk, state__in=[Campaign.State.SENDING, Campaign.State.SCHEDULED]
    ).update(
        state=Campaign.State.PAUSED,
        state_message=_("Paused by %(user)s.") % {"user": user},
        pause_reason=Campaign.PauseReason.USER,
        updated_at=timezone.now(),
    )
    return bool(paused)


def campaign_resume(*, campaign: Campaign, user) -> bool:
    """Carry on sending a paused campaign (or wait for its start time)."""
    now = timezone.now()
    campaign.refresh_from_db()
    state = (
        Campaign.State.SCHEDULED
        if campaign.scheduled_at and campaign.scheduled_at > now and not campaign.started_at
        else Campaign.State.SENDING
    )
    with transaction.atomic():
        resumed = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.PAUSED).update(
            state=state, state_message="", pause_reason="", updated_at=now
        )
        if resumed:
            transaction.on_commit(lambda: enqueue_dispatch(campaign_id=campaign.pk))
    return bool(resumed)


def campaign_cancel(*, campaign: Campaign, user) -> int:
    """Stop for good: phones not sent yet become cancelled. Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        stopped = Campaign.objects.filter(
            pk=campaign.pk,
            state__in=[
                Campaign.State.SCHEDULED,
                Campaign.State.SENDING,
                Campaign.State.PAUSED,
            ],
        ).update(
            state=Campaign.State.CANCELLED,
            state_message=_("Cancelled by %(user)s.") % {"user": user},
            finished_at=now,
            updated_at=now,
        )
        if not stopped:
            return 0
        return CallResult.objects.filter(campaign=campaign, state=CallResult.State.QUEUED).update(
            state=CallResult.State.CANCELLED, updated_at=now
        )


def campaign_resend_unknown(*, campaign: Campaign, user) -> int:
    """Queue again the phones whose outcome is unknown: a deliberate choice of the user,
    who accepts that some of them may be called twice. Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        count = CallResult.objects.filter(campaign=campaign, state=CallResult.State.UNKNOWN).update(
            state=CallResult.State.QUEUED, claim_token=None, updated_at=now
        )
        if not count:
            return 0
        Campaign.objects.filter(pk=campaign.pk).update(
            state=Campaign.State.SENDING, state_message="", finished_at=None, updated_at=now
        )
        transaction.on_commit(lambda: enqueue_dispatch(campaign_id=campaign.pk))
    logger.info("Campaign %s: %s unknown phones re-queued by %s", campaign.pk, count, user)
    return count


def campaign_test_call(*, campaign: Campaign, phone: str, user) -> TestCall:
    """Send the campaign's exact content to one phone now, apart from its results.

    Only before launch: raises ValidationError for a launched campaign.
    """
    if campaign.state != Campaign.State.DRAFT:
        raise ValidationError(_("Test calls are made before launching."))
    contact = Contact.objects.filter(phone=phone).first()
    message = ""
    if not campaign.uses_audio:
        message = render_message(
            campaign.message,
            first_name=contact.first_name if contact else "",
            last_name=contact.last_name if contact else "",
            custom_fields=contact.custom_fields if contact else None,
        )
    request = OnurixRequest.objects.create(
        campaign=campaign, kind=OnurixRequest.Kind.SEND, phones=phone, phone_count=1
    )
    test_call = TestCall.objects.create(
        campaign=campaign, phone=phone, requested_by=user, request=request
    )
    outcome = send_batch(campaign=campaign, phones=[phone], message=message)
    record_request(request=request, outcome=outcome)
    item = outcome.items.get(phone)
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
    test_call.save()
    return test_call


@dataclass
class BatchOutcome:
    """What happened to one `call/send` request, in our terms."""

    kind: str  # an OnurixRequest.Outcome value
    items: dict[str, onurix.CallItem] = field(default_factory=dict)
    dispatch_id: str = ""
    error_code: int | None = None
    error_message: str = ""
    pause_reason: str = ""  # set when the whole campaign must stop (credentials, credits)
    pause_kind: str = ""  # a Campaign.PauseReason value, with pause_reason
    http_status: int | None = None
    raw: dict | None = None  # Onurix's answer, for the audit record (never holds the key)

    def state_for(self, phone: str) -> str:
        if self.kind == OnurixRequest.Outcome.ACCEPTED:
            return CallResult.State.SENT if phone in self.items else CallResult.State.UNKNOWN
        if self.kind == OnurixRequest.Outcome.REFUSED:
            return CallResult.State.FAILED
        if self.kind == OnurixRequest.Outcome.NOT_REACHED:
            return CallResult.State.QUEUED
        return CallResult.State.UNKNOWN


def send_batch(*, campaign: Campaign, phones: list[str], message: str) -> BatchOutcome:
    """One `call/send` for phones sharing a message. Touches no database: the caller
    commits the request's intent before and records the outcome after
    (`record_request`), so no transaction is ever open during the HTTP call."""
    client = onurix.get_onurix_client()
    content = (
        {"audio_code": campaign.audio_code.code}
        if campaign.uses_audio
        else {"voice": campaign.voice, "message": message}
    )
    outcome: BatchOutcome
    try:
        result = client.send_call(
            phones=phones,
            retries=campaign.retries,
            leave_voicemail=campaign.leave_voicemail,
            **content,
        )
    except onurix.OnurixAuthError as error:
        outcome = _refusal(error, pause=_pause_message_auth())
        outcome.pause_kind = Campaign.PauseReason.CREDENTIALS
    except onurix.OnurixInsufficientCredits as error:
        outcome = _refusal(
            error, pause=gettext_lazy("Onurix says the credits ran out: buy credits, then resume.")
        )
        outcome.pause_kind = Campaign.PauseReason.CREDITS
    except (onurix.OnurixRefused, onurix.OnurixInvalidRequest) as error:
        outcome = _refusal(error)
    except onurix.OnurixNotReached as error:
        outcome = BatchOutcome(OnurixRequest.Outcome.NOT_REACHED, error_message=error.message)
    except onurix.OnurixUnknownOutcome as error:
        outcome = BatchOutcome(
            OnurixRequest.Outcome.UNKNOWN, error_code=error.code, error_message=error.message
        )
        outcome.http_status = error.status
    else:
        outcome = BatchOutcome(
            OnurixRequest.Outcome.ACCEPTED,
            items={item.phone: item for item in result.calls},
            dispatch_id=result.dispatch_id,
            http_status=200,
            raw=result.raw,
        )
    return outcome


def _refusal(error: onurix.OnurixError, pause: str = "") -> BatchOutcome:
    return BatchOutcome(
        OnurixRequest.Outcome.REFUSED,
        error_code=error.code,
        error_message=error.message,
        pause_reason=pause,
        http_status=error.status,
    )


def _pause_message_auth() -> str:
    # Lazy: built in a pool thread, put in words by the thread that records it.
    return gettext_lazy(
        "Onurix rejected the client id or key, or this server's IP: fix ONURIX_CLIENT_ID / "
        "ONURIX_KEY or allow the IP in the Onurix portal (menu “Seguridad”), then resume."
    )


def record_request(*, request: OnurixRequest, outcome: BatchOutcome) -> None:
    """Write what Onurix answered onto the request's audit record."""
    request.outcome = outcome.kind
    request.dispatch_id = outcome.dispatch_id
    request.error_code = outcome.error_code
    request.error_message = outcome.error_message[:2000]
    request.finished_at = timezone.now()
    request.http_status = outcome.http_status
    if outcome.raw is not None:
        request.response_body = json.dumps(outcome.raw, ensure_ascii=False)[:100_000]
    request.credits = sum((item.credits for item in outcome.items.values()), Decimal(0))
    request.save(
        update_fields=[
            "outcome",
            "dispatch_id",
            "error_code",
            "error_message",
            "finished_at",
            "http_status",
            "response_body",
            "credits",
        ]
    )
