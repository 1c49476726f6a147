"""Spending limits and the low-balance alert.

- A campaign's credit cap (`Campaign.credit_cap`) and the account's daily limit
  (ONURIX_DAILY_CREDIT_LIMIT, a day in America/Bogota) are checked by the worker each time
  it claims phones (`spending_room`, called in the claim's transaction, under the campaign
  row's lock): the credits already charged (net of refunds) plus the phones in flight,
  each at the estimated price of a call, plus the phones about to be claimed, never pass
  the limit. When not one more phone fits, the campaign pauses: a raised cap and a resume
  (a launcher) carry on; a daily pause resumes by itself once the day has room again
  (`campaigns_resume_after_daily_limit`, run by the sweep).
- Limits: a call Onurix charges more than the estimate (the campaign's own average so far,
  or the estimate at launch, whichever is higher) can take the total past the limit by that
  difference, for the phones in flight. On PostgreSQL the daily limit is checked under an
  advisory lock, so two campaigns never claim the same room; SQLite has one writer anyway.
- The low-balance alert (`balance_alert_check`, run by the sweep every minute): when the
  balance falls under ONURIX_LOW_BALANCE_ALERT the administrators get one email; the next
  one only after the balance went back above. The state lives in `BalanceAlert`.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from ..calling_hours import BOGOTA
from ..models import ActivityEntry, BalanceAlert, Campaign, CampaignTotals
from ..selectors import credits_net_between, credits_per_call_estimate
from .activity import activity_record
from .campaigns import campaign_resume, campaigns_auto_resume
from .onurix_health import OnurixHealth, onurix_health

logger = logging.getLogger(__name__)

# Any constant shared by every process: the key of the advisory lock of the daily limit.
DAILY_LIMIT_LOCK = 0x0A1C_C4ED


@dataclass(frozen=True)
class SpendingRoom:
    """How many more phones a claim may take under the spending limits."""

    phones: int | None  # None: no limit applies
    reason: str = ""  # a Campaign.PauseReason when no phone fits
    message: str = ""  # why, for the campaign's page

    @property
    def exhausted(self) -> bool:
        return self.phones is not None and self.phones <= 0

    def batch(self, size: int) -> int:
        """A batch of at most `size` phones that fits."""
        return size if self.phones is None else max(0, min(size, self.phones))


def _number(value) -> str:
    return number_format(value, decimal_pos=0, force_grouping=True)


def _per_phone(totals: CampaignTotals, estimated: Decimal | None) -> Decimal:
    """What a phone of this campaign is expected to cost: the higher of the estimate at
    launch and the campaign's own average so far (so a dearer price is learned)."""
    to_call = totals.phone_count
    if estimated is not None and to_call:
        at_launch = Decimal(estimated) / to_call
    else:
        at_launch, _from_history = credits_per_call_estimate()
    charged_phones = totals.sent + totals.answered + totals.failed
    own = totals.credits / charged_phones if charged_phones else Decimal(0)
    return max(at_launch, own)


def _phones_in(room: Decimal, per_phone: Decimal) -> int:
    return max(0, int((room / per_phone).to_integral_value(rounding=ROUND_FLOOR)))


def spending_room(*, campaign: Campaign, now: datetime) -> SpendingRoom:
    """How many more phones of `campaign` may be claimed now under its credit cap and the
    account's daily limit, and, when none, why. Call it in the claim's transaction."""
    row = (
        Campaign.objects.filter(pk=campaign.pk)
        .values_list("credit_cap", "estimated_credits")
        .first()
    )
    if row is None:
        return SpendingRoom(phones=None)
    cap, estimated = row
    daily_limit = settings.ONURIX_DAILY_CREDIT_LIMIT
    if cap is None and daily_limit <= 0:
        return SpendingRoom(phones=None)
    totals = CampaignTotals.objects.get(campaign_id=campaign.pk)
    per_phone = _per_phone(totals, estimated)
    if per_phone <= 0:
        return SpendingRoom(phones=None)  # calls cost nothing: nothing to limit
    rooms = []
    if cap is not None:
        spent = totals.net_credits + totals.sending * per_phone
        phones = _phones_in(Decimal(cap) - spent, per_phone)
        message = _(
            "Credit limit reached: %(spent)s of the %(cap)s credits this campaign may spend "
            "are charged or in calls being sent. The phones not called yet wait in the "
            "queue: raise the limit to go on."
        ) % {"spent": _number(min(spent, Decimal(cap))), "cap": _number(cap)}
        rooms.append(SpendingRoom(phones, Campaign.PauseReason.CREDIT_CAP, message))
    if daily_limit > 0:
        rooms.append(_daily_room(now=now, per_phone=per_phone, limit=daily_limit))
    return min(rooms, key=lambda room: room.phones)


