"""Reads of monitoring: rounds, income and business records in scope,
panels over rounds, and the data of an impact analysis.

Rounds are visible where their region is (the user's subtree or above it:
a village operator enters into the province's round). Income records are
personal data: visible only inside the user's subtree (``registry.view``).
Panels and analyses need ``impact.view``; an agency officer analyses only
groups the own agency supervises and programs it owns.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from sinergi.accounts import access, roles
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.groups.models import Group, GroupKind, GroupLevel, GroupMember
from sinergi.programs.models import SERVED, Enrollment, Program
from sinergi.regions.codes import code_ancestors, subtree_q, village_in_q
from sinergi.registry import codes as registry_codes
from sinergi.registry import selectors as registry_selectors
from sinergi.registry.models import Household, Person

from .models import BUSINESS, INCOME, OUTLIER, BusinessRecord, IncomeRecord, Round

ENTRY_PAGE = 50  # families on one page of the entry list
LIST_MAX = 200  # rounds on one list
PANEL_GROUPS_MAX = 300  # groups on one business-progress page
# Medians and means of fewer families are not shown (a person could be recognised).
MIN_CELL = 5


def rounds_visible(user) -> QuerySet[Round]:
    access.check_viewer(user, "registry.view")
    return Round.objects.filter(access.visible_region_q(user, "region__code"))


def round_list(user, *, kind: str | None = None) -> list[Round]:
    qs = rounds_visible(user).select_related("region", "owner_agency")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("-ends_on", "-id")[:LIST_MAX])


def access_round(user, pk, *, for_manage: bool = False) -> Round:
    try:
        rnd = rounds_visible(user).select_related("region", "owner_agency").get(pk=pk)
    except (Round.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Survey round not found in your scope.")) from None
    if for_manage and not can_manage_round(user, rnd):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "round.") % {"agency": rnd.owner_agency.short_name})
    return rnd


def can_manage_round(user, rnd: Round) -> bool:
    if not access.user_can(user, "round.manage"):
        return False
    if user.role == roles.OFFICER:
        return rnd.owner_agency_id == user.agency_id
    return access.in_scope(user, rnd.region_id)


def incomes_visible(user) -> QuerySet[IncomeRecord]:
    access.check_viewer(user, "registry.view")
    return IncomeRecord.objects.filter(access.village_scope_q(user, "village_code"))


def businesses_visible(user) -> QuerySet[BusinessRecord]:
    access.check_viewer(user, "program.view")
    return BusinessRecord.objects.filter(access.village_scope_q(user, "village_code"))


@dataclass
class EntryRow:
    household: Household
    record: IncomeRecord | None


def entry_list(user, rnd: Round, village_code: str, page: int = 1) -> tuple[list[EntryRow], int]:
    """A village's families for this round: the ones still missing first,
    then the recorded, ENTRY_PAGE at a time; and how many are missing."""
    if not access.in_scope(user, village_code) or not village_code.startswith(rnd.region_id):
        raise NotInScope(_("Village %(code)s is not in your scope or not in this round's "
                           "region.") % {"code": village_code})
    recorded = IncomeRecord.objects.filter(round=rnd, household=OuterRef("pk"))
    families = (Household.objects.filter(village_code=village_code, is_active=True)
                .annotate(done=Exists(recorded),
                          head_name=registry_selectors.head_of(OuterRef("pk"), "name")))
    missing = families.filter(done=False).count()
    start = (max(page, 1) - 1) * ENTRY_PAGE
    rows = list(families.order_by("done", "rw", "rt", "id")[start:start + ENTRY_PAGE])
    records = {r.household_id: r for r in IncomeRecord.objects.filter(
        round=rnd, household_id__in=[h.pk for h in rows])}
    return [EntryRow(h, records.get(h.pk)) for h in rows], missing


def next_missing(rnd: Round, village_code: str, after: Household | None = None):
    """The next family of the village without a record in the round, in the
    entry list's order (RW, RT, id): after ``after``, else the first."""
    recorded = IncomeRecord.objects.filter(round=rnd, household=OuterRef("pk"))
    qs = Household.objects.filter(village_code=village_code, is_active=True).exclude(
        Exists(recorded)).order_by("rw", "rt", "id")
    if after is not None:
        later = qs.filter(Q(rw__gt=after.rw) | Q(rw=after.rw, rt__gt=after.rt)
                          | Q(rw=after.rw, rt=after.rt, pk__gt=after.pk)).first()
        if later is not None:
            return later
    return qs.first()


