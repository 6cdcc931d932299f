"""Writes of the indicators app: the catalogue, external values, village
facts, targets, verification, and keeping computed values in step with the
data (marks written in the change's transaction, recounted by the job runner).
"""

import datetime
import logging
import re
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.core import changes, jobs
from sinergi.core.audit import audit_changes, audit_record, plain, snapshot
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.core.values import as_decimal, given, text
from sinergi.regions.codes import code_ancestors, code_level, code_parent, village_in_q
from sinergi.regions.models import Region

from . import compute, dimensions, periods, quality
from .models import (
    DOCUMENT_CHOICES,
    DRAFT,
    EXCEL,
    FORM,
    ROLLED,
    SUM,
    VERIFIED,
    YESNO,
    Indicator,
    Stale,
    Target,
    Value,
)

log = logging.getLogger(__name__)
JOB_KIND = "indicators.recompute"


# --- computed values follow the data ---------------------------------------------------

def mark_stale(source: str, village_codes: set[str]) -> None:
    """The computed values of ``village_codes`` that read ``source`` are older
    than the data (core.changes, in the change's transaction): mark them and
    queue the recount."""
    now = timezone.now()
    Stale.objects.bulk_create(
        [Stale(village_code=code, source=source, requested_at=now) for code in village_codes],
        update_conflicts=True, unique_fields=["village_code", "source"],
        update_fields=["requested_at"], batch_size=500)
    jobs.enqueue(JOB_KIND, once=True, delay=settings.INDICATOR_RECOUNT_DELAY)


def recompute_pending(*, context: jobs.Context | None = None,
                      today: datetime.date | None = None) -> int:
    """Recount what the marks ask for: per set of sources, the fewest
    subtrees holding its villages. A mark renewed meanwhile stays for the
    next run. Returns the number of marks handled."""
    read_at = timezone.now()
    marks = list(Stale.objects.values_list("pk", "village_code", "source"))
    if not marks:
        return 0
    for sources, villages in compute.by_source((m[1], m[2]) for m in marks).items():
        compute.recompute(compute.stale_roots(villages), sources, today=today)
        if context is not None:
            context.beat()
    # A mark renewed while the recount ran (requested after it read them) stays.
    ids = [m[0] for m in marks]
    for start in range(0, len(ids), 500):
        Stale.objects.filter(pk__in=ids[start:start + 500], requested_at__lte=read_at).delete()
    return len(marks)


def recompute_work(_ref_id: None, context: jobs.Context) -> None:
    recompute_pending(context=context)


def request_daily_recompute(today: datetime.date | None = None) -> int:
    """Ages move with the date: ask for a recount of every province whose
    computed values of this year were counted before today (once: a province
    already asked for waits for its recount). Last year's values stay as
    its last recount left them."""
    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time()))
    counted = [i.pk for i in compute.computed_indicators()]
    old = set(Value.objects.filter(level=1, origin="computed", computed_at__lt=start,
                                   period=str(today.year), indicator_id__in=counted)
              .values_list("region_code", flat=True).distinct())
    old -= set(Stale.objects.filter(village_code__in=old).values_list("village_code",
                                                                    flat=True))
    if old:
        for source in changes.SOURCES:
            mark_stale(source, old)
    return len(old)


# --- the catalogue ------------------------------------------------------------------------

CATALOGUE_FIELDS = ["name_id", "name_en", "definition", "concept", "formula",
                    "interpretation", "unit", "kind", "numerator", "denominator", "direction",
                    "decimals", "rollup", "disaggregations", "source", "measure", "frequency",
                    "agency", "valid_min", "valid_max", "reference", "is_active"]
# Changing these changes what the figure means: the definition version rises.
DEFINING = {"definition", "formula", "kind", "numerator", "denominator", "measure", "rollup"}


def _check_catalogue(fields: dict) -> None:
    if "measure" in fields and fields["measure"] and fields["measure"] not in compute.MEASURES:
        raise SinergiError(_("'%(m)s' is not a computed measure; choose one of: %(list)s.") % {
            "m": fields["measure"], "list": ", ".join(compute.MEASURES)}, field="measure")
    for dim in (fields.get("disaggregations") or "").split(","):
        if dim and dim not in dimensions.DIMENSIONS:
            raise SinergiError(_("'%(d)s' is not a disaggregation; use: %(list)s.") % {
                "d": dim, "list": ", ".join(dimensions.DIMENSIONS)}, field="disaggregations")


