"""The registry's timestamps get a database default, on PostgreSQL only.

A PostgreSQL bulk load (COPY) then leaves created_at/updated_at out and the
server stamps them: parsing two timestamps per row was a third of the COPY.
There it is a metadata-only ALTER. SQLite never uses the default (bulk
loads write the time as a literal, see imports.pipeline._stamps) and would
copy both tables twice to add it, so its schema is left as it is; the
model state records the default for both.
"""

import django.db.models.functions.datetime
from django.db import migrations, models

COLUMNS = [("registry_household", "created_at"), ("registry_household", "updated_at"),
           ("registry_person", "created_at"), ("registry_person", "updated_at")]


def _set_default(schema_editor, clause: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" {clause}')


def forwards(apps, schema_editor):
    _set_default(schema_editor, "SET DEFAULT (STATEMENT_TIMESTAMP())")


def backwards(apps, schema_editor):
    _set_default(schema_editor, "DROP DEFAULT")


def _field(auto: str):
    return models.DateTimeField(**{auto: True},
                                db_default=django.db.models.functions.datetime.Now(),
                                verbose_name="created" if auto == "auto_now_add" else "updated")


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0002_village_code_collation_c"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model, name=name, field=_field(auto))
                for model in ("household", "person")
                for name, auto in (("created_at", "auto_now_add"), ("updated_at", "auto_now"))
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
