"""The results of a campaign: summary, per-phone table, exports and actions."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from campaigns.models import CallResult, Campaign, Contact
from tests.factories import make_campaign, make_contact, make_group, make_result

pytestmark = pytest.mark.django_db

State = CallResult.State
BOGOTA = ZoneInfo("America/Bogota")
COLUMNS = [
    "phone",
    "first_name",
    "last_name",
    "state",
    "onurix_state",
    "error_code",
    "error_message",
    "credits",
    "call_id",
    "dispatch_id",
    "sent_at",
    "updated_at",
    "campaign",
    "exclusion_reason",
    "credits_refunded",
]


def _get(client, url, params=None, **extra):
    return client.get(url, params or {}, HTTP_ACCEPT_LANGUAGE="en", **extra)


@pytest.fixture
def finished():
    """A finished campaign with a phone in each interesting state."""
    campaign = make_campaign(
        name="Recordatorio",
        state=Campaign.State.FINISHED,
        voice="Lucia",
        message="Hola, su cita es mañana.",
        retries=2,
        leave_voicemail=False,
        started_at=datetime(2026, 11, 27, 8, 0, tzinfo=BOGOTA),
        finished_at=datetime(2026, 11, 27, 9, 30, tzinfo=BOGOTA),
        balance_before=1000,
        balance_after=995,
    )
    sent_at = datetime(2026, 11, 27, 8, 5, tzinfo=BOGOTA)
    common = {"campaign": campaign, "sent_at": sent_at, "credits": 1, "dispatch_id": "d1"}
    ana = make_contact(phone="573001234567", first_name="Ana", last_name="Muñoz")
    formula = make_contact(phone="573001112233", first_name="=1+1", last_name="@SUM(A1)")
    rows = {
        "answered": make_result(
            phone=ana.phone,
            contact=ana,
            state=State.ANSWERED,
            onurix_state="Entregado",
            call_id="c1",
            **common,
        ),
        "rejected": make_result(
            phone=formula.phone,
            contact=formula,
            state=State.FAILED,
            onurix_state="Rechazado",
            credits_refunded=1,
            call_id="c2",
            **common,
        ),
        "error": make_result(
            phone="573009998877",
            state=State.FAILED,
            error_code=1081,
            onurix_state="Error:1081 msg: Destino inaccesible",
            error_message="Destino inaccesible",
            call_id="c3",
            **common,
        ),
        "unknown": make_result(phone="573005556677", state=State.UNKNOWN, **common),
        "sent": make_result(
            phone="573004445566",
            state=State.SENT,
            onurix_state="Buzón raro",
            call_id="c5",
            **common,
        ),
        "excluded": make_result(
            campaign=campaign,
            phone="573003334455",
            state=State.EXCLUDED,
            exclusion_reason=CallResult.ExclusionReason.DO_NOT_CALL,
        ),
    }
    return campaign, rows


def test_summary_counts_percentages_credits_and_reconciliation(auth_client, finished):
    campaign, _rows = finished
    page = _get(auth_client, campaign.get_absolute_url())
    assert page.status_code == 200
    summary = page.context["summary"]
    assert summary.targeted == 6 and summary.to_call == 5
    assert summary.counts[State.FAILED] == 2 and summary.percent[State.FAILED] == 40.0
    assert summary.charged == 5 and summary.refunded == 1 and summary.net == 4
    assert summary.per_answered == 4
    check = page.context["reconciliation"]
    assert (check.observed, check.reported, check.difference) == (5, 4, 1)
    text = page.text
    assert 'data-testid="count-answered">1<' in text  # one set of counters: the progress's
    assert "summary-answered" not in text
    assert "Failed: <strong>2</strong> (40.0%)" in text
    assert '<rect class="seg seg-answered" x="0.000" y="0" width="20.000"' in text
    assert 'data-testid="reconciliation-difference">Difference: 1 credits.' in text
    assert "1 hour, 30 minutes" in text.replace("\xa0", " ")
    assert "Buzón raro" in text  # an unknown Onurix text is shown raw


def test_no_reconciliation_without_both_balances(auth_client, finished):
    campaign, _rows = finished
    Campaign.objects.filter(pk=campaign.pk).update(balance_after=None)
    page = _get(auth_client, campaign.get_absolute_url())
    assert page.context["reconciliation"] is None
    assert 'data-testid="reconciliation"' not in page.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "failed"}, {"rejected", "error"}),
        ({"state": "unknown"}, {"unknown"}),
        ({"state": "not_answered"}, {"rejected", "error", "unknown", "sent"}),
        ({"state": "excluded"}, {"excluded"}),
        ({"q": "300 123 4567"}, {"answered"}),
        ({"q": "+57 300-999-8877"}, {"error"}),
        ({"q": "ana muñoz"}, {"answered"}),
        ({"q": "Muñ", "state": "failed"}, set()),
        ({"state": "bogus"}, {"answered", "rejected", "error", "unknown", "sent", "excluded"}),
    ],
)
def test_filters_and_search_return_the_right_rows(auth_client, finished, params, expected):
    campaign, rows = finished
    response = _get(
        auth_client, reverse("campaign_results", args=[campaign.pk]), params, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "<html" not in response.text  # the partial only
    shown = {result.pk for result in response.context["results_page"].object_list}
    assert shown == {rows[name].pk for name in expected}


def test_sorting(auth_client, finished):
    campaign, _rows = finished
    url = reverse("campaign_results", args=[campaign.pk])
    ascending = _get(auth_client, url, {"sort": "phone"}, HTTP_HX_REQUEST="true")
    phones = [r.phone for r in ascending.context["results_page"].object_list]
    assert phones == sorted(phones)
    descending = _get(auth_client, url, {"sort": "-phone"}, HTTP_HX_REQUEST="true")
    assert [r.phone for r in descending.context["results_page"].object_list] == phones[::-1]
    by_state = _get(auth_client, url, {"sort": "state"}, HTTP_HX_REQUEST="true")
    states = [r.state for r in by_state.context["results_page"].object_list]
    assert states == sorted(states)


def test_the_results_url_without_htmx_goes_to_the_page(auth_client, finished):
    campaign, _rows = finished
    response = _get(
        auth_client, reverse("campaign_results", args=[campaign.pk]), {"state": "failed"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{campaign.get_absolute_url()}?state=failed#results"
    # The page itself honours the same parameters (it works without htmx).
    page = _get(auth_client, campaign.get_absolute_url(), {"state": "failed"})
    assert page.context["results_page"].paginator.count == 2


def test_the_table_refreshes_itself_only_while_sending(auth_client, finished):
    campaign, _rows = finished
    assert 'hx-trigger="every 5s"' not in _get(auth_client, campaign.get_absolute_url()).text
    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.SENDING)
    assert 'hx-trigger="every 5s"' in _get(auth_client, campaign.get_absolute_url()).text


def _bulk_results(campaign, count, offset=0):
    CallResult.objects.bulk_create(
        [
            CallResult(
                campaign=campaign,
                phone=f"5732{offset + n:08d}",
                state=(State.ANSWERED, State.FAILED, State.UNKNOWN, State.SENT)[n % 4],
                credits=1,
                sent_at=timezone.now(),
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


def _queries(client, url, params=None, **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {}, **extra)
        assert response.status_code == 200
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize(
    "params",
    [{}, {"state": "not_answered"}, {"q": "5732"}, {"sort": "-credits", "page": "2"}],
    ids=["all", "filter", "search", "sort-page2"],
)
def test_page_query_count_does_not_grow_with_the_results(auth_client, params):
    campaign = make_campaign(state=Campaign.State.FINISHED)
    make_contact(phone="573200000001", first_name="Ana")
    _bulk_results(campaign, 60)  # more than a page: the same page code paths
    urls = [campaign.get_absolute_url(), reverse("campaign_results", args=[campaign.pk])]
    small = [_queries(auth_client, url, params, HTTP_HX_REQUEST="true") for url in urls[1:]]
    small.insert(0, _queries(auth_client, urls[0], params))
    _bulk_results(campaign, 10_000, offset=1000)
    large = [_queries(auth_client, url, params, HTTP_HX_REQUEST="true") for url in urls[1:]]
    large.insert(0, _queries(auth_client, urls[0], params))
    assert large == small


def _csv(response, delimiter=",") -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=delimiter))


def test_csv_in_spanish_opens_as_columns_in_excel_colombia(auth_client, finished):
    campaign, rows = finished
    response = auth_client.get(
        reverse("campaign_results_csv", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="es-co"
    )
    table = _csv(response, delimiter=";")
    assert table[0][:4] == ["Teléfono", "Nombre", "Apellido", "Estado"]
    assert table[0][-3:] == ["Campaña", "Motivo de exclusión", "Créditos reembolsados"]
    by_phone = {row[0]: row for row in table[1:]}
    error = by_phone[rows["error"].phone]
    assert error[3] == "Fallida" and error[12] == campaign.name
    assert all(len(row) == len(table[0]) for row in table)  # no cell split on a comma


def test_csv_columns_neutralised_cells_and_local_times(auth_client, finished):
    campaign, rows = finished
    response = _get(auth_client, reverse("campaign_results_csv", args=[campaign.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    table = _csv(response)
    assert table[0] == COLUMNS
    by_phone = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in table[1:]}
    assert len(by_phone) == 6
    formula = by_phone[rows["rejected"].phone]
    assert formula["first_name"] == "'=1+1" and formula["last_name"] == "'@SUM(A1)"
    error = by_phone[rows["error"].phone]
    assert error["error_code"] == "1081" and error["error_message"] == "Destino inaccesible"
    assert error["onurix_state"] == "Error:1081 msg: Destino inaccesible"
    assert error["state"] == "failed" and error["credits"] == "1" and error["call_id"] == "c3"
    assert error["dispatch_id"] == "d1"
    assert error["sent_at"] == "2026-11-27 08:05:00"  # Bogota time
    for row in table[1:]:
        assert not any(cell[:1] in "=+-@" for cell in row if cell)


def test_csv_honours_the_filter_and_search(auth_client, finished):
    campaign, rows = finished
    url = reverse("campaign_results_csv", args=[campaign.pk])
    failed = _csv(_get(auth_client, url, {"state": "failed"}))
    assert {row[0] for row in failed[1:]} == {rows["rejected"].phone, rows["error"].phone}
    searched = _csv(_get(auth_client, url, {"q": "Ana"}))
    assert [row[0] for row in searched[1:]] == [rows["answered"].phone]


def test_csv_query_count_does_not_grow_with_the_results(auth_client):
    campaign = make_campaign(state=Campaign.State.FINISHED)
    url = reverse("campaign_results_csv", args=[campaign.pk])
    _bulk_results(campaign, 10)
    small = _queries(auth_client, url)
    _bulk_results(campaign, 10_000, offset=1000)
    # Rows are read in chunks of 2,000: a server-side cursor on PostgreSQL, one query on
    # SQLite. Either way the count must not depend on the number of results.
    assert _queries(auth_client, url) == small


def test_xlsx_same_columns_text_cells_and_local_dates(auth_client, finished):
    campaign, rows = finished
    response = _get(auth_client, reverse("campaign_results_xlsx", args=[campaign.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    table = list(sheet.iter_rows(values_only=True))
    assert list(table[0]) == COLUMNS
    by_phone = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in table[1:]}
    formula = by_phone[rows["rejected"].phone]
    assert formula["first_name"] == "=1+1"  # text, not a formula
    cell = next(c for c in sheet[2 + list(by_phone).index(rows["rejected"].phone)] if c.column == 2)
    assert cell.data_type == "s"
    assert by_phone[rows["error"].phone]["sent_at"] == datetime(2026, 11, 27, 8, 5)
    filtered = load_workbook(
        io.BytesIO(
            b"".join(
                _get(
                    auth_client,
                    reverse("campaign_results_xlsx", args=[campaign.pk]),
                    {"state": "unknown"},
                ).streaming_content
            )
        )
    ).active
    assert [row[0] for row in filtered.iter_rows(min_row=2, values_only=True)] == [
        rows["unknown"].phone
    ]


def test_follow_up_campaign_for_the_phones_that_did_not_answer(auth_client, finished):
    campaign, rows = finished
    campaign.calling_window_start = datetime(2026, 1, 1, 9).time()
    campaign.save()
    response = auth_client.post(
        reverse("campaign_follow_up", args=[campaign.pk]),
        {"state": "not_answered"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    follow_up = Campaign.objects.exclude(pk=campaign.pk).get()
    assert response.status_code == 302 and response["Location"] == follow_up.get_absolute_url()
    assert follow_up.state == Campaign.State.DRAFT and follow_up.parent == campaign
    assert (follow_up.voice, follow_up.message) == ("Lucia", "Hola, su cita es mañana.")
    assert follow_up.retries == 2 and follow_up.leave_voicemail is False
    assert follow_up.calling_window_start == campaign.calling_window_start
    expected = [rows[name].phone for name in ("rejected", "error", "unknown", "sent")]
    assert follow_up.extra_phones.splitlines() == expected
    assert not follow_up.groups.exists()
    assert "Recordatorio (follow-up)" in follow_up.name


def test_follow_up_needs_a_state_filter(auth_client, finished):
    campaign, _rows = finished
    for data in ({}, {"state": "answered"}):
        response = auth_client.post(reverse("campaign_follow_up", args=[campaign.pk]), data)
        assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    assert Campaign.objects.count() == 1
    assert auth_client.get(reverse("campaign_follow_up", args=[campaign.pk])).status_code == 405


def test_follow_up_button_only_for_the_retry_filters(auth_client, finished):
    campaign, _rows = finished
    button = "New campaign for these"
    assert button not in _get(auth_client, campaign.get_absolute_url()).text
    assert button in _get(auth_client, campaign.get_absolute_url(), {"state": "failed"}).text
    page = _get(auth_client, campaign.get_absolute_url(), {"state": "unknown"})
    assert "New campaign for this 1 phone" in page.text


def test_mark_selected_phones_do_not_call(auth_client, finished):
    campaign, rows = finished
    picked = [rows["answered"], rows["error"]]  # a contact, and a phone without one
    response = auth_client.post(
        reverse("campaign_results_action", args=[campaign.pk]),
        {"action": "do_not_call", "results": [r.pk for r in picked]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    marked = Contact.objects.filter(do_not_call=True)
    assert {c.phone for c in marked} == {r.phone for r in picked}
    assert {c.do_not_call_reason for c in marked} == {"From campaign Recordatorio"}
    page = _get(auth_client, response["Location"].split("#")[0])
    assert "2 phones marked do-not-call." in page.text


def test_add_selected_phones_to_a_group(auth_client, finished):
    campaign, rows = finished
    group = make_group(name="Volver a llamar")
    picked = [rows["rejected"], rows["unknown"]]
    auth_client.post(
        reverse("campaign_results_action", args=[campaign.pk]),
        {"action": "add_to_group", "group": group.pk, "results": [r.pk for r in picked]},
    )
    assert {c.phone for c in group.contacts.all()} == {r.phone for r in picked}
    # Another campaign's result ids are ignored.
    other = make_result(campaign=make_campaign(), phone="573112223344")
    auth_client.post(
        reverse("campaign_results_action", args=[campaign.pk]),
        {"action": "add_to_group", "group": group.pk, "results": [other.pk]},
    )
    assert group.contacts.count() == 2


def test_contact_page_lists_calls_with_state_and_credits(auth_client, finished):
    _campaign, rows = finished
    contact = rows["answered"].contact
    page = _get(auth_client, contact.get_absolute_url())
    assert "Recordatorio" in page.text and "Answered" in page.text and "Entregado" in page.text
