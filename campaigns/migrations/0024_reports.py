"""Reports, dead numbers (issue 16)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0023_follow_ups"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="exclude_dead_numbers",
            field=models.BooleanField(
                blank=True, default=None, null=True, verbose_name="leave out dead numbers"
            ),
        ),
        migrations.AlterField(
            model_name="callresult",
            name="exclusion_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("do_not_call", "Marked do-not-call"),
                    ("invalid", "Invalid phone"),
                    ("duplicate", "Duplicate phone"),
                    ("frequency", "Answered a call recently"),
                    ("dnc_late", "Marked do-not-call after the launch"),
                    ("too_long", "Message too long once personalised"),
                    ("dead", "Dead number: failed again and again, never answered"),
                ],
                max_length=12,
                verbose_name="exclusion reason",
            ),
        ),
        migrations.CreateModel(
            name="PhoneHistory",
            fields=[
                (
                    "phone",
                    models.CharField(
                        max_length=32, primary_key=True, serialize=False, verbose_name="phone"
                    ),
                ),
                (
                    "failed",
                    models.BigIntegerField(
                        db_default=0, default=0, verbose_name="campaigns failed"
                    ),
                ),
                (
                    "answered",
                    models.BigIntegerField(
                        db_default=0, default=0, verbose_name="campaigns answered"
                    ),
                ),
            ],
            options={
                "verbose_name": "phone history",
                "verbose_name_plural": "phone histories",
                "indexes": [
                    models.Index(
                        condition=models.Q(("answered", 0)),
                        fields=["failed"],
                        name="phonehistory_never_answered",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ReportCell",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                ("hour", models.PositiveSmallIntegerField(verbose_name="hour")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("answered", "Answered"),
                            ("failed", "Failed"),
                            ("unknown", "Unknown"),
                            ("excluded", "Excluded"),
                            ("cancelled", "Cancelled"),
                        ],
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                ("calls", models.BigIntegerField(db_default=0, default=0)),
                (
                    "credits",
                    models.DecimalField(db_default=0, decimal_places=4, default=0, max_digits=20),
                ),
                (
                    "credits_refunded",
                    models.DecimalField(db_default=0, decimal_places=4, default=0, max_digits=20),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="campaigns.campaign",
                        verbose_name="campaign",
                    ),
                ),
            ],
            options={
                "verbose_name": "report cell",
                "verbose_name_plural": "report cells",
                "indexes": [
                    models.Index(fields=["day", "campaign"], name="reportcell_day_campaign")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("campaign", "day", "hour", "state"), name="one_report_cell_per_key"
                    )
                ],
            },
        ),
    ]


# -- triggers that keep campaigns_reportcell and campaigns_phonehistory current -----------
#
# Written out here (not imported) so this migration stays what it was when it ran. A report
# cell counts the results with a `sent_at`, by campaign, Bogota day and hour, and state.
# Bogota keeps UTC-5 all year (no daylight saving since 1993): SQLite, which has no time
# zones, shifts by five hours; PostgreSQL asks for the zone by name.

RESULTS = "campaigns_callresult"
CELLS = "campaigns_reportcell"
PHONES = "campaigns_phonehistory"


def _sqlite_day(row: str) -> str:
    return f"date({row}.sent_at, '-5 hours')"


def _sqlite_hour(row: str) -> str:
    return f"CAST(strftime('%H', {row}.sent_at, '-5 hours') AS INTEGER)"


def _sqlite_add(row: str) -> str:
    """A result row's share added to its report cell and to its phone's history."""
    return f"""
    INSERT INTO {CELLS} (campaign_id, day, hour, state, calls, credits, credits_refunded)
    SELECT {row}.campaign_id, {_sqlite_day(row)}, {_sqlite_hour(row)}, {row}.state, 1,
           {row}.credits, {row}.credits_refunded
    WHERE {row}.sent_at IS NOT NULL
    ON CONFLICT (campaign_id, day, hour, state) DO UPDATE SET
        calls = calls + 1,
        credits = credits + excluded.credits,
        credits_refunded = credits_refunded + excluded.credits_refunded;
    INSERT INTO {PHONES} (phone, failed, answered)
    SELECT {row}.phone, {row}.state = 'failed', {row}.state = 'answered'
    WHERE {row}.state IN ('failed', 'answered')
    ON CONFLICT (phone) DO UPDATE SET
        failed = failed + excluded.failed, answered = answered + excluded.answered;"""


def _sqlite_take(row: str) -> str:
    """A result row's share taken away from its report cell and its phone's history."""
    return f"""
    UPDATE {CELLS} SET calls = calls - 1, credits = credits - {row}.credits,
        credits_refunded = credits_refunded - {row}.credits_refunded
    WHERE campaign_id = {row}.campaign_id AND day = {_sqlite_day(row)}
      AND hour = {_sqlite_hour(row)} AND state = {row}.state;
    UPDATE {PHONES} SET failed = failed - ({row}.state = 'failed'),
        answered = answered - ({row}.state = 'answered')
    WHERE phone = {row}.phone AND {row}.state IN ('failed', 'answered');"""


SQLITE_FORWARD = [
    f"""CREATE TRIGGER campaigns_reports_on_result_insert AFTER INSERT ON {RESULTS}
    BEGIN {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER campaigns_reports_on_result_delete AFTER DELETE ON {RESULTS}
    BEGIN {_sqlite_take("OLD")} END""",
    f"""CREATE TRIGGER campaigns_reports_on_result_update
    AFTER UPDATE OF state, credits, credits_refunded, campaign_id, sent_at, phone ON {RESULTS}
    WHEN OLD.state IS NOT NEW.state OR OLD.credits IS NOT NEW.credits
      OR OLD.credits_refunded IS NOT NEW.credits_refunded OR OLD.campaign_id IS NOT NEW.campaign_id
      OR OLD.sent_at IS NOT NEW.sent_at OR OLD.phone IS NOT NEW.phone
    BEGIN {_sqlite_take("OLD")} {_sqlite_add("NEW")} END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS campaigns_reports_on_result_{name}"
    for name in ("insert", "delete", "update")
]

