"""Contact import limits, worker-side preview, interrupted imports (issue 14)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0021_activity_log"),
    ]

    operations = []