@transaction.atomic
def indicator_create(*, actor, code: str, name_id: str, kind: str, source: str,
                     **fields) -> Indicator:
    access.check_capability(actor, "indicator.manage")
    code = text(code, "code", 30, required=True).upper()
    if not re.fullmatch(r"[A-Z0-9_\-]+", code):
        raise SinergiError(_("Write the code with letters, digits, _ and - only, e.g. "
                           "P0_KAB."), field="code")
    if Indicator.objects.filter(code=code).exists():
        raise SinergiError(_("An indicator with code %(c)s exists already.") % {"c": code},
                           field="code")
    _check_catalogue(fields)
    indicator = Indicator(code=code, name_id=text(name_id, "name_id", 200, required=True),
                          kind=kind, source=source, **fields)
    _clean(indicator)
    indicator.save()
    audit_record(actor=actor, action="indicator.create", obj=indicator,
                 after=snapshot(indicator, CATALOGUE_FIELDS))
    return indicator


@transaction.atomic
def indicator_update(*, actor, indicator: Indicator, **fields) -> Indicator:
    """Change the fields given (CATALOGUE_FIELDS; others are refused)."""
    access.check_capability(actor, "indicator.manage")
    unknown = set(fields) - set(CATALOGUE_FIELDS)
    if unknown:
        raise SinergiError(_("Unknown field: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    fields = given(**fields)
    _check_catalogue(fields)
    before = snapshot(indicator, CATALOGUE_FIELDS)
    for name, value in fields.items():
        setattr(indicator, name, value)
    after = snapshot(indicator, CATALOGUE_FIELDS)
    changed = {name for name in CATALOGUE_FIELDS if before.get(name) != after.get(name)}
    if changed & DEFINING:
        indicator.version += 1
    _clean(indicator)
    indicator.save()
    audit_changes(actor, "indicator.update", indicator, before, after)
    if changed & RECOUNTED:
        _after_definition_change(indicator)
    return indicator


# Changing these changes the cells an indicator has.
RECOUNTED = {"kind", "rollup", "disaggregations", "measure", "source", "is_active"}


def _after_definition_change(indicator: Indicator) -> None:
    """A computed indicator is recounted everywhere (by the worker); an
    entered one that no longer rolls up loses its sums, one that does is
    summed again."""
    if indicator.is_computed:
        provinces = set(compute.provinces_with_data())
        for source in compute.MEASURES[indicator.measure].sources \
                if indicator.measure in compute.MEASURES else ():
            mark_stale(source, provinces)
        return
    Value.objects.filter(indicator=indicator, origin=ROLLED).delete()
    if indicator.rollup == SUM:
        for period in set(Value.objects.filter(indicator=indicator, disaggregation="")
                          .values_list("period", flat=True)):
            roll_entered(indicator, period, set(
                Value.objects.filter(indicator=indicator, period=period, disaggregation="")
                .values_list("region_code", flat=True)))


def _clean(indicator: Indicator) -> None:
    """The model's own checks, said on the field they concern."""
    if indicator.valid_min is not None and indicator.valid_max is not None and \
            indicator.valid_min > indicator.valid_max:
        raise SinergiError(_("The lowest plausible value is above the highest."),
                           field="valid_min")
    try:
        indicator.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise SinergiError(" ".join(messages), field=field) from None


# --- entered values -----------------------------------------------------------------------

def _agency_short(actor) -> str | None:
    agency = getattr(actor, "agency", None)
    return agency.short_name if agency is not None else None


def check_indicator_enter(actor, indicator: Indicator) -> None:
    """Whether ``actor`` may enter ``indicator``'s values at all: external
    indicators only, and an officer only those the own agency keeps."""
    access.check_capability(actor, "indicator.enter")
    if indicator.is_computed or indicator.is_village_fact:
        raise SinergiError(_("%(c)s is computed or a village fact: its values are not typed "
                             "in here.") % {"c": indicator.code}, field="indicator")
    if actor.role == "officer" and \
            indicator.agency.lower() != (_agency_short(actor) or "").lower():
        raise AccessDenied(_("%(c)s is kept by %(a)s; only that agency (or a coordinator) "
                             "enters its values.") % {"c": indicator.code,
                                                       "a": indicator.agency or "—"})


def check_enter(actor, indicator: Indicator, region_code: str) -> None:
    """``check_indicator_enter``, and the region inside the actor's own subtree."""
    check_indicator_enter(actor, indicator)
    access.access_subtree(actor, region_code)


def _figure(raw, field: str) -> Decimal | None:
    """A figure typed in, kept to the four decimals values are stored with."""
    return raw if isinstance(raw, Decimal) or raw is None else as_decimal(raw, field, places=4)


def _numbers(indicator: Indicator, *, value, numerator, denominator, lower, upper):
    value, numerator = _figure(value, "value"), _figure(numerator, "numerator")
    denominator = _figure(denominator, "denominator")
    lower, upper = _figure(lower, "lower"), _figure(upper, "upper")
    if indicator.is_ratio and numerator is not None and denominator is None:
        raise SinergiError(_("A share needs its denominator too: give both, or the value "
                             "alone."), field="denominator")
    if value is None and numerator is not None:
        value = compute.value_of(numerator, denominator, indicator.factor)
    if not indicator.is_ratio and numerator is None and value is not None:
        # A count or an amount is its own numerator: regions above can sum it.
        numerator = value
    if value is None:
        raise SinergiError(_("Give the value, or its numerator (and denominator)."),
                           field="value")
    if denominator is not None and numerator is None:
        raise SinergiError(_("A denominator needs its numerator."), field="numerator")
    if lower is not None and upper is not None and lower > upper:
        raise SinergiError(_("The interval's lower bound is above its upper bound."),
                           field="lower")
    for field, message in quality.problems(indicator, value=value, numerator=numerator,
                                           denominator=denominator):
        raise SinergiError(message, field=field)
    return value, numerator, denominator, lower, upper


def _store(actor, indicator: Indicator, *, region_code: str, period: str, disaggregation: str,
           value, numerator, denominator, lower, upper, origin: str, source_note: str,
           now) -> Value:
    level = code_level(region_code)
    # The range now; outliers among the region's peers by flags_refresh.
    flags = [quality.RANGE] if quality.out_of_range(indicator, value) else []
    row, created = Value.objects.select_for_update().get_or_create(
        indicator=indicator, region_code=region_code, period=period,
        disaggregation=disaggregation,
        defaults={"level": level, "origin": origin, "computed_at": now, "value": value})
    before = {} if created else snapshot(row, ["value", "numerator", "denominator", "status"])
    row.level, row.value, row.numerator, row.denominator = level, value, numerator, denominator
    row.lower, row.upper, row.origin = lower, upper, origin
    row.source_note, row.status, row.flags = source_note[:200], DRAFT, ",".join(flags)
    row.entered_by, row.entered_at, row.computed_at = actor, now, now
    row.save()
    audit_record(actor=actor, action="indicator.value", obj=row,
                 before={k: plain(v) for k, v in before.items()},
                 after={"indicator": indicator.code, "period": period,
                        "disaggregation": disaggregation, "value": plain(value),
                        "numerator": plain(numerator), "denominator": plain(denominator),
                        "origin": origin})
    return row


@transaction.atomic
def value_enter(*, actor, indicator: Indicator, region_code: str, period: str,
                disaggregation: str = "", value=None, numerator=None, denominator=None,
                lower=None, upper=None, source_note: str = "", origin: str = FORM) -> Value:
    """Enter (or correct) one external value; it becomes a draft until verified."""
    region_code = access.region_field(actor, region_code, "region").code
    check_enter(actor, indicator, region_code)
    found = periods.normalize(period, indicator.frequency)
    if found is None:
        raise SinergiError(periods.problem(period, indicator.frequency), field="period")
    numbers = _numbers(indicator, value=value, numerator=numerator, denominator=denominator,
                       lower=lower, upper=upper)
    row = _store(actor, indicator, region_code=region_code, period=found,
                 disaggregation=disaggregation or "", value=numbers[0], numerator=numbers[1],
                 denominator=numbers[2], lower=numbers[3], upper=numbers[4], origin=origin,
                 source_note=text(source_note, "source_note", 200), now=timezone.now())
    if not disaggregation:
        flags_refresh(indicator, found)
        roll_entered(indicator, found, {region_code})
        row.refresh_from_db(fields=["flags"])
    return row


def values_write(*, actor, indicator: Indicator, rows: list[dict], source_note: str) -> int:
    """Write checked rows of an import (sheet.values_import) in the caller's
    transaction, set-at-a-time: each cell replaced by a draft, then the flags
    and the sums above once per period. The caller audits the file."""
    check_indicator_enter(actor, indicator)
    for code in {r["region_code"] for r in rows}:
        if not access.in_scope(actor, code):
            raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                             % {"code": code})
    now = timezone.now()
    by_period: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        by_period[r["period"]].add(r["region_code"])
    for period, codes in by_period.items():
        Value.objects.filter(indicator=indicator, period=period, disaggregation="",
                             region_code__in=sorted(codes)).delete()
    numerator_too = not indicator.is_ratio  # a count is its own numerator
    Value.objects.bulk_create([
        Value(indicator=indicator, region_code=r["region_code"],
              level=code_level(r["region_code"]), period=r["period"], value=r["value"],
              numerator=r["value"] if numerator_too else None, origin=EXCEL,
              source_note=source_note[:200], status=DRAFT, entered_by=actor, entered_at=now,
              computed_at=now) for r in rows], batch_size=1000)
    for period, codes in by_period.items():
        flags_refresh(indicator, period)
        roll_entered(indicator, period, codes)
    return len(rows)


def flags_refresh(indicator: Indicator, period: str) -> int:
    """Re-check the range and outlier flags of an entered indicator's values
    of ``period``, each among the regions of the same parent (after an
    import or a bulk load, when the peers a value is compared with changed).
    Returns how many rows changed their flags."""
    rows = list(Value.objects.filter(indicator=indicator, period=period, disaggregation="")
                .exclude(origin__in=(ROLLED, "computed")))
    by_parent = defaultdict(dict)
    for row in rows:
        by_parent[code_parent(row.region_code) or ""][row.region_code] = row.value
    far = set().union(*(quality.outliers(peers) for peers in by_parent.values())) \
        if by_parent else set()
    changed = 0
    for row in rows:
        flags = [f for f in row.flag_list if f not in (quality.RANGE, quality.OUTLIER)]
        if quality.out_of_range(indicator, row.value):
            flags.append(quality.RANGE)
        if row.region_code in far:
            flags.append(quality.OUTLIER)
        if ",".join(flags) != row.flags:
            Value.objects.filter(pk=row.pk).update(flags=",".join(flags))
            changed += 1
    return changed


# First key of the advisory lock a roll-up takes per indicator and province.
_ROLL_LOCK = 0x496E0000


def roll_entered(indicator: Indicator, period: str, codes: set[str]) -> None:
    """Re-sum the regions above ``codes`` for an entered indicator that rolls
    up: village facts always (villages with X: n of all N villages), other
    external indicators where every current child region has its numerator
    (and denominator); a region's own entered figure is never replaced."""
    if indicator.rollup != SUM:
        return
    if connection.vendor == "postgresql":
        # Two writers summing into the same province queue here (SQLite's
        # IMMEDIATE transactions already do), in code order: no deadlock.
        for province in sorted({code[:2] for code in codes}):
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                            [_ROLL_LOCK + indicator.pk, int(province)])
    if indicator.is_village_fact:
        _roll_facts(indicator, period, codes)
        return
    above = sorted({a for code in codes for a in code_ancestors(code)}, key=len, reverse=True)
    now = timezone.now()
    for code in above:
        if Value.objects.filter(indicator=indicator, region_code=code, period=period,
                                disaggregation="").exclude(origin=ROLLED).exists():
            continue
        summed = _sum_below(indicator, period, code)
        Value.objects.filter(indicator=indicator, region_code=code, period=period,
                             disaggregation="", origin=ROLLED).delete()
        if summed is None:
            continue
        numerator, denominator, verified = summed
        Value.objects.create(
            indicator=indicator, region_code=code, level=code_level(code), period=period,
            numerator=numerator, denominator=denominator,
            value=compute.value_of(numerator, denominator, indicator.factor),
            origin=ROLLED, status=VERIFIED if verified else DRAFT, computed_at=now)


