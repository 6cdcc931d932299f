"""A whole income round from Excel or CSV: the template, the import and the
export of a round's records.

The import reads the file with the registry's readers (polars, every cell
as text), checks every row column at a time (the KK number; each rupiah
cell; the family in the uploader's area and in the round's region; a family
twice), and writes all rows in one transaction, or nothing: any problem
refuses the file with the row, the column and what to do. A family already
recorded in the round gets the file's figures (the file is the correction).
Totals far from their village's median are flagged, not refused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.core.audit import audit_record
from sinergi.core.bulk import analyze, bulk_insert_frame, checkpoint_after, rows_where_in, staging
from sinergi.core.errors import DataFileError, SinergiError
from sinergi.imports.normalize import issue_message, issue_messages
from sinergi.imports.readers import CheckedFile, Problem, read_table
from sinergi.registry.models import Household

from . import services
from .models import INCOME, INCOME_SOURCES, OUTLIER, IncomeRecord, Round

MAX_ROWS = 250_000
MAX_PROBLEMS = 500  # problems listed; the count says how many more

# Columns: the template's header, then the other names people already use.
KK_HEADERS = ("no kk", "nomor kk", "no. kk", "nomor kartu keluarga", "kk", "kk_number")
AMOUNT_HEADERS = {
    "wages": ("upah/gaji", "upah", "gaji", "upah gaji", "wages"),
    "business": ("usaha sendiri", "usaha", "own business", "business"),
    "farming": ("pertanian/perikanan", "pertanian", "pertanian perikanan", "tani/nelayan",
                "farming", "farming/fishing"),
    "transfers": ("bantuan/kiriman", "bantuan", "kiriman", "transfer", "transfers"),
    "other": ("lainnya", "lain-lain", "other"),
    "expenditure": ("pengeluaran", "pengeluaran per bulan", "expenditure"),
    "assets": ("aset", "nilai aset", "assets"),
}
OTHER_HEADERS = {"enumerator": ("pencacah", "petugas", "enumerator"),
                 "recorded_on": ("tanggal", "tanggal pencacahan", "date")}


KNOWN_HEADERS = frozenset(name for names in (KK_HEADERS, *AMOUNT_HEADERS.values(),
                                             *OTHER_HEADERS.values()) for name in names)


def header_score(cells: list[str]) -> int:
    """How many cells of a row are known column names: the header row is
    found below a title and notes, as files from the field have them."""
    return sum(1 for c in cells if c and str(c).strip().lower() in KNOWN_HEADERS)


def template_headers() -> list[str]:
    return ["No KK", "Upah/Gaji", "Usaha sendiri", "Pertanian/Perikanan", "Bantuan/Kiriman",
            "Lainnya", "Pengeluaran", "Aset", "Pencacah", "Tanggal"]


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    for column in columns:
        if column.strip().lower() in names:
            return column
    return None


def _rupiah_columns(frame: pl.DataFrame, key: str, column: pl.Series | None) -> pl.DataFrame:
    """Add ``key`` (whole non-negative rupiah; "1.500.000" and "Rp 1.500.000"
    read as 1500000), ``{key}_problem`` (a code, or null) and ``{key}_raw``
    (the cell as written) for the file's ``column`` (a frame's row each). In stages: polars would
    recompute a shared sub-expression at each use."""
    if column is None:
        return frame.with_columns(pl.lit(None, pl.Int64).alias(key),
                                  pl.lit(None, pl.String).alias(f"{key}_problem"),
                                  pl.lit(None, pl.String).alias(f"{key}_raw"))
    raw = pl.col(f"{key}_raw")
    frame = frame.with_columns(column.alias(f"{key}_raw")).with_columns(
        raw.str.strip_chars().str.replace(r"(?i)^rp\.?", "").str.replace_all(r"[\s\u00a0]", "")
        .alias("_text"), (raw.is_null() | (raw.str.strip_chars() == "")).alias("_blank"))
    text = pl.col("_text")
    frame = frame.with_columns(
        pl.when(text.str.contains(r"^-?\d{1,3}(\.\d{3})+$")).then(text.str.replace_all(r"\.", ""))
        .when(text.str.contains(r"^-?\d+\.0+$")).then(text.str.replace(r"\.0+$", ""))
        .otherwise(text).alias("_digits"))
    digits, blank = pl.col("_digits"), pl.col("_blank")
    frame = frame.with_columns(digits.str.contains(r"^\d{1,11}$").alias("_ok"))
    ok = pl.col("_ok")
    return frame.with_columns(
        pl.when(ok & ~blank).then(digits.cast(pl.Int64, strict=False)).otherwise(None)
        .alias(key),
        pl.when(blank).then(pl.lit(None))
        .when(digits.str.contains(r"^-\d")).then(pl.lit("negative"))
        .when(digits.str.contains(r"^\d+[.,]\d+$")).then(pl.lit("fraction"))
        .when(digits.str.contains(r"^\d{12,}$")).then(pl.lit("too_big"))
        .when(~ok).then(pl.lit("text"))
        .otherwise(pl.lit(None)).alias(f"{key}_problem"),
    ).drop("_text", "_blank", "_digits", "_ok")


def read_rupiah(value) -> tuple[int | None, str | None]:
    """One amount by the file's rule (a form field, an API value): (rupiah
    or None when empty, the problem's message or None)."""
    cell = None if value is None else str(value)
    frame = _rupiah_columns(pl.DataFrame({"_": [0]}), "amount",
                            pl.Series([cell], dtype=pl.String))
    row = frame.row(0, named=True)
    problem = row["amount_problem"]
    return row["amount"], _messages()[problem] if problem else None


