"""The shared Onurix rate limiter (issue 18)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0019_worker_heartbeat"),
    ]

    operations = []
