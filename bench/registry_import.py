"""Benchmark: importing a province-size registry file, pipeline against plain ORM.

Scale: 1,000,000 synthetic persons (about 300,000 families) over the 393
villages of Kepulauan Bangka Belitung, 1 % of rows with a defect
(sinergi/registry/synthetic/), written as the Sinergi template in CSV;
and a 100,000-row XLSX of the same generator.

    .venv/bin/python bench/registry_import.py                # temporary SQLite files
    .venv/bin/python bench/registry_import.py --postgres postgres://postgres@127.0.0.1:5432/sinergi_bench

Each path runs in a fresh child process on a fresh database (regions loaded
first; with --postgres the named database is dropped and created again), so
peak memory (ru_maxrss) is that path's own:

(a) pipeline: import_job_create + import_job_claim + import_job_run, as the
    upload page and `sinergi import persons` do (polars read and checks,
    executemany on SQLite / COPY on PostgreSQL, one transaction);
(b) orm: what a plain Django import would do: the csv module, per-row
    checks in Python, bulk_create in batches of 5,000 (households, persons) (see orm_import for
    which checks; it accepts and rejects the same rows as the pipeline on
    this file, which the script verifies);
(c) xlsx: the pipeline on a 100,000-row workbook (openpyxl write_only).

Prints "label: value" lines: rows, accepted, rejected, seconds end to end,
rows/s, peak memory, and the ORM/pipeline time ratio. Timings on these
shared machines are noisy: compare the ratio within one run.
"""

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import report_checkpoint, use_database

PROVINCE = "19"
BATCH = 5000


