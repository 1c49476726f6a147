"""The dispatch engine: sends a campaign's queued phones. Runs in the background worker only.

Reliability rules, in order of importance:
- the transaction that claims phones checks, at that moment, that the campaign may send
  (its state, under the campaign row's lock), that the calling window is open, and that
  no phone is do-not-call now: a phone marked after the launch is excluded, never sent;
- a phone is claimed (queued -> sending) in a committed transaction before its request
  leaves, so two workers never send the same phone and a crash leaves a trace;
- a request whose outcome is unknown (timeout, 5xx, a connection cut after sending) turns
  its phones unknown: nothing here ever re-sends them;
- a phone left in sending by a dead worker becomes unknown, never queued again;
- only a request that never reached Onurix is tried again, a bounded number of times;
- a refusal is not a call: refused phones go back to the queue, a multi-phone refusal is
  split in halves (bounded depth) so that one bad number fails alone, and after
  ONURIX_REFUSAL_BREAKER refusals in a row the campaign pauses with Onurix's words;
- what comes back is matched to the requested phones by meaning (onurix.match_calls); an
  accepted phone Onurix did not list stays sent with the dispatch id, its state read by
  polling, never re-sent;
- no database transaction is open while Onurix is called;
- the account's limits hold across every worker on every server (services/limiter.py): a
  batch is claimed only with one of ONURIX_CONCURRENCY request slots, and each request
  waits for its turn under ONURIX_MAX_REQUESTS_PER_SECOND.
"""

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import CharField, Exists, F, OuterRef, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from ..bulk_sql import fit, update_rows
from ..calling_hours import CallingWindow
from ..models import CallResult, Campaign, Contact, OnurixRequest, WorkerHeartbeat
from ..onurix_states import map_onurix_state
from ..selectors import answered_recently, phones_called_today
from . import limiter
from .blocking import do_not_call_blocks_sweep
from .campaigns import (
    campaign_auto_pause,
    campaign_window,
    campaigns_auto_resume,
    enqueue_dispatch,
)
from .imports import contact_imports_sweep
from .limiter import stale_after
from .onurix_health import onurix_health
from .polling import campaigns_to_poll, enqueue_poll, test_calls_poll
from .registry import registry_exclude_claimed, registry_loads_sweep
from .sending import SendOutcome, record_request, send_phones
from .spending import (
    balance_alert_check,
    campaigns_resume_after_daily_limit,
    spending_room,
)
from .waves import waves_sweep

logger = logging.getLogger(__name__)


def worker_name() -> str:
    """This process, as recorded on the requests it sends (host:pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


Outcome = OnurixRequest.Outcome
State = CallResult.State
Reason = CallResult.ExclusionReason
ERROR_MESSAGE = CallResult._meta.get_field("error_message")


def recover_stale_sending(*, campaign: Campaign | None = None) -> int:
    """Phones left in sending by a dead worker become unknown (they may have been called).

    Returns how many. Their pending requests are marked unknown too.
    """
    return len(_recover_stale_sending(campaign=campaign)[0])


def _recover_stale_sending(*, campaign: Campaign | None = None) -> tuple[list[int], set[int]]:
    """The ids of the phones recovered as unknown, and the ids of their campaigns."""
    cutoff = timezone.now() - stale_after()
    stale = CallResult.objects.filter(state=State.SENDING, updated_at__lt=cutoff)
    requests = OnurixRequest.objects.filter(outcome=Outcome.PENDING, started_at__lt=cutoff)
    if campaign is not None:
        stale = stale.filter(campaign=campaign)
        requests = requests.filter(campaign=campaign)
    with transaction.atomic():
        rows = list(stale.values_list("pk", "campaign_id"))
        # Their batches' request slots: a worker that died without a heartbeat (a plain
        # db_worker) gives them back here at the latest.
        limiter.slots_release_for(
            holders=set(stale.values_list("claim_token", flat=True).distinct())
        )
        CallResult.objects.filter(
            pk__in=[pk for pk, _campaign in rows], state=State.SENDING
        ).update(
            state=State.UNKNOWN,
            error_message=_(
                "The worker stopped while this call was being sent: it may or may not have "
                "been made. It is not sent again by itself."
            ),
            updated_at=timezone.now(),
        )
        requests.update(outcome=Outcome.UNKNOWN, finished_at=timezone.now())
    if rows:
        logger.warning("Recovered %s phones left in sending as unknown", len(rows))
    return [pk for pk, _campaign in rows], {campaign_id for _pk, campaign_id in rows}


@dataclass
class Batch:
    token: uuid.UUID
    request: OnurixRequest
    message: str
    rows: list[tuple[int, str]]  # (result id, phone)
    start_at: float | None = None  # its turn under the pace (time.monotonic()), if any


@dataclass
class Attempt:
    """One request made for (part of) a batch: the first is the batch's own; when Onurix
    refuses several phones at once, their halves follow."""

    phones: list[str]
    depth: int  # 0: the whole batch; 1: a half of it...
    outcome: SendOutcome | None = None  # None: not sent (the refusal breaker tripped)
    split: bool = False  # refused, and its halves were sent instead


# How often a worker whose every request slot is held by others looks for a free one.
SLOT_POLL_SECONDS = 0.05

# Halvings of a refused request: 2**6 = 64 covers the largest batch (50) down to one phone.
MAX_SPLIT_DEPTH = 6


class RefusalBreaker:
    """Refusals in a row across the threads of one dispatch run; an accepted request
    resets the count. Tripped at ONURIX_REFUSAL_BREAKER."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.in_a_row = 0
        self._lock = threading.Lock()

    def record(self, outcome: SendOutcome) -> None:
        with self._lock:
            if outcome.refused_whole:
                self.in_a_row += 1
            elif outcome.outcome == Outcome.ACCEPTED:
                self.in_a_row = 0

    @property
    def tripped(self) -> bool:
        return self.in_a_row >= self.threshold