def _roll_facts(indicator: Indicator, period: str, codes: set[str]) -> None:
    """Every region above the villages ``codes``: villages with X, n of all
    N current villages (yes/no facts), or the sum of a count fact, set-at-a-
    time (one read of the answers and one of the villages per province)."""
    above = {a for code in codes for a in code_ancestors(code)}
    own = set(Value.objects.filter(indicator=indicator, period=period, disaggregation="",
                                   region_code__in=sorted(above)).exclude(origin=ROLLED)
              .values_list("region_code", flat=True))
    targets = above - own
    Value.objects.filter(indicator=indicator, period=period, disaggregation="", origin=ROLLED,
                         region_code__in=sorted(targets)).delete()
    provinces, province_villages = Q(pk__in=[]), Q(pk__in=[])
    for province in {code[:2] for code in targets}:
        provinces |= village_in_q("region_code", province)
        province_villages |= village_in_q("code", province)
    sums: dict[str, list] = defaultdict(lambda: [Decimal(0), 0])  # answers summed, drafts
    for code, numerator, status in Value.objects.filter(
            provinces, indicator=indicator, period=period, level=4, disaggregation="") \
            .values_list("region_code", "numerator", "status"):
        for a in code_ancestors(code):
            if a in targets:
                sums[a][0] += numerator or 0
                sums[a][1] += status == DRAFT
    villages: dict[str, int] = defaultdict(int)
    if indicator.kind == YESNO:
        for code in Region.objects.filter(province_villages, level=4, retired_in="") \
                .values_list("code", flat=True):
            for a in code_ancestors(code):
                villages[a] += 1
    now = timezone.now()
    Value.objects.bulk_create([
        Value(indicator=indicator, region_code=code, level=code_level(code), period=period,
              numerator=total, denominator=Decimal(villages[code]) if villages else None,
              value=compute.value_of(total, Decimal(villages[code]) if villages else None,
                                     indicator.factor),
              origin=ROLLED, status=DRAFT if drafts else VERIFIED, computed_at=now)
        for code, (total, drafts) in sums.items()], batch_size=500)


