"""Set-at-a-time writes for bulk paths (loaders, imports).

PostgreSQL gets COPY, SQLite one prepared statement run over all rows
(executemany). Both run inside the caller's transaction, so a failed load
leaves nothing behind.
"""

from collections.abc import Iterable, Sequence

from django.db import connection


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert ``rows`` into ``table`` (a model's own table name), set-at-a-time."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})", rows)  # noqa: S608


def analyze(table: str) -> None:
    """Refresh planner statistics after a bulk change, so plans stay right."""
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {qn(table)}")