def _messages() -> dict[str, str]:
    return {
        "negative": _("An income or amount cannot be negative; write 0 if there is none."),
        "fraction": _("Write whole rupiah without a decimal part, e.g. 1500000."),
        "too_big": _("More than 99.999.999.999 rupiah; check the number of digits."),
        "text": _("Not a rupiah amount: it is not a number. Write digits only, e.g. 1500000 "
                  "or 1.500.000."),
        "kk_invalid": _("A KK number has 16 digits; write it as text so Excel keeps every "
                        "digit."),
        "kk_twice": _("This family appears earlier in the file (row %(first)s); keep one row "
                      "per family."),
        "not_found": _("No family with this KK number in your area; check the number, or "
                       "register the family first."),
        "outside_round": _("This family lives in %(village)s, outside the round's region "
                           "%(region)s; take the row out."),
        "no_income": _("No income amount in this row; write 0 in the columns without "
                       "income."),
        "date": _("Write the date as DD/MM/YYYY, e.g. 15/03/2026."),
    }


def _replace(rnd: Round, ids: list[int]) -> int:
    """Delete the round's records of these families (the file replaces
    them): nothing to do in a round still empty; else plain batched DELETEs
    (the ORM spends a second building 200,000 lookups)."""
    if not IncomeRecord.objects.filter(round=rnd).exists():
        return 0
    qn = connection.ops.quote_name
    deleted = 0
    with connection.cursor() as cur:
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            cur.execute(f"DELETE FROM {qn(IncomeRecord._meta.db_table)} WHERE round_id = %s "  # noqa: S608
                        f"AND household_id IN ({', '.join(['%s'] * len(chunk))})",
                        [rnd.pk, *chunk])
            deleted += cur.rowcount
    return deleted