def village_totals(rnd: Round, village_code: str, exclude_household: int | None = None):
    """Totals recorded in the village this round (the screening's reference)."""
    qs = IncomeRecord.objects.filter(round=rnd, village_code=village_code)
    if exclude_household is not None:
        qs = qs.exclude(household_id=exclude_household)
    return list(qs.values_list("total", flat=True)[:5000])


def family_incomes(user, household: Household) -> list[IncomeRecord]:
    """A family's income records over rounds (the family page), in scope."""
    if not access.user_can(user, "registry.view") or not access.in_scope(
            user, household.village_code):
        return []
    return list(IncomeRecord.objects.filter(household=household)
                .select_related("round").order_by("round__ends_on", "round_id"))


# --- who is a member -------------------------------------------------------


@dataclass
class Subject:
    """What an analysis or a panel is about: a group, the groups of a kind
    in a region, or a program's beneficiaries in a region."""

    kind: str  # "group", "kind", "program"
    region_code: str
    label: str
    group: Group | None = None
    group_kind: GroupKind | None = None
    program: Program | None = None
    agency_id: int | None = None  # an officer's own agency: its groups only

    def query(self) -> dict:
        if self.kind == "group":
            return {"group": self.group.pk}
        if self.kind == "kind":
            return {"kind": self.group_kind.code, "region": self.region_code}
        return {"program": self.program.pk, "region": self.region_code}


def narrowed_region(user, code: str) -> str:
    """The region an analysis covers: ``code``, or the user's own subtree
    inside it."""
    return _analysis_region(user, code, code)


def _analysis_region(user, wanted: str | None, default: str) -> str:
    code = wanted or default
    if not code:
        raise SinergiError(_("Choose a region (a code such as 19.04)."), field="region")
    root = access.scope_root(user)
    if root and not code.startswith(root):
        if root.startswith(code):
            code = root  # the user's own subtree inside the wanted region
        else:
            raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                             % {"code": code})
    access.access_region(user, code)
    return code


def subject_of(user, *, group=None, kind=None, program=None, region=None) -> Subject:
    """The subject of a request, checked: in scope, and for an agency
    officer only the own agency's groups and programs."""
    access.check_viewer(user, "impact.view")
    officer = getattr(user, "role", None) == roles.OFFICER
    if group:
        try:
            g = Group.objects.select_related("kind").filter(
                access.village_scope_q(user, "village_code")).get(pk=int(group))
        except (Group.DoesNotExist, ValueError, TypeError):
            raise NotInScope(_("Group not found in your scope.")) from None
        if officer and not g.agencies.filter(pk=user.agency_id).exists():
            raise AccessDenied(_("An agency officer sees the analyses of the groups the own "
                                 "agency supervises only."))
        region = _analysis_region(user, region, g.village_code[:5])
        return Subject("group", region, g.name, group=g, group_kind=g.kind)
    if kind:
        gk = GroupKind.objects.filter(code=str(kind)[:20]).first()
        if gk is None:
            raise NotInScope(_("Group kind not found."))
        default = access.scope_root(user) or (user.agency.region_id if user.agency_id else "")
        region = _analysis_region(user, region, default or "")
        if officer and not Group.objects.filter(kind=gk, agencies=user.agency_id).filter(
                village_in_q("village_code", region)).exists():
            raise AccessDenied(_("Your agency supervises no group of this kind in this "
                                 "region."))
        return Subject("kind", region, gk.name, group_kind=gk,
                       agency_id=user.agency_id if officer else None)
    if program:
        try:
            p = Program.objects.select_related("owner_agency").filter(
                access.visible_region_q(user, "owner_agency__region__code")).get(pk=int(program))
        except (Program.DoesNotExist, ValueError, TypeError):
            raise NotInScope(_("Program not found in your scope.")) from None
        if officer and p.owner_agency_id != user.agency_id:
            raise AccessDenied(_("An agency officer sees the analyses of the own agency's "
                                 "programs only."))
        region = _analysis_region(user, region, p.owner_agency.region_id)
        return Subject("program", region, p.name, program=p)
    raise SinergiError(_("Say what to analyse: a group, a group kind or a program."),
                       field="kind")


