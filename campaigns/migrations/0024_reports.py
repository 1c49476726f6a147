"""Reports, dead numbers (issue 16)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0023_follow_ups"),
    ]

    operations = []
