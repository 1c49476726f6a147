"""On PostgreSQL, trigram indexes for the searches that match inside names and emails
(`icontains`): without them each search reads every contact (~85 ms at 100,000 contacts;
~13 ms with them). Django's icontains is `UPPER(col::text) LIKE ...`, so the indexes are on
that same expression. SQLite has no such index; nothing is done there.

Not on the phone: the planner then used the trigram index for the import's
`phone IN (...)` lookups instead of the unique index, and an import ran 15x slower. A phone
search reads the 100,000 phones in ~14 ms without it.

pg_trgm is a trusted extension (PostgreSQL 13+): the owner of the database may create it.
"""

from django.db import migrations

INDEXES = {
    "contact_first_name_trgm": "UPPER(first_name::text) gin_trgm_ops",
    "contact_last_name_trgm": "UPPER(last_name::text) gin_trgm_ops",
    "contact_email_trgm": "UPPER(email::text) gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON campaigns_contact USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0010_contact_newest_first_by_id"),
    ]

    # (Django's TrigramExtension operation cannot be unapplied on SQLite.) Unapplying drops
    # the indexes and leaves the extension, which other databases' objects may use.
    operations = [
        migrations.RunPython(create, drop),
    ]