def _member_rows(subject: Subject):
    """(household id, joined on) of every family with a member of the
    subject, and the household ids ever touched by it, who are no clean
    comparison (any group of the same kind; any enrollment in the program,
    whatever its status). A program's members are the families its served
    enrollments reached (active, completed, graduated): a family enrolled
    itself or through a person, or the families of an enrolled group's
    members; an enrollment without a start date counts from 1 January of
    its year. An officer's subject counts only the own agency's groups."""
    region_q = village_in_q("person__village_code", subject.region_code)
    if subject.kind == "program":
        out, ever = [], set()
        rows = (Enrollment.objects.filter(program=subject.program)
                .filter(village_in_q("village_code", subject.region_code))
                .values_list("household_id", "group_id", "start_date", "year", "status"))
        groups: dict[int, tuple] = {}
        for hh, group_id, start, year, status in rows.iterator(chunk_size=20_000):
            when = start or datetime.date(year, 1, 1)
            if group_id is not None:
                groups[group_id] = (when, status in SERVED)
            elif hh is not None:
                ever.add(hh)
                if status in SERVED:
                    out.append((hh, when, None))
        if groups:
            for hh, joined, group_id in (GroupMember.objects.filter(group_id__in=list(groups))
                                         .values_list("person__household_id", "joined_on",
                                                      "group_id")):
                if hh is None:
                    continue
                ever.add(hh)
                when, served = groups[group_id]
                if served:
                    out.append((hh, max(when, joined) if joined else None, None))
        return out, ever
    supervised = None
    if subject.agency_id is not None:
        supervised = set(Group.objects.filter(kind=subject.group_kind,
                                              agencies=subject.agency_id)
                         .values_list("id", flat=True))
    kind_rows = (GroupMember.objects.filter(group__kind=subject.group_kind).filter(region_q)
                 .values_list("person__household_id", "joined_on", "group_id", "left_on"))
    ever, out = set(), []
    for hh, joined, group_id, left in kind_rows.iterator(chunk_size=20_000):
        if hh is None:
            continue
        ever.add(hh)
        if subject.kind == "group" and group_id != subject.group.pk:
            continue
        if supervised is not None and group_id not in supervised:
            continue
        out.append((hh, joined, left))
    return out, ever


def reaching_q(region_code: str) -> Q:
    """Rounds that reach the region: its region is the region, above it or inside it."""
    return Q(region__code__in=[*code_ancestors(region_code), region_code]) | subtree_q(
        "region__code", region_code)


def income_rounds(user, region_code: str) -> list[Round]:
    """Income rounds that reach the region, oldest first."""
    return list(rounds_visible(user).filter(kind=INCOME).filter(reaching_q(region_code))
                .order_by("ends_on", "id")[:LIST_MAX])


def _incomes(round_ids, region_code: str) -> dict[int, dict[int, tuple[int, str, bool]]]:
    """round id -> household id -> (total, village, flagged as far from its
    village), in the region."""
    out: dict[int, dict[int, tuple[int, str, bool]]] = {r: {} for r in round_ids}
    rows = (IncomeRecord.objects.filter(round_id__in=round_ids)
            .filter(village_in_q("village_code", region_code))
            .values_list("round_id", "household_id", "total", "village_code", "flags"))
    for rid, hh, total, village, flags in rows.iterator(chunk_size=20_000):
        out[rid][hh] = (total, village, OUTLIER in flags)
    return out


FAMILIES_BY_ID = 20_000  # up to this many panel families: read by id; above, the region


