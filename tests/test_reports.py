"""The reports page: figures checked against a fixture computed by hand, the filters,
the sort, the exports, and the summary table kept by triggers."""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import translation

from campaigns.models import CallResult, Campaign, ReportCell
from campaigns.selectors_reports import campaigns_report
from tests.factories import make_audio_code, make_campaign, make_group, make_result

BOGOTA = ZoneInfo("America/Bogota")
MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)
RANGE = {"from": "2026-11-20", "to": "2026-11-30"}


def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BOGOTA)


def _call(campaign, when, state, credits=1, refunded=0, **fields):
    return make_result(
        campaign=campaign,
        sent_at=when,
        state=state,
        credits=Decimal(credits),
        credits_refunded=Decimal(refunded),
        **fields,
    )


@pytest.fixture
def fixture_campaigns(db):
    """Two campaigns, calls at known hours, with figures worked out by hand:

    A (text, voicemail on, group "Chapinero"), Monday 23/11:
      09:15 answered 1 credit · 09:40 answered 1 · 09:50 rejected 1, refunded 1 ·
      14:10 unknown 1                      -> 4 calls, 2 answered, net 3, 1.50 per answer
    B (audio, voicemail off, group "Usaquén"), Tuesday 24/11:
      09:05 answered 2 · 10:30 failed 0 · 10:45 answered 2 (first sent, then answered) ·
      10:55 sent 2 · 11:20 failed 2        -> 5 calls, 2 answered, net 8, 4.00 per answer
    C outside the range (1/10), and phones that were never sent: not counted.
    """
    chapinero, usaquen = make_group(name="Chapinero"), make_group(name="Usaquén")
    a = make_campaign(name="Recordatorio A", leave_voicemail=True, state=Campaign.State.FINISHED)
    a.groups.add(chapinero)
    b = make_campaign(
        name="Aviso B",
        audio_code=make_audio_code(),
        voice="",
        message="",
        leave_voicemail=False,
        state=Campaign.State.FINISHED,
    )
    b.groups.add(usaquen)
    c = make_campaign(name="Octubre", state=Campaign.State.FINISHED)
    c.groups.add(chapinero)

    _call(a, at(MONDAY, 9, 15), "answered")
    _call(a, at(MONDAY, 9, 40), "answered")
    _call(a, at(MONDAY, 9, 50), "failed", refunded=1, onurix_state="Rechazado")
    _call(a, at(MONDAY, 14, 10), "unknown")
    make_result(campaign=a, state="excluded", exclusion_reason="do_not_call")
    make_result(campaign=a, state="cancelled")

    _call(b, at(TUESDAY, 9, 5), "answered", credits=2)
    _call(b, at(TUESDAY, 10, 30), "failed", credits=0)
    later = _call(b, at(TUESDAY, 10, 45), "sent", credits=2)
    _call(b, at(TUESDAY, 10, 55), "sent", credits=2)
    _call(b, at(TUESDAY, 11, 20), "failed", credits=2, error_code=1081)
    CallResult.objects.filter(pk=later.pk).update(state="answered")
    gone = _call(b, at(TUESDAY, 12, 0), "answered", credits=5)
    gone.delete()

    _call(c, at(dt.date(2026, 10, 1), 9, 0), "answered", credits=7)
    return a, b, c


def _report(**filters):
    return campaigns_report(start=dt.date(2026, 11, 20), end=dt.date(2026, 11, 30), **filters)


def test_answer_rate_by_hour_matches_the_hand_computed_figures(fixture_campaigns):
    hours = {row.key: row.figures for row in _report().hours}
    assert (hours[9].calls, hours[9].answered, hours[9].answer_rate) == (4, 3, 75.0)
    assert (hours[10].calls, hours[10].answered, hours[10].answer_rate) == (3, 1, 33.3)
    assert (hours[11].calls, hours[11].answer_rate) == (1, 0.0)
    assert (hours[14].calls, hours[14].unknown, hours[14].answer_rate) == (1, 1, 0.0)
    # Every legal hour is on the chart (07:00 to 19:00), even without calls.
    assert sorted(hours) == list(range(7, 19))
    assert hours[7].calls == 0 and hours[7].answer_rate is None


