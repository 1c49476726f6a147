"""Campaign copies and templates, credit caps and balance alerts (issue 15)."""

from django.db import migrations, models

# Adding `is_template` (a column with a default) makes SQLite rebuild the campaigns table,
# which drops the trigger that creates each campaign's totals row (migration 0008): it is
# created again here. Written out (not imported) so this migration stays what it was.
SQLITE_CAMPAIGN_TRIGGER = [
    "DROP TRIGGER IF EXISTS campaigns_totals_on_campaign_insert",
    """CREATE TRIGGER campaigns_totals_on_campaign_insert AFTER INSERT ON campaigns_campaign
    BEGIN INSERT INTO campaigns_campaigntotals (campaign_id) VALUES (NEW.id); END""",
]


def recreate_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL adds the column in place: its trigger stays
    for statement in SQLITE_CAMPAIGN_TRIGGER:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0022_contact_import_limits"),
    ]

    operations = [
        migrations.CreateModel(
            name="BalanceAlert",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("low", models.BooleanField(default=False, verbose_name="balance low")),
                (
                    "balance",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        max_digits=14,
                        null=True,
                        verbose_name="balance",
                    ),
                ),
                (
                    "threshold",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        max_digits=14,
                        null=True,
                        verbose_name="alert under",
                    ),
                ),
                (
                    "checked_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="balance read at"),
                ),
                (
                    "low_since",
                    models.DateTimeField(blank=True, null=True, verbose_name="low since"),
                ),
                (
                    "alerted_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="email sent at"),
                ),
            ],
            options={
                "verbose_name": "balance alert",
                "verbose_name_plural": "balance alerts",
            },
        ),
        migrations.AddField(
            model_name="campaign",
            name="credit_cap",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Optional: the most credits this campaign may spend.",
                null=True,
                verbose_name="credit cap",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="is_template",
            field=models.BooleanField(default=False, verbose_name="template"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="pause_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("user", "Paused by a person"),
                    ("breaker", "Onurix kept failing"),
                    ("unreachable", "Onurix unreachable"),
                    ("credits", "Credits ran out"),
                    ("credentials", "Credentials refused"),
                    ("refused", "Onurix refused the requests"),
                    ("credit_cap", "Credit limit reached"),
                    ("daily_limit", "Daily credit limit reached"),
                ],
                max_length=12,
                verbose_name="pause reason",
            ),
        ),
        migrations.RunPython(recreate_sqlite_trigger, migrations.RunPython.noop),
    ]
