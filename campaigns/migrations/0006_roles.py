from django.db import migrations

from campaigns.roles import ensure_roles_in_migration



class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("campaigns", "0005_onurixrequest_worker"),
    ]

    operations = [migrations.RunPython(ensure_roles_in_migration, migrations.RunPython.noop)]
