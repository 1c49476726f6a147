"""Reads of follow-up waves (services/waves.py): when each wave is due, what it may cost,
how it went, and each phone's attempts across the waves of a campaign."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from django.utils.translation import gettext as _

from .calling_hours import BOGOTA, MAX_SEARCH_DAYS, CallingWindow, calling_window
from .models import CallResult, Campaign, CampaignTotals, FollowUpWave
from .selectors import credits_per_call_estimate

State = CallResult.State
# States of a wave's phone that count as an attempt (made, being made, or waiting).
ATTEMPT_STATES = (
    State.QUEUED,
    State.SENDING,
    State.SENT,
    State.ANSWERED,
    State.FAILED,
    State.UNKNOWN,
)


def _window(campaign: Campaign) -> CallingWindow:
    return calling_window(start=campaign.calling_window_start, end=campaign.calling_window_end)


def wave_due_at(*, base: dt.datetime, days_after: int, at: dt.time, window: CallingWindow):
    """When a wave may start: `days_after` calling days after `base`, at `at` (Bogota),
    or the window's next opening after that. None when the window never opens."""
    day = base.astimezone(BOGOTA).date()
    counted = 0
    try:
        for _step in range(MAX_SEARCH_DAYS):
            day += dt.timedelta(days=1)
            midnight = dt.datetime.combine(day, dt.time(0), tzinfo=BOGOTA)
            if window.next_opening(midnight).date() == day:
                counted += 1
                if counted >= days_after:
                    break
        return window.next_opening(dt.datetime.combine(day, at, tzinfo=BOGOTA))
    except ValueError:
        return None


@dataclass(frozen=True)
class WaveTiming:
    """Where a wave stands: its start `base` (None until the stage before it ended) and
    when it is due (None while unknown)."""

    base: dt.datetime | None
    due_at: dt.datetime | None


def campaign_wave_timings(*, campaign: Campaign) -> dict[int, WaveTiming]:
    """For each wave of a launched campaign (by number), when the stage before it ended
    and when it is due."""
    window = _window(campaign)
    base = campaign.finished_at if campaign.state == Campaign.State.FINISHED else None
    timings = {}
    for wave in campaign.waves.select_related("run").order_by("number"):
        due = None
        if base is not None:
            due = wave_due_at(base=base, days_after=wave.days_after, at=wave.at, window=window)
        timings[wave.number] = WaveTiming(base, due)
        base = _ended_at(wave) if base is not None else None
    return timings


def _ended_at(wave: FollowUpWave) -> dt.datetime | None:
    """When a wave was over (so the next one counts from then), or None while it is not."""
    if wave.state in FollowUpWave.OVER_STATES:
        return wave.ended_at or wave.started_at
    if wave.state == FollowUpWave.State.LAUNCHED:
        run = getattr(wave, "run", None)
        if run is None:
            return wave.ended_at or wave.started_at
        if run.state in (Campaign.State.FINISHED, Campaign.State.CANCELLED, Campaign.State.FAILED):
            return run.finished_at or run.updated_at
    return None


@dataclass(frozen=True)
class WaveEstimate:
    wave: FollowUpWave
    credits_high: Decimal  # every phone called again; the low end is 0


@dataclass(frozen=True)
class WavesEstimate:
    waves: list[WaveEstimate]
    credits_high: Decimal  # all waves together

    def __bool__(self) -> bool:
        return bool(self.waves)


def campaign_waves_estimate(*, campaign: Campaign, phones: int) -> WavesEstimate:
    """What the waves of a campaign may cost: from none (everyone answered the first
    time) to every one of its `phones` called again in each wave."""
    per_call, _from_history = credits_per_call_estimate()
    high = (per_call * phones).quantize(Decimal("1"), rounding=ROUND_CEILING)
    waves = [WaveEstimate(wave, high) for wave in campaign.waves.order_by("number")]
    return WavesEstimate(waves, high * len(waves))


