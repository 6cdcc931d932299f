"""Reads of the indicators app: which values a user may see, the children of
a region ranked, a region's trend and panel, and the data quality list.

Indicator values are aggregates, not persons: a signed-in user sees every
province and kabupaten/kota (rankings compare a region with its peers,
which lie outside a kabupaten officer's own subtree) and the kecamatan and
villages of the own subtree. The public sees verified values of provinces
and kabupaten/kota only, with small counts from the registry suppressed.
"""

from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sinergi.accounts import access
from sinergi.core.errors import NotInScope, SinergiError
from sinergi.regions.codes import code_ancestors, code_level, code_parent, subtree_q, village_in_q
from sinergi.regions.models import Region
from sinergi.regions.selectors import region_name

from . import dimensions, periods, quality, ranking
from .models import COMPUTED, VERIFIED, Indicator, Stale, Target, Value

# A registry count below this is not shown to the public (nor a share of a
# denominator below it): a small cell could point at a family.
PUBLIC_MIN_CELL = 10
PEERS = {"siblings": gettext_lazy("regions of the same parent"),
         "kota": gettext_lazy("kota only"), "kabupaten": gettext_lazy("kabupaten only"),
         "national": gettext_lazy("every region of the same level")}


def signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def indicators_visible(user) -> QuerySet[Indicator]:
    qs = Indicator.objects.all()
    if not access.user_can(user, "indicator.manage"):
        qs = qs.filter(is_active=True)
    return qs


def access_indicator(user, code: str) -> Indicator:
    try:
        return indicators_visible(user).get(code=str(code).upper())
    except Indicator.DoesNotExist:
        raise NotInScope(_("Indicator %(c)s not found.") % {"c": code}) from None


def values_visible(user, level: int | None = None) -> QuerySet[Value]:
    """The values ``user`` may read; with ``level``, those of that level (a
    province or kab/kota level needs no scope condition for the signed-in)."""
    if not signed_in(user):
        return Value.objects.filter(level__lte=2, status=VERIFIED) if level is None \
            else Value.objects.filter(level=level, status=VERIFIED, level__lte=2)
    root = access.scope_root(user)
    if root is None or (level is not None and level <= 2):
        found = Value.objects.all()
    else:
        found = Value.objects.filter(Q(level__lte=2) | subtree_q("region_code", root))
    return found if level is None else found.filter(level=level)


def region_visible(user, code: str) -> Region:
    """A region whose indicator values the user may read (see the module doc)."""
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotInScope(_("Region %(code)s not found.") % {"code": code})
    if region.level <= 2 or (signed_in(user) and access.in_scope(user, code)):
        return region
    raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                     % {"code": code})


def default_region(user) -> str:
    if signed_in(user):
        root = access.scope_root(user)
        if root:
            return root
    return Value.objects.filter(level=1).values_list("region_code", flat=True).first() or "19"


def suppressed(user, row) -> bool:
    """Whether a registry count is too small to show the public."""
    if signed_in(user) or row.origin != COMPUTED:
        return False
    small = [n for n in (row.numerator, row.denominator) if n is not None]
    return any(0 < n < PUBLIC_MIN_CELL for n in small)


def periods_of(user, indicator: Indicator) -> list[str]:
    return sorted(set(values_visible(user).filter(indicator=indicator, disaggregation="")
                      .values_list("period", flat=True).distinct()), reverse=True)


def names(codes) -> dict[str, str]:
    """Region names, from the process's cache of names (regions.selectors)."""
    return {code: region_name(code) or code for code in codes}


@dataclass
class Row:
    code: str
    name: str
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    status: str = ""
    origin: str = ""
    flags: list = field(default_factory=list)
    computed_at: object = None
    rank: int | None = None
    previous_rank: int | None = None
    previous: Decimal | None = None
    trend: ranking.Trend | None = None
    suppressed: bool = False
    level: int = 0
    period: str = ""
    disaggregation: str = ""

    @property
    def rank_change(self) -> int | None:
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def flag_labels(self) -> list[str]:
        return [quality.flag_label(f) for f in self.flags]


_CELL_FIELDS = ("region_code", "value", "numerator", "denominator", "lower", "upper",
                "status", "origin", "flags", "computed_at", "level", "period", "disaggregation")
