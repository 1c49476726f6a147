"""The billing reconciliation file: every kind of discrepancy, and nothing else, with the
campaign, phone, dispatch id and call id, in a CSV that Excel opens in Spanish."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from tests.factories import make_campaign, make_result

BOGOTA = ZoneInfo("America/Bogota")
SENT = dt.datetime(2026, 11, 24, 10, 0, tzinfo=BOGOTA)
RANGE = {"from": "2026-11-20", "to": "2026-11-30"}


def _result(campaign, phone, state, credits, refunded=0, **fields):
    return make_result(
        campaign=campaign,
        phone=phone,
        state=state,
        credits=Decimal(credits),
        credits_refunded=Decimal(refunded),
        sent_at=fields.pop("sent_at", SENT),
        dispatch_id=fields.pop("dispatch_id", "d-77"),
        call_id=f"call-{phone[-4:]}",
        **fields,
    )


@pytest.fixture
def discrepancies(db):
    """Campaign "Citas" (balance 100 -> 90, but the phones add up to 3 net credits):
    - 573000000001 rejected, charged 1, not refunded       -> claim 1
    - 573000000002 rejected, charged 1, refunded 1          -> nothing
    - 573000000003 unknown, charged 1                      -> claim 1
    - 573000000004 unknown, never charged                  -> nothing
    - 573000000005 answered, charged 1                     -> nothing
    - 573000000006 failed with an error, charged 0          -> nothing
    - 573000000007 rejected, charged 1, sent in October    -> outside the range
    Campaign "Bien" (balance 50 -> 49, one answered call of 1 credit): nothing.
    Campaign "=HYPERLINK(...)" (balance not read): one rejected phone charged 2.
    """
    started = dt.datetime(2026, 11, 24, 9, 0, tzinfo=BOGOTA)
    citas = make_campaign(
        name="Citas",
        state=Campaign.State.FINISHED,
        started_at=started,
        balance_before=Decimal(100),
        balance_after=Decimal(90),
    )
    _result(citas, "573000000001", "failed", 1, onurix_state="Rechazado")
    _result(citas, "573000000002", "failed", 1, 1, onurix_state="Rechazado")
    _result(citas, "573000000003", "unknown", 1)
    _result(citas, "573000000004", "unknown", 0)
    _result(citas, "573000000005", "answered", 1, onurix_state="Entregado")
    _result(citas, "573000000006", "failed", 0, onurix_state="Error:1081 msg: Destino")
    _result(
        citas,
        "573000000007",
        "failed",
        1,
        onurix_state="Rechazado",
        sent_at=dt.datetime(2026, 10, 2, 10, 0, tzinfo=BOGOTA),
    )
    bien = make_campaign(
        name="Bien",
        state=Campaign.State.FINISHED,
        started_at=started,
        balance_before=Decimal(50),
        balance_after=Decimal(49),
    )
    _result(bien, "573000000008", "answered", 1)
    formula = make_campaign(name="=HYPERLINK(1)", state=Campaign.State.FINISHED)
    _result(formula, "573000000009", "failed", 2, onurix_state="RECHAZADO", dispatch_id="d-9")
    return citas, bien, formula


def _csv(client, language="es-co", **params):
    response = client.get(
        reverse("reports_reconciliation_csv"), {**RANGE, **params}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode("utf-8")


def test_each_kind_of_discrepancy_and_nothing_else(client, read_only_user, discrepancies):
    client.force_login(read_only_user)
    text = _csv(client, language="en")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    found = {(row["Discrepancy"], row["Campaign"], row["Phone"]): row for row in rows}
    assert set(found) == {
        ("Rejected but charged, not refunded", "Citas", "573000000001"),
        ("Unknown outcome, charged", "Citas", "573000000003"),
        ("Rejected but charged, not refunded", "'=HYPERLINK(1)", "573000000009"),
        ("Balance change differs from the calls", "Citas", ""),
    }
    rejected = found[("Rejected but charged, not refunded", "Citas", "573000000001")]
    assert (rejected["Dispatch id"], rejected["Call id"], rejected["Credits to claim"]) == (
        "d-77",
        "call-0001",
        "1",
    )
    assert rejected["Sent at"] == "2026-11-24 10:00:00"  # Colombian time
    balance = found[("Balance change differs from the calls", "Citas", "")]
    # 10 credits left the account; the phones add up to 1 + 1 + 1 + 1 - 1 + 1 = 4 charged,
    # 1 refunded: 4 net (October's call counts for its campaign too).
    assert (balance["Credits recorded"], balance["Balance change seen"]) == ("4", "10")
    assert balance["Credits to claim"] == "6"


def test_the_file_opens_cleanly_in_excel_in_spanish(client, read_only_user, discrepancies):
    client.force_login(read_only_user)
    text = _csv(client)
    assert text.startswith("\ufeff")
    header, *lines = text.lstrip("\ufeff").splitlines()
    assert header.split(";")[:6] == [
        "Diferencia",
        "ID de la campaña",
        "Campaña",
        "Teléfono",
        "ID del envío",
        "ID de llamada",
    ]
    formula_line = next(line for line in lines if "573000000009" in line)
    assert ";'=HYPERLINK(1);" in formula_line  # neutralised: Excel shows it as text
    assert formula_line.endswith(";2")


def test_a_range_without_discrepancies_has_only_the_header(client, read_only_user, discrepancies):
    client.force_login(read_only_user)
    text = _csv(client, **{"from": "2026-12-01", "to": "2026-12-02"})
    assert len(text.strip().splitlines()) == 1


def test_the_reconciliation_as_xlsx(client, read_only_user, discrepancies):
    from openpyxl import load_workbook

    client.force_login(read_only_user)
    response = client.get(reverse("reports_reconciliation_xlsx"), RANGE)
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert len(rows) == 5
    formula_row = next(row for row in rows if row[3] == "573000000009")
    assert formula_row[2] == "=HYPERLINK(1)"  # stored as text, not as a formula
    assert formula_row[-1] == 2


def test_bad_dates_send_back_to_the_report_with_the_reason(client, read_only_user):
    client.force_login(read_only_user)
    response = client.get(reverse("reports_reconciliation_csv"), {"from": "ayer"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("reports"))