def _daily_room(*, now: datetime, per_phone: Decimal, limit: int) -> SpendingRoom:
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # Held until the claim commits: the next campaign's claim sees these phones sending.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DAILY_LIMIT_LOCK])
    spent = credits_spent_today(now=now) + phones_in_flight() * per_phone
    phones = _phones_in(Decimal(limit) - spent, per_phone)
    message = _(
        "Daily credit limit reached: the account spent or has in calls being sent "
        "%(spent)s of the %(limit)s credits it may spend today (ONURIX_DAILY_CREDIT_LIMIT). "
        "The campaign goes on by itself tomorrow."
    ) % {"spent": _number(min(spent, Decimal(limit))), "limit": _number(limit)}
    return SpendingRoom(phones, Campaign.PauseReason.DAILY_LIMIT, message)


def daily_limit_refusal(*, now: datetime) -> str:
    """Why one more call (a test call) would pass ONURIX_DAILY_CREDIT_LIMIT, or ""."""
    limit = settings.ONURIX_DAILY_CREDIT_LIMIT
    if limit <= 0:
        return ""
    per_call, _from_history = credits_per_call_estimate()
    spent = credits_spent_today(now=now) + phones_in_flight() * per_call
    if Decimal(limit) - spent >= per_call:
        return ""
    return _(
        "The account reached its daily credit limit: %(spent)s of the %(limit)s credits it "
        "may spend today (ONURIX_DAILY_CREDIT_LIMIT). Test calls go on tomorrow."
    ) % {"spent": _number(min(spent, Decimal(limit))), "limit": _number(limit)}


def credits_spent_today(*, now: datetime) -> Decimal:
    """Net credits of the calls sent since midnight in Bogota (test calls included)."""
    midnight = now.astimezone(BOGOTA).replace(hour=0, minute=0, second=0, microsecond=0)
    return credits_net_between(midnight)


def phones_in_flight() -> int:
    """Phones being sent right now, across campaigns (from the totals the database keeps)."""
    sending = CampaignTotals.objects.filter(campaign__state__in=Campaign.ACTIVE_STATES)
    return sending.aggregate(count=Sum("sending"))["count"] or 0


def campaigns_resume_after_daily_limit(*, now: datetime) -> list[int]:
    """Resume the campaigns the daily limit paused, once the day has room for a call
    again (a new day, or a higher limit). Returns their ids; the sweep wakes them."""
    paused = Campaign.objects.filter(
        state=Campaign.State.PAUSED, pause_reason=Campaign.PauseReason.DAILY_LIMIT
    )
    ids = list(paused.values_list("pk", flat=True))
    if not ids:
        return []
    if daily_limit_refusal(now=now):
        return []
    resumed = campaigns_auto_resume(reasons=[Campaign.PauseReason.DAILY_LIMIT])
    if resumed:
        logger.info("The daily credit limit has room again: resumed campaigns %s", resumed)
    return resumed


# -- raising a campaign's cap -------------------------------------------------------------


def campaign_set_credit_cap(*, campaign: Campaign, user, credit_cap: int | None) -> bool:
    """Change the credit cap of a launched campaign that may still send (None: no cap),
    and resume it if it was paused for its cap. Returns whether it resumed.

    Raises ValidationError when the new cap does not leave room for one more call (the
    campaign would pause again at once), or when the campaign is over or a draft.
    """
    if campaign.state not in Campaign.ACTIVE_STATES:
        raise ValidationError(_("The credit limit can only change while the campaign may send."))
    if credit_cap is not None:
        totals = CampaignTotals.objects.get(campaign_id=campaign.pk)
        per_phone = _per_phone(totals, campaign.estimated_credits)
        spent = totals.net_credits + totals.sending * per_phone
        if Decimal(credit_cap) - spent < per_phone:
            raise ValidationError(
                _(
                    "Choose more than %(spent)s credits: that much is charged or in calls "
                    "being sent, and a call costs about %(price)s."
                )
                % {"spent": _number(spent), "price": number_format(per_phone, decimal_pos=2)}
            )
    with transaction.atomic():
        changed = Campaign.objects.filter(pk=campaign.pk, state__in=Campaign.ACTIVE_STATES).update(
            credit_cap=credit_cap, updated_at=timezone.now()
        )
        if not changed:
            raise ValidationError(
                _("The credit limit can only change while the campaign may send.")
            )
        # Raising a limit authorises spending: the activity log says who did.
        activity_record(
            action=ActivityEntry.Action.CAMPAIGN_CREDIT_CAP,
            target=campaign,
            user=user,
            details={"changes": {"credit_cap": [campaign.credit_cap, credit_cap]}},
        )
    campaign.refresh_from_db()
    logger.info("Campaign %s: credit cap set to %s by %s", campaign.pk, credit_cap, user)
    if campaign.pause_reason == Campaign.PauseReason.CREDIT_CAP:
        return campaign_resume(campaign=campaign, user=user)
    return False


