"""A trigram index for searching persons by a part of their name, on
PostgreSQL when the pg_trgm extension can be had (it ships with PostgreSQL;
creating it needs a role that may, else ask the database administrator for
`CREATE EXTENSION pg_trgm;` and run `sinergi manage migrate registry 0004`
then `migrate` again). Without it, and on SQLite, a name search walks the
persons of the region in order and stops at its page."""

from django.db import migrations, transaction

INDEX = ("CREATE INDEX IF NOT EXISTS person_name_trgm ON registry_person "
         "USING gin (UPPER((name)::text) gin_trgm_ops)")


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        try:
            with transaction.atomic(using=connection.alias):
                cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # no privilege: the search works without the index
            return
        cur.execute(INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS person_name_trgm")


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0004_identifiers_collation_c"),
    ]

    operations = [migrations.RunPython(create, drop)]
