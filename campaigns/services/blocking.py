"""Blocking phones at Onurix (`POST /block-phone`) when people are marked do-not-call.

Onurix keeps its own do-not-contact list (Habeas Data). When a person is marked
do-not-call, whoever marks may also ask to block the phone there; the mark's history row
(DoNotCallChange) then waits as `pending` and the worker sends the request:

- the request never leaves from a web request: `contacts_set_do_not_call` queues
  `do_not_call_block_task` once its transaction commits;
- blocking twice is harmless, so a request that did not get an answer (Onurix not
  reached, or no usable answer) is tried again later, after RETRY_DELAYS; once they are
  spent the row says Onurix could not be reached;
- a refusal is final and kept with Onurix's words (a wrong key, a phone Onurix rejects):
  sending it again would be refused again;
- no database transaction is open while Onurix is called;
- no unblock endpoint is known: nothing here undoes a block.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from .. import tasks
from ..models import DoNotCallChange
from ..onurix import (
    OnurixInvalidRequest,
    OnurixNotReached,
    OnurixRefused,
    OnurixUnknownOutcome,
    get_onurix_client,
)

logger = logging.getLogger(__name__)

Block = DoNotCallChange.OnurixBlock
# People ask not to be *called*: the product only places calls, so only calls are blocked.
CHANNEL = "CALL"
# Seconds to wait before attempt 2, 3...; after the last, the row gives up.
RETRY_DELAYS = (60, 300, 1800, 7200, 21600)
MESSAGE_LENGTH = DoNotCallChange._meta.get_field("onurix_block_message").max_length


@dataclass(frozen=True)
class BlockRun:
    """What one run did: rows blocked, refused, given up on, and those to try again
    (`retry`) after `retry_in`."""

    blocked: int
    refused: int
    gave_up: int
    retry: list[int]
    retry_in: timedelta | None

    def as_dict(self) -> dict:
        return {
            "blocked": self.blocked,
            "refused": self.refused,
            "gave_up": self.gave_up,
            "retry": len(self.retry),
        }


def do_not_call_block_at_onurix(*, change_ids: list[int]) -> BlockRun:
    """Send block-phone for each of `change_ids` still pending and record each outcome on
    its DoNotCallChange. Rows no longer pending (done, or their contact deleted) are
    skipped, so a task that runs twice sends nothing twice. Raises nothing from Onurix:
    every failure is recorded on its row."""
    rows = list(
        DoNotCallChange.objects.filter(pk__in=change_ids, onurix_block=Block.PENDING)
        .order_by("pk")
        .values_list("pk", "contact__phone", "onurix_block_attempts")
    )
    if not rows:
        return BlockRun(0, 0, 0, [], None)
    client = get_onurix_client()
    counts = {Block.BLOCKED: 0, Block.REFUSED: 0, Block.NOT_REACHED: 0}
    retry: list[int] = []
    attempts_done = 0
    for pk, phone, attempts in rows:
        attempts += 1
        try:
            client.block_phone(phone=phone, channel=CHANNEL)
        except (OnurixRefused, OnurixInvalidRequest) as error:
            state = Block.REFUSED
            message = getattr(error, "onurix_message", "") or error.message
        except (OnurixNotReached, OnurixUnknownOutcome) as error:
            # Idempotent: an unknown outcome is as safe to send again as no answer at all.
            state = Block.PENDING if attempts <= len(RETRY_DELAYS) else Block.NOT_REACHED
            message = error.message
        else:
            state, message = Block.BLOCKED, ""
        logger.info("Block-phone for change %s (attempt %s): %s", pk, attempts, state)
        DoNotCallChange.objects.filter(pk=pk, onurix_block=Block.PENDING).update(
            onurix_block=state,
            onurix_block_message=message[:MESSAGE_LENGTH],
            onurix_block_attempts=F("onurix_block_attempts") + 1,
            onurix_block_at=None if state == Block.PENDING else timezone.now(),
        )
        if state == Block.PENDING:
            retry.append(pk)
            attempts_done = max(attempts_done, attempts)
        else:
            counts[state] += 1
    return BlockRun(
        blocked=counts[Block.BLOCKED],
        refused=counts[Block.REFUSED],
        gave_up=counts[Block.NOT_REACHED],
        retry=retry,
        retry_in=timedelta(seconds=RETRY_DELAYS[attempts_done - 1]) if retry else None,
    )


def enqueue_block_at_onurix(*, change_ids: list[int], run_after=None) -> None:
    """Queue block-phone requests for the worker (now, or at `run_after`). A backend that
    cannot defer (tests' immediate backend) gets no retry: the rows stay pending."""
    task = tasks.do_not_call_block_task
    if run_after is not None:
        if not task.get_backend().supports_defer:
            logger.info("Block-phone retry of %s rows not queued: cannot defer", len(change_ids))
            return
        task = task.using(run_after=run_after)
    # Chunked: one task's arguments stay small however many people were marked at once.
    for start in range(0, len(change_ids), 500):
        task.enqueue(change_ids=change_ids[start : start + 500])


# A pending row whose next attempt is this late has lost its task (a worker died with it
# queued, or a backend that cannot defer): the sweep queues it again.
LOST_AFTER = timedelta(minutes=10)


def do_not_call_blocks_sweep(*, now=None) -> int:
    """Queue again the block-phone requests whose task was lost: pending rows whose next
    attempt (their mark's time plus the RETRY_DELAYS already spent) is over LOST_AFTER
    late. Sending twice is harmless. Returns how many rows were queued."""
    now = now or timezone.now()
    lost = [
        pk
        for pk, created_at, attempts in DoNotCallChange.objects.filter(
            onurix_block=Block.PENDING, created_at__lt=now - LOST_AFTER
        ).values_list("pk", "created_at", "onurix_block_attempts")
        if created_at + timedelta(seconds=sum(RETRY_DELAYS[:attempts])) + LOST_AFTER < now
    ]
    if lost:
        logger.warning("Block-phone of %s marks had lost their task: queued again", len(lost))
        enqueue_block_at_onurix(change_ids=lost)
    return len(lost)
