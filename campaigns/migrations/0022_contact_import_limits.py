"""Contact import limits, worker-side preview, interrupted imports (issue 14)."""

from django.db import migrations, models
from django.db.models import F


def fill_rows_total(apps, schema_editor):
    # Imports previewed before this field existed: their total was the preview's counts.
    ContactImport = apps.get_model("campaigns", "ContactImport")
    ContactImport.objects.update(rows_total=F("to_create") + F("to_update") + F("skipped"))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0021_activity_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="contactimport",
            name="progress_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last progress"),
        ),
        migrations.AddField(
            model_name="contactimport",
            name="rows_total",
            field=models.PositiveIntegerField(default=0, verbose_name="rows in the file"),
        ),
        migrations.AddField(
            model_name="contactimport",
            name="to_mark_do_not_call",
            field=models.PositiveIntegerField(default=0, verbose_name="to mark do-not-call"),
        ),
        migrations.AddField(
            model_name="contactimport",
            name="unchanged",
            field=models.PositiveIntegerField(default=0, verbose_name="unchanged"),
        ),
        migrations.AddField(
            model_name="contactimport",
            name="worker",
            field=models.CharField(blank=True, max_length=100, verbose_name="worker"),
        ),
        migrations.AlterField(
            model_name="contactimport",
            name="state",
            field=models.CharField(
                choices=[
                    ("uploaded", "Uploaded"),
                    ("previewing", "Checking"),
                    ("previewed", "Previewed"),
                    ("queued", "Queued"),
                    ("importing", "Importing"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                    ("interrupted", "Interrupted"),
                ],
                default="uploaded",
                max_length=12,
                verbose_name="state",
            ),
        ),
        migrations.RunPython(fill_rows_total, migrations.RunPython.noop),
    ]