# -- the low-balance alert ----------------------------------------------------------------


@dataclass(frozen=True)
class LowBalance:
    """What the dashboard says while the balance is under the alert's threshold."""

    balance: Decimal
    threshold: Decimal
    checked_at: datetime
    calls: int  # calls the balance still buys, at the estimated price of a call
    credits_per_call: Decimal


def low_balance() -> LowBalance | None:
    """The low balance last read by the sweep, or None when it was not low (or the alert
    is off)."""
    if settings.ONURIX_LOW_BALANCE_ALERT <= 0:
        return None
    alert = BalanceAlert.objects.filter(pk=1, low=True).first()
    if alert is None or alert.balance is None:
        return None
    return _low_balance(alert.balance, alert.threshold, alert.checked_at)


def _low_balance(balance: Decimal, threshold, checked_at) -> LowBalance:
    per_call, _from_history = credits_per_call_estimate()
    calls = _phones_in(max(balance, Decimal(0)), per_call) if per_call > 0 else 0
    return LowBalance(
        balance=balance,
        threshold=Decimal(threshold or settings.ONURIX_LOW_BALANCE_ALERT),
        checked_at=checked_at,
        calls=calls,
        credits_per_call=per_call,
    )


def balance_alert_check(*, health: OnurixHealth | None = None) -> str:
    """Compare the balance (read now, unless `health` is given) with
    ONURIX_LOW_BALANCE_ALERT and email the administrators when it just fell under.

    Returns what happened: "off" (no threshold), "unknown" (no balance read), "ok",
    "still_low" (already alerted), "alerted", "not_sent" (the email failed: tried again
    at the next check), "recovered" (back above: the next fall alerts again).
    """
    threshold = settings.ONURIX_LOW_BALANCE_ALERT
    if threshold <= 0:
        return "off"
    health = health or onurix_health()
    if not health.ok or health.balance is None:
        return "unknown"
    now = timezone.now()
    BalanceAlert.objects.get_or_create(pk=1)  # of two workers at once, one creates it
    row = BalanceAlert.objects.filter(pk=1)
    row.update(balance=health.balance, threshold=threshold, checked_at=now)
    if health.balance >= threshold:
        return "recovered" if row.filter(low=True).update(low=False, low_since=None) else "ok"
    # The conditional update is the crossing: of two workers, one sends the email.
    if not row.filter(low=False).update(low=True, low_since=now):
        return "still_low"
    alert = _low_balance(health.balance, threshold, now)
    try:
        sent = _send_low_balance_email(alert)
    except (smtplib.SMTPException, OSError):
        logger.exception("The low-balance email could not be sent: tried again in a minute")
        row.update(low=False, low_since=None)
        return "not_sent"
    if sent:
        row.update(alerted_at=now)
    logger.warning("Onurix balance %s is under %s: alert sent", health.balance, threshold)
    return "alerted"


def alert_recipients() -> list[str]:
    """DJANGO_ADMINS, or else every active superuser with an email."""
    addresses = [address for _name, address in settings.ADMINS]
    if addresses:
        return addresses
    users = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    return list(users.values_list("email", flat=True))


def _send_low_balance_email(alert: LowBalance) -> int:
    recipients = alert_recipients()
    if not recipients:
        logger.warning("Low balance, but nobody to tell: set DJANGO_ADMINS")
        return 0
    figures = {
        "balance": _number(alert.balance),
        "threshold": _number(alert.threshold),
        "calls": _number(alert.calls),
        "price": number_format(alert.credits_per_call, decimal_pos=2),
    }
    subject = _("Onurix balance low: %(balance)s credits") % figures
    body = (
        _(
            "The Onurix balance is %(balance)s credits, under the alert's %(threshold)s "
            "(ONURIX_LOW_BALANCE_ALERT).\n\n"
            "It still buys about %(calls)s calls, at about %(price)s credits a call. When it "
            "runs out, campaigns pause until credits are bought.\n\n"
            "Buy credits in the Onurix portal. This email is not sent again until the balance "
            "goes back above %(threshold)s."
        )
        % figures
    )
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