def _sum_below(indicator: Indicator, period: str, code: str):
    level = code_level(code)
    children = set(Region.objects.filter(parent_id=code, retired_in="")
                   .values_list("code", flat=True))
    rows = list(Value.objects.filter(indicator=indicator, period=period, level=level + 1,
                                     region_code__in=sorted(children), disaggregation="")
                .values_list("region_code", "numerator", "denominator", "status"))
    if not children or {r[0] for r in rows} != children or any(r[1] is None for r in rows):
        return None
    if indicator.is_ratio and any(r[2] is None for r in rows):
        return None
    numerator = sum(r[1] for r in rows)
    denominator = sum(r[2] for r in rows) if indicator.is_ratio else None
    return numerator, denominator, all(r[3] == VERIFIED for r in rows)


@transaction.atomic
def facts_set(*, actor, village_code: str, year, facts: dict[str, object]) -> int:
    """A village's facts for a year ({indicator code: 1/0 or a count}; an
    empty answer removes the fact). Village operators for their own village,
    coordinators for any village in their scope."""
    access.check_capability(actor, "villagefact.enter")
    village = access.region_field(actor, village_code, "village")
    if village.level != 4:
        raise SinergiError(_("Village facts belong to a desa or kelurahan: choose a village."),
                           field="village")
    access.access_subtree(actor, village.code)
    period = periods.normalize(year, "year")
    if period is None:
        raise SinergiError(periods.problem(year, "year"), field="year")
    indicators = {i.code: i for i in Indicator.objects.filter(source="village", is_active=True)}
    now, written = timezone.now(), 0
    current = {v.indicator_id: v for v in Value.objects.filter(
        indicator__in=indicators.values(), region_code=village.code, period=period,
        disaggregation="")}
    for code, raw in facts.items():
        indicator = indicators.get(code)
        if indicator is None:
            raise SinergiError(_("%(c)s is not a village fact.") % {"c": code}, field=code)
        answer = as_decimal(raw, code) if not isinstance(raw, Decimal) else raw
        old = current.get(indicator.pk)
        if answer is None:
            if old is None:
                continue
            audit_record(actor=actor, action="indicator.value", obj=old,
                         before={"value": plain(old.value), "status": old.status},
                         after={"indicator": indicator.code, "period": period,
                                "removed": True})
            old.delete()
        elif old is not None and old.numerator == answer:
            continue  # unchanged: a verified answer stays verified
        else:
            for _field, message in quality.problems(indicator, value=answer, numerator=None,
                                                    denominator=None):
                raise SinergiError(message, field=code)
            number = answer * 100 if indicator.kind == YESNO else answer
            _store(actor, indicator, region_code=village.code, period=period,
                   disaggregation="", value=number, numerator=answer,
                   denominator=Decimal(1) if indicator.kind == YESNO else None, lower=None,
                   upper=None, origin=FORM, source_note="", now=now)
            written += 1
        roll_entered(indicator, period, {village.code})
    return written