def campaign_dispatch(*, campaign_id: int, max_seconds: float | None = None) -> str:
    """Send a campaign's queued phones while it is sending and calling hours are open.

    Returns what happened, for logs and tests: "finished", "waiting" (outside calling
    hours, re-enqueued for the opening), "scheduled", "paused", "stopped", "yielded" (ran
    `max_seconds`, re-enqueued) or "idle" (nothing to claim; another worker is finishing).
    """
    campaign = Campaign.objects.select_related("audio_code").filter(pk=campaign_id).first()
    if campaign is None:
        return "stopped"
    now = timezone.now()
    if campaign.state == Campaign.State.SCHEDULED:
        if campaign.scheduled_at and campaign.scheduled_at > now:
            enqueue_dispatch(campaign_id=campaign.pk, run_after=campaign.scheduled_at)
            return "scheduled"
        Campaign.objects.move(campaign.pk, "start", state=Campaign.State.SENDING)
        campaign.refresh_from_db()
    if campaign.state not in Campaign.SENDING_STATES:
        return "stopped"
    Campaign.objects.filter(pk=campaign.pk, started_at__isnull=True).update(started_at=now)
    recover_stale_sending(campaign=campaign)
    return _Dispatcher(campaign, campaign_window(campaign), max_seconds).run()