_Cell = namedtuple("_Cell", _CELL_FIELDS)


def _row(user, v, name: str) -> Row:
    hidden = suppressed(user, v)
    return Row(code=v.region_code, name=name, value=None if hidden else v.value,
               numerator=None if hidden else v.numerator,
               denominator=None if hidden else v.denominator, lower=v.lower, upper=v.upper,
               status=v.status, origin=v.origin, flags=[f for f in v.flags.split(",") if f],
               computed_at=v.computed_at,
               suppressed=hidden, level=v.level, period=v.period,
               disaggregation=v.disaggregation)


def peer_q(region_code: str, peers: str) -> tuple[Q, int]:
    """The regions ``region_code`` is compared with: (filter, level)."""
    level = code_level(region_code)
    parent = code_parent(region_code)
    if (peers == "national" and level <= 2) or parent is None:
        # Every province or every kab/kota; below them, comparing with every
        # kecamatan or village of the country is no peer set.
        where = Q()
    else:
        where = subtree_q("region_code", parent, include_root=False)
    if level == 2 and peers in ("kota", "kabupaten"):
        # Kemendagri numbers kota from 71 within their province.
        kota = Q(region_code__regex=r"^\d\d\.7\d$")
        where &= kota if peers == "kota" else ~kota
    return where, level


def _previous_period(user, indicator: Indicator, period: str, where: Q, level: int):
    earlier = (values_visible(user, level).filter(where, indicator=indicator,
                                                  disaggregation="", period__lt=period)
               .order_by("-period").values_list("period", flat=True).first())
    return earlier


def ranked(user, indicator: Indicator, *, where: Q, level: int, period: str,
           disaggregation: str = "", with_previous: bool = True) -> list[Row]:
    """The values of one level under ``where`` for ``period``, ranked by the
    indicator's direction (ties share a rank), with each region's rank and
    value in the period before."""
    before = _previous_period(user, indicator, period, where, level) if with_previous else None
    # Plain tuples, not model objects (a ranking of 514 kab/kota), and of the
    # period before only the value and what decides whether it is shown.
    cells = values_visible(user, level).filter(where, indicator=indicator,
                                               disaggregation=disaggregation)
    values = [_Cell(*fields) for fields in cells.filter(period=period)
              .values_list(*_CELL_FIELDS)]
    old = {}
    if before:
        for code, value, numerator, denominator, origin in cells.filter(period=before) \
                .values_list("region_code", "value", "numerator", "denominator", "origin"):
            hidden = not signed_in(user) and origin == COMPUTED and any(
                0 < n < PUBLIC_MIN_CELL for n in (numerator, denominator) if n is not None)
            old[code] = None if hidden else value
    label = names(v.region_code for v in values)
    rows = [_row(user, v, label.get(v.region_code, v.region_code)) for v in values]
    ranks = ranking.rank({r.code: r.value for r in rows}, indicator.direction,
                         indicator.decimals)
    old_ranks = ranking.rank(old, indicator.direction, indicator.decimals) if old else {}
    for r in rows:
        r.rank, r.previous_rank = ranks.get(r.code), old_ranks.get(r.code)
        r.previous = old.get(r.code)
        r.trend = ranking.trend(r.previous, r.value, indicator.direction, indicator.decimals)
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.name))
    return rows


def children(user, indicator: Indicator, region_code: str, period: str,
             disaggregation: str = "") -> list[Row]:
    """The children of ``region_code`` for ``period``, ranked."""
    level = code_level(region_code) + 1
    if level > 4:
        return []
    if level > 2 and not (signed_in(user) and access.in_scope(user, region_code)):
        return []
    return ranked(user, indicator, where=subtree_q("region_code", region_code,
                                                   include_root=False),
                  level=level, period=period, disaggregation=disaggregation)


def own_row(user, indicator: Indicator, region_code: str, period: str,
            disaggregation: str = "") -> Row | None:
    v = values_visible(user).filter(indicator=indicator, region_code=region_code,
                                    period=period, disaggregation=disaggregation).first()
    return _row(user, v, names([region_code]).get(region_code, region_code)) if v else None