@transaction.atomic
def facts_write(*, actor, year, answers: dict[str, dict[str, object]]) -> int:
    """Many villages' facts for a year at once ({village code: {indicator
    code: 1/0 or a count}}), as drafts from an Excel import: checked as the
    form checks them, written set-at-a-time, and each fact summed upwards
    once. The caller audits the file. Returns how many answers it wrote."""
    access.check_capability(actor, "villagefact.enter")
    period = periods.normalize(year, "year")
    if period is None:
        raise SinergiError(periods.problem(year, "year"), field="year")
    indicators = {i.code: i for i in Indicator.objects.filter(source="village", is_active=True)}
    by_fact: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for village, facts in answers.items():
        access.access_subtree(actor, village)
        for code, raw in facts.items():
            indicator = indicators.get(code)
            if indicator is None:
                raise SinergiError(_("%(c)s is not a village fact.") % {"c": code}, field=code)
            answer = as_decimal(raw, code) if not isinstance(raw, Decimal) else raw
            if answer is None:
                continue
            for _field, message in quality.problems(indicator, value=answer, numerator=None,
                                                    denominator=None):
                raise SinergiError(message, field=code)
            by_fact[code][village] = answer
    now, rows = timezone.now(), []
    for code, found in by_fact.items():
        indicator = indicators[code]
        codes = sorted(found)
        for start in range(0, len(codes), 500):
            Value.objects.filter(indicator=indicator, period=period, disaggregation="",
                                 region_code__in=codes[start:start + 500]).delete()
        yes_no = indicator.kind == YESNO
        rows += [Value(indicator=indicator, region_code=village, level=4, period=period,
                       numerator=answer, denominator=Decimal(1) if yes_no else None,
                       value=answer * 100 if yes_no else answer, origin=EXCEL, status=DRAFT,
                       entered_by=actor, entered_at=now, computed_at=now)
                 for village, answer in found.items()]
    Value.objects.bulk_create(rows, batch_size=1000)
    for code, found in by_fact.items():
        roll_entered(indicators[code], period, set(found))
    return len(rows)


