"""One rate for the Onurix account, shared through the database by every worker on every
server: at most ONURIX_CONCURRENCY `call/send` requests in flight, and at most
ONURIX_MAX_REQUESTS_PER_SECOND of them started in any second.

- In flight: ONURIX_CONCURRENCY rows of OnurixSlot. The dispatcher takes a free slot in
  the same transaction that claims a batch's phones (no slot, no claim: the phones stay
  queued for whoever gets one) and frees it when the batch's outcome is recorded. A slot
  whose worker died is freed by the dead-worker recovery, or when its lease runs out.
  Campaigns share them: a dispatch run that holds none and finds none free says it wants
  one (on the pace row), and the runs that hold some take no more until it has one.
- Pace: one OnurixPace row holds when the next request may start. Each request moves it
  forward by one interval in a single UPDATE ... RETURNING (the row lock orders workers)
  and sleeps until its own turn; a request that wakes too late takes a new turn. Margins
  (below) keep the spread of delays between here and Onurix from letting it see more than
  the ceiling in any second. On PostgreSQL the clock is the database's, shared by every
  server.
"""

import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import OnurixPace, OnurixSlot

# Turns are 1.2 / rate seconds apart and a request starts within PACE_LATE_SECONDS of
# its turn, so any one second holds at most `rate` requests even with 100 ms of delay
# between leaving here and reaching Onurix. The cost: 83 % of the ceiling at best.
PACE_MARGIN = 1.2
PACE_LATE_SECONDS = 0.1


def slot_count() -> int:
    return max(1, int(settings.ONURIX_CONCURRENCY))


def stale_after() -> timedelta:
    """How long a phone may stay in sending, and a slot held, without news before its
    worker is presumed dead. A live worker renews its slots well before (dispatch.py)."""
    seconds = float(settings.ONURIX_STALE_SENDING_SECONDS)
    return timedelta(seconds=seconds or 2 * float(settings.ONURIX_TIMEOUT) + 30)


def slot_acquire(
    *, holder: uuid.UUID | str, worker: str, dispatch: str = "", holding: int = 0
) -> bool:
    """Take a free slot for `holder` (a batch). Call inside the transaction that claims
    the phones the slot is for (it rolls back with them). False when every slot is held.

    Fair between campaigns: `dispatch` names the dispatch run asking and `holding` how
    many slots it holds already. A run that holds none and finds none free says it wants
    one; while another run wants one, a run that holds some takes no more, so the next
    slot given back goes to the one waiting.
    """
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        if holding and _wanted_by_another(dispatch, now):
            return False
        taken = _slot_acquire(holder=holder, worker=worker)
        if not dispatch:
            return taken
        if taken:
            OnurixPace.objects.filter(pk=1, wanted_by=dispatch).update(wanted_by="", wanted_at=None)
        elif not holding:
            wish = {"wanted_by": dispatch, "wanted_at": now}
            if not OnurixPace.objects.filter(pk=1).update(**wish):
                OnurixPace.objects.update_or_create(pk=1, defaults=wish)
        return taken


# How long a wish for a slot holds others back: a waiting run renews it at each look.
WANT_HOLDS = timedelta(seconds=1)


# The wish is read at most this often by a process (a waiting run renews it every
# SLOT_POLL_SECONDS of the dispatcher): a claim that holds slots costs no extra query.
WANT_READ_EVERY = 0.05
_wish_read: dict[str, object] = {"at": -1.0, "by": "", "when": None}


def _wanted_by_another(dispatch: str, now) -> bool:
    if time.monotonic() - _wish_read["at"] > WANT_READ_EVERY:
        row = OnurixPace.objects.filter(pk=1).values_list("wanted_by", "wanted_at").first()
        _wish_read.update(at=time.monotonic(), by=row[0] if row else "", when=row and row[1])
    when = _wish_read["when"]
    return bool(when and when > now - WANT_HOLDS and _wish_read["by"] != dispatch)


