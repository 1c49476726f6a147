from django.db import migrations

from campaigns.roles import ensure_roles_in_migration



class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0015_pause_reason_refused"),
    ]

    operations = [
        migrations.RunPython(ensure_roles_in_migration, migrations.RunPython.noop),
    ]