class _Dispatcher:
    def __init__(self, campaign: Campaign, window: CallingWindow, max_seconds: float | None):
        self.campaign = campaign
        self.window = window
        self.batch_size = max(1, int(settings.ONURIX_BATCH_SIZE))
        self.concurrency = max(1, int(settings.ONURIX_CONCURRENCY))
        self.retries = max(0, int(settings.ONURIX_NOT_REACHED_RETRIES))
        self.breaker_threshold = max(1, int(settings.ONURIX_CIRCUIT_BREAKER_THRESHOLD))
        self.refusals = RefusalBreaker(max(1, int(settings.ONURIX_REFUSAL_BREAKER)))
        self.last_refusal = ""
        self.worker = worker_name()
        self.identity = uuid.uuid4().hex  # this run, when it waits for a request slot
        self.renewed_at = time.monotonic()
        self.deadline = time.monotonic() + max_seconds if max_seconds else None
        self.unknown_in_a_row = 0

    def run(self) -> str:
        stop: str | None = None
        in_flight: dict[Future, Batch] = {}
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="dispatch") as pool:
            while True:
                busy = False  # every request slot of the account is held
                while stop is None and len(in_flight) < self.concurrency:
                    if self.deadline is not None and time.monotonic() > self.deadline:
                        stop = "yielded"
                        break
                    if self.refusals.tripped:
                        break
                    batch = self._claim(holding=len(in_flight))
                    if batch == "busy":
                        busy = True
                        break
                    if not isinstance(batch, Batch):
                        stop = batch  # a reason to stop, or None: nothing left to claim
                        break
                    in_flight[pool.submit(self._send, batch)] = batch
                if not in_flight:
                    if busy:  # other workers hold every slot: try again shortly
                        time.sleep(SLOT_POLL_SECONDS)
                        continue
                    break
                done, _pending = wait(
                    in_flight,
                    timeout=SLOT_POLL_SECONDS if busy else self._renew_in(),
                    return_when=FIRST_COMPLETED,
                )
                self._renew_slots(in_flight.values())
                for future in done:
                    batch = in_flight.pop(future)
                    # All database writes happen here, in one thread: pool threads only
                    # talk HTTP (and take their turn under the pace), so SQLite never has
                    # writers queueing on its busy lock.
                    try:
                        for attempt in self._record_attempts(batch, future.result()):
                            stop = self._after(attempt.outcome) or stop
                    finally:
                        limiter.slot_release(holder=batch.token)
                if self.refusals.tripped and not in_flight:
                    self._pause(self._refusal_pause_message(), Campaign.PauseReason.REFUSED)
                    stop = "paused"
        return self._conclude(stop)

    # -- claiming -------------------------------------------------------------------------

    def _renew_in(self) -> float:
        return stale_after().total_seconds() / 3

    def _renew_slots(self, batches) -> None:
        """Keep the slots of long batches (retries, refused batches split in halves)."""
        if time.monotonic() - self.renewed_at < self._renew_in():
            return
        self.renewed_at = time.monotonic()
        for batch in batches:
            limiter.slot_renew(holder=batch.token)

    def _claim(self, *, holding: int = 0) -> Batch | str | None:
        """Take the next phones that share a message, in a committed transaction, with
        one of the account's request slots.

        Returns the batch; or why to stop ("stopped": the campaign may no longer send,
        "waiting": the calling window closed); "busy" when every request slot is held; or
        None when nothing is left to claim.
        """
        queued = CallResult.objects.filter(campaign=self.campaign, state=State.QUEUED)
        conflicts = 0
        while conflicts < 5:
            token = uuid.uuid4()
            with transaction.atomic():
                # The campaign row's lock: a pause or a cancel waits for this claim to
                # commit, or this claim sees it. (SQLite: the IMMEDIATE transaction's lock.)
                # NO KEY: foreign-key checks of other workers' inserts (deferred to their
                # COMMIT on PostgreSQL) take KEY SHARE on this row, which FOR UPDATE would
                # block into a deadlock.
                state = (
                    Campaign.objects.select_for_update(no_key=True)
                    .filter(pk=self.campaign.pk)
                    .values_list("state", flat=True)
                    .first()
                )
                if state not in Campaign.SENDING_STATES:
                    return "stopped"
                now = timezone.now()
                if not self.window.is_open(now):
                    return "waiting"
                # The credit cap and the daily limit: only as many phones as still fit.
                room = spending_room(campaign=self.campaign, now=now)
                if room.exhausted and queued.exists():
                    self._pause(room.message, room.reason)
                    return "paused"
                # One of the account's request slots first: when other workers hold
                # them all, this claim costs no more than this.
                if not limiter.slot_acquire(
                    holder=token, worker=self.worker, dispatch=self.identity, holding=holding
                ):
                    return "busy"
                candidates = queued.order_by("id")
                if connection.features.has_select_for_update_skip_locked:
                    candidates = candidates.select_for_update(skip_locked=True)
                rows = list(
                    candidates.values_list("id", "message_text", "phone")[
                        : room.batch(self.batch_size)
                    ]
                )
                if not rows:
                    limiter.slot_release(holder=token)
                    return None
                if _exclude_not_callable_now(self.campaign, rows, now):
                    limiter.slot_release(holder=token)
                    continue  # those rows are excluded now; claim the next ones
                message = rows[0][1]
                ids = [pk for pk, text, _phone in rows if text == message]
                # The conditional update is the claim on SQLite, where select_for_update
                # does nothing: a row another worker took is no longer queued.
                claimed = CallResult.objects.filter(id__in=ids, state=State.QUEUED).update(
                    state=State.SENDING,
                    claim_token=token,
                    send_count=F("send_count") + 1,
                    updated_at=now,
                )
                if not claimed:
                    limiter.slot_release(holder=token)
                    conflicts += 1
                    continue
                mine = CallResult.objects.filter(claim_token=token)
                phones = list(mine.order_by("id").values_list("id", "phone"))
                request = OnurixRequest.objects.create(
                    campaign=self.campaign,
                    kind=OnurixRequest.Kind.SEND,
                    phones=",".join(phone for _pk, phone in phones),
                    phone_count=len(phones),
                    worker=self.worker,
                )
                mine.update(request=request)
            # Its turn under the account's requests per second, taken once the claim is
            # committed (the pace's row is not held while the campaign's is).
            start_at = limiter.pace_reserve()
            return Batch(token, request, message, phones, start_at)
        return None

    # -- sending (in a pool thread: HTTP only, no database) ------------------------------

    def _send(self, batch: Batch) -> list[Attempt]:
        """The batch's request, and the halves of any multi-phone request Onurix refused
        as a whole (breadth first, so an accepted half resets the refusal count before
        the refused one is split again)."""
        attempts = [Attempt([phone for _pk, phone in batch.rows], depth=0)]
        try:
            for attempt in attempts:  # grows while it runs
                if self.refusals.tripped:
                    continue  # left unsent: queued again
                start_at = batch.start_at if attempt is attempts[0] else None
                attempt.outcome = self._send_phones(attempt.phones, batch.message, start_at)
                self.refusals.record(attempt.outcome)
                phones = attempt.phones
                splittable = len(phones) > 1 and attempt.depth < MAX_SPLIT_DEPTH
                if attempt.outcome.refused_whole and splittable:
                    attempt.split = True
                    middle = (len(phones) + 1) // 2
                    attempts.append(Attempt(phones[:middle], attempt.depth + 1))
                    attempts.append(Attempt(phones[middle:], attempt.depth + 1))
        finally:
            # The pace's row (a late start, a retry, a half) is this thread's only
            # database use: no connection is left behind when the pool's threads end.
            connections.close_all()
        return attempts

    def _send_phones(self, phones: list[str], message: str, start_at: float | None) -> SendOutcome:
        for attempt in range(self.retries + 1):
            limiter.pace_wait(start_at=start_at if attempt == 0 else None)
            outcome = send_phones(campaign=self.campaign, phones=phones, message=message)
            if outcome.outcome != Outcome.NOT_REACHED or attempt == self.retries:
                break
            time.sleep(min(4.0, 0.5 * 2**attempt))
        return outcome

    def _record_attempts(self, batch: Batch, attempts: list[Attempt]) -> list[Attempt]:
        """Write each request made for a batch (the halves as requests of their own, in
        the campaign's request log) and what it means for its phones. Returns the
        attempts that were sent."""
        ids = dict((phone, pk) for pk, phone in batch.rows)
        sent = []
        for attempt in attempts:
            if attempt.outcome is None:
                self._requeue([ids[phone] for phone in attempt.phones])
                continue
            request = batch.request if not sent else self._extra_request(attempt)
            record_request(request=request, outcome=attempt.outcome)
            sent.append(attempt)
            if attempt.outcome.refused_whole:
                self.last_refusal = attempt.outcome.onurix_message
            if not attempt.split:
                self._record(attempt, [ids[phone] for phone in attempt.phones], request)
        return sent

    def _extra_request(self, attempt: Attempt) -> OnurixRequest:
        return OnurixRequest.objects.create(
            campaign=self.campaign,
            kind=OnurixRequest.Kind.SEND,
            phones=",".join(attempt.phones),
            phone_count=len(attempt.phones),
            worker=self.worker,
        )

    def _record(self, attempt: Attempt, ids: list[int], request: OnurixRequest) -> None:
        outcome = attempt.outcome
        now = timezone.now()
        rows = CallResult.objects.filter(id__in=ids, state=State.SENDING)
        if outcome.outcome == Outcome.ACCEPTED:
            self._record_accepted(attempt, ids, now)
        elif outcome.outcome == Outcome.REFUSED and outcome.invalid_phone:
            # Onurix named the bad phone: it fails alone, the others were not called.
            bad = ids[attempt.phones.index(outcome.invalid_phone)]
            self._fail(rows.filter(id=bad), outcome, now)
            self._requeue([pk for pk in ids if pk != bad])
        elif outcome.refused_whole and len(ids) == 1 and attempt.depth > 0:
            # Isolated by halving: its other half was accepted, this phone alone is refused.
            self._fail(rows, outcome, now)
        elif outcome.outcome in (Outcome.REFUSED, Outcome.NOT_REACHED):
            # Nothing was sent: the phones wait for the next claim, or for a resume.
            self._requeue(ids)
        else:
            rows.update(
                state=State.UNKNOWN,
                error_code=outcome.error_code,
                error_message=fit(ERROR_MESSAGE, outcome.error_message),
                updated_at=now,
            )

    def _fail(self, rows, outcome: SendOutcome, now) -> None:
        rows.update(
            state=State.FAILED,
            error_code=outcome.error_code,
            error_message=fit(ERROR_MESSAGE, outcome.error_message),
            updated_at=now,
        )

    def _requeue(self, ids: list[int]) -> None:
        CallResult.objects.filter(id__in=ids, state=State.SENDING).update(
            state=State.QUEUED,
            claim_token=None,
            request=None,
            send_count=F("send_count") - 1,
            updated_at=timezone.now(),
        )

    def _record_accepted(self, attempt: Attempt, ids: list[int], now) -> None:
        outcome = attempt.outcome
        unlisted = _("Onurix accepted the request but did not list this phone.")
        rows = []
        for pk, phone in zip(ids, attempt.phones, strict=True):
            call = outcome.calls.get(phone)
            if call is None and outcome.dispatch_id:
                # Sent, call id unknown: polling by the dispatch id reads its state later.
                values = (State.SENT, None, "", "", "", 0)
            elif call is None:
                values = (State.UNKNOWN, None, unlisted, "", "", 0)
            else:
                mapped = map_onurix_state(call.state)
                values = (
                    mapped.state,
                    mapped.error_code,
                    mapped.error_message,
                    call.call_id,
                    call.state,
                    call.credits,
                )
            rows.append((*values, outcome.dispatch_id, now, now, pk))
        update_rows(
            CallResult,
            set_fields=(
                "state",
                "error_code",
                "error_message",
                "call_id",
                "onurix_state",
                "credits",
                "dispatch_id",
                "sent_at",
                "updated_at",
            ),
            rows=rows,
        )

    # -- after each request ---------------------------------------------------------------

    def _after(self, outcome: SendOutcome) -> str | None:
        if outcome.pause_reason:
            said = outcome.onurix_message or outcome.error_message
            self._pause(str(outcome.pause_message) % {"said": said}, outcome.pause_reason)
            return "paused"
        if outcome.outcome == Outcome.NOT_REACHED:
            self._pause(
                _(
                    "Onurix could not be reached after %(attempts)d attempts. Check the "
                    "network and ONURIX_BASE_URL, then resume."
                )
                % {"attempts": self.retries + 1},
                Campaign.PauseReason.UNREACHABLE,
            )
            return "paused"
        if outcome.outcome == Outcome.UNKNOWN:
            self.unknown_in_a_row += 1
            if self.unknown_in_a_row >= self.breaker_threshold:
                self._pause(
                    _(
                        "Paused after %(count)d requests in a row got no usable answer from "
                        "Onurix (timeouts or server errors). Their phones are marked unknown "
                        "and are not sent again by themselves."
                    )
                    % {"count": self.unknown_in_a_row},
                    Campaign.PauseReason.BREAKER,
                )
                return "paused"
        else:
            self.unknown_in_a_row = 0
        return None

    def _refusal_pause_message(self) -> str:
        return _(
            "Paused after %(count)d requests in a row refused by Onurix. Onurix said: "
            "“%(said)s”. The refused phones were not called and wait in the queue: fix the "
            "cause (credits, key, the server's IP in the portal), then resume."
        ) % {"count": self.refusals.in_a_row, "said": self.last_refusal}

    def _pause(self, message: str, reason: str) -> None:
        campaign_auto_pause(campaign=self.campaign, reason=reason, message=message)
        logger.warning("Campaign %s paused: %s", self.campaign.pk, message)

    def _conclude(self, stop: str | None) -> str:
        if stop == "waiting":
            opening = self.window.next_opening(timezone.now())
            enqueue_dispatch(campaign_id=self.campaign.pk, run_after=opening)
            return "waiting"
        if stop == "yielded":
            enqueue_dispatch(campaign_id=self.campaign.pk)
            return "yielded"
        if stop is not None:
            return stop
        return "finished" if campaign_finish_if_done(campaign=self.campaign) else "idle"


