"""Onurix block-phone sync and the national do-not-call registry (issue 15)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Adding `purpose` (a column with a default) makes SQLite rebuild the campaigns table,
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
        ("campaigns", "0024_reports"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="purpose",
            field=models.CharField(
                choices=[
                    ("informational", "Informational or service"),
                    ("commercial", "Commercial or advertising"),
                ],
                default="informational",
                max_length=13,
                verbose_name="purpose",
            ),
        ),
        migrations.RunPython(recreate_sqlite_trigger, migrations.RunPython.noop),
        migrations.AddField(
            model_name="donotcallchange",
            name="onurix_block",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pending", "Waiting to be sent"),
                    ("blocked", "Blocked at Onurix"),
                    ("refused", "Refused by Onurix"),
                    ("not_reached", "Onurix could not be reached"),
                ],
                max_length=12,
                verbose_name="blocked at Onurix",
            ),
        ),
        migrations.AddField(
            model_name="donotcallchange",
            name="onurix_block_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="Onurix answered at"),
        ),
        migrations.AddField(
            model_name="donotcallchange",
            name="onurix_block_attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="donotcallchange",
            name="onurix_block_message",
            field=models.CharField(blank=True, max_length=500, verbose_name="Onurix's answer"),
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
                    ("registry", "In the Registro de Números Excluidos"),
                    ("dead", "Dead number: failed again and again, never answered"),
                ],
                max_length=12,
                verbose_name="exclusion reason",
            ),
        ),
        migrations.CreateModel(
            name="RegistryList",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("list_date", models.DateField(verbose_name="list date")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("loading", "Loading"),
                            ("loaded", "Loaded"),
                            ("failed", "Failed"),
                        ],
                        default="loading",
                        max_length=8,
                        verbose_name="state",
                    ),
                ),
                ("error", models.CharField(blank=True, max_length=500, verbose_name="error")),
                (
                    "upload",
                    models.FileField(
                        blank=True, upload_to="registry/", verbose_name="uploaded file"
                    ),
                ),
                ("file_name", models.CharField(blank=True, max_length=255, verbose_name="file")),
                ("numbers", models.PositiveIntegerField(default=0, verbose_name="numbers")),
                ("skipped", models.PositiveIntegerField(default=0, verbose_name="lines skipped")),
                ("is_current", models.BooleanField(default=False, verbose_name="current")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="loaded at")),
                (
                    "loaded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="loaded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "registry list",
                "verbose_name_plural": "registry lists",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="RegistryNumber",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("phone", models.CharField(max_length=16, verbose_name="phone")),
                (
                    "registry_list",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="campaigns.registrylist",
                        verbose_name="list",
                    ),
                ),
            ],
            options={
                "verbose_name": "registry number",
                "verbose_name_plural": "registry numbers",
            },
        ),
        migrations.AddConstraint(
            model_name="registrylist",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_current", True)),
                fields=("is_current",),
                name="one_current_registry",
            ),
        ),
        migrations.AddConstraint(
            model_name="registrynumber",
            constraint=models.UniqueConstraint(
                fields=("registry_list", "phone"), name="one_registry_number_per_list"
            ),
        ),
    ]