def say(label: str, value) -> None:
    print(f"{label}: {value}", flush=True)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- parent: data, children, summary ------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL of a scratch database")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--bad-fraction", type=float, default=0.01)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--skip-orm", action="store_true", help="run only the pipeline paths")
    parser.add_argument("--child", choices=["generate", "pipeline", "orm"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "generate":
        return generate(args)
    if args.child:
        return child(args)

    # The parent stays small (no Django, no data): a child's ru_maxrss starts
    # from its parent's high-water mark at fork/exec, so each child measures
    # only itself.
    tmp = tempfile.TemporaryDirectory(prefix="sinergi-bench-")
    say("database", "postgresql" if args.postgres else "sqlite")
    data = run_child("generate", Path(tmp.name), args, tmp.name)
    if data is None:
        return 1
    results = {"pipeline": run_child("pipeline", Path(data["csv"]), args, tmp.name)}
    if not args.skip_orm:
        results["orm"] = run_child("orm", Path(data["csv"]), args, tmp.name)
        p, o = results["pipeline"], results["orm"]
        if p and o:
            say("orm / pipeline time ratio", f"{o['seconds'] / p['seconds']:.1f}x")
            say("same rows accepted", (p["accepted"], p["rejected"])
                == (o["accepted"], o["rejected"]))
    if data.get("xlsx"):
        results["xlsx"] = run_child("pipeline", Path(data["xlsx"]), args, tmp.name,
                                    label="xlsx")
    tmp.cleanup()
    return 0 if all(results.values()) else 1


def generate(args) -> int:
    """Child: write the CSV (and the XLSX) and say what they hold."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sinergi.settings")
    import django

    django.setup()
    from sinergi.regions.services import DEFAULT_FILE
    from sinergi.registry import synthetic

    folder = Path(args.file)
    villages = _villages(DEFAULT_FILE)
    say("villages", f"{len(villages)} (province {PROVINCE})")
    t = time.perf_counter()
    df = synthetic.generate(villages, persons=args.persons, bad_fraction=args.bad_fraction,
                            seed=1)
    gen_s = time.perf_counter() - t
    families = df.get_column("No KK").n_unique()
    say("generated persons", f"{df.height:,} in {families:,} families, "
        f"{gen_s:.1f} s ({df.height / gen_s:,.0f} rows/s)")
    say("generator peak memory", f"{peak_mb():,.0f} MB")
    say("expected rejections",
        f"{synthetic.expected_rejections(args.persons, args.bad_fraction):,}")
    out = {"csv": str(folder / "registry.csv")}
    t = time.perf_counter()
    df.write_csv(out["csv"])
    say("csv", f"{Path(out['csv']).stat().st_size / 1e6:.0f} MB written in "
        f"{time.perf_counter() - t:.1f} s")
    del df
    if args.xlsx_rows:
        small = synthetic.generate(villages, persons=args.xlsx_rows,
                                   bad_fraction=args.bad_fraction, seed=2)
        out["xlsx"] = str(folder / "registry.xlsx")
        t = time.perf_counter()
        write_xlsx(small, Path(out["xlsx"]))
        say("xlsx", f"{args.xlsx_rows:,} rows, {Path(out['xlsx']).stat().st_size / 1e6:.0f} MB "
            f"written (openpyxl write_only) in {time.perf_counter() - t:.1f} s; expected "
            f"rejections {synthetic.expected_rejections(args.xlsx_rows, args.bad_fraction):,}")
    Path(args.result).write_text(json.dumps(out))
    return 0


def _villages(regions_file) -> list[str]:
    import gzip

    with gzip.open(regions_file, "rt", encoding="utf-8") as fh:
        codes = [line.split(",", 1)[0] for line in fh]
    return [c for c in codes if c.startswith(PROVINCE + ".") and c.count(".") == 3]


def write_xlsx(df, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(df.columns)
    for row in df.iter_rows():
        ws.append(row)  # every cell text: NIK and KK stay 16-digit strings
    wb.save(path)


def run_child(kind: str, path: Path, args, tmp: str, label: str | None = None) -> dict | None:
    label = label or kind
    result = Path(tmp) / f"{label}.json"
    cmd = [sys.executable, __file__, "--child", kind, "--file", str(path),
           "--result", str(result), "--persons", str(args.persons),
           "--bad-fraction", str(args.bad_fraction), "--xlsx-rows", str(args.xlsx_rows)]
    if args.postgres and kind != "generate":
        cmd += ["--postgres", args.postgres]
    env = dict(os.environ, SINERGI_VAR_DIR=str(Path(tmp) / label),
               SINERGI_BENCH_LABEL=label)
    if not args.postgres or kind == "generate":
        env["SINERGI_DATABASE_URL"] = f"sqlite:///{tmp}/{label}/bench.sqlite3"
    proc = subprocess.run(cmd, env=env, check=False)
    if proc.returncode != 0 or not result.exists():
        say(f"{label} failed", f"exit code {proc.returncode}")
        return None
    return json.loads(result.read_text())


# --- child: one path on a fresh database --------------------------------------------


def child(args) -> int:
    label = os.environ.get("SINERGI_BENCH_LABEL", args.child)
    use_database(args.postgres)
    import django

    django.setup()
    from django.core.management import call_command

    from sinergi.regions.services import regions_load

    call_command("migrate", verbosity=0)
    regions_load(actor=None)
    setup_peak = peak_mb()
    path = Path(args.file)
    run = pipeline_import if args.child == "pipeline" else orm_import
    out = run(path, label)
    out["peak_mb"] = peak_mb()
    say(f"{label} rows/s", f"{out['rows'] / out['seconds']:,.0f}")
    say(f"{label} peak memory", f"{out['peak_mb']:,.0f} MB (process high-water mark; "
        f"{setup_peak:,.0f} MB after Django, migrations and regions)")
    Path(args.result).write_text(json.dumps(out))
    return 0


def pipeline_import(path: Path, label: str) -> dict:
    from sinergi.imports import pipeline, services
    from sinergi.imports.models import ImportIssue

    phases = {}

    def timed(name, fn):
        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                phases[name] = time.perf_counter() - t
        return wrapper

    # Measure the two phases; the code run is the pipeline's own.
    pipeline.read_and_validate = timed("read_validate", pipeline.read_and_validate)
    pipeline.write = timed("write", pipeline.write)

    t = time.perf_counter()
    job = services.import_job_create(actor=None, source=path, file_name=path.name,
                                     file_format="sinergi", region_code=PROVINCE,
                                     on_error="skip")
    stored = time.perf_counter() - t
    t = time.perf_counter()
    job = services.import_job_run(services.import_job_claim(job.pk))
    seconds = time.perf_counter() - t
    say(f"{label} status", job.status + (f" ({job.message})" if job.message else ""))
    say(f"{label} rows", f"{job.rows_total:,}")
    say(f"{label} accepted", f"{job.rows_accepted:,} ({job.persons_added:,} persons, "
        f"{job.households_added:,} families)")
    say(f"{label} rejected", f"{job.rows_rejected:,} (warned: {job.rows_warned:,}; issues "
        f"written: {ImportIssue.objects.filter(job=job).count():,})")
    say(f"{label} upload copy seconds", f"{stored:.2f}")
    if phases:
        say(f"{label} read+validate seconds", f"{phases.get('read_validate', 0):.1f}")
        say(f"{label} write seconds", f"{phases.get('write', 0):.1f}")
    say(f"{label} seconds end to end", f"{seconds:.1f}")
    report_checkpoint(say, label)
    return {"rows": job.rows_total, "accepted": job.rows_accepted,
            "rejected": job.rows_rejected, "seconds": seconds, "status": job.status}


# --- the plain ORM way ------------------------------------------------------------


_DIGITS16 = re.compile(r"^\d{16}$")
_VILLAGE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def _date_ok(dd: int, mm: int, yy: int) -> bool:
    """The identifier rule: a real DDMMYY in 19yy or 20yy (yy % 4 == 0 is leap)."""
    if not 1 <= mm <= 12 or dd < 1:
        return False
    days = 30 if mm in (4, 6, 9, 11) else (29 if yy % 4 == 0 else 28) if mm == 2 else 31
    return dd <= days


def _identifier_errors(value: str, prefixes: set[str], *, women: bool, kind: str) -> list[str]:
    if not _DIGITS16.match(value):
        return [f"{kind}_format"]
    errors = []
    if value[:6] not in prefixes:
        errors.append(f"{kind}_region")
    dd, mm, yy = int(value[6:8]), int(value[8:10]), int(value[10:12])
    if women and dd > 40:
        dd -= 40
    if not _date_ok(dd, mm, yy):
        errors.append(f"{kind}_date")
    if value[12:] == "0000":
        errors.append(f"{kind}_serial")
    return errors


def orm_import(path: Path, label: str) -> dict:
    """csv module + per-row Python checks + bulk_create (batches of 5,000), one transaction.

    Checks, row by row, equivalent on this file to the pipeline's rules
    (written again here on purpose, as a hand-written import would):
    NIK and KK number 16 digits, known kecamatan prefix, real DDMMYY (day
    + 40 for women in the NIK), serial not 0000; a NIK in scientific
    notation; name, sex (L/P), SHDK (1-11), village code (a village of the
    province) present and valid; birth date DD/MM/YYYY real and not in the
    future; coded columns in their code tables; income a whole number;
    desil 1-10; Ya/Tidak columns; the same NIK twice in the file (later rows
    rejected). Sex or birth date contradicting the NIK is a warning stored on
    the person. Not done: ImportIssue rows, audit, existing-person review
    (the database is empty). Writes Household and Person rows, as the
    pipeline does (a person's household and SHDK are the current membership;
    Membership and KK number history rows start at the first change).
    """
    from django.db import transaction
    from django.utils import timezone

    from sinergi.regions.models import Region
    from sinergi.registry import codes
    from sinergi.registry.models import Household, Person

    t = time.perf_counter()
    prefixes = {c.replace(".", "") for c in
                Region.objects.filter(level=3).values_list("code", flat=True)}
    villages = set(Region.objects.filter(code__startswith=PROVINCE + ".", level=4,
                                         retired_in="").values_list("code", flat=True))
    today = timezone.localdate()
    now = timezone.now()
    tables = {"Agama": codes.RELIGION, "Status Perkawinan": codes.MARITAL_STATUS,
              "Pendidikan": codes.EDUCATION, "Pekerjaan": codes.OCCUPATION,
              "Disabilitas": codes.DISABILITY, "Jaminan Kesehatan": codes.HEALTH_INSURANCE,
              "Metode KB": codes.KB_METHOD}
    fields = {"Agama": "religion", "Status Perkawinan": "marital_status",
              "Pendidikan": "education", "Pekerjaan": "occupation", "Disabilitas": "disability",
              "Jaminan Kesehatan": "health_insurance", "Metode KB": "kb_method"}
    yes_no = {"YA": True, "TIDAK": False, "1": True, "0": False}
    seen_nik: set[str] = set()
    household_ids: dict[str, int] = {}
    rows = accepted = rejected = warned = 0

    def flush(batch):
        """Families new in this batch, then its persons (whose household and
        SHDK are the current membership; Membership rows hold closed periods)."""
        new = {}
        for rec in batch:
            hh = rec["household"]
            if hh.kk_number not in household_ids and hh.kk_number not in new:
                new[hh.kk_number] = hh
        created = Household.objects.bulk_create(list(new.values()), batch_size=BATCH)
        for hh in created:
            household_ids[hh.kk_number] = hh.id
        persons = []
        for rec in batch:
            person = rec["person"]
            person.household_id = household_ids[rec["household"].kk_number]
            persons.append(person)
        Person.objects.bulk_create(persons, batch_size=BATCH)

    with transaction.atomic(), open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        batch = []
        for line, row in enumerate(reader, start=2):
            rows += 1
            errors, warnings = [], []
            nik = (row["NIK"] or "").strip()
            kk = (row["No KK"] or "").strip()
            sex = (row["Jenis Kelamin"] or "").strip().upper()
            if re.match(r"^\d+(?:[.,]\d+)?[eE][+-]?\d+$", nik):
                errors.append("scientific_notation")
            elif nik:
                errors += _identifier_errors(nik, prefixes, women=True, kind="nik")
                if nik in seen_nik:
                    errors.append("nik_duplicate_in_file")
                seen_nik.add(nik)
            if not kk:
                errors.append("kk_missing")
            else:
                errors += _identifier_errors(kk, prefixes, women=False, kind="kk")
            name = " ".join((row["Nama"] or "").split())
            if not name:
                errors.append("name_missing")
            if sex not in ("L", "P"):
                errors.append("bad_sex")
            try:
                shdk = int(row["Hubungan dalam Keluarga"])
                if shdk not in codes.SHDK:
                    raise ValueError
            except (TypeError, ValueError):
                shdk = None
                errors.append("bad_code")
            village = (row["Kode Wilayah"] or "").strip()
            if not _VILLAGE.match(village) or village not in villages:
                errors.append("village_out_of_scope")
            birth = None
            if row["Tanggal Lahir"]:
                try:
                    birth = datetime.strptime(row["Tanggal Lahir"].strip(), "%d/%m/%Y").date()
                    if birth > today or birth < date(1900, 1, 1):
                        raise ValueError
                except ValueError:
                    birth = None
                    errors.append("bad_date")
            values = {}
            for header, table in tables.items():
                text = (row.get(header) or "").strip()
                if text:
                    try:
                        code = int(text)
                        if code not in table:
                            raise ValueError
                        values[fields[header]] = code
                    except ValueError:
                        errors.append("bad_code")
            income = None
            if row["Penghasilan per Bulan"]:
                try:
                    income = int(row["Penghasilan per Bulan"])
                except ValueError:
                    errors.append("bad_number")
            desil = None
            if row["Desil"]:
                try:
                    desil = int(row["Desil"])
                    if not 1 <= desil <= 10:
                        raise ValueError
                except ValueError:
                    desil = None
                    errors.append("bad_desil")
            flags = {}
            for header, field in (("Akta Kelahiran", "has_birth_certificate"),
                                  ("KTP-el", "has_ktp_el"), ("DTSEN", "in_dtsen")):
                text = (row.get(header) or "").strip().upper()
                if text:
                    if text not in yes_no:
                        errors.append("bad_boolean")
                    flags[field] = yes_no.get(text)
            if errors:
                rejected += 1
                continue
            if nik:
                dd = int(nik[6:8])
                if (dd > 40) != (sex == "P"):
                    warnings.append("nik_sex_mismatch")
                if birth and ((dd - 40 if dd > 40 else dd), int(nik[8:10]), int(nik[10:12])) \
                        != (birth.day, birth.month, birth.year % 100):
                    warnings.append("nik_birth_mismatch")
            warned += bool(warnings)
            accepted += 1
            batch.append({
                "household": Household(
                    kk_number=kk, village_code=village, dusun=row["Dusun"] or "",
                    rw=row["RW"] or "", rt=row["RT"] or "", address=row["Alamat"] or "",
                    desil=desil, desil_source=path.name[:60] if desil else "",
                    desil_as_of=today if desil else None,
                    in_dtsen=bool(flags.get("in_dtsen")), created_at=now, updated_at=now),
                "person": Person(
                    nik=nik or None, name=name, sex=sex,
                    birth_place=row["Tempat Lahir"] or "", birth_date=birth, shdk=shdk,
                    village_code=village, monthly_income=income,
                    warning_codes=",".join(sorted(set(warnings))),
                    has_birth_certificate=flags.get("has_birth_certificate"),
                    has_ktp_el=flags.get("has_ktp_el"), import_line=line, **values),
            })
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    seconds = time.perf_counter() - t
    say(f"{label} rows", f"{rows:,}")
    say(f"{label} accepted", f"{accepted:,} ({Person.objects.count():,} persons, "
        f"{Household.objects.count():,} families)")
    say(f"{label} rejected", f"{rejected:,} (warned: {warned:,})")
    say(f"{label} seconds end to end", f"{seconds:.1f}")
    report_checkpoint(say, label)
    return {"rows": rows, "accepted": accepted, "rejected": rejected, "seconds": seconds}


if __name__ == "__main__":
    sys.exit(main())
