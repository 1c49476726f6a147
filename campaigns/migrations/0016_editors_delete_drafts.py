from django.contrib.auth.management import create_permissions
from django.db import migrations


def editors_delete_drafts(apps, schema_editor):
    # As in 0006 and 0014: permissions are created after all migrations; the roles need
    # them now to gain delete_campaign.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    from campaigns.roles import ensure_roles

    ensure_roles(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0015_pause_reason_refused"),
    ]

    operations = [
        migrations.RunPython(editors_delete_drafts, migrations.RunPython.noop),
    ]
