"""Legal calling hours in Colombia (Ley 2300 de 2023) and per-campaign windows."""

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from campaigns.calling_hours import CallingWindow, calling_window, holiday_name, is_holiday

BOGOTA = ZoneInfo("America/Bogota")


def bogota(year, month, day, hour=0, minute=0, second=0):
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BOGOTA)


def first_monday_holiday(year):
    return min(day for day in holidays.country_holidays("CO", years=year) if day.weekday() == 0)


@pytest.fixture
def legal():
    return calling_window(policy="ley2300")


# 2026-11-30 is a Monday with no holiday; 2026-12-05 a Saturday; 2026-12-06 a Sunday.
MONDAY = dt.date(2026, 11, 30)


def test_the_default_policy_is_ley2300(settings):
    del settings.CAMPAIGN_CALLING_HOURS
    window = calling_window()
    assert window == CallingWindow(policy="ley2300")
    assert not window.is_open(bogota(2026, 12, 6, 10))


def test_policy_comes_from_settings(settings):
    settings.CAMPAIGN_CALLING_HOURS = "always"
    assert calling_window().policy == "always"


def test_an_unknown_policy_in_settings_is_improperly_configured(settings):
    settings.CAMPAIGN_CALLING_HOURS = "24/7"
    with pytest.raises(ImproperlyConfigured, match="CAMPAIGN_CALLING_HOURS"):
        calling_window()


def test_an_unknown_explicit_policy_raises_value_error():
    with pytest.raises(ValueError, match="nights"):
        calling_window(policy="nights")


def test_naive_datetimes_are_refused(legal):
    naive = dt.datetime(2026, 12, 1, 10)
    for method in (legal.is_open, legal.next_opening, legal.closes_at, legal.describe_wait):
        with pytest.raises(ValueError, match="aware"):
            method(naive)


def test_sunday_is_closed_and_sending_resumes_monday_at_seven(legal):
    sunday = bogota(2026, 12, 6, 10)
    assert not legal.is_open(sunday)
    assert legal.next_opening(sunday) == bogota(2026, 12, 7, 7)
    assert legal.closes_at(sunday) is None


def test_a_holiday_moved_to_monday_pushes_the_opening_to_tuesday(legal):
    holiday_monday = first_monday_holiday(2026)
    assert is_holiday(holiday_monday)
    sunday = holiday_monday - dt.timedelta(days=1)
    saturday_evening = dt.datetime.combine(
        holiday_monday - dt.timedelta(days=2), dt.time(16), tzinfo=BOGOTA
    )
    tuesday_seven = dt.datetime.combine(
        holiday_monday + dt.timedelta(days=1), dt.time(7), tzinfo=BOGOTA
    )

    assert not legal.is_open(dt.datetime.combine(holiday_monday, dt.time(10), tzinfo=BOGOTA))
    assert legal.next_opening(dt.datetime.combine(sunday, dt.time(12), tzinfo=BOGOTA)) == (
        tuesday_seven
    )
    assert legal.next_opening(saturday_evening) == tuesday_seven


def test_a_holiday_on_a_weekday_is_closed(legal):
    christmas = bogota(2026, 12, 25, 10)  # a Friday
    assert christmas.weekday() == 4
    assert not legal.is_open(christmas)
    assert legal.next_opening(christmas) == bogota(2026, 12, 26, 8)  # Saturday


def test_holy_week_thursday_and_friday_are_closed(legal):
    assert not legal.is_open(bogota(2026, 4, 2, 10))
    assert not legal.is_open(bogota(2026, 4, 3, 10))
    assert legal.next_opening(bogota(2026, 4, 2, 10)) == bogota(2026, 4, 4, 8)


def test_saturday_is_open_from_eight_until_three(legal):
    assert not legal.is_open(bogota(2026, 12, 5, 7, 59, 59))
    assert legal.is_open(bogota(2026, 12, 5, 8))
    assert legal.is_open(bogota(2026, 12, 5, 14, 59))
    assert legal.is_open(bogota(2026, 12, 5, 14, 59, 59))
    assert not legal.is_open(bogota(2026, 12, 5, 15))


def test_saturday_afternoon_resumes_monday_at_seven(legal):
    assert not legal.is_open(bogota(2026, 12, 5, 15, 30))
    assert legal.next_opening(bogota(2026, 12, 5, 15, 30)) == bogota(2026, 12, 7, 7)


