"""Keeping call states current: Onurix has no webhooks, so we ask `GET /messages-state`.

One poll asks once per dispatch that still has phones in `sent`, maps every answer with
`map_onurix_state` (the one mapping) and writes the changes of a dispatch in one
executemany. A chain of background tasks repeats the poll, slower as states settle, until
every phone is final or the campaign finished more than `ONURIX_POLL_MAX_HOURS` ago; the
periodic sweep restarts a chain that was lost.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .. import onurix, tasks
from ..bulk_sql import fit, fit_instance, update_rows
from ..models import CallResult, Campaign, OnurixRequest, TestCall
from ..onurix_codes import same_phone
from ..onurix_states import map_onurix_state

logger = logging.getLogger(__name__)

State = CallResult.State

# Seconds between polls of one campaign: a step further each time nothing changed.
POLL_DELAYS = (15, 30, 60, 120, 300, 600, 900)
# A chain whose last poll is older than this is presumed lost; the sweep restarts it.
POLL_STALE_AFTER = timedelta(minutes=15)
# States in which a campaign may still send phones: polled whatever its age.
ACTIVE_STATES = Campaign.ACTIVE_STATES


@dataclass(frozen=True)
class PollReport:
    """What one poll of a campaign did."""

    campaign_id: int
    dispatches: int = 0  # dispatches asked about
    failed_dispatches: int = 0  # Onurix could not answer for them: tried again next poll
    updated: int = 0  # phones whose state or Onurix text changed
    unknown_texts: int = 0  # phones with a state text we do not know (kept raw, still sent)
    pending: int = 0  # phones still sent (not final) after this poll
    keep_polling: bool = False  # pending phones and the campaign is not too old

    def as_dict(self) -> dict:
        return asdict(self)


def poll_max_age() -> timedelta:
    return timedelta(hours=float(getattr(settings, "ONURIX_POLL_MAX_HOURS", 48)))


def _young_enough(campaign: Campaign, now) -> bool:
    """Polled while it may still send, then for ONURIX_POLL_MAX_HOURS after it ended."""
    if campaign.state in ACTIVE_STATES:
        return True
    ended = campaign.finished_at or campaign.updated_at
    return now - ended < poll_max_age()


def campaign_poll(*, campaign_id: int) -> PollReport:
    """Ask Onurix once for the state of every phone of the campaign still in `sent`.

    An Onurix failure on one dispatch is logged and that dispatch skipped; a state text we
    do not know is kept raw and the phone stays sent. Never raises for an Onurix failure.
    """
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return PollReport(campaign_id=campaign_id)
    sent = CallResult.objects.filter(campaign_id=campaign_id, state=State.SENT)
    dispatch_ids = list(
        sent.exclude(dispatch_id="").values_list("dispatch_id", flat=True).distinct().order_by()
    )
    client = onurix.get_onurix_client() if dispatch_ids else None
    failed = updated = unknown = 0
    for dispatch_id in dispatch_ids:
        try:
            items = client.messages_state(id=dispatch_id)
        except onurix.OnurixError as error:
            failed += 1
            _record_failure(campaign_id, dispatch_id, error)
            continue
        changed, strange = _record_states(campaign_id, dispatch_id, items)
        updated += changed
        unknown += strange
    now = timezone.now()
    Campaign.objects.filter(pk=campaign_id).update(last_polled_at=now)
    pending = sent.count()
    return PollReport(
        campaign_id=campaign_id,
        dispatches=len(dispatch_ids),
        failed_dispatches=failed,
        updated=updated,
        unknown_texts=unknown,
        pending=pending,
        keep_polling=bool(pending) and _young_enough(campaign, now),
    )


def _record_failure(campaign_id: int, dispatch_id: str, error: onurix.OnurixError) -> None:
    logger.warning(
        "Campaign %s: states of dispatch %s not read (%s, status=%s, code=%s): %s",
        campaign_id,
        dispatch_id,
        type(error).__name__,
        error.status,
        error.code,
        error.message,
    )
    outcome = (
        OnurixRequest.Outcome.NOT_REACHED
        if isinstance(error, onurix.OnurixNotReached)
        else OnurixRequest.Outcome.REFUSED
        if isinstance(error, onurix.OnurixRefused)
        else OnurixRequest.Outcome.UNKNOWN
    )
    request = OnurixRequest(
        campaign_id=campaign_id,
        kind=OnurixRequest.Kind.STATE,
        dispatch_id=dispatch_id,
        outcome=outcome,
        http_status=error.status,
        error_code=error.code,
        error_message=error.message,
        finished_at=timezone.now(),
    )
    fit_instance(request, ["dispatch_id", "error_message"])
    request.save()


def _record_states(campaign_id: int, dispatch_id: str, items) -> tuple[int, int]:
    """Write what Onurix says about one dispatch. Returns (phones changed, unknown texts).

    A state belongs to a phone by its call id; a phone whose call id is unknown (Onurix
    did not list it when it accepted the request) by its number, in any format Onurix
    writes it (onurix_codes.same_phone).
    """
    by_call_id = {item.id: item for item in items if item.id}
    rows = CallResult.objects.filter(
        campaign_id=campaign_id, dispatch_id=dispatch_id, state=State.SENT
    ).values_list("id", "phone", "call_id", "onurix_state", "credits")
    now = timezone.now()
    updates = []
    unknown = 0
    for pk, phone, call_id, old_text, credits in rows:
        item = by_call_id.get(call_id) if call_id else None
        if item is None:
            item = next((item for item in items if same_phone(phone, item.phone)), None)
        if item is None:
            continue
        mapped = map_onurix_state(item.state)
        unknown += not mapped.known
        if mapped.state == State.SENT and item.state == old_text and (call_id or not item.id):
            continue
        if not call_id:
            # Its credits were not known either when Onurix accepted the request.
            credits = item.credits
        refunded = credits if mapped.refunded else Decimal(0)
        updates.append(
            (
                mapped.state,
                item.state,
                call_id or item.id,
                credits,
                mapped.error_code,
                mapped.error_message,
                refunded,
                now,
                pk,
                State.SENT,
            )
        )
    # One statement per dispatch; "AND state = sent": a change made meanwhile stands.
    update_rows(
        CallResult,
        set_fields=(
            "state",
            "onurix_state",
            "call_id",
            "credits",
            "error_code",
            "error_message",
            "credits_refunded",
            "updated_at",
        ),
        where_fields=("id", "state"),
        rows=updates,
    )
    return len(updates), unknown


def next_poll_step(*, report: PollReport, step: int) -> int:
    """The next step in POLL_DELAYS: the same while states change, one further otherwise."""
    if report.updated:
        return step
    return min(step + 1, len(POLL_DELAYS) - 1)


def enqueue_poll(*, campaign_id: int, step: int = 0) -> bool:
    """Queue the poll of a campaign POLL_DELAYS[step] seconds from now.

    Returns False, queueing nothing, when the task backend cannot defer (the immediate
    backend of some tests: the sweep takes over) or a poll of that campaign already waits.
    """
    task = tasks.campaign_poll_task
    if not task.get_backend().supports_defer:
        return False
    if _poll_waiting(campaign_id):
        return False
    step = max(0, min(step, len(POLL_DELAYS) - 1))
    run_after = timezone.now() + timedelta(seconds=POLL_DELAYS[step])
    task.using(run_after=run_after).enqueue(campaign_id=campaign_id, step=step)
    return True


def test_calls_poll() -> int:
    """Read the states of test calls still sent (the sweep runs this every minute), so a
    test call ends answered or failed like a campaign's calls, and its credits are what
    Onurix says it cost (0 once refunded). Returns how many changed."""
    since = timezone.now() - poll_max_age()
    pending = TestCall.objects.filter(state=State.SENT, created_at__gte=since).exclude(
        call_id="", dispatch_id=""
    )
    changed = 0
    for test_call in pending[:100]:
        try:
            items = onurix.get_onurix_client().messages_state(
                id=test_call.call_id or test_call.dispatch_id
            )
        except onurix.OnurixError as error:
            logger.info("Test call %s: state not read (%s)", test_call.pk, error.message)
            continue
        item = next(
            (
                item
                for item in items
                if (test_call.call_id and item.id == test_call.call_id)
                or same_phone(test_call.phone, item.phone)
            ),
            None,
        )
        if item is None or item.state == test_call.onurix_state:
            continue
        mapped = map_onurix_state(item.state)
        TestCall.objects.filter(pk=test_call.pk, state=State.SENT).update(
            state=mapped.state,
            onurix_state=fit(TestCall._meta.get_field("onurix_state"), item.state),
            call_id=test_call.call_id or item.id,
            credits=item.credits,
            error_code=mapped.error_code,
            error_message=mapped.error_message,
            updated_at=timezone.now(),
        )
        changed += 1
    return changed


def campaign_refresh_states(*, campaign: Campaign) -> str:
    """Ask the worker to read the campaign's call states now ("Refresh now"), instead of
    reading them in the web request. Returns "queued"; "already" when such a poll is
    already queued to run now; "nothing" when no phone waits for a state."""
    if not CallResult.objects.filter(campaign=campaign, state=State.SENT).exists():
        return "nothing"
    if _poll_waiting(campaign.pk, due_by=timezone.now()):
        return "already"
    tasks.campaign_poll_task.enqueue(campaign_id=campaign.pk, step=0)
    return "queued"


def _poll_waiting(campaign_id: int, *, due_by=None) -> bool:
    from django_tasks_db.models import DBTaskResult, get_date_max

    if not apps.is_installed("django_tasks_db"):
        return False
    waiting = DBTaskResult.objects.filter(
        task_path=tasks.campaign_poll_task.module_path,
        status="READY",
        args_kwargs__kwargs__campaign_id=campaign_id,
    )
    if due_by is not None:
        # A task queued without run_after stores the largest date there.
        waiting = waiting.filter(Q(run_after=get_date_max()) | Q(run_after__lte=due_by))
    return waiting.exists()


def campaigns_to_poll() -> list[int]:
    """Campaigns with phones in `sent`, young enough, whose last poll is old or missing:
    their chain was lost (or never started, for a campaign still sending)."""
    now = timezone.now()
    stale = now - POLL_STALE_AFTER
    candidates = (
        Campaign.objects.filter(results__state=State.SENT)
        .exclude(last_polled_at__gte=stale)
        .distinct()
        .only("pk", "state", "finished_at", "updated_at")
    )
    return [campaign.pk for campaign in candidates if _young_enough(campaign, now)]
