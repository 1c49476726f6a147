"""When a campaign may call: the legal calling hours of Colombia, narrowed per campaign.

Ley 2300 de 2023 allows calls Monday to Friday 07:00-19:00 and Saturday 08:00-15:00,
never on Sundays nor public holidays, in Colombian time. The setting
`CAMPAIGN_CALLING_HOURS` picks the policy:

- ``"ley2300"`` (default): the legal hours above.
- ``"always"``: no legal restriction (tests, urgent non-commercial alerts).

A campaign may narrow the daily window (``calling_window_start`` / ``calling_window_end``):
on each day the effective window is the intersection of the policy's window and the
campaign's, so it is never wider than the law allows. Windows are start-inclusive and
end-exclusive (at 19:00:00 the day is closed).

Pure module: no database, no HTTP; settings are read only when a window is built.
"""

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# The law speaks of Colombian time, whatever TIME_ZONE the server runs with.
BOGOTA = ZoneInfo("America/Bogota")

POLICY_LEY2300 = "ley2300"
POLICY_ALWAYS = "always"
POLICIES = (POLICY_LEY2300, POLICY_ALWAYS)
SETTING_NAME = "CAMPAIGN_CALLING_HOURS"

# Legal window per weekday (Monday = 0); Sunday has none.
LEGAL_HOURS: dict[int, tuple[dt.time, dt.time]] = {
    **{weekday: (dt.time(7), dt.time(19)) for weekday in range(5)},
    5: (dt.time(8), dt.time(15)),
}
SUNDAY = 6
SATURDAY = 5

# Enough to cross any run of closed days; a window still closed after this never opens.
MAX_SEARCH_DAYS = 400


@functools.cache
def _holiday_names(year: int, language: str) -> dict[dt.date, str]:
    """Colombian public holidays of one year, named in `language` ("es" or "en_US")."""
    return dict(holidays.country_holidays("CO", years=year, language=language).items())


def _holiday_language() -> str:
    # The `holidays` package names Colombian holidays in Spanish, English or Ukrainian.
    return "en_US" if (get_language() or "").startswith("en") else "es"


def holiday_name(day: dt.date) -> str | None:
    """The name of the Colombian public holiday on `day` (in the active language), or None."""
    return _holiday_names(day.year, _holiday_language()).get(day)


def is_holiday(day: dt.date) -> bool:
    return day in _holiday_names(day.year, "es")


def _policy_from_settings() -> str:
    policy = getattr(settings, SETTING_NAME, POLICY_LEY2300)
    if policy not in POLICIES:
        raise ImproperlyConfigured(
            f"{SETTING_NAME} must be one of {', '.join(map(repr, POLICIES))}; got {policy!r}."
        )
    return policy


def _to_bogota(at: dt.datetime) -> dt.datetime:
    if not isinstance(at, dt.datetime):
        raise TypeError(f"Expected a datetime, got {type(at).__name__}.")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("Calling hours need an aware datetime; got a naive one.")
    return at.astimezone(BOGOTA)