@transaction.atomic
def values_verify(*, actor, indicator: Indicator, period: str, region_code: str) -> int:
    """Mark the drafts of ``indicator`` for ``period`` in ``region_code``'s
    subtree verified (published): coordinators, in their own subtree."""
    access.check_capability(actor, "indicator.verify")
    access.access_subtree(actor, region_code)
    drafts = Value.objects.filter(Q(village_in_q("region_code", region_code))
                                  | Q(region_code=region_code), indicator=indicator,
                                  period=period, status=DRAFT)
    count = drafts.update(status=VERIFIED)
    # Sums above the region were drafts while a part was: judge them again.
    roll_entered(indicator, period, {region_code})
    audit_record(actor=actor, action="indicator.verify", object_type="indicators.value",
                 region_code=region_code,
                 after={"indicator": indicator.code, "period": period, "values": count})
    return count


# --- targets ------------------------------------------------------------------------------

@transaction.atomic
def target_set(*, actor, indicator: Indicator, region_code: str, period: str, target,
               baseline=None, baseline_period: str = "", document: str = "rpjmd",
               document_note: str = "") -> Target:
    access.check_capability(actor, "indicator.manage")
    region_code = access.region_field(actor, region_code, "region").code
    access.access_subtree(actor, region_code)
    found = periods.normalize(period, indicator.frequency) or periods.normalize(period, "year")
    if found is None:
        raise SinergiError(periods.problem(period, indicator.frequency), field="period")
    base_period = ""
    if baseline_period:
        base_period = periods.normalize(baseline_period, indicator.frequency) or \
            periods.normalize(baseline_period, "year")
        if base_period is None:
            raise SinergiError(periods.problem(baseline_period, indicator.frequency),
                               field="baseline_period")
    target = as_decimal(target, "target") if not isinstance(target, Decimal) else target
    if target is None:
        raise SinergiError(_("Give the target value."), field="target")
    baseline = as_decimal(baseline, "baseline") if not isinstance(baseline, Decimal) \
        else baseline
    if document not in dict(DOCUMENT_CHOICES):
        raise SinergiError(_("Choose the document the target comes from."), field="document")
    previous = Target.objects.filter(indicator=indicator, region_code=region_code,
                                     period=found).first()
    row, created = Target.objects.update_or_create(
        indicator=indicator, region_code=region_code, period=found,
        defaults={"target": target, "baseline": baseline, "baseline_period": base_period,
                  "document": document, "entered_by": actor,
                  "document_note": text(document_note, "document_note", 200)})
    audit_record(actor=actor, action="indicator.target", obj=row,
                 before={k: plain(v) for k, v in snapshot(
                     previous, ["target", "baseline", "baseline_period", "document"]).items()}
                 if previous else {},
                 after={"indicator": indicator.code, "period": found, "target": plain(target),
                        "baseline": plain(baseline), "document": document,
                        "created": created})
    return row
