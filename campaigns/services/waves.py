"""Follow-up waves: "call again, N calling days later at HH:MM, the phones whose last
outcome was no answer / failed / rejected".

Rules:
- each wave runs as a campaign of its own (`Campaign.wave`), created and launched by the
  periodic sweep (`waves_sweep`) when its time comes: so the dispatch engine's rules hold
  unchanged for it (a phone claimed once per campaign, that is once per wave; do-not-call
  and the national registry checked again at the claim; the calling window; the spending
  limits), and its totals, polling and results are those of any campaign;
- a wave's time: the campaign (or the wave before) ended, then `days_after` calling days
  (days on which the campaign's calling window opens), at `at` in Colombian time, moved to
  the window's next opening when that moment is closed;
- its audience is computed when it starts: the phones of the campaign and its earlier
  waves whose latest call ended in one of the chosen outcomes, not answered since the
  campaign was launched (in any campaign), not called CAMPAIGN_MAX_ATTEMPTS_PER_DAY times
  already today (any campaign); then the launch's own rules (`campaign_audience`) leave
  out do-not-call phones, the registry's numbers for a commercial campaign, phones that
  answered recently (CAMPAIGN_CONTACT_FREQUENCY_DAYS), with their reasons;
- spending: the person who launched the campaign authorised its waves (the launch
  confirmation states them and their cost range); a wave is launched in their name. The
  campaign's credit cap covers the campaign and all its waves: a wave gets what is left;
- a wave is started once: its row is claimed by a conditional update (pending ->
  starting), and its campaign is one-to-one with it; a sweep that died half-way is taken
  over after STARTING_STALE_AFTER, reusing the campaign already created (a launch is
  itself once only).
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import CallResult, Campaign, CampaignTotals, FollowUpWave
from ..onurix_states import map_onurix_state
from ..selectors import phones_called_today
from ..selectors_waves import campaign_wave_timings
from .campaigns import (
    CampaignNotDraft,
    campaign_audience,
    campaign_cancel,
    campaign_launch,
    campaign_window,
)
from .copies import NOT_COPIED
from .onurix_health import onurix_health

logger = logging.getLogger(__name__)

State = CallResult.State
Outcome = FollowUpWave.Outcome
WaveState = FollowUpWave.State
# The states of a call that was made (or may have been): what a wave looks back at.
CALLED_STATES = (State.SENT, State.ANSWERED, State.FAILED, State.UNKNOWN)
STARTING_STALE_AFTER = dt.timedelta(minutes=5)
NAME_LENGTH = Campaign._meta.get_field("name").max_length


@dataclass(frozen=True)
class WaveSpec:
    """A wave as the campaign form gives it."""

    number: int  # 2 to 4: the campaign's own sending is wave 1
    outcomes: list[str]  # FollowUpWave.Outcome values
    days_after: int
    at: dt.time


def call_outcome(state: str, onurix_state: str) -> str | None:
    """The wave outcome of a call's final state: no answer (sent and never reported
    answered, or unknown), rejected (Rechazado), failed (any other failure); None for an
    answered call or one that was not made."""
    if state in (State.SENT, State.UNKNOWN):
        return Outcome.NO_ANSWER
    if state == State.FAILED:
        return Outcome.REJECTED if map_onurix_state(onurix_state).refunded else Outcome.FAILED
    return None


def campaign_waves_save(*, campaign: Campaign, waves: list[WaveSpec]) -> None:
    """Set the follow-up waves of a draft (replacing its earlier ones).

    Raises CampaignNotDraft when the campaign left draft meanwhile: nothing changes."""
    with transaction.atomic():
        if not Campaign.objects.move(campaign.pk, "edit"):
            raise CampaignNotDraft(
                _(
                    "This campaign was launched meanwhile: your changes were not saved. "
                    "Nothing else changed; copy what you need from this page."
                )
            )
        FollowUpWave.objects.filter(campaign=campaign).delete()
        FollowUpWave.objects.bulk_create(
            FollowUpWave(
                campaign=campaign,
                number=spec.number,
                outcomes=list(spec.outcomes),
                days_after=spec.days_after,
                at=spec.at,
            )
            for spec in waves
        )


def waves_sweep(*, now: dt.datetime | None = None) -> int:
    """Start the follow-up waves whose time has come; end those whose campaign can no
    longer have them. Run by the periodic sweep. Returns how many waves started."""
    now = now or timezone.now()
    FollowUpWave.objects.filter(
        state=WaveState.PENDING, campaign__state=Campaign.State.CANCELLED
    ).update(state=WaveState.CANCELLED, ended_at=now, message=_("The campaign was cancelled."))
    FollowUpWave.objects.filter(
        state=WaveState.PENDING, campaign__state=Campaign.State.FAILED
    ).update(state=WaveState.SKIPPED, ended_at=now, message=_("The campaign failed."))
    waiting = Q(state=WaveState.PENDING) | Q(
        state=WaveState.STARTING, started_at__lt=now - STARTING_STALE_AFTER
    )
    parents = Campaign.objects.filter(
        state=Campaign.State.FINISHED,
        pk__in=FollowUpWave.objects.filter(waiting).values("campaign"),
    )
    started = 0
    for parent in parents:
        timings = campaign_wave_timings(campaign=parent)
        for wave in parent.waves.filter(waiting).order_by("number")[:1]:
            timing = timings.get(wave.number)
            if timing is None or timing.due_at is None or now < timing.due_at:
                continue
            if not campaign_window(parent).is_open(now):
                continue
            started += wave_start(wave=wave, now=now)
    return started


def wave_start(*, wave: FollowUpWave, now: dt.datetime) -> bool:
    """Create and launch the campaign of a due wave, for the phones that qualify now.

    Returns whether it was launched. A wave nobody qualifies for ends skipped, one whose
    launch is refused (the balance) ends failed, both with the reason in its message; when
    Onurix cannot be asked it stays pending and the next sweep tries again."""
    claimed = FollowUpWave.objects.filter(
        pk=wave.pk, state=wave.state, started_at=wave.started_at
    ).update(state=WaveState.STARTING, started_at=now)
    if not claimed:
        return False  # another sweep took it
    parent = wave.campaign
    if not onurix_health().ok:
        FollowUpWave.objects.filter(pk=wave.pk, state=WaveState.STARTING).update(
            state=WaveState.PENDING, started_at=None
        )
        return False
    run = Campaign.objects.filter(wave=wave).first()
    if run is None:
        phones, left_out = wave_candidates(wave=wave, parent=parent, now=now)
        cap = _cap_left(parent)
        if not phones:
            return _end(wave, WaveState.SKIPPED, _("No phone qualified for this wave."), left_out)
        if cap is not None and cap < 1:
            message = _("The campaign's credit limit is used up: this wave calls nobody.")
            return _end(wave, WaveState.SKIPPED, message, left_out)
        run = _create_run(wave=wave, parent=parent, phones=phones, cap=cap)
        FollowUpWave.objects.filter(pk=wave.pk).update(left_out=left_out)
    if not run.is_launched:
        if not campaign_audience(campaign=run).to_call:
            run.delete()
            message = _("Every phone that qualified was left out (do-not-call, registry...).")
            return _end(wave, WaveState.SKIPPED, message)
        try:
            campaign_launch(campaign=run, user=parent.launched_by, balance_unknown_ok=True)
        except ValidationError as error:
            run.delete()
            return _end(wave, WaveState.FAILED, " ".join(error.messages))
    if not FollowUpWave.objects.filter(pk=wave.pk, state=WaveState.STARTING).update(
        state=WaveState.LAUNCHED
    ):
        # Cancelled by a person while it was starting: its campaign stops at once.
        campaign_cancel(campaign=run, user=parent.launched_by)
        return False
    logger.info("Campaign %s: wave %s launched as campaign %s", parent.pk, wave.number, run.pk)
    return True


def _end(wave: FollowUpWave, state: str, message: str, left_out: dict | None = None) -> bool:
    values = {"state": state, "message": message[:500], "ended_at": timezone.now()}
    if left_out is not None:
        values["left_out"] = left_out
    FollowUpWave.objects.filter(pk=wave.pk, state=WaveState.STARTING).update(**values)
    logger.info("Campaign %s: wave %s %s: %s", wave.campaign_id, wave.number, state, message)
    return False


def _stage_ids(*, parent: Campaign, before: int) -> list[int]:
    """The campaign and the campaigns of its waves numbered under `before`, in order."""
    runs = Campaign.objects.filter(wave__campaign=parent, wave__number__lt=before)
    return [parent.pk, *runs.order_by("wave__number").values_list("pk", flat=True)]


def wave_candidates(
    *, wave: FollowUpWave, parent: Campaign, now: dt.datetime
) -> tuple[list[str], dict[str, int]]:
    """The phones a wave would call now before the launch's own exclusions, and how many
    were left out per reason ("answered": answered since the campaign was launched,
    "called_today": called CAMPAIGN_MAX_ATTEMPTS_PER_DAY times today)."""
    stages = _stage_ids(parent=parent, before=wave.number)
    rank = {pk: index for index, pk in enumerate(stages)}
    latest: dict[str, tuple[int, str | None]] = {}
    rows = CallResult.objects.filter(campaign_id__in=stages, state__in=CALLED_STATES)
    for phone, campaign_id, state, text in rows.values_list(
        "phone", "campaign_id", "state", "onurix_state"
    ).iterator(chunk_size=2000):
        stage = rank[campaign_id]
        if phone not in latest or latest[phone][0] < stage:
            latest[phone] = (stage, call_outcome(state, text))
    chosen = set(wave.outcomes)
    phones = sorted(phone for phone, (_stage, outcome) in latest.items() if outcome in chosen)
    answered = set(
        CallResult.objects.filter(
            state=State.ANSWERED, sent_at__gte=parent.launched_at or parent.created_at
        ).values_list("phone", flat=True)
    )
    called_today = phones_called_today(now=now)
    to_call, left_out = [], {"answered": 0, "called_today": 0}
    for phone in phones:
        if phone in answered:
            left_out["answered"] += 1
        elif phone in called_today:
            left_out["called_today"] += 1
        else:
            to_call.append(phone)
    return to_call, left_out


def _cap_left(parent: Campaign) -> int | None:
    """What the campaign's credit cap leaves for its next wave (None: no cap)."""
    if parent.credit_cap is None:
        return None
    stages = _stage_ids(parent=parent, before=FollowUpWave.LAST_NUMBER + 1)
    spent = CampaignTotals.objects.filter(campaign_id__in=stages).aggregate(
        net=Sum(F("credits") - F("credits_refunded"))
    )["net"] or Decimal(0)
    left = Decimal(parent.credit_cap) - spent
    return int(left.to_integral_value(rounding=ROUND_FLOOR))