def test_answer_rate_by_weekday_matches_the_hand_computed_figures(fixture_campaigns):
    weekdays = {row.key: row for row in _report().weekdays}
    # Monday to Saturday (the legal days); no call was made on a Sunday.
    assert sorted(weekdays) == [1, 2, 3, 4, 5, 6]
    monday, tuesday = weekdays[1].figures, weekdays[2].figures
    assert (monday.calls, monday.answered, monday.answer_rate) == (4, 2, 50.0)
    assert (tuesday.calls, tuesday.answered, tuesday.answer_rate) == (5, 2, 40.0)


def test_campaigns_and_groups_show_rate_and_cost_per_answered_call(fixture_campaigns):
    report = _report()
    by_name = {row.name: row.figures for row in report.campaigns}
    assert set(by_name) == {"Recordatorio A", "Aviso B"}  # October is outside the range
    a, b = by_name["Recordatorio A"], by_name["Aviso B"]
    assert (a.calls, a.answered, a.charged, a.refunded, a.net) == (4, 2, 4, 1, 3)
    assert (a.answer_rate, a.cost_per_answered) == (50.0, Decimal("1.50"))
    assert (b.calls, b.answered, b.net, b.answer_rate, b.cost_per_answered) == (
        5,
        2,
        8,
        40.0,
        Decimal("4.00"),
    )
    totals = report.totals
    assert (totals.calls, totals.answered, totals.net) == (9, 4, 11)
    assert (totals.answer_rate, totals.cost_per_answered) == (44.4, Decimal("2.75"))

    groups = {row.name: row for row in report.groups}
    assert groups["Chapinero"].figures == a and groups["Usaquén"].figures == b
    # The trend: one point per day with calls.
    assert [(p.key, p.figures.cost_per_answered) for p in groups["Usaquén"].trend] == [
        (TUESDAY, Decimal("4.00"))
    ]
    assert [(row.key, row.figures.cost_per_answered) for row in report.days] == [
        (MONDAY, Decimal("1.50")),
        (TUESDAY, Decimal("4.00")),
    ]


def test_text_and_audio_and_voicemail_are_compared_side_by_side(fixture_campaigns):
    with translation.override("en"):
        comparisons = {c.title: dict(c.sides) for c in _report().comparisons}
    kinds = comparisons["Text read by a voice or recorded audio"]
    assert kinds["Text (TTS)"].answer_rate == 50.0 and kinds["Audio"].answer_rate == 40.0
    voicemail = comparisons["Voicemail"]
    assert voicemail["Voicemail on"].calls == 4 and voicemail["Voicemail off"].calls == 5


def test_no_comparison_when_the_range_has_only_one_kind(fixture_campaigns):
    a, _b, _c = fixture_campaigns
    assert _report(campaign_ids=[a.pk]).comparisons == []


def test_filters_by_group_or_campaign(fixture_campaigns):
    a, b, _c = fixture_campaigns
    usaquen = b.groups.get()
    only_b = _report(group_ids=[usaquen.pk])
    assert [row.name for row in only_b.campaigns] == ["Aviso B"]
    assert only_b.totals.calls == 5
    both = _report(group_ids=[usaquen.pk], campaign_ids=[a.pk])
    assert both.totals.calls == 9


def test_sorting_the_tables(fixture_campaigns):
    def names(sort):
        return [row.name for row in _report(sort=sort).campaigns]

    assert names("-cost_per_answered") == ["Aviso B", "Recordatorio A"]
    assert names("cost_per_answered") == ["Recordatorio A", "Aviso B"]
    assert names("name") == ["Aviso B", "Recordatorio A"]
    assert names("-answer_rate") == ["Recordatorio A", "Aviso B"]


def test_report_cells_equal_a_recount_of_the_results(fixture_campaigns):
    """The triggers kept the summary table right through inserts, an update and a delete."""
    kept = {
        (cell.campaign_id, cell.day, cell.hour, cell.state): (
            cell.calls,
            cell.credits,
            cell.credits_refunded,
        )
        for cell in ReportCell.objects.exclude(calls=0)
    }
    recount = {}
    for result in CallResult.objects.exclude(sent_at=None):
        local = result.sent_at.astimezone(BOGOTA)
        key = (result.campaign_id, local.date(), local.hour, result.state)
        calls, charged, refunded = recount.get(key, (0, Decimal(0), Decimal(0)))
        recount[key] = (calls + 1, charged + result.credits, refunded + result.credits_refunded)
    assert kept == recount
    # And the same sums straight from the database.
    sums = ReportCell.objects.aggregate(calls=Sum("calls"), credits=Sum("credits"))
    results = CallResult.objects.exclude(sent_at=None).aggregate(
        calls=Count("id"), credits=Sum("credits")
    )
    assert sums == results