def _families(household_ids, region_code: str) -> dict[int, list]:
    """household id -> [desil, size, female head] for the families asked:
    a few read by id, a batch at a time; many (a kabupaten's panel is most
    of its families) in one pass over the region's, cheaper than tens of
    thousands of ids bound as parameters."""
    ids = list(household_ids)
    wanted = set(ids)
    out: dict[int, list] = {}

    def size_rows(persons):
        return (persons.filter(life_status=registry_codes.ALIVE, household__isnull=False)
                .values("household_id")
                .annotate(n=Count("id"), fh=Max("shdk", filter=Q(shdk=1, sex="P"))))

    if len(ids) > FAMILIES_BY_ID:
        for hh, desil in (Household.objects.filter(village_in_q("village_code", region_code))
                          .values_list("id", "desil").iterator(chunk_size=20_000)):
            if hh in wanted:
                out[hh] = [desil, 0, 0]
        sizes = [size_rows(Person.objects.filter(village_in_q("village_code", region_code)))]
    else:
        sizes = []
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            out.update((hh, [desil, 0, 0]) for hh, desil in
                       Household.objects.filter(pk__in=chunk).values_list("id", "desil"))
            sizes.append(size_rows(Person.objects.filter(household_id__in=chunk)))
    for rows in sizes:
        for row in rows.iterator(chunk_size=20_000):
            got = out.get(row["household_id"])
            if got is not None:
                got[1], got[2] = row["n"], 1 if row["fh"] else 0
    return out


@dataclass
class ImpactData:
    subject: Subject
    rounds: list[Round]
    baseline: Round
    followup: Round
    pre: Round | None
    panel: object  # analysis.Panel
    incomes: dict  # round id -> household id -> (total, village, flagged)
    flagged: int = 0  # families left out: a total far from its village's (confirmed)


def impact_data(rounds: list[Round], subject: Subject, baseline: Round,
                followup: Round) -> ImpactData:
    """The panel of families with incomes in both rounds, in the subject's
    region: members who joined between the rounds, never-members, and the
    families already members at baseline marked apart (cohort -1)."""
    import numpy as np

    from .analysis import Panel

    ordered = [r for r in rounds if r.ends_on <= followup.ends_on]
    before = [r for r in ordered if r.ends_on < baseline.ends_on]
    pre = before[-1] if before else None
    between = [r for r in ordered if baseline.ends_on < r.ends_on <= followup.ends_on]
    wanted = [baseline.pk, followup.pk] + ([pre.pk] if pre else [])
    incomes = _incomes(wanted, subject.region_code)
    base, follow = incomes[baseline.pk], incomes[followup.pk]
    # A total confirmed far from its village's stays on record but out of the
    # analysis: one family's 90 million would move the mean of thousands.
    both = [hh for hh in base if hh in follow]
    pre_all = incomes[pre.pk] if pre else {}
    families = sorted(hh for hh in both if not (base[hh][2] or follow[hh][2] or (
        hh in pre_all and pre_all[hh][2])))  # one order: one result
    flagged = len(both) - len(families)
    members, ever = _member_rows(subject)
    # A family's first join; None when any member's join date is unknown (it
    # may have been a member all along: left out, never counted as new).
    first_join: dict[int, datetime.date | None] = {}
    for hh, joined, _left in members:
        if hh in first_join and first_join[hh] is None:
            continue
        first_join[hh] = None if joined is None else min(joined, first_join.get(hh) or joined)
    info = _families(families, subject.region_code)
    n = len(families)
    cohort = np.zeros(n, dtype=int)
    treated = np.zeros(n, dtype=bool)
    # Joined after the baseline round and before the follow-up's fieldwork
    # began; joining during the fieldwork leaves the exposure unclear. The
    # cohort is the interval between rounds the family joined in.
    cuts = [r.starts_on for r in between]
    for i, hh in enumerate(families):
        if hh in first_join:
            joined = first_join[hh]
            if joined is not None and baseline.ends_on < joined <= followup.starts_on:
                treated[i] = True
                cohort[i] = 1 + next(k for k, cut in enumerate(cuts) if joined <= cut)
            else:
                cohort[i] = -1  # a member at baseline, unknown, or joined too late
        elif hh in ever:
            cohort[i] = -1  # in another group of the kind: not a clean comparison
    pre_inc = incomes[pre.pk] if pre else None
    village = np.array([base[hh][1] for hh in families], dtype=object)
    panel = Panel(
        family=np.array(families, dtype=np.int64), village=village,
        kecamatan=np.array([v[:8] for v in village], dtype=object), treated=treated,
        cohort=cohort,
        y0=np.array([base[hh][0] for hh in families], dtype=float),
        y1=np.array([follow[hh][0] for hh in families], dtype=float),
        ypre=(np.array([pre_inc[hh][0] if hh in pre_inc else np.nan for hh in families],
                       dtype=float) if pre else None),
        desil=np.array([(info.get(hh) or [None])[0] if (info.get(hh) or [None])[0]
                        is not None else np.nan for hh in families], dtype=float),
        family_size=np.array([(info.get(hh) or [0, 0, 0])[1] for hh in families], dtype=float),
        female_head=np.array([(info.get(hh) or [0, 0, 0])[2] for hh in families], dtype=float))
    return ImpactData(subject, rounds, baseline, followup, pre, panel, incomes, flagged)


