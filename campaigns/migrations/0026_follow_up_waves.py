"""Follow-up waves (issue 15)."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

# Adding `wave` (a one-to-one: a unique column) makes SQLite rebuild the campaigns table,
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
        ("campaigns", "0025_block_phone_registry"),
    ]

    operations = [
        migrations.CreateModel(
            name="FollowUpWave",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "number",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(2),
                            django.core.validators.MaxValueValidator(4),
                        ],
                        verbose_name="wave",
                    ),
                ),
                (
                    "outcomes",
                    models.JSONField(default=list, verbose_name="outcomes to call again"),
                ),
                (
                    "days_after",
                    models.PositiveSmallIntegerField(
                        default=1,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="calling days after",
                    ),
                ),
                ("at", models.TimeField(verbose_name="at")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for its time"),
                            ("starting", "Starting"),
                            ("launched", "Launched"),
                            ("skipped", "Nobody to call"),
                            ("cancelled", "Cancelled"),
                            ("failed", "Could not start"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                ("message", models.CharField(blank=True, max_length=500, verbose_name="message")),
                (
                    "left_out",
                    models.JSONField(blank=True, default=dict, verbose_name="left out"),
                ),
                (
                    "started_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="started at"),
                ),
                ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="ended at")),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="waves",
                        to="campaigns.campaign",
                        verbose_name="campaign",
                    ),
                ),
            ],
            options={
                "verbose_name": "follow-up wave",
                "verbose_name_plural": "follow-up waves",
                "ordering": ["campaign", "number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("campaign", "number"), name="one_wave_per_number"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="campaign",
            name="wave",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="run",
                to="campaigns.followupwave",
                verbose_name="follow-up wave",
            ),
        ),
        migrations.RunPython(recreate_sqlite_trigger, migrations.RunPython.noop),
    ]