def test_weekday_before_seven_opens_the_same_day(legal):
    early = bogota(2026, 12, 1, 6, 59)
    assert not legal.is_open(early)
    assert legal.next_opening(early) == bogota(2026, 12, 1, 7)
    assert legal.is_open(bogota(2026, 12, 1, 7))


def test_seven_pm_is_closed_and_opens_next_day(legal):
    assert legal.is_open(bogota(2026, 12, 1, 18, 59, 59))
    assert not legal.is_open(bogota(2026, 12, 1, 19))
    assert legal.next_opening(bogota(2026, 12, 1, 19)) == bogota(2026, 12, 2, 7)


def test_friday_evening_resumes_saturday_at_eight(legal):
    friday = bogota(2026, 12, 4, 19, 30)
    assert friday.weekday() == 4
    assert legal.next_opening(friday) == bogota(2026, 12, 5, 8)


def test_next_opening_returns_the_moment_itself_when_open(legal):
    at = bogota(2026, 12, 1, 10, 15, 30)
    assert legal.next_opening(at) == at


def test_closes_at_is_the_end_of_the_current_period(legal):
    assert legal.closes_at(bogota(2026, 12, 1, 10)) == bogota(2026, 12, 1, 19)
    assert legal.closes_at(bogota(2026, 12, 5, 10)) == bogota(2026, 12, 5, 15)
    assert legal.closes_at(bogota(2026, 12, 1, 20)) is None


def test_a_narrower_window_is_intersected_with_the_legal_hours():
    window = calling_window(start=dt.time(9), end=dt.time(12), policy="ley2300")
    assert not window.is_open(bogota(2026, 12, 1, 8))
    assert window.next_opening(bogota(2026, 12, 1, 8)) == bogota(2026, 12, 1, 9)
    assert window.is_open(bogota(2026, 12, 1, 11, 59))
    assert not window.is_open(bogota(2026, 12, 1, 12))
    assert window.closes_at(bogota(2026, 12, 1, 10)) == bogota(2026, 12, 1, 12)
    assert window.next_opening(bogota(2026, 12, 1, 12)) == bogota(2026, 12, 2, 9)
    # Still closed on Sundays.
    assert window.next_opening(bogota(2026, 12, 6, 10)) == bogota(2026, 12, 7, 9)


def test_a_window_wider_than_the_law_is_clipped():
    window = calling_window(start=dt.time(5), end=dt.time(22), policy="ley2300")
    assert not window.is_open(bogota(2026, 12, 1, 6))
    assert window.next_opening(bogota(2026, 12, 1, 6)) == bogota(2026, 12, 1, 7)
    assert not window.is_open(bogota(2026, 12, 1, 20))
    assert window.closes_at(bogota(2026, 12, 5, 9)) == bogota(2026, 12, 5, 15)


def test_a_one_sided_window_narrows_only_that_side():
    window = calling_window(start=dt.time(10), policy="ley2300")
    assert window.next_opening(bogota(2026, 12, 1, 7)) == bogota(2026, 12, 1, 10)
    assert window.closes_at(bogota(2026, 12, 1, 11)) == bogota(2026, 12, 1, 19)


def test_a_window_that_ends_before_saturday_opens_skips_saturdays():
    window = calling_window(start=dt.time(7), end=dt.time(8), policy="ley2300")
    assert window.next_opening(bogota(2026, 12, 4, 9)) == bogota(2026, 12, 7, 7)


@pytest.mark.parametrize(
    ("start", "end"),
    [(dt.time(12), dt.time(9)), (dt.time(10), dt.time(10)), (dt.time(20), dt.time(22))],
)
def test_a_window_that_never_opens_raises_instead_of_looping(start, end):
    window = calling_window(start=start, end=end, policy="ley2300")
    assert not window.is_open(bogota(2026, 12, 1, 21))
    with pytest.raises(ValueError, match="never opens"):
        window.next_opening(bogota(2026, 12, 1, 10))
    assert "never" in window.describe_wait(bogota(2026, 12, 1, 10))


def test_aware_window_times_are_refused():
    with pytest.raises(ValueError, match="wall-clock"):
        calling_window(start=dt.time(9, tzinfo=dt.UTC), policy="ley2300")


def test_always_is_open_on_sunday_night():
    window = calling_window(policy="always")
    sunday = bogota(2026, 12, 6, 3)
    assert window.is_open(sunday)
    assert window.next_opening(sunday) == sunday
    assert window.closes_at(sunday) is None
    assert window.is_open(bogota(2026, 12, 25, 23, 59))