def _slot_acquire(*, holder: uuid.UUID | str, worker: str) -> bool:
    now = timezone.now()
    count = slot_count()
    free = OnurixSlot.objects.filter(number__lte=count).filter(
        Q(holder="") | Q(lease_until__lt=now)
    )
    if connection.features.has_select_for_update_skip_locked:
        free = free.select_for_update(skip_locked=True)
    number = free.order_by("number").values_list("number", flat=True).first()
    if number is None:
        if OnurixSlot.objects.filter(number__lte=count).count() >= count:
            return False
        _create_slots(count)  # first use, or ONURIX_CONCURRENCY grew
        return _slot_acquire(holder=holder, worker=worker)
    return bool(
        OnurixSlot.objects.filter(number=number)
        .filter(Q(holder="") | Q(lease_until__lt=now))
        .update(holder=str(holder), worker=worker, lease_until=now + stale_after())
    )


def _create_slots(count: int) -> None:
    # In a savepoint: on PostgreSQL a conflicting insert must not abort the claim.
    with transaction.atomic():
        OnurixSlot.objects.bulk_create(
            [OnurixSlot(number=n) for n in range(1, count + 1)], ignore_conflicts=True
        )


def slot_renew(*, holder: uuid.UUID | str) -> None:
    """Still sending (a retry, or a refused batch split in halves): keep the slot."""
    OnurixSlot.objects.filter(holder=str(holder)).update(lease_until=timezone.now() + stale_after())


def slot_release(*, holder: uuid.UUID | str) -> None:
    OnurixSlot.objects.filter(holder=str(holder)).update(holder="", worker="", lease_until=None)


def slots_release_for(*, holders) -> int:
    """Free the slots of these batches (claim tokens). Returns how many."""
    holders = [str(holder) for holder in holders if holder]
    if not holders:
        return 0
    return OnurixSlot.objects.filter(holder__in=holders).update(
        holder="", worker="", lease_until=None
    )


def slots_release_of(*, workers: list[str]) -> int:
    """Free the slots of workers found dead. Returns how many."""
    return OnurixSlot.objects.filter(worker__in=workers).update(
        holder="", worker="", lease_until=None
    )


def pace_interval() -> float:
    rate = float(settings.ONURIX_MAX_REQUESTS_PER_SECOND)
    return PACE_MARGIN / rate if rate > 0 else 0.0


def pace_reserve() -> float | None:
    """Take the next turn under ONURIX_MAX_REQUESTS_PER_SECOND: when this request may
    start, in time.monotonic(). None when there is no ceiling (and no database use)."""
    interval = pace_interval()
    if not interval:
        return None
    return time.monotonic() + _reserve(interval)


def pace_wait(*, start_at: float | None = None) -> None:
    """Wait for a turn (`start_at`, from pace_reserve, or a new one). A thread that wakes
    more than PACE_LATE_SECONDS after its turn (a busy machine) takes a new turn rather
    than bunch up with the requests of the turns after its own."""
    if not pace_interval():
        return
    if start_at is None:
        start_at = pace_reserve()
    while True:
        delay = start_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if time.monotonic() - start_at <= PACE_LATE_SECONDS:
            return
        start_at = pace_reserve()


def _reserve(interval: float) -> float:
    """Move the shared pace one interval forward; the seconds until this request's start."""
    # The table's name comes from the model; every value is a bound parameter.
    table = connection.ops.quote_name(OnurixPace._meta.db_table)
    if connection.vendor == "postgresql":
        sql = (
            f"UPDATE {table} SET next_at = GREATEST(next_at, "  # noqa: S608
            "EXTRACT(EPOCH FROM clock_timestamp())) + %s WHERE id = 1 "
            "RETURNING next_at - %s - EXTRACT(EPOCH FROM clock_timestamp())"
        )
        params = [interval, interval]
    else:
        # SQLite: one database file, so one machine's clock.
        now = time.time()
        sql = (
            f"UPDATE {table} SET next_at = MAX(next_at, %s) + %s WHERE id = 1 "  # noqa: S608
            "RETURNING next_at - %s - %s"
        )
        params = [now, interval, interval, now]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            OnurixPace.objects.get_or_create(pk=1)
    if row is None:
        return _reserve(interval)
    return float(row[0])