_LOCAL = "(sent_at AT TIME ZONE 'America/Bogota')"
_COLUMNS = "campaign_id, phone, state, sent_at, credits, credits_refunded"


def _postgres_function(name: str, changed_rows: str) -> str:
    """A statement-level trigger function: the statement's net change per report cell and
    per phone, from its transition tables, upserted in key order (two statements never
    wait on each other in a circle)."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS ({changed_rows}),
    delta AS (
        SELECT campaign_id, {_LOCAL}::date AS day,
               extract(hour FROM {_LOCAL})::smallint AS hour, state,
               sum(sign) AS calls, sum(sign * credits) AS credits,
               sum(sign * credits_refunded) AS credits_refunded
        FROM changed WHERE sent_at IS NOT NULL GROUP BY 1, 2, 3, 4
    )
    INSERT INTO {CELLS} AS c (campaign_id, day, hour, state, calls, credits, credits_refunded)
    SELECT * FROM delta WHERE (calls, credits, credits_refunded) IS DISTINCT FROM (0, 0, 0)
    ORDER BY campaign_id, day, hour, state
    ON CONFLICT (campaign_id, day, hour, state) DO UPDATE SET
        calls = c.calls + EXCLUDED.calls,
        credits = c.credits + EXCLUDED.credits,
        credits_refunded = c.credits_refunded + EXCLUDED.credits_refunded;

    WITH changed AS ({changed_rows}),
    delta AS (
        SELECT phone, sum(CASE WHEN state = 'failed' THEN sign ELSE 0 END) AS failed,
               sum(CASE WHEN state = 'answered' THEN sign ELSE 0 END) AS answered
        FROM changed WHERE state IN ('failed', 'answered') GROUP BY phone
    )
    INSERT INTO {PHONES} AS p (phone, failed, answered)
    SELECT * FROM delta WHERE (failed, answered) IS DISTINCT FROM (0, 0) ORDER BY phone
    ON CONFLICT (phone) DO UPDATE SET
        failed = p.failed + EXCLUDED.failed, answered = p.answered + EXCLUDED.answered;
    RETURN NULL;
END $$"""


POSTGRES_FORWARD = [
    _postgres_function("campaigns_reports_insert", f"SELECT {_COLUMNS}, 1 AS sign FROM new_rows"),
    _postgres_function("campaigns_reports_delete", f"SELECT {_COLUMNS}, -1 AS sign FROM old_rows"),
    _postgres_function(
        "campaigns_reports_update",
        f"SELECT {_COLUMNS}, 1 AS sign FROM new_rows "
        f"UNION ALL SELECT {_COLUMNS}, -1 AS sign FROM old_rows",
    ),
    f"""CREATE TRIGGER campaigns_reports_on_result_insert AFTER INSERT ON {RESULTS}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_reports_insert()""",
    f"""CREATE TRIGGER campaigns_reports_on_result_delete AFTER DELETE ON {RESULTS}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_reports_delete()""",
    f"""CREATE TRIGGER campaigns_reports_on_result_update AFTER UPDATE ON {RESULTS}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION campaigns_reports_update()""",
]
POSTGRES_BACKWARD = [
    *(
        f"DROP TRIGGER IF EXISTS campaigns_reports_on_result_{name} ON {RESULTS}"
        for name in ("insert", "delete", "update")
    ),
    *(
        f"DROP FUNCTION IF EXISTS campaigns_reports_{name}()"
        for name in ("insert", "delete", "update")
    ),
]

# The cells and histories of the results that exist already.
SQLITE_BACKFILL = [
    f"""INSERT INTO {CELLS} (campaign_id, day, hour, state, calls, credits, credits_refunded)
    SELECT campaign_id, {_sqlite_day(RESULTS)}, {_sqlite_hour(RESULTS)}, state, count(*),
           sum(credits), sum(credits_refunded)
    FROM {RESULTS} WHERE sent_at IS NOT NULL GROUP BY 1, 2, 3, 4""",
]
POSTGRES_BACKFILL = [
    f"""INSERT INTO {CELLS} (campaign_id, day, hour, state, calls, credits, credits_refunded)
    SELECT campaign_id, {_LOCAL}::date, extract(hour FROM {_LOCAL})::smallint, state, count(*),
           sum(credits), sum(credits_refunded)
    FROM {RESULTS} WHERE sent_at IS NOT NULL GROUP BY 1, 2, 3, 4""",
]
_PHONES_BACKFILL = f"""INSERT INTO {PHONES} (phone, failed, answered)
    SELECT phone, sum(CASE WHEN state = 'failed' THEN 1 ELSE 0 END),
           sum(CASE WHEN state = 'answered' THEN 1 ELSE 0 END)
    FROM {RESULTS} WHERE state IN ('failed', 'answered') GROUP BY phone"""
SQLITE_BACKFILL.append(_PHONES_BACKFILL)
POSTGRES_BACKFILL.append(_PHONES_BACKFILL)


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"Reports need triggers for {schema_editor.connection.vendor}."
            )
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


Migration.operations += [
    migrations.RunPython(
        _run(
            {
                "sqlite": SQLITE_BACKFILL + SQLITE_FORWARD,
                "postgresql": POSTGRES_BACKFILL + POSTGRES_FORWARD,
            }
        ),
        _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
    ),
]
