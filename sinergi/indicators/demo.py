"""Demo indicators of Kepulauan Bangka Belitung: computed values for the demo
registry, external values for the province and its kab/kota over five
years, targets, and village facts — so rankings, trends, gaps and data
quality flags show on the pages.

The external figures are DEMO DATA, made up to look plausible (labelled so
on every value); they are not BPS or BKKBN statistics. They are made
deterministically from the region code, so every demo run shows the same.
"""

import hashlib
from decimal import Decimal

from django.utils import timezone

from sinergi.regions.models import Region

from . import catalogue, compute, services
from .models import DEMO, DRAFT, VERIFIED, Indicator, Stale, Target, Value

NOTE = "Data demo (bukan statistik resmi)"
YEARS = 5

# code -> (province level, spread between kab/kota, yearly change, decimals, interval)
EXTERNAL = {
    "P0": (4.6, 1.6, -0.18, 2, 0.45),
    "P1": (0.62, 0.25, -0.03, 2, None),
    "P2": (0.13, 0.06, -0.01, 2, None),
    "TPT": (4.5, 1.2, -0.15, 2, None),
    "IPM": (73.2, 2.6, 0.55, 2, None),
    "IPM_UHH": (70.9, 1.1, 0.2, 2, None),
    "IPM_HLS": (12.4, 0.6, 0.05, 2, None),
    "IPM_RLS": (8.2, 0.9, 0.1, 2, None),
    "IPM_PPK": (13400, 1500, 260, 0, None),
    "TFR": (2.21, 0.15, -0.02, 2, 0.12),
    "MCPR": (62.0, 5.0, 0.4, 2, None),
    "UNMET": (11.5, 2.5, -0.3, 2, None),
    "ASFR1519": (27.0, 6.0, -0.8, 1, None),
    "IBANGGA": (58.0, 5.0, 0.9, 2, None),
    "MUKP": (21.6, 0.7, 0.1, 1, None),
}