def campaign_finish_if_done(*, campaign: Campaign) -> bool:
    """Mark a sending campaign finished once no phone is queued or in flight."""
    busy = CallResult.objects.filter(campaign=campaign, state__in=[State.QUEUED, State.SENDING])
    if busy.exists():
        return False
    health = onurix_health()
    finished = Campaign.objects.move(
        campaign.pk,
        "finish",
        # Checked again in the same statement: a re-send may have queued phones since.
        extra=~Exists(
            CallResult.objects.filter(
                campaign=OuterRef("pk"), state__in=[State.QUEUED, State.SENDING]
            )
        ),
        state=Campaign.State.FINISHED,
        finished_at=timezone.now(),
        balance_after=health.balance,
    )
    if finished:
        # Results are learned by polling: start the chain once the last phone is sent.
        transaction.on_commit(lambda: enqueue_poll(campaign_id=campaign.pk))
    return bool(finished)


def _exclude_not_callable_now(campaign: Campaign, rows: list[tuple[int, str, str]], now) -> bool:
    """Exclude the queued rows that may not be called at this moment, in the caller's
    transaction: the phone was marked do-not-call after the launch; a commercial
    campaign's phone is in the national registry (RNE) now; it answered a call within
    CAMPAIGN_CONTACT_FREQUENCY_DAYS (the contact-frequency rule of the launch, which a call
    answered since then breaks); a follow-up wave's phone was called
    CAMPAIGN_MAX_ATTEMPTS_PER_DAY times today by other campaigns. Returns whether any was."""
    in_registry = registry_exclude_claimed(rows=rows, now=now)
    phones = {phone for _pk, _text, phone in rows}
    # One query for the phones' consent now; do-not-call wins over the frequency rule.
    checks = [
        Contact.objects.filter(phone__in=phones, do_not_call=True)
        .annotate(reason=Value(Reason.DO_NOT_CALL_LATE, output_field=CharField()))
        .values_list("phone", "reason")
        .order_by()  # none in a union's parts (SQLite)
    ]
    answered = answered_recently(now=now)
    if answered is not None:
        checks.append(
            answered.filter(phone__in=phones)
            .annotate(reason=Value(Reason.FREQUENCY, output_field=CharField()))
            .values_list("phone", "reason")
            .order_by()
        )
    found = checks[0].union(*checks[1:], all=True) if len(checks) > 1 else checks[0]
    rank = {Reason.DO_NOT_CALL_LATE: 0, Reason.FREQUENCY: 1}
    reasons: dict[str, str] = {}
    for phone, reason in found:
        reasons[phone] = min(reason, reasons.get(phone, reason), key=rank.__getitem__)
    if campaign.wave_id is not None:
        for phone in phones_called_today(now=now, phones=phones - reasons.keys(), besides=campaign):
            reasons[phone] = Reason.CALLED_TODAY
    if not reasons:
        return bool(in_registry)
    for reason in set(reasons.values()):
        CallResult.objects.filter(
            id__in=[pk for pk, _text, phone in rows if reasons.get(phone) == reason],
            state=State.QUEUED,
        ).update(state=State.EXCLUDED, exclusion_reason=reason, updated_at=now)
    logger.info("Campaign %s: excluded %s phones at claim time", campaign.pk, len(reasons))
    return True


