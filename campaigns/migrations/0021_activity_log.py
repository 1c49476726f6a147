"""The activity log (issue 18)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0020_onurix_limiter"),
    ]

    operations = []