def income_import(*, actor, rnd: Round, upload) -> CheckedFile:
    """Import a round's file: all rows or nothing; the problems say where."""
    access.check_capability(actor, "income.enter")
    if rnd.kind != INCOME:
        raise SinergiError(_("Round '%(name)s' collects group business, not family income.")
                           % {"name": rnd.name})
    if rnd.status != "open":
        raise SinergiError(_("Round '%(name)s' is not open: records can be imported only "
                             "while it is open.") % {"name": rnd.name})
    name = str(getattr(upload, "name", "file"))[-120:]
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as tmp:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            tmp.write(chunk)
        tmp.flush()
        table = read_table(Path(tmp.name), file_name=name, header_score=header_score)
    result = CheckedFile(file_name=name)
    df = table.df
    if df.height > MAX_ROWS:
        raise DataFileError(_("File '%(file)s' has %(n)d rows; at most %(max)d at once. Split "
                              "the file by kecamatan.")
                            % {"file": name, "n": df.height, "max": MAX_ROWS})
    if df.height == 0:
        raise DataFileError(_("File '%(file)s' has no data rows under its header.")
                            % {"file": name})
    columns = list(df.columns)
    kk_col = _find(columns, KK_HEADERS)
    if kk_col is None:
        raise DataFileError(_("The file has no column NO KK; the header row has: %(found)s. "
                              "Use the round's template.") % {"found": ", ".join(columns[:15])})
    for key, names in AMOUNT_HEADERS.items():
        same = [c for c in columns if c.strip().lower() in names]
        if len(same) > 1:  # "Upah" and "Gaji" side by side: one source, two columns
            raise DataFileError(_("Columns %(columns)s hold the same kind of income; add them "
                                  "up into one column (%(header)s) and upload again.")
                                % {"columns": ", ".join(f"'{c}'" for c in same),
                                   "header": template_headers()[
                                       1 + list(AMOUNT_HEADERS).index(key)]})
    amount_cols = {k: _find(columns, v) for k, v in AMOUNT_HEADERS.items()}
    if not any(amount_cols[k] for k in INCOME_SOURCES):
        raise DataFileError(_("The file has no income column (Upah/Gaji, Usaha sendiri, "
                              "Pertanian/Perikanan, Bantuan/Kiriman, Lainnya); use the round's "
                              "template."))
    other_cols = {k: _find(columns, v) for k, v in OTHER_HEADERS.items()}
    messages = _messages()
    problems: list[Problem] = []

    def add(rows: pl.DataFrame, column: str, value_col: str, code_col: str | None = None,
            code: str | None = None, extra=None) -> None:
        for row in rows.head(MAX_PROBLEMS - len(problems) + 1).iter_rows(named=True):
            message = messages[row[code_col] if code_col else code]
            if extra:
                message = message % extra(row)
            problems.append(Problem(row["line"], column, str(row[value_col] or "")[:60],
                                    message))

    exprs = [pl.Series("line", table.lines).alias("line"),
             pl.col(kk_col).str.replace_all(r"[\s'`’.-]", "").alias("kk"),
             pl.col(kk_col).alias("kk_raw")]
    for key, col in other_cols.items():
        exprs.append((pl.col(col) if col else pl.lit(None, pl.String)).alias(key))
    frame = df.select(exprs)
    for key, col in amount_cols.items():
        frame = _rupiah_columns(frame, key, df.get_column(col) if col else None)
    frame = frame.with_columns(
        kk_ok=pl.col("kk").str.contains(r"^\d{16}$").fill_null(False),
        first=pl.col("kk").is_first_distinct(),
        recorded=pl.col("recorded_on").str.strip_chars().str.to_date("%d/%m/%Y", strict=False)
        .fill_null(pl.col("recorded_on").str.strip_chars().str.to_date("%Y-%m-%d",
                                                                       strict=False)))
    # What the reader found in a cell: a KK number Excel stored as a number
    # (its 16th digit may be a 0 now, and match another family), a formula.
    used = {kk_col, *filter(None, amount_cols.values())}
    flagged_rows = set()
    if table.issues.height:
        templates = issue_messages()
        lines = table.lines.to_list()
        for row, column, value, code in table.issues.filter(
                pl.col("column").is_in(list(used))).iter_rows():
            problems.append(Problem(lines[row], column, str(value or "")[:60], issue_message(
                code, column=column, value=value, templates=templates)))
            if column == kk_col:
                flagged_rows.add(row)
    frame = frame.with_columns(
        flagged=pl.int_range(pl.len()).is_in(list(flagged_rows)) if flagged_rows
        else pl.lit(False))
    add(frame.filter(~pl.col("kk_ok") & ~pl.col("flagged")), kk_col, "kk_raw",
        code="kk_invalid")
    # A flagged KK is never matched (no second problem on the same cell either).
    frame = frame.with_columns(kk_ok=pl.col("kk_ok") & ~pl.col("flagged"),
                               kk=pl.when(pl.col("flagged")).then(None).otherwise(pl.col("kk")))
    frame = frame.with_columns(first=pl.col("kk").is_first_distinct())
    dup = frame.filter(pl.col("kk_ok") & ~pl.col("first"))
    if dup.height:
        firsts = dict(frame.filter(pl.col("kk_ok") & pl.col("first"))
                      .select("kk", "line").iter_rows())
        add(dup, kk_col, "kk_raw", code="kk_twice",
            extra=lambda row: {"first": firsts.get(row["kk"], "?")})
    for key, col in amount_cols.items():
        if col:
            add(frame.filter(pl.col(f"{key}_problem").is_not_null()), col, f"{key}_raw",
                code_col=f"{key}_problem")
    if other_cols["recorded_on"]:
        add(frame.filter(pl.col("recorded_on").is_not_null() & pl.col("recorded").is_null()),
            other_cols["recorded_on"], "recorded_on", code="date")
    sources = [pl.col(k) for k in INCOME_SOURCES]
    no_income = frame.filter(pl.all_horizontal([s.is_null() for s in sources]) &
                             pl.all_horizontal([pl.col(f"{k}_problem").is_null()
                                                for k in INCOME_SOURCES]))
    add(no_income, amount_cols["wages"] or kk_col, "kk_raw", code="no_income")

    # The families, by KK number, in the uploader's area.
    keys = frame.filter(pl.col("kk_ok")).get_column("kk").unique().to_list()
    table_name = Household._meta.db_table
    rows = list(rows_where_in(
        f"SELECT kk_number, id, village_code FROM {table_name} WHERE kk_number", keys))  # noqa: S608
    lookup = pl.DataFrame(rows, schema={"kk": pl.String, "household_id": pl.Int64,
                                        "village_code": pl.String}, orient="row")
    root = access.scope_root(actor) if actor is not None else None
    if root:  # the uploader's area: a family elsewhere is "not found", as everywhere
        lookup = lookup.filter((pl.col("village_code") == root)
                               | pl.col("village_code").str.starts_with(root + "."))
    frame = frame.join(lookup, on="kk", how="left")
    add(frame.filter(pl.col("kk_ok") & pl.col("household_id").is_null()), kk_col, "kk_raw",
        code="not_found")
    outside = frame.filter(pl.col("household_id").is_not_null()
                           & ~pl.col("village_code").str.starts_with(rnd.region_id))
    add(outside, kk_col, "kk_raw", code="outside_round",
        extra=lambda row: {"village": row["village_code"], "region": rnd.region_id})
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column))
        result.problems = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            result.warnings.append(_("Only the first %(n)d problems are listed.")
                                   % {"n": MAX_PROBLEMS})
        return result

    now = timezone.now()
    frame = frame.with_columns([pl.col(k).fill_null(0) for k in INCOME_SOURCES]).with_columns(
        total=pl.sum_horizontal(INCOME_SOURCES))
    # Screening: modified z-score against the village's median in this file.
    stats = frame.group_by("village_code").agg(
        med=pl.col("total").median(), n=pl.len())
    frame = frame.join(stats, on="village_code")
    frame = frame.with_columns(dev=(pl.col("total") - pl.col("med")).abs())
    mads = frame.group_by("village_code").agg(mad=pl.col("dev").median())
    frame = frame.join(mads, on="village_code").with_columns(
        mad=pl.max_horizontal(pl.col("mad"), pl.col("med").abs() * 0.05, pl.lit(1.0)))
    frame = frame.with_columns(
        flags=pl.when((pl.col("n") >= services.SCREEN_MIN_VALUES + 1)
                      & (pl.col("dev") * 0.6745 / pl.col("mad") > services.SCREEN_Z))
        .then(pl.lit(OUTLIER)).otherwise(pl.lit("")))
    flagged = int((frame.get_column("flags") == OUTLIER).sum())
    out = frame.select(
        pl.lit(rnd.pk).alias("round_id"), "household_id", "village_code",
        *INCOME_SOURCES, "total", pl.col("expenditure"), pl.col("assets"),
        pl.col("enumerator").fill_null("").str.slice(0, 120).alias("enumerator"),
        pl.col("recorded").fill_null(timezone.localdate()).cast(pl.String).alias("recorded_on"),
        "flags", pl.lit(actor.pk if getattr(actor, "pk", None) else None, pl.Int64)
        .alias("created_by_id"), pl.col("line").cast(pl.Int64).alias("import_line"),
        pl.lit(now.isoformat()).alias("created_at"), pl.lit(now.isoformat()).alias("updated_at"))
    ids = out.get_column("household_id").to_list()
    with checkpoint_after(), staging(), transaction.atomic():
        rnd_locked = Round.objects.select_for_update().get(pk=rnd.pk)
        if rnd_locked.status != "open":
            raise SinergiError(_("Round '%(name)s' was closed meanwhile; nothing was imported.")
                               % {"name": rnd.name})
        replaced = _replace(rnd, ids)
        bulk_insert_frame(IncomeRecord._meta.db_table, out)
        audit_record(actor=actor, action="income.import", obj=rnd,
                     after={"file": name, "rows": out.height, "replaced": replaced,
                            "flagged": flagged})
    analyze(IncomeRecord._meta.db_table)
    result.created = out.height
    if replaced:
        result.warnings.append(_("%(n)d families already recorded in this round got the "
                                 "file's figures.") % {"n": replaced})
    if flagged:
        result.warnings.append(_("%(n)d totals are far from their village's median and were "
                                 "flagged for checking.") % {"n": flagged})
    return result