@dataclass(frozen=True)
class WaveRow:
    """A follow-up wave on its campaign's page."""

    wave: FollowUpWave
    run: Campaign | None
    totals: CampaignTotals | None
    due_at: dt.datetime | None
    total: int  # waves counting the campaign's own sending: "wave 2 of 3"

    @property
    def state_label(self) -> str:
        if self.run is not None:
            return self.run.state_label
        return self.wave.get_state_display()

    @property
    def can_cancel(self) -> bool:
        if self.run is not None:
            return self.run.can_cancel
        return self.wave.state in (FollowUpWave.State.PENDING, FollowUpWave.State.STARTING)


def campaign_wave_rows(*, campaign: Campaign) -> list[WaveRow]:
    """The follow-up waves of a campaign with their campaigns, totals and due times."""
    waves = list(campaign.waves.select_related("run", "run__totals").order_by("number"))
    timings = campaign_wave_timings(campaign=campaign) if campaign.is_launched else {}
    rows = []
    for wave in waves:
        run = getattr(wave, "run", None)
        timing = timings.get(wave.number)
        rows.append(
            WaveRow(
                wave=wave,
                run=run,
                totals=run.totals if run is not None else None,
                due_at=timing.due_at if timing else None,
                total=1 + len(waves),
            )
        )
    return rows


def wave_attempts(*, campaign: Campaign, phones=None) -> dict[str, dict[int, str]]:
    """Each phone's attempts in the follow-up waves of `campaign`: {phone: {wave number:
    state}}, for `phones` only when given (a page of results)."""
    rows = CallResult.objects.filter(campaign__wave__campaign=campaign, state__in=ATTEMPT_STATES)
    if phones is not None:
        rows = rows.filter(phone__in=list(phones))
    attempts: dict[str, dict[int, str]] = {}
    for phone, number, state in rows.values_list("phone", "campaign__wave__number", "state"):
        attempts.setdefault(phone, {})[number] = state
    return attempts


@dataclass(frozen=True)
class PhoneAcrossWaves:
    attempts: list[tuple[int, str]]  # (wave number, state), wave 1 being the campaign
    final_state: str  # the state of the latest attempt (or of the campaign's row)
    reached_in: int | None  # the wave whose call was answered

    @property
    def attempts_labelled(self) -> list[tuple[int, str]]:
        return [(number, str(State(state).label)) for number, state in self.attempts]

    @property
    def final_label(self) -> str:
        return str(State(self.final_state).label)


def across_waves(state: str, later: dict[int, str] | None) -> PhoneAcrossWaves:
    """One phone's attempts, final state and answering wave, from its state in the
    campaign and its states in the waves (`wave_attempts`)."""
    attempts = [(1, state)] if state in ATTEMPT_STATES else []
    attempts += sorted((later or {}).items())
    final = attempts[-1][1] if attempts else state
    reached = next((number for number, value in attempts if value == State.ANSWERED), None)
    return PhoneAcrossWaves(attempts, final, reached)


@dataclass(frozen=True)
class WaveFigures:
    """One wave's figures (or all of them together) for the campaign's page."""

    label: str
    called: int  # phones called: sent, answered, failed or unknown
    answered: int
    net_credits: Decimal


def _figures(label: str, totals: CampaignTotals) -> WaveFigures:
    called = totals.sent + totals.answered + totals.failed + totals.unknown
    return WaveFigures(label, called, totals.answered, totals.net_credits)


def campaign_wave_figures(*, campaign: Campaign, rows: list[WaveRow]) -> list[WaveFigures]:
    """The figures of the campaign's own sending (wave 1), of each launched wave, and of
    all together (last); empty when the campaign has no launched wave."""
    launched = [row for row in rows if row.totals is not None]
    if not launched or not campaign.is_launched:
        return []
    figures = [_figures(_("Wave %(number)s") % {"number": 1}, campaign.totals)]
    figures += [
        _figures(_("Wave %(number)s") % {"number": row.wave.number}, row.totals) for row in launched
    ]
    overall = WaveFigures(
        _("All waves"),
        sum(item.called for item in figures),
        sum(item.answered for item in figures),
        sum((item.net_credits for item in figures), Decimal(0)),
    )
    return [*figures, overall]