def test_the_page_shows_the_figures_in_spanish(client, read_only_user, fixture_campaigns):
    client.force_login(read_only_user)
    page = client.get(reverse("reports"), RANGE, HTTP_ACCEPT_LANGUAGE="es-co")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Informes" in text
    assert 'data-testid="report-answer-rate">44,4 %' in text
    assert 'data-testid="report-cost-per-answered">2,75' in text
    assert "<svg" in text and "<script>" not in text and "style=" not in text
    # Each chart's numbers are in a table too.
    assert "75,0 %" in text and "33,3 %" in text
    _a, b, c = fixture_campaigns
    assert f'<a href="{b.get_absolute_url()}">Aviso B</a>' in text
    assert f'<a href="{c.get_absolute_url()}">' not in text  # October: outside the range


def test_the_page_needs_a_role(client, no_role_user):
    client.force_login(no_role_user)
    assert client.get(reverse("reports")).status_code == 403


def test_defaults_are_the_last_30_days(client, read_only_user):
    client.force_login(read_only_user)
    page = client.get(reverse("reports"))
    report = page.context["report"]
    assert (report.end - report.start).days == 29
    # The fields show the range the page applies.
    html = page.content.decode()
    assert f'value="{report.start:%Y-%m-%d}"' in html and f'value="{report.end:%Y-%m-%d}"' in html


def test_bad_dates_are_explained_next_to_the_field(client, read_only_user):
    client.force_login(read_only_user)
    page = client.get(
        reverse("reports"), {"from": "30/11/2026", "to": "2026-11-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200 and page.context["report"] is None
    assert "Write the date as YYYY-MM-DD" in page.content.decode()
    page = client.get(reverse("reports"), {"from": "2026-11-30", "to": "2026-11-01"})
    assert page.context["form"].errors["to"]


def test_query_count_does_not_depend_on_the_number_of_calls(
    client, read_only_user, fixture_campaigns, django_assert_max_num_queries
):
    client.force_login(read_only_user)
    a, _b, _c = fixture_campaigns
    with django_assert_max_num_queries(14):
        client.get(reverse("reports"), RANGE)
    for minute in range(30):
        _call(a, at(MONDAY, 16, minute), "answered")
    with django_assert_max_num_queries(14):
        client.get(reverse("reports"), RANGE)


def test_every_table_exports_as_csv_for_excel_in_spanish(client, read_only_user, fixture_campaigns):
    client.force_login(read_only_user)
    response = client.get(
        reverse("reports_export_csv"),
        {**RANGE, "sort": "name", "table": "campaigns"},
        HTTP_ACCEPT_LANGUAGE="es-co",
    )
    assert response["Content-Disposition"].startswith('attachment; filename="informe-campaigns')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].split(";")[:3] == ["ID de la campaña", "Campaña", "Contenido"]
    b_line = lines[1].split(";")
    assert b_line[1] == "Aviso B" and b_line[-1] == "4" and "40" in b_line
    a_line = lines[2].split(";")
    assert a_line[-1] == "1,5"  # decimal comma
    for section in ("hours", "weekdays", "days", "groups", "comparisons"):
        response = client.get(reverse("reports_export_csv"), {**RANGE, "table": section})
        assert response.status_code == 200


def test_every_table_exports_as_xlsx(client, read_only_user, fixture_campaigns):
    from openpyxl import load_workbook

    client.force_login(read_only_user)
    response = client.get(reverse("reports_export_xlsx"), {**RANGE, "table": "hours"})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    nine = next(row for row in rows if row[0] == "09:00-10:00")
    assert nine[1:4] == (4, 3, 75)


def test_an_unknown_table_is_not_found(client, read_only_user):
    client.force_login(read_only_user)
    assert client.get("/reports/export.csv", {"table": "nothing"}).status_code == 404


def test_the_navigation_links_the_reports(client, read_only_user):
    client.force_login(read_only_user)
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="es-co")
    assert f'href="{reverse("reports")}"' in page.content.decode()