def series(data: ImpactData, result) -> list[dict]:
    """Matched members and comparison over the rounds (mean, 95 % interval),
    for the chart: from the pre-round to the follow-up."""
    import numpy as np

    if result.matched_members is None or not len(result.matched_members):
        return []
    wanted = [r for r in data.rounds if (data.pre or data.baseline).ends_on <= r.ends_on
              <= data.followup.ends_on]
    missing = [r.pk for r in wanted if r.pk not in data.incomes]
    if missing:
        data.incomes.update(_incomes(missing, data.subject.region_code))
    members = list(result.matched_members)
    controls = list(result.matched_controls)
    weights = dict(zip(controls, result.control_weights, strict=True))
    out = []
    for r in wanted:
        got = data.incomes.get(r.pk, {})
        m = np.array([got[h][0] for h in members if h in got], dtype=float)
        c_ids = [h for h in controls if h in got]
        c = np.array([got[h][0] for h in c_ids], dtype=float)
        w = np.array([weights[h] for h in c_ids], dtype=float)
        row = {"round": r, "members": None, "comparison": None}
        if len(m) >= MIN_CELL:
            se = m.std(ddof=1) / np.sqrt(len(m))
            row["members"] = (m.mean(), m.mean() - 1.96 * se, m.mean() + 1.96 * se, len(m))
        if len(c) >= MIN_CELL:
            mean = np.average(c, weights=w)
            var = np.average((c - mean) ** 2, weights=w)
            n_eff = w.sum() ** 2 / (w ** 2).sum()
            se = np.sqrt(var / n_eff)
            row["comparison"] = (mean, mean - 1.96 * se, mean + 1.96 * se, len(c))
        out.append(row)
    return out


# --- panels ----------------------------------------------------------------


@dataclass
class PanelPoint:
    round: Round
    families: int
    median: float | None
    mean: float | None


def _points(rounds: list[Round], totals_by_round: dict[int, list[int]]) -> list[PanelPoint]:
    out = []
    for r in rounds:
        values = totals_by_round.get(r.pk, [])
        shown = len(values) >= MIN_CELL
        out.append(PanelPoint(r, len(values), statistics.median(values) if shown else None,
                              statistics.fmean(values) if shown else None))
    return out


def panel_of(user, subject: Subject) -> list[PanelPoint]:
    """The subject's member families' median and mean income per round
    (families with a member during the round)."""
    rounds = income_rounds(user, subject.region_code)
    members, _ = _member_rows(subject)
    spans: dict[int, list[tuple]] = {}
    for hh, joined, left in members:
        spans.setdefault(hh, []).append((joined, left))
    totals: dict[int, list[int]] = {}
    by_round = {r.pk: r for r in rounds}
    ids = list(spans)
    for start in range(0, len(ids), 5000):
        rows = (IncomeRecord.objects.filter(round__in=rounds, household_id__in=ids[
            start:start + 5000]).values_list("round_id", "household_id", "total"))
        for rid, hh, total in rows:
            r = by_round[rid]
            # A member at the round: joined by its end, not left before it began.
            if any((j is None or j <= r.ends_on) and (lft is None or lft > r.starts_on)
                   for j, lft in spans[hh]):
                totals.setdefault(rid, []).append(total)
    return _points(rounds, totals)