def place(user, indicator: Indicator, region_code: str, period: str,
          peers: str = "siblings", disaggregation: str = "") -> tuple[int | None, int,
                                                                       int | None]:
    """(rank, of how many, rank in the period before) of ``region_code`` among its peers."""
    where, level = peer_q(region_code, peers)
    rows = ranked(user, indicator, where=where, level=level, period=period,
                  disaggregation=disaggregation)
    mine = next((r for r in rows if r.code == region_code), None)
    counted = sum(1 for r in rows if r.rank is not None)
    return (mine.rank if mine else None), counted, (mine.previous_rank if mine else None)


def trend_points(user, indicator: Indicator, region_code: str,
                 disaggregation: str = "") -> list[Value]:
    """The region's values over time (those too small for the public left out)."""
    return [v for v in values_visible(user).filter(
        indicator=indicator, region_code=region_code, disaggregation=disaggregation)
        .order_by("period") if not suppressed(user, v)]


def targets_of(indicator: Indicator, region_code: str) -> list[Target]:
    return list(Target.objects.filter(indicator=indicator, region_code=region_code)
                .order_by("period"))


def targets_visible(user, indicator: Indicator, limit: int = 200) -> list[Target]:
    """The indicator's targets in the user's subtree, for the target form."""
    root = access.scope_root(user)
    scope = Q() if root is None else subtree_q("region_code", root)
    return list(Target.objects.filter(scope, indicator=indicator)
                .order_by("region_code", "period")[:limit])


def judgement(indicator: Indicator, points: list, targets: list[Target]):
    """The nearest target not yet past (else the last) judged against the
    latest value."""
    latest = next((p for p in reversed(points) if p.value is not None), None)
    if not targets:
        return None, None
    after = [t for t in targets if latest is None or
             periods.end_position(t.period) >= periods.end_position(latest.period)]
    target = after[0] if after else targets[-1]
    today = timezone.localdate()
    return target, ranking.judge(
        actual=latest.value if latest else None, actual_period=latest.period if latest else None,
        target=target.target, target_period=target.period, baseline=target.baseline,
        baseline_period=target.baseline_period, direction=indicator.direction,
        today=today.year + (today.timetuple().tm_yday - 1) / 366)


def breakdown(user, indicator: Indicator, region_code: str, period: str) -> dict:
    """{dimension: [(label, row)]} of the region's disaggregated values."""
    out = defaultdict(list)
    found = values_visible(user).filter(indicator=indicator, region_code=region_code,
                                        period=period).exclude(disaggregation="")
    for v in sorted(found, key=lambda v: dimensions.order(v.disaggregation)):
        dimension, _category = dimensions.split(v.disaggregation)
        out[dimension].append((dimensions.label(v.disaggregation), _row(user, v, "")))
    # A breakdown with one category hidden from the public would give it away
    # (the total less the others): the public sees it whole or not at all.
    return {dimensions.DIMENSIONS.get(k, k): rows for k, rows in out.items()
            if not any(row.suppressed for _label, row in rows)}


def disaggregations_of(user, indicator: Indicator, region_code: str, period: str | None):
    if not period:
        return []
    return sorted(values_visible(user).filter(indicator=indicator, region_code=region_code,
                                              period=period).exclude(disaggregation="")
                  .values_list("disaggregation", flat=True), key=dimensions.order)


@dataclass
class PanelRow:
    indicator: Indicator
    latest: Value | None
    points: list
    rank: int | None
    of: int
    trend: ranking.Trend | None
    target: Target | None
    judged: ranking.Judgement | None
    suppressed: bool = False


