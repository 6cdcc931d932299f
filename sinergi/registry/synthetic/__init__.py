"""A synthetic registry: families and persons that look true, for demos and benchmarks.

``generate(villages, persons=N)`` returns one row per person with the
headers of the Sinergi import template (sinergi/imports/columns.py), every
value as text, so ``df.write_csv(path)`` imports through the real pipeline
with format "sinergi". Nothing here is a real person: names are drawn from
name and syllable lists, identifiers are built from the rules.

What it models (docs/domain.md §2-3):

- families of 1-7 persons (mean about 3.3): a head (SHDK 1; about 15 %
  women), a wife (3) or, in a female-headed family, sometimes a husband (2),
  children (4), sometimes grandchildren (6) or a parent of the head (7);
  every child is 18-45 years younger than its mother (or father), a parent
  of the head 18-45 years older, so ages on one card are consistent;
- an Indonesian-looking age-sex pyramid (wide base, narrowing after 50);
- NIK = kecamatan digits of the village + birth date DDMMYY (day + 40 for
  women) + a serial unique per (kecamatan, date): every NIK is unique;
  No. KK = kecamatan digits + an issue date after the head's 17th birthday
  and after the youngest member's birth (the card is re-issued on a birth)
  + a serial unique per (kecamatan, date);
- a DTSEN welfare desil per family, poorer in some kecamatan than others
  (and varying by village), the DTSEN flag mostly for desil <= 6, PBI health
  insurance mostly for desil <= 4, monthly income per earning adult
  log-normal around a median that rises with the desil;
- education, occupation, marital status, KB method by age and sex;
  religion mostly Islam, with the Buddhist / Khonghucu / Christian minorities
  of Bangka Belitung (more in towns), Chinese-Indonesian names for the
  Buddhist and Khonghucu families.

Defects: with ``bad_fraction`` f, row i (0-based, in output order) is bad
when ``i % round(1/f) == 0``; its defect is ``DEFECTS[(i // round(1/f)) %
len(DEFECTS)]``. ``defect_plan`` lists them, ``REJECTING_DEFECTS`` names the
ones the import rejects (the others are accepted with a warning), so a test
or a benchmark knows exactly how many rejections to expect.

Randomness: every column is a function of (seed, stream name, row or family
index) through a splitmix64 finaliser computed with polars integer
arithmetic, seeded from Python's ``random``; so the whole generation is
vectorised, and the same seed gives the same rows on any machine and polars
version (no ``Expr.hash``, whose values may change between versions).
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from .defects import (
    DEFECTS,
    REJECTING_DEFECTS,
    bad_step,
    defect_plan,
    expected_rejections,
    plant_defects,
)
from .families import draw_attributes, draw_families, draw_identifiers, draw_members
from .names import HEADERS, text_columns
from .randomness import SeededRandom

__all__ = ["DEFECTS", "HEADERS", "REJECTING_DEFECTS", "defect_plan", "expected_rejections",
           "generate"]


_VILLAGE_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def generate(villages: list[str], *, persons: int, seed: int = 1, bad_fraction: float = 0.0,
             today: date | None = None) -> pl.DataFrame:
    """``persons`` rows of a synthetic registry over ``villages`` (dotted village codes).

    Returns String columns named as the Sinergi template's headers
    (``HEADERS``), families in village order, members of a family together,
    head first. See the module doc for what is modelled and for defects.
    """
    villages = list(dict.fromkeys(villages))
    if not villages:
        raise ValueError("no villages")
    bad = [v for v in villages if not _VILLAGE_RE.match(v)]
    if bad:
        raise ValueError(f"not a village code: {bad[0]!r} (expected PP.KK.CC.DDDD)")
    if persons <= 0:
        return pl.DataFrame(schema=dict.fromkeys(HEADERS.values(), pl.String))
    step = bad_step(bad_fraction)
    today = today or date.today()
    rnd = SeededRandom(seed)
    fam = draw_families(rnd, villages, persons, seed)
    people = draw_members(rnd, fam, today)
    people = draw_attributes(rnd, people)
    people = draw_identifiers(people, today)
    out = text_columns(rnd, people)
    if step is not None:
        out = plant_defects(out, step)
    return out.select([pl.col(c).alias(h) for c, h in HEADERS.items()])
