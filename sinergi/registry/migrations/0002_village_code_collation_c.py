"""PostgreSQL only: village codes compare byte by byte (collation "C").

Subtree filters are prefixes of the village code (LIKE '19.04.%'), and lists
are ordered by (village_code, id). With the "C" collation one ordinary
B-tree on (village_code, id) serves both the prefix and the order; under a
language collation PostgreSQL could use it for neither. Codes are digits
and dots, so nothing is lost. SQLite already compares text byte by byte.
"""

from django.db import migrations

TABLES = ["registry_household", "registry_person"]


def to_c(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "village_code" TYPE varchar(13) COLLATE "C"')


def back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "village_code" TYPE varchar(13) '
            'COLLATE "default"')


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(to_c, back)]