def panel(user, region_code: str) -> list[PanelRow]:
    """Every active indicator for one region: the latest value, its trend,
    its target and judgement, and its rank among its siblings — four
    queries, whatever the number of indicators."""
    region_visible(user, region_code)
    indicators = list(indicators_visible(user).filter(is_active=True))
    mine = defaultdict(list)
    for v in values_visible(user).filter(region_code=region_code, disaggregation="") \
            .order_by("period"):
        if not suppressed(user, v):
            mine[v.indicator_id].append(v)
    ranked_ids = [i.pk for i in indicators if i.is_ranked]
    level = code_level(region_code)
    where, _level = peer_q(region_code, "siblings")
    peers = defaultdict(dict)
    latest_periods = {iid: vs[-1].period for iid, vs in mine.items()}
    for iid, *fields in values_visible(user).filter(
            where, level=level, disaggregation="", indicator_id__in=ranked_ids,
            period__in=set(latest_periods.values()) or {""}) \
            .values_list("indicator_id", *_CELL_FIELDS):
        cell = _Cell(*fields)
        if latest_periods.get(iid) == cell.period and not suppressed(user, cell):
            peers[iid][cell.region_code] = cell.value
    targets = defaultdict(list)
    for t in Target.objects.filter(region_code=region_code).order_by("period"):
        targets[t.indicator_id].append(t)
    out = []
    for indicator in indicators:
        points = mine.get(indicator.pk, [])
        latest = points[-1] if points else None
        ranks = ranking.rank(peers.get(indicator.pk, {}), indicator.direction,
                             indicator.decimals) if indicator.is_ranked else {}
        trend = ranking.trend(points[-2].value, latest.value, indicator.direction,
                              indicator.decimals) if len(points) >= 2 else None
        target, judged = judgement(indicator, points, targets.get(indicator.pk, []))
        out.append(PanelRow(indicator=indicator, latest=latest, points=points,
                            rank=ranks.get(region_code), of=len(ranks), trend=trend,
                            target=target, judged=judged,
                            suppressed=bool(latest) and suppressed(user, latest)))
    return out


def quality_list(user, *, indicator: Indicator | None = None, limit: int = 500) -> list[dict]:
    """Flagged values in the user's subtree (an officer: the own agency's
    indicators), and regions missing the latest period of an external
    indicator they reported before."""
    root = access.scope_root(user)
    indicators = indicators_visible(user).filter(is_active=True).exclude(
        source__in=("registry", "programs", "groups"))
    if indicator is not None:
        indicators = indicators.filter(pk=indicator.pk)
    agency = getattr(user, "agency", None)
    if getattr(user, "role", "") == "officer" and agency is not None:
        indicators = indicators.filter(agency__iexact=agency.short_name)
    indicators = {i.pk: i for i in indicators}
    scope = Q() if root is None else subtree_q("region_code", root)
    found = []
    flagged = (Value.objects.filter(scope, indicator_id__in=list(indicators))
               .exclude(flags="").order_by("indicator_id", "period", "region_code")[:limit])
    for v in flagged:
        found.append({"indicator": indicators[v.indicator_id], "region_code": v.region_code,
                      "period": v.period, "value": v.value,
                      "problems": [quality.flag_label(f) for f in v.flag_list]})
    # Regions that reported the period before but not the latest: the two
    # latest periods of each indicator, then one read of their cells.
    entered = Value.objects.filter(scope, indicator_id__in=list(indicators),
                                   disaggregation="").exclude(origin="rollup")
    last_two: dict[int, list[str]] = defaultdict(list)
    for iid, period in entered.values_list("indicator_id", "period").distinct() \
            .order_by("indicator_id", "-period"):
        if len(last_two[iid]) < 2:
            last_two[iid].append(period)
    pairs = Q(pk__in=[])
    for iid, found_periods in last_two.items():
        if len(found_periods) == 2:
            pairs |= Q(indicator_id=iid, period__in=found_periods)
    reported = defaultdict(lambda: defaultdict(set))
    for iid, code, period in entered.filter(pairs).values_list("indicator_id", "region_code",
                                                               "period"):
        reported[iid][period].add(code)
    for iid, by_period in reported.items():
        latest, before = last_two[iid]
        for code in sorted(by_period[before] - by_period[latest]):
            if len(found) >= limit:
                break
            found.append({"indicator": indicators[iid], "region_code": code, "period": latest,
                          "value": None, "problems": [quality.flag_label(quality.MISSING)]})
    names_ = names({f["region_code"] for f in found})
    for f in found:
        f["region_name"] = names_.get(f["region_code"], "")
    return found[:limit]


def pending(region_code: str) -> bool:
    """Whether newer computed figures are coming for ``region_code``: a
    change mark in its subtree, or on a region above it."""
    return Stale.objects.filter(Q(village_in_q("village_code", region_code))
                                | Q(village_code__in=[region_code,
                                                      *code_ancestors(region_code)])).exists()


def check_period(indicator: Indicator, value: str | None, available: list[str]) -> str | None:
    if not value:
        return available[0] if available else None
    found = periods.normalize(value, indicator.frequency)
    if found is None:
        raise SinergiError(periods.problem(value, indicator.frequency), field="period")
    return found
