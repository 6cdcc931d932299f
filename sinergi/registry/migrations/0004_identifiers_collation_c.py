"""PostgreSQL only: NIK and KK numbers compare byte by byte (collation "C").

They are digits, so the order is the same; but under a language collation
(even C.UTF-8) every comparison calls strcoll and sorts lose abbreviated
keys: building the unique index of a million NIKs after a bulk import, and
every lookup by NIK or KK, costs about a third more. SQLite already
compares text byte by byte. The unique indexes are rebuilt with the type.
"""

from django.db import migrations

COLUMNS = [("registry_person", "nik"), ("registry_household", "kk_number"),
           ("registry_kknumberhistory", "kk_number")]


def _collate(schema_editor, collation: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar(16) '
            f'COLLATE "{collation}"')


def to_c(apps, schema_editor):
    _collate(schema_editor, "C")


def back(apps, schema_editor):
    _collate(schema_editor, "default")


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_timestamps_db_default")]
    operations = [migrations.RunPython(to_c, back)]