def recover_dead_workers(*, silent_after: timedelta, alive: str = "") -> list[int]:
    """Workers whose heartbeat stopped more than `silent_after` ago are dead: the phones
    they were sending become unknown (they may have been called), their pending requests
    unknown, and their sending campaigns get a wake-up for a live worker. Returns those
    campaigns' ids. Run by every live worker at each heartbeat (services/workers.py),
    which names itself `alive`: a worker never declares itself dead."""
    cutoff = timezone.now() - silent_after
    silent = WorkerHeartbeat.objects.filter(beat_at__lt=cutoff).exclude(worker=alive)
    dead = list(silent.values_list("worker", flat=True))
    if not dead:
        return []
    with transaction.atomic():
        # Taken by the first live worker to see them: the others find nothing to do.
        if not WorkerHeartbeat.objects.filter(worker__in=dead, beat_at__lt=cutoff).delete()[0]:
            return []
        rows = CallResult.objects.filter(state=State.SENDING, request__worker__in=dead)
        CallResult.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).update(
            state=State.UNKNOWN,
            error_message=_(
                "The worker stopped while this call was being sent: it may or may not have "
                "been made. It is not sent again by itself."
            ),
            updated_at=timezone.now(),
        )
        OnurixRequest.objects.filter(outcome=Outcome.PENDING, worker__in=dead).update(
            outcome=Outcome.UNKNOWN, finished_at=timezone.now()
        )
        limiter.slots_release_of(workers=dead)
        campaign_ids = list(
            Campaign.objects.filter(state__in=Campaign.SENDING_STATES, requests__worker__in=dead)
            .distinct()
            .values_list("pk", flat=True)
        )
        for campaign_id in campaign_ids:
            transaction.on_commit(lambda pk=campaign_id: enqueue_dispatch(campaign_id=pk))
    logger.warning("Workers %s stopped: campaigns %s handed to live workers", dead, campaign_ids)
    return campaign_ids