def _noise(*parts) -> float:
    """A number in [-1, 1) fixed by ``parts``."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**31 - 1


def _share(*parts) -> float:
    return (_noise(*parts) + 1) / 2


def build(ctx) -> None:
    province = ctx.province
    catalogue.install()
    # A local setting of Bangka Belitung: family planning sits in DP3ACSKB.
    Indicator.objects.filter(agency="DPPKB").update(agency="DP3ACSKB")
    started = timezone.now()
    figures = compute.recompute([province])
    # The registry, groups and programs built before asked for recounts the
    # full count above has made.
    Stale.objects.filter(village_code__startswith=province, requested_at__lte=started).delete()
    kabs = list(Region.objects.filter(parent_id=province, retired_in="").order_by("code"))
    if not kabs:
        ctx.say("Indicators: no kab/kota in the demo province; skipped")
        return
    now = timezone.now()
    last = now.year - 1
    years = [str(y) for y in range(last - YEARS + 1, last + 1)]
    indicators = {i.code: i for i in Indicator.objects.filter(code__in=[*EXTERNAL, "MISKIN"])}
    Value.objects.filter(origin=DEMO, indicator__in=indicators.values()).delete()
    rows = []
    population = {k.code: 120_000 + int(_share("pop", k.code) * 250_000) for k in kabs}
    for code, (level, spread, step, decimals, interval) in EXTERNAL.items():
        indicator = indicators[code]
        for i, year in enumerate(years):
            for region in [*kabs, None]:
                key = region.code if region else province
                base = level + (spread * _noise(code, key) if region else 0)
                value = base + step * i + spread * 0.08 * _noise(code, key, year)
                if code == "TPT" and region is kabs[-1] and year == years[-2]:
                    value = 19.7  # a typing slip the data quality list should catch
                value = Decimal(str(round(value, decimals)))
                band = Decimal(str(interval)) if interval else None
                rows.append(Value(
                    indicator=indicator, region_code=key, level=2 if region else 1,
                    period=year, value=value, lower=value - band if band else None,
                    upper=value + band if band else None, origin=DEMO, source_note=NOTE,
                    status=DRAFT if year == years[-1] and code in ("P0", "TPT") else VERIFIED,
                    computed_at=now, entered_at=now))
                if code == "P0" and region is not None:
                    poor = Decimal(population[key]) * value / 100 / 1000
                    rows.append(Value(
                        indicator=indicators["MISKIN"], region_code=key, level=2, period=year,
                        numerator=poor.quantize(Decimal("0.01")),
                        value=poor.quantize(Decimal("0.01")), origin=DEMO, source_note=NOTE,
                        status=VERIFIED, computed_at=now, entered_at=now))
    Value.objects.bulk_create(rows, batch_size=1000)
    for indicator in indicators.values():
        for year in years:
            services.flags_refresh(indicator, year)
            services.roll_entered(indicator, year, {k.code for k in kabs})
    facts = _facts(province, now)
    targets = _targets(province, kabs, indicators, years)
    ctx.say(f"Indicators: {figures.get('cells', 0)} computed cells, {len(rows)} external "
            f"values ({NOTE}), {targets} targets, {facts} village facts")


def _targets(province: str, kabs, indicators: dict, years: list[str]) -> int:
    """RPJMD targets for the end of the plan and RKPD targets for next year."""
    end, base = str(int(years[-1]) + 4), years[0]
    made = 0
    goals = {"P0": Decimal("-0.9"), "TPT": Decimal("-0.7"), "IPM": Decimal("2.4"),
             "TFR": Decimal("-0.11"), "MCPR": Decimal("2.0")}
    for code, change in goals.items():
        indicator = indicators[code]
        for key in [province, *(k.code for k in kabs)]:
            baseline = Value.objects.filter(indicator=indicator, region_code=key,
                                            period=base).values_list("value", flat=True).first()
            if baseline is None:
                continue
            # Some kab/kota set themselves a harder goal than others.
            factor = Decimal(str(round(1 + _noise("target", code, key) * 0.6, 2)))
            Target.objects.update_or_create(
                indicator=indicator, region_code=key, period=end,
                defaults={"target": baseline + change * factor, "baseline": baseline,
                          "baseline_period": base, "document": "rpjmd",
                          "document_note": "RPJMD (demo)"})
            made += 1
    for code, goal in (("NIK_PCT", 100), ("AKTA_ANAK", 95), ("CAKUPAN_D14", 90),
                       ("F_PUSKESSOS", 100), ("DESA_BUMDES", 100)):
        indicator = Indicator.objects.get(code=code)
        # The baseline is the province's earliest figure, so progress is judged.
        first = Value.objects.filter(indicator=indicator, region_code=province,
                                     disaggregation="").order_by("period").first()
        Target.objects.update_or_create(
            indicator=indicator, region_code=province, period=str(int(years[-1]) + 2),
            defaults={"target": Decimal(goal), "document": "rakor",
                      "baseline": first.value if first else None,
                      "baseline_period": first.period if first else "",
                      "document_note": "Komitmen rakor teknis (demo)"})
        made += 1
    return made


FACTS = {"F_PUSKESSOS": 0.25, "F_SIKSNG": 0.6, "F_INTERNET": 0.8, "F_WEBSITE": 0.3,
         "F_PLKB": 0.7}


def _facts(province: str, now) -> int:
    """Village facts of last year and this year (a few more villages say yes now)."""
    indicators = {i.code: i for i in Indicator.objects.filter(source="village")}
    villages = list(Region.objects.filter(code__startswith=province + ".", level=4,
                                          retired_in="").values_list("code", flat=True))
    Value.objects.filter(origin=DEMO, indicator__in=indicators.values()).delete()
    rows = []
    for year in (now.year - 1, now.year):
        for village in villages:
            for code, share in FACTS.items():
                yes = _share(code, village) < share + (0.08 if year == now.year else 0)
                rows.append(Value(indicator=indicators[code], region_code=village, level=4,
                                  period=str(year), numerator=Decimal(int(yes)),
                                  denominator=Decimal(1), value=Decimal(100 if yes else 0),
                                  origin=DEMO, source_note=NOTE, status=VERIFIED,
                                  computed_at=now, entered_at=now))
            posts = Decimal(2 + int(_share("posyandu", village) * 5))
            rows.append(Value(indicator=indicators["F_POSYANDU"], region_code=village, level=4,
                              period=str(year), numerator=posts, value=posts, origin=DEMO,
                              source_note=NOTE, status=VERIFIED, computed_at=now,
                              entered_at=now))
    Value.objects.bulk_create(rows, batch_size=2000)
    for indicator in indicators.values():
        for year in (now.year - 1, now.year):
            services.roll_entered(indicator, str(year), set(villages))
    return len(rows)
