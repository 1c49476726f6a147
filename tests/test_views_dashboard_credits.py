"""Credits on the dashboard: used today, this week, this month, per day; cached balance."""

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone as django_timezone

from campaigns import onurix
from campaigns.models import Campaign
from campaigns.onurix import Balance
from tests.factories import make_campaign, make_result

pytestmark = pytest.mark.django_db

BOGOTA = ZoneInfo("America/Bogota")
# Wednesday 25 November 2026, 10:00 in Bogota; the week started on Monday the 23rd.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BOGOTA)


class _Clock:
    """Moves Django's now and the cache's time.time together."""

    def __init__(self, monkeypatch):
        self.moment = NOW
        monkeypatch.setattr(django_timezone, "now", lambda: self.moment.astimezone(UTC))
        monkeypatch.setattr(time, "time", lambda: self.moment.timestamp())

    def move_to(self, moment):
        self.moment = moment


@pytest.fixture
def clock(monkeypatch):
    return _Clock(monkeypatch)


@pytest.fixture
def calls(clock):
    campaign = make_campaign(name="Citas", state=Campaign.State.FINISHED)

    def call(moment, credits=1, refunded=0):
        make_result(campaign=campaign, sent_at=moment, credits=credits, credits_refunded=refunded)

    call(NOW - timedelta(hours=1), credits=2)  # today
    call(NOW - timedelta(hours=1), credits=1, refunded=1)  # today, refunded: costs nothing
    # 23:30 yesterday in Bogota is already today in UTC: it belongs to yesterday.
    call(datetime(2026, 11, 24, 23, 30, tzinfo=BOGOTA), credits=3)
    call(datetime(2026, 11, 23, 0, 5, tzinfo=BOGOTA), credits=4)  # Monday: this week
    call(datetime(2026, 11, 22, 23, 55, tzinfo=BOGOTA), credits=5)  # Sunday: last week
    call(datetime(2026, 11, 1, 0, 1, tzinfo=BOGOTA), credits=6)  # this month
    call(datetime(2026, 10, 31, 23, 59, tzinfo=BOGOTA), credits=7)  # last month, in 30 days
    call(datetime(2026, 10, 1, 12, 0, tzinfo=BOGOTA), credits=100)  # too old for the chart
    return campaign


def test_credits_today_week_month_on_bogota_days(auth_client, calls):
    page = auth_client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    usage = page.context["usage"]
    assert usage.today == 2
    assert usage.week == 2 + 3 + 4
    assert usage.month == 2 + 3 + 4 + 5 + 6
    per_day = {day.day.isoformat(): day.net for day in usage.per_day}
    assert len(per_day) == 30 and list(per_day)[-1] == "2026-11-25"
    assert per_day["2026-11-25"] == 2 and per_day["2026-11-24"] == 3
    assert per_day["2026-10-27"] == 0 and per_day["2026-11-01"] == 6
    text = page.text
    assert 'data-testid="credits-today">2<' in text
    assert 'data-testid="credits-week">9<' in text
    assert 'data-testid="credits-month">20<' in text
    assert text.count('<rect class="bar') == 30
    assert 'data-day="2026-11-24"' in text


def test_recent_campaigns_show_state_and_net_cost(auth_client, calls):
    make_campaign(name="Borrador")
    page = auth_client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    table = page.text.split('data-testid="recent-campaigns"')[1].split("</table>")[0]
    rows = {
        re.search(r">([^<]+)</a>", row).group(1): re.findall(r'<td class="num">([^<]*)</td>', row)
        for row in table.split("<tr>")[2:]
    }
    net = 2 + 3 + 4 + 5 + 6 + 7 + 100
    assert rows["Citas"][1] == str(net)
    assert rows["Borrador"] == ["—", "—"]  # a draft has no phones or credits yet
    assert "Finished" in page.text and "Draft" in page.text


def test_dashboard_queries_do_not_grow_with_the_calls(auth_client, calls):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert auth_client.get(reverse("dashboard")).status_code == 200
        return len(captured)

    before = queries()
    for n in range(300):  # more calls, on many days and in more campaigns
        campaign = calls if n % 3 else make_campaign(name=f"Otra {n}")
        make_result(campaign=campaign, sent_at=NOW - timedelta(hours=n), credits=1)
    assert queries() == before
    assert before <= 45  # one range sum per chart day, plus the page's own


class _CountingClient:
    def __init__(self):
        self.calls = 0

    def balance(self):
        self.calls += 1
        return Balance(credits=7000 + self.calls, raw={})


def test_balance_is_cached_30_seconds_with_the_time_it_was_read(
    auth_client, monkeypatch, settings, clock
):
    cache.clear()
    fake = _CountingClient()
    monkeypatch.setattr(onurix, "get_onurix_client", lambda: fake)
    url = reverse("onurix_status")
    first = auth_client.get(url, HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true")
    assert 'data-testid="balance">7,001<' in first.text and "Read at 10:00:00." in first.text
    clock.move_to(NOW + timedelta(seconds=20))
    second = auth_client.get(url, HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true")
    assert fake.calls == 1 and "Read at 10:00:00." in second.text
    clock.move_to(NOW + timedelta(seconds=31))
    third = auth_client.get(url, HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true")
    assert fake.calls == 2 and "Read at 10:00:31." in third.text
    # Asking again on purpose reads it now; another account has its own entry.
    auth_client.get(url, {"fresh": "1"})
    settings.ONURIX_CLIENT_ID = "2000"
    auth_client.get(url)
    assert fake.calls == 4
    cache.clear()