def test_always_with_a_narrower_window_applies_that_window_every_day():
    window = calling_window(start=dt.time(9), end=dt.time(17), policy="always")
    assert window.is_open(bogota(2026, 12, 6, 16))  # Sunday
    assert not window.is_open(bogota(2026, 12, 6, 17))
    assert window.next_opening(bogota(2026, 12, 6, 18)) == bogota(2026, 12, 7, 9)
    assert window.closes_at(bogota(2026, 12, 6, 10)) == bogota(2026, 12, 6, 17)


def test_always_with_only_a_start_closes_at_midnight():
    window = calling_window(start=dt.time(22), policy="always")
    assert window.closes_at(bogota(2026, 12, 6, 23)) == bogota(2026, 12, 7)
    assert window.next_opening(bogota(2026, 12, 7, 1)) == bogota(2026, 12, 7, 22)


def test_a_midnight_start_narrows_nothing():
    assert calling_window(start=dt.time(0), policy="always").is_open(bogota(2026, 12, 6, 0))


def test_input_in_utc_is_read_in_bogota_time(legal):
    noon_utc = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)  # 07:00 in Bogota
    assert legal.is_open(noon_utc)
    assert not legal.is_open(noon_utc - dt.timedelta(seconds=1))
    opening = legal.next_opening(noon_utc - dt.timedelta(hours=1))
    assert opening == bogota(2026, 12, 1, 7)
    assert opening.tzinfo == BOGOTA
    # Tuesday 00:30 UTC is still Monday 19:30 in Bogota.
    assert legal.next_opening(dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.UTC)) == bogota(
        2026, 12, 1, 7
    )


def test_holiday_names_follow_the_active_language():
    with translation.override("es-co"):
        assert holiday_name(dt.date(2026, 12, 25)) == "Navidad"
    with translation.override("en"):
        assert holiday_name(dt.date(2026, 12, 25)) == "Christmas Day"
    assert holiday_name(dt.date(2026, 12, 1)) is None


def test_describe_wait_uses_colombian_date_and_time_formats(legal):
    with translation.override("es-co"):
        text = legal.describe_wait(bogota(2026, 12, 5, 15, 30))  # Saturday afternoon
    assert "07/12/2026" in text
    assert "07:00" in text
    assert "15:00" in text  # names the Saturday closing time


def test_describe_wait_in_english_names_each_reason(legal):
    with translation.override("en"):
        sunday = legal.describe_wait(bogota(2026, 12, 6, 10))
        holiday = legal.describe_wait(bogota(2026, 12, 25, 10))
        holy_thursday = legal.describe_wait(bogota(2026, 4, 2, 10))
        early = legal.describe_wait(bogota(2026, 12, 1, 6))
        late = legal.describe_wait(bogota(2026, 12, 1, 20))
        saturday = legal.describe_wait(bogota(2026, 12, 5, 16))
        campaign = calling_window(start=dt.time(9), policy="ley2300").describe_wait(
            bogota(2026, 12, 1, 8)
        )
        open_now = legal.describe_wait(bogota(2026, 12, 1, 10))
        always = calling_window(policy="always").describe_wait(bogota(2026, 12, 6, 3))
    assert sunday.startswith("Calls are not made on Sundays.")
    assert "tomorrow" in sunday
    assert "Christmas Day" in holiday
    assert "tomorrow at 08:00" in holiday
    assert "Saturday 04/04/2026 at 08:00" in holy_thursday
    assert early.startswith("Calling hours have not started yet.")
    assert "today" in early
    assert late.startswith("Calling hours are over for today.")
    assert "tomorrow" in late
    assert saturday.startswith("On Saturdays calls end at")
    assert "Monday 12/07/2026" in saturday
    assert campaign.startswith("Outside this campaign's calling window.")
    assert open_now.startswith("Within calling hours until")
    assert always == "Calls may be made at any time."


def test_describe_wait_in_spanish_with_the_digits_of_the_resume_time(legal):
    with translation.override("es-co"):
        early = legal.describe_wait(bogota(2026, 12, 1, 6, 30))
        holiday = legal.describe_wait(bogota(2026, 4, 2, 10))
    assert "07:00" in early
    assert "Jueves Santo" in holiday
    assert "sábado 04/04/2026" in holiday
    assert "08:00" in holiday