@dataclass(frozen=True)
class CallingWindow:
    """The hours a campaign may call. Build it with `calling_window()`.

    `start` and `end` are the campaign's optional narrower daily window, as wall-clock
    times in America/Bogota (None: no narrowing on that side).
    """

    policy: str
    start: dt.time | None = None
    end: dt.time | None = None

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(
                f"Unknown calling-hours policy {self.policy!r}; expected one of {POLICIES}."
            )
        for bound in (self.start, self.end):
            if bound is not None and bound.tzinfo is not None:
                raise ValueError(
                    "Calling window times are Bogota wall-clock times, without tzinfo."
                )

    @property
    def is_unrestricted(self) -> bool:
        return self.policy == POLICY_ALWAYS and self.start is None and self.end is None

    def _legal_period(self, day: dt.date) -> tuple[dt.time, dt.time | None] | None:
        """The policy's window on `day`; an end of None means midnight at the end of day."""
        if self.policy == POLICY_ALWAYS:
            return dt.time(0), None
        if day.weekday() == SUNDAY or is_holiday(day):
            return None
        return LEGAL_HOURS[day.weekday()]

    def _period(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The effective open period on `day` as aware Bogota datetimes, or None if closed."""
        legal = self._legal_period(day)
        if legal is None:
            return None
        legal_start, legal_end = legal
        start = max(legal_start, self.start) if self.start is not None else legal_start
        if legal_end is None:
            end = self.end
        elif self.end is None:
            end = legal_end
        else:
            end = min(legal_end, self.end)
        opens = dt.datetime.combine(day, start, tzinfo=BOGOTA)
        if end is None:
            closes = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=BOGOTA)
        else:
            closes = dt.datetime.combine(day, end, tzinfo=BOGOTA)
        if opens >= closes:
            return None
        return opens, closes

    def is_open(self, at: dt.datetime) -> bool:
        """Whether a call may be made at `at`. Raises ValueError for a naive datetime."""
        local = _to_bogota(at)
        if self.is_unrestricted:
            return True
        period = self._period(local.date())
        return period is not None and period[0] <= local < period[1]

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """`at` (in Bogota time) if open, else the next moment the window opens.

        Raises ValueError for a naive datetime, or when the window does not open within
        MAX_SEARCH_DAYS (a campaign window that never meets the legal hours, or start >= end).
        """
        local = _to_bogota(at)
        if self.is_unrestricted:
            return local
        day = local.date()
        for offset in range(MAX_SEARCH_DAYS):
            period = self._period(day + dt.timedelta(days=offset))
            if period is not None and local < period[1]:
                return max(local, period[0])
        raise ValueError(
            f"The calling window {self.start}-{self.end} never opens under the "
            f"{self.policy!r} calling hours."
        )

    def closes_at(self, at: dt.datetime) -> dt.datetime | None:
        """When the open period containing `at` ends (Bogota time).

        None when closed at `at`, or when nothing ever closes (policy "always" without a
        narrower window). Raises ValueError for a naive datetime.
        """
        local = _to_bogota(at)
        if self.is_unrestricted:
            return None
        period = self._period(local.date())
        if period is None or not period[0] <= local < period[1]:
            return None
        return period[1]

    def describe_wait(self, at: dt.datetime) -> str:
        """A sentence for pages: why no call is made at `at` and when sending resumes.

        When open, says so (and until when). Translated into the active language, with
        its short date format and a 24-hour clock. Raises ValueError for a naive datetime.
        """
        local = _to_bogota(at)
        if self.is_open(local):
            closes = self.closes_at(local)
            if closes is None:
                return _("Calls may be made at any time.")
            return _("Within calling hours until %(time)s.") % {"time": _time(closes)}
        try:
            opening = self.next_opening(local)
        except ValueError:
            return _("This campaign's calling window never falls within the legal calling hours.")
        return f"{self._closed_reason(local)} {_resume_sentence(local, opening)}"

    def _closed_reason(self, local: dt.datetime) -> str:
        day = local.date()
        if self.policy == POLICY_LEY2300:
            if is_holiday(day):
                name = holiday_name(day)
                if name:
                    return _("Calls are not made on holidays (%(holiday)s).") % {"holiday": name}
                return _("Calls are not made on holidays.")
            if day.weekday() == SUNDAY:
                return _("Calls are not made on Sundays.")
            legal_start, legal_end = LEGAL_HOURS[day.weekday()]
            if local.time() < legal_start:
                return _("Calling hours have not started yet.")
            if local.time() >= legal_end:
                if day.weekday() == SATURDAY:
                    return _("On Saturdays calls end at %(time)s.") % {
                        "time": _time(dt.datetime.combine(day, legal_end, tzinfo=BOGOTA))
                    }
                return _("Calling hours are over for today.")
        return _("Outside this campaign's calling window.")


def describe_start(start: dt.datetime, now: dt.datetime) -> str:
    """A sentence for pages: when the calls of a campaign start, `start` being the moment
    they really may (see `CallingWindow.next_opening`), said in the active language."""
    local, opening = _to_bogota(now), _to_bogota(start)
    if opening <= local + dt.timedelta(minutes=1):
        return _("The calls start as soon as you launch.")
    return _day_sentence(
        local,
        opening,
        today=_("The calls start today at %(time)s (Colombian time)."),
        tomorrow=_("The calls start tomorrow at %(time)s (Colombian time)."),
        later=_("The calls start on %(weekday)s %(date)s at %(time)s (Colombian time)."),
    )


def _day_sentence(
    local: dt.datetime, opening: dt.datetime, *, today: str, tomorrow: str, later: str
) -> str:
    """One of three sentences about `opening` seen from `local`: today, tomorrow, or a
    later day (with its weekday and date); each takes %(time)s."""
    days_ahead = (opening.date() - local.date()).days
    values = {"time": _time(opening)}
    if days_ahead == 0:
        return today % values
    if days_ahead == 1:
        return tomorrow % values
    values.update(_weekday_and_date(opening))
    return later % values


def _weekday_and_date(moment: dt.datetime) -> dict[str, str]:
    weekday = formats.date_format(moment, "l")
    # Django's Spanish catalogue capitalises weekdays; mid-sentence Spanish writes "lunes".
    if (get_language() or "").startswith("es"):
        weekday = weekday.lower()
    return {"weekday": weekday, "date": formats.date_format(moment, "SHORT_DATE_FORMAT")}


def _time(moment: dt.datetime) -> str:
    # A 24-hour clock in every language, as the law and the campaign form state the hours
    # (and English's "7 a.m." would end a sentence with "a.m..").
    return formats.time_format(moment, "H:i")


def _resume_sentence(local: dt.datetime, opening: dt.datetime) -> str:
    return _day_sentence(
        local,
        opening,
        today=_("Sending resumes today at %(time)s."),
        tomorrow=_("Sending resumes tomorrow at %(time)s."),
        later=_("Sending resumes on %(weekday)s %(date)s at %(time)s."),
    )


def calling_window(
    *, start: dt.time | None = None, end: dt.time | None = None, policy: str | None = None
) -> CallingWindow:
    """The calling window for a campaign's optional narrower daily window.

    `policy` None reads `CAMPAIGN_CALLING_HOURS` (default "ley2300") and raises
    ImproperlyConfigured for an unknown value; an unknown explicit `policy` raises
    ValueError. `start`/`end` are naive wall-clock times in Bogota (ValueError if aware).
    A window with start >= end is accepted here but never opens (see `next_opening`).
    """
    if policy is None:
        policy = _policy_from_settings()
    # A window starting at midnight narrows nothing on that side.
    if start == dt.time(0):
        start = None
    return CallingWindow(policy=policy, start=start, end=end)