def campaigns_sweep() -> dict[str, int]:
    """Find work whose wake-up was lost, and wake it: run periodically by the worker.

    Phones left in sending by a dead worker become unknown; scheduled campaigns whose
    time has come, and sending campaigns with queued phones and no recent activity, get a
    dispatch task. Duplicate tasks are harmless: phones are claimed one worker at a time.
    Campaigns whose polling chain of call states was lost get a poll (`campaigns_to_poll`).
    Campaigns paused by Onurix faults or by the day's credit limit resume when they may;
    the low balance is checked (one email per crossing). Other work a dead worker left:
    contact imports (interrupted, resumable), block-phone requests whose task was lost
    (queued again), registry loads (failed, the current list stays).
    """
    now = timezone.now()
    recovered, abandoned = _recover_stale_sending()
    # A campaign a dead worker abandoned: its other phones still wait to be sent.
    abandoned = Campaign.objects.filter(pk__in=abandoned, state=Campaign.State.SENDING).values_list(
        "pk", flat=True
    )
    due = Campaign.objects.filter(
        state=Campaign.State.SCHEDULED, scheduled_at__lte=now
    ).values_list("pk", flat=True)
    quiet = (
        Campaign.objects.filter(state=Campaign.State.SENDING, results__state=State.QUEUED)
        .exclude(
            results__updated_at__gte=now - timedelta(seconds=settings.CAMPAIGN_SWEEP_QUIET_SECONDS)
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    resumed = campaigns_resume_after_faults() + campaigns_resume_after_daily_limit(now=now)
    woken = sorted(set(due) | set(quiet) | set(resumed) | set(abandoned))
    for campaign_id in woken:
        enqueue_dispatch(campaign_id=campaign_id)
    polls = [pk for pk in campaigns_to_poll() if enqueue_poll(campaign_id=pk)]
    return {
        "recovered": len(recovered),
        "woken": len(woken),
        "resumed": len(resumed),
        "polls": len(polls),
        "test_calls": test_calls_poll(),
        "balance_alert": balance_alert_check(),
        "imports_interrupted": contact_imports_sweep(),
        "waves_started": waves_sweep(now=now),
        "blocks_requeued": do_not_call_blocks_sweep(now=now),
        "registry_loads_failed": registry_loads_sweep(now=now),
    }


def campaigns_resume_after_faults() -> list[int]:
    """Resume campaigns that paused themselves because Onurix failed or could not be
    reached, once a balance request shows Onurix answers again. Returns their ids.

    Campaigns paused by a person, or for credits or credentials, wait for a person.
    """
    paused = Campaign.objects.filter(
        state=Campaign.State.PAUSED, pause_reason__in=Campaign.AUTO_RESUME
    )
    if not paused.exists():
        return []
    health = onurix_health()  # the probe: cheap, spends nothing
    if not health.ok:
        logger.info("Onurix still failing (%s): paused campaigns stay paused", health.problem)
        return []
    ids = campaigns_auto_resume(reasons=Campaign.AUTO_RESUME)
    logger.info("Onurix answers again: resumed campaigns %s", ids)
    return ids