def region_panel(user, region_code: str) -> list[PanelPoint]:
    """All recorded families of a region subtree: median and mean per round."""
    access.check_viewer(user, "impact.view")
    if not region_code:
        raise SinergiError(_("Choose a region (a code such as 19.04)."), field="region")
    code = _analysis_region(user, region_code, region_code)
    rounds = income_rounds(user, code)
    totals: dict[int, list[int]] = {}
    rows = (IncomeRecord.objects.filter(round__in=rounds)
            .filter(village_in_q("village_code", code)).values_list("round_id", "total"))
    for rid, total in rows.iterator(chunk_size=50_000):
        totals.setdefault(rid, []).append(total)
    return _points(rounds, totals)


# --- group business --------------------------------------------------------


@dataclass
class GroupProgress:
    group: Group
    records: list[BusinessRecord]  # by round
    moves: list[GroupLevel]  # level changes during the rounds
    before: BusinessRecord | None  # the last record before the first move up
    after: BusinessRecord | None  # the first record after it


def business_progress(user, subject: Subject) -> list[GroupProgress]:
    """Per group of the subject: business records over rounds, level moves
    inside the rounds' span and the business before and after the move."""
    groups = Group.objects.filter(village_in_q("village_code", subject.region_code))
    if subject.kind == "group":
        groups = groups.filter(pk=subject.group.pk)
    elif subject.kind == "kind":
        groups = groups.filter(kind=subject.group_kind)
    else:
        groups = groups.filter(enrollments__program=subject.program).distinct()
    if getattr(user, "role", None) == roles.OFFICER:
        groups = groups.filter(agencies=user.agency_id)
    groups = list(groups.select_related("kind").order_by("village_code", "code")
                  [:PANEL_GROUPS_MAX])
    by_group: dict[int, list[BusinessRecord]] = {g.pk: [] for g in groups}
    for rec in (BusinessRecord.objects.filter(group__in=groups, round__kind=BUSINESS)
                .select_related("round").order_by("round__ends_on")):
        by_group[rec.group_id].append(rec)
    levels: dict[int, list[GroupLevel]] = {g.pk: [] for g in groups}
    for lv in GroupLevel.objects.filter(group__in=groups).order_by("since", "id"):
        levels[lv.group_id].append(lv)
    out = []
    for g in groups:
        recs = by_group[g.pk]
        order = list(g.kind.levels or [])
        moves = []
        first_end = recs[0].round.ends_on if recs else None
        last_end = recs[-1].round.ends_on if recs else None
        for prev, cur in zip(levels[g.pk], levels[g.pk][1:], strict=False):
            if cur.level in order and prev.level in order and \
                    order.index(cur.level) > order.index(prev.level) and \
                    first_end is not None and first_end < cur.since <= last_end:
                moves.append(cur)  # a move up between the first and the last round
        before = after = None
        if moves and recs:
            when = moves[0].since
            before = next((r for r in reversed(recs) if r.round.ends_on < when), None)
            after = next((r for r in recs if r.round.ends_on >= when), None)
        out.append(GroupProgress(g, recs, moves, before, after))
    return out


def kind_totals(progress: list[GroupProgress]) -> list[dict]:
    """Per business round: groups reporting, turnover and profit medians."""
    rounds: dict[int, dict] = {}
    for gp in progress:
        for rec in gp.records:
            row = rounds.setdefault(rec.round_id, {"round": rec.round, "turnover": [],
                                                   "profit": []})
            row["turnover"].append(rec.turnover)
            row["profit"].append(rec.profit)
    out = []
    for row in sorted(rounds.values(), key=lambda r: r["round"].ends_on):
        out.append({"round": row["round"], "groups": len(row["turnover"]),
                    "turnover": statistics.median(row["turnover"]),
                    "profit": statistics.median(row["profit"])})
    return out

