"""A dispatch waiting for a request slot says so (issue 18: one rate for the account,
shared fairly between campaigns)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0026_follow_up_waves"),
    ]

    operations = [
        migrations.AddField(
            model_name="onurixpace",
            name="wanted_by",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="slot wanted by"),
        ),
        migrations.AddField(
            model_name="onurixpace",
            name="wanted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="slot wanted at"),
        ),
    ]
