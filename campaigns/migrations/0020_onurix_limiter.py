"""The shared Onurix rate limiter (issue 18): request slots and the account's pace."""

from django.db import migrations, models


def create_pace(apps, schema_editor):
    apps.get_model("campaigns", "OnurixPace").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0019_worker_heartbeat"),
    ]

    operations = [
        migrations.CreateModel(
            name="OnurixSlot",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField(unique=True, verbose_name="number")),
                ("holder", models.CharField(blank=True, default="", max_length=64, verbose_name="held by batch")),
                ("worker", models.CharField(blank=True, default="", max_length=100, verbose_name="worker")),
                ("lease_until", models.DateTimeField(blank=True, null=True, verbose_name="held until")),
            ],
            options={
                "verbose_name": "Onurix request slot",
                "verbose_name_plural": "Onurix request slots",
            },
        ),
        migrations.CreateModel(
            name="OnurixPace",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("next_at", models.FloatField(default=0, verbose_name="next request at")),
            ],
            options={
                "verbose_name": "Onurix request pace",
                "verbose_name_plural": "Onurix request pace",
            },
        ),
        migrations.RunPython(create_pace, migrations.RunPython.noop),
    ]
