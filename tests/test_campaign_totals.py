"""Campaign totals: the database keeps phones per state and credits of every campaign equal
to the sums of its results, whatever writes them (ORM updates, raw executemany, deletes).

Every other test checks this too at its end (tests/conftest.py); these drive the triggers
with arbitrary sequences of writes, the migration that adds them to existing data, and the
recount for a database whose triggers were bypassed.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns import selectors, services
from campaigns.models import CallResult, Campaign, CampaignTotals
from tests.factories import make_campaign, make_result

State = CallResult.State
STATES = st.sampled_from(State.values)
CREDITS = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False)
CAMPAIGN = st.integers(min_value=0, max_value=1)

WRITES = st.one_of(
    st.tuples(st.just("insert"), CAMPAIGN, STATES, CREDITS),
    st.tuples(st.just("bulk_insert"), CAMPAIGN, STATES, st.integers(1, 30)),
    st.tuples(st.just("move"), CAMPAIGN, STATES, STATES),
    st.tuples(st.just("move_everywhere"), STATES, STATES),
    st.tuples(st.just("refund"), CAMPAIGN, STATES),
    st.tuples(st.just("charge"), CAMPAIGN, STATES, CREDITS),
    st.tuples(st.just("executemany"), CAMPAIGN, STATES, STATES, CREDITS),
    st.tuples(st.just("untallied"), CAMPAIGN),
    st.tuples(st.just("delete"), CAMPAIGN, STATES),
)


def _totals(campaign: Campaign) -> dict:
    kept = CampaignTotals.objects.get(campaign=campaign)
    return {
        field: getattr(kept, field)
        for field in selectors.campaign_totals_from_results(campaign=campaign)
    }


def _apply(write: tuple, campaigns: list[Campaign], serial: list[int]) -> None:
    kind, *args = write
    if kind == "insert":
        index, state, credits = args
        serial[0] += 1
        make_result(
            campaign=campaigns[index], phone=f"5731{serial[0]:08d}", state=state, credits=credits
        )
    elif kind == "bulk_insert":
        index, state, count = args
        rows = []
        for _ in range(count):
            serial[0] += 1
            rows.append(
                CallResult(
                    campaign=campaigns[index],
                    phone=f"5731{serial[0]:08d}",
                    state=state,
                    credits=Decimal("1.5"),
                )
            )
        CallResult.objects.bulk_create(rows)
    elif kind == "move":
        index, old, new = args
        CallResult.objects.filter(campaign=campaigns[index], state=old).update(state=new)
    elif kind == "move_everywhere":  # one statement over several campaigns
        old, new = args
        CallResult.objects.filter(state=old).update(state=new)
    elif kind == "refund":
        index, state = args
        CallResult.objects.filter(campaign=campaigns[index], state=state).update(
            credits_refunded=F("credits")
        )
    elif kind == "charge":
        index, state, credits = args
        CallResult.objects.filter(campaign=campaigns[index], state=state).update(credits=credits)
    elif kind == "executemany":  # as the dispatcher and the poller write results
        index, old, new, credits = args
        ids = CallResult.objects.filter(campaign=campaigns[index], state=old).values_list(
            "pk", flat=True
        )
        ops = connection.ops
        value = ops.adapt_decimalfield_value(credits, 14, 4)
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE campaigns_callresult SET state = %s, credits = %s WHERE id = %s",
                [(new, value, pk) for pk in ids],
            )
    elif kind == "untallied":  # a write that changes nothing counted
        (index,) = args
        CallResult.objects.filter(campaign=campaigns[index]).update(error_message="x")
    elif kind == "delete":
        index, state = args
        CallResult.objects.filter(campaign=campaigns[index], state=state).delete()


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=st.lists(WRITES, max_size=20))
def test_totals_follow_any_sequence_of_writes(writes):
    with transaction.atomic():
        campaigns = [make_campaign(name="Uno"), make_campaign(name="Dos")]
        serial = [0]
        for write in writes:
            _apply(write, campaigns, serial)
            for campaign in campaigns:
                assert _totals(campaign) == selectors.campaign_totals_from_results(
                    campaign=campaign
                ), write
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_new_campaign_has_zero_totals_and_they_go_with_it():
    campaign = make_campaign()
    totals = campaign.totals
    assert totals.counts == dict.fromkeys(State.values, 0)
    assert totals.credits == 0 and totals.phone_count == 0
    make_result(campaign=campaign, state=State.ANSWERED, credits=Decimal("2.5"))
    make_result(campaign=campaign, state=State.EXCLUDED)
    totals.refresh_from_db()
    assert (totals.answered, totals.excluded, totals.phone_count) == (1, 1, 1)
    assert totals.credits == Decimal("2.5")
    campaign.delete()
    assert not CampaignTotals.objects.exists()


@pytest.mark.django_db
def test_recount_repairs_totals_the_triggers_did_not_see(capsys):
    right = make_campaign(name="Bien")
    wrong = make_campaign(name="Mal")
    for campaign in (right, wrong):
        make_result(campaign=campaign, state=State.ANSWERED, credits=3)
        make_result(campaign=campaign, state=State.UNKNOWN, credits=1)
    CampaignTotals.objects.filter(campaign=wrong).update(answered=40, credits=0)

    call_command("recount_campaign_totals")

    output = capsys.readouterr().out
    assert "Recounted campaign" in output and "(Mal)" in output and "(Bien)" not in output
    assert "1 campaigns had totals" in output
    wrong.totals.refresh_from_db()
    assert (wrong.totals.answered, wrong.totals.unknown, wrong.totals.credits) == (1, 1, 4)
    assert services.campaign_totals_recount() == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_campaigns_that_already_exist():
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("campaigns", "0007_campaign_pause_reason")],
        [("campaigns", "0008_campaign_totals")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldCampaign, OldResult = (
        old.get_model("campaigns", "Campaign"),
        old.get_model("campaigns", "CallResult"),
    )
    campaign = OldCampaign.objects.create(name="Antes", voice="Mariana", message="Hola")
    for n, state in enumerate(["answered", "answered", "failed", "excluded"]):
        OldResult.objects.create(
            campaign=campaign,
            phone=f"57300000000{n}",
            state=state,
            credits=2,
            credits_refunded=2 if state == "failed" else 0,
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    totals = CampaignTotals.objects.get(campaign_id=campaign.pk)
    assert (totals.answered, totals.failed, totals.excluded, totals.phone_count) == (2, 1, 1, 3)
    assert (totals.credits, totals.credits_refunded) == (8, 2)
    # and the triggers are in place after the migration
    CallResult.objects.filter(campaign_id=campaign.pk, state="failed").update(state="answered")
    totals.refresh_from_db()
    assert (totals.answered, totals.failed) == (3, 0)
