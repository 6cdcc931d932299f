"""Set-at-a-time writes for bulk paths (loaders, imports).

PostgreSQL gets COPY, SQLite one prepared statement run over all rows
(executemany). Both run inside the caller's transaction, so a failed load
leaves nothing behind.
"""

import io
from collections.abc import Iterable, Sequence

import polars as pl
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


def bulk_insert_frame(table: str, frame: pl.DataFrame) -> None:
    """Insert a polars frame whose columns are named like the table's.

    On PostgreSQL the frame goes to COPY as CSV written by polars (no Python
    work per row); on SQLite the columns are zipped into rows for one
    prepared INSERT. Text values must be final (dates as YYYY-MM-DD).
    """
    if connection.vendor != "postgresql":
        columns = [frame.get_column(c).to_list() for c in frame.columns]
        bulk_insert(table, frame.columns, zip(*columns, strict=True))
        return
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in frame.columns)
    sql = f"COPY {qn(table)} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
        for start in range(0, frame.height, 200_000):
            buffer = io.BytesIO()
            frame.slice(start, 200_000).write_csv(buffer, include_header=False,
                                                  null_value="\\N")
            copy.write(buffer.getvalue())


def analyze(table: str) -> None:
    """Refresh planner statistics after a bulk change, so plans stay right."""
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {qn(table)}")
