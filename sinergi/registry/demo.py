"""Demo registry: synthetic families of Kepulauan Bangka Belitung, imported for real.

The generator (the synthetic package) writes the Sinergi template as CSV and the
file goes through the same import job as an upload (format "sinergi",
rows with errors skipped), so the demo also shows an import with its
report: a few rows carry the defects met in the field.

Default scale: about 30,000 persons over every village of the province.
``--scale full``: about 1,500,000 persons, imported one kabupaten/kota per
file (as operators do: a file must stay under the upload limit).
"""

import tempfile
import time
from pathlib import Path

import polars as pl
from django.utils import timezone

from sinergi.imports.models import FAILED
from sinergi.imports.services import import_job_claim, import_job_create, import_job_run
from sinergi.regions import codes as region_codes
from sinergi.regions.models import Region

from . import synthetic
from .models import Person

PERSONS = {"small": 3_000, "default": 30_000, "full": 1_500_000}
# One row in a thousand has a defect, so the import report has something to show.
BAD_FRACTION = 0.001
SEED = 19


def build(ctx) -> None:
    province = ctx.province
    existing = Person.objects.filter(region_codes.village_in_q("village_code", province)).count()
    if existing:
        ctx.say(f"Registry: {existing:,} persons already in province {province}; kept")
        return
    villages = list(Region.objects.filter(code__startswith=f"{province}.", level=4,
                                          retired_in="")
                    .order_by("code").values_list("code", flat=True))
    if not villages:
        ctx.say(f"Registry: no villages of province {province} loaded; skipped")
        return
    started = time.perf_counter()
    persons = PERSONS.get(ctx.scale, PERSONS["default"])
    df = synthetic.generate(villages, persons=persons, seed=SEED, bad_fraction=BAD_FRACTION,
                            today=timezone.localdate())
    generated = time.perf_counter() - started
    # One file per kabupaten/kota at full scale; one file for the province otherwise.
    if ctx.scale == "full":
        parts = df.with_columns(pl.col("Kode Wilayah").str.slice(0, 5).alias("_kab")) \
            .partition_by("_kab", maintain_order=True, include_key=False, as_dict=True)
        files = [(f"demo-registry-{key[0]}.csv", part) for key, part in parts.items()]
    else:
        files = [(f"demo-registry-{province}.csv", df)]
    del df
    totals = {"rows": 0, "accepted": 0, "rejected": 0, "warned": 0, "persons": 0,
              "families": 0}
    with tempfile.TemporaryDirectory(prefix="sinergi-demo-") as tmp:
        for name, part in files:
            path = Path(tmp) / name
            part.write_csv(path)
            job = import_job_create(actor=None, source=path, file_name=name,
                                    file_format="sinergi", region_code=province,
                                    on_error="skip")
            job = import_job_run(import_job_claim(job.pk))
            if job.status == FAILED:
                raise RuntimeError(f"demo registry import of {name} failed: {job.message}")
            for key, value in (("rows", job.rows_total), ("accepted", job.rows_accepted),
                               ("rejected", job.rows_rejected), ("warned", job.rows_warned),
                               ("persons", job.persons_added),
                               ("families", job.households_added)):
                totals[key] += value
            if len(files) > 1:
                ctx.say(f"  {name}: {job.rows_total:,} rows imported "
                        f"({time.perf_counter() - started:.0f} s so far)")
    took = time.perf_counter() - started
    ctx.say(f"Registry: {totals['persons']:,} persons in {totals['families']:,} families "
            f"over {len(villages)} villages; {totals['rows']:,} rows imported, "
            f"{totals['rejected']:,} rejected and {totals['warned']:,} with a warning "
            f"(defects planted for the import report) in {took:.1f} s "
            f"({generated:.1f} s generating)")
