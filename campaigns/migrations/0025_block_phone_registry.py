"""Onurix block-phone sync and the national do-not-call registry (issue 15)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0024_reports"),
    ]

    operations = []