def wave_name(*, parent: Campaign, number: int, total: int) -> str:
    suffix = " · " + _("wave %(number)s of %(total)s") % {"number": number, "total": total}
    return parent.name[: NAME_LENGTH - len(suffix)] + suffix


def _create_run(
    *, wave: FollowUpWave, parent: Campaign, phones: list[str], cap: int | None
) -> Campaign:
    """The wave's campaign: the content, window and purpose of its campaign, for `phones`."""
    values = {
        field.attname: getattr(parent, field.attname)
        for field in Campaign._meta.concrete_fields
        if field.name not in NOT_COPIED
    }
    values.update(
        extra_phones="\n".join(phones),
        credit_cap=cap,
        exclude_dead_numbers=parent.exclude_dead_numbers,
        name=wave_name(parent=parent, number=wave.number, total=1 + parent.waves.count()),
        created_by=parent.launched_by,
        wave=wave,
    )
    return Campaign.objects.create(**values)


def wave_cancel(*, wave: FollowUpWave, user) -> bool:
    """Cancel one follow-up wave: before it starts (it never will), or while its campaign
    may still send (its phones not yet called are cancelled). Returns whether it was."""
    now = timezone.now()
    message = _("Cancelled by %(user)s.") % {"user": user}
    if FollowUpWave.objects.filter(
        pk=wave.pk, state__in=[WaveState.PENDING, WaveState.STARTING]
    ).update(state=WaveState.CANCELLED, ended_at=now, message=message):
        logger.info("Campaign %s: wave %s cancelled by %s", wave.campaign_id, wave.number, user)
        return True
    run = Campaign.objects.filter(wave=wave).first()
    return run is not None and campaign_cancel(campaign=run, user=user) is not None
