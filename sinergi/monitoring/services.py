"""Writes of monitoring: rounds and their status, a family's income and a
group's business in a round (with screening), and the audited export of
an analysis's inputs. Each write is atomic and audited."""

from __future__ import annotations

import datetime
import statistics

from django.db import transaction
from django.utils.translation import gettext as _

from sinergi.accounts import access, roles
from sinergi.core import values
from sinergi.core.audit import audit_record
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.core.values import UNSET, given
from sinergi.groups.models import Group
from sinergi.registry.models import Household

from . import selectors
from .models import (
    BUSINESS,
    CLOSED,
    INCOME,
    INCOME_SOURCES,
    KIND_CHOICES,
    LOCKED,
    OPEN,
    OUTLIER,
    STATUS_CHOICES,
    BusinessRecord,
    IncomeRecord,
    Round,
)

# Status changes a round may make (a locked round never changes again).
MOVES = {OPEN: {CLOSED}, CLOSED: {OPEN, LOCKED}, LOCKED: set()}
# Screening: a total further than this many scaled MADs from the village's
# median asks for confirmation (Iglewicz & Hoaglin's modified z-score 3.5).
SCREEN_Z = 3.5
SCREEN_MIN_VALUES = 5


class NeedsConfirmation(SinergiError):
    """The value is far from the village's others: saved only when confirmed."""


def rupiah(value, field: str, *, required: bool = False) -> int | None:
    """A whole, non-negative rupiah amount ("1.500.000", "1500000", "Rp 1.500.000"),
    by the same rule as a round's file (sheet.read_rupiah)."""
    from . import sheet  # polars: loaded when an amount is read, not at start-up

    amount, problem = sheet.read_rupiah(value)
    if problem:
        raise SinergiError(problem, field=field)
    if amount is None and required:
        raise SinergiError(_("Write the amount in rupiah (0 if none)."), field=field)
    return amount


def _check_open(rnd: Round) -> None:
    if rnd.status != OPEN:
        raise SinergiError(_("Round '%(name)s' is %(status)s: records can be added or changed "
                             "only while it is open. Ask its owner to reopen it.")
                           % {"name": rnd.name, "status": rnd.get_status_display()})


def round_create(*, actor, name, kind, starts_on, ends_on, region, owner_agency,
                 instrument="", note="") -> Round:
    access.check_capability(actor, "round.manage")
    name = values.text(name, "name", 120, required=True)
    kind = values.choice(kind, "kind", KIND_CHOICES)
    starts = values.as_date(starts_on, "starts_on", required=True)
    ends = values.as_date(ends_on, "ends_on", required=True)
    if ends < starts:
        raise SinergiError(_("The period ends before it starts."), field="ends_on")
    reg = access.region_field(actor, region, "region")
    if not access.in_scope(actor, reg.code):
        raise AccessDenied(_("A round may cover only your own region or a region inside it."))
    agency = access.agency_field(actor, owner_agency, "owner_agency")
    if actor.role == roles.OFFICER and agency.pk != actor.agency_id:
        raise AccessDenied(_("An agency officer sets up rounds of the own agency only."))
    with transaction.atomic():
        rnd = Round.objects.create(
            name=name, kind=kind, starts_on=starts, ends_on=ends, region=reg,
            owner_agency=agency, instrument=values.text(instrument, "instrument", 40),
            note=values.text(note, "note", 300), created_by=actor)
        audit_record(actor=actor, action="round.create", obj=rnd,
                     after={"name": name, "kind": kind, "region": reg.code})
    return rnd


def round_update(*, actor, rnd: Round, name=UNSET, starts_on=UNSET, ends_on=UNSET,
                 instrument=UNSET, note=UNSET, status=UNSET) -> Round:
    if not selectors.can_manage_round(actor, rnd):
        raise AccessDenied(_("Only %(agency)s or a coordinator of its region may change this "
                             "round.") % {"agency": rnd.owner_agency.short_name})
    with transaction.atomic():
        rnd = Round.objects.select_for_update().get(pk=rnd.pk)
        if rnd.status == LOCKED:
            raise SinergiError(_("Round '%(name)s' is locked: it cannot change any more.")
                               % {"name": rnd.name})
        before = {"status": rnd.status, "name": rnd.name}
        changes = given(name=name, starts_on=starts_on, ends_on=ends_on, instrument=instrument,
                        note=note)
        if "name" in changes:
            rnd.name = values.text(name, "name", 120, required=True)
        if "starts_on" in changes:
            rnd.starts_on = values.as_date(starts_on, "starts_on", required=True)
        if "ends_on" in changes:
            rnd.ends_on = values.as_date(ends_on, "ends_on", required=True)
        if rnd.ends_on < rnd.starts_on:
            raise SinergiError(_("The period ends before it starts."), field="ends_on")
        if "instrument" in changes:
            rnd.instrument = values.text(instrument, "instrument", 40)
        if "note" in changes:
            rnd.note = values.text(note, "note", 300)
        if status is not UNSET and status != rnd.status:
            status = values.choice(status, "status", STATUS_CHOICES)
            if status not in MOVES[rnd.status]:
                labels = dict(STATUS_CHOICES)
                raise SinergiError(_("A round goes open → closed → locked (a closed round may "
                                     "be reopened); it cannot go from %(a)s to %(b)s.")
                                   % {"a": labels[rnd.status], "b": labels[status]},
                                   field="status")
            rnd.status = status
        rnd.save()
        audit_record(actor=actor, action="round.update", obj=rnd, before=before,
                     after={"status": rnd.status, "name": rnd.name})
    return rnd


def screen(total: int, others: list[int]) -> bool:
    """Whether ``total`` is far outside the village's distribution
    (modified z-score above SCREEN_Z; needs SCREEN_MIN_VALUES others; the MAD
    is floored at 5 % of the median so a village of equal incomes still has
    a width)."""
    if len(others) < SCREEN_MIN_VALUES:
        return False
    median = statistics.median(others)
    mad = statistics.median(abs(v - median) for v in others)
    mad = max(mad, 0.05 * abs(median), 1.0)
    return abs(total - median) * 0.6745 / mad > SCREEN_Z


def _household_in_round(actor, rnd: Round, household) -> Household:
    if not isinstance(household, Household):
        try:
            household = Household.objects.get(pk=int(household))
        except (Household.DoesNotExist, ValueError, TypeError):
            raise NotInScope(_("Family not found in your scope.")) from None
    if not access.in_scope(actor, household.village_code):
        raise NotInScope(_("Family not found in your scope."))
    if not household.village_code.startswith(rnd.region_id):
        raise SinergiError(_("This family's village %(v)s is outside the round's region "
                             "%(r)s.") % {"v": household.village_code, "r": rnd.region_id},
                           field="household")
    return household


def income_record_save(*, actor, rnd: Round, household, wages=None, business=None,
                       farming=None, transfers=None, other=None, expenditure=None,
                       assets=None, enumerator="", recorded_on=None,
                       confirm: bool = False) -> IncomeRecord:
    """Record (or correct) a family's income in an open round. A total far
    from the village's others raises NeedsConfirmation unless ``confirm``;
    confirmed, the record is flagged."""
    access.check_capability(actor, "income.enter")
    if rnd.kind != INCOME:
        raise SinergiError(_("Round '%(name)s' collects group business, not family income.")
                           % {"name": rnd.name})
    _check_open(rnd)
    household = _household_in_round(actor, rnd, household)
    amounts = {name: rupiah(value, name) for name, value in zip(
        INCOME_SOURCES, (wages, business, farming, transfers, other), strict=True)}
    if all(v is None for v in amounts.values()):
        raise SinergiError(_("Write at least one income amount (0 if the family has no "
                             "income from that source)."), field="wages")
    amounts = {k: v or 0 for k, v in amounts.items()}
    total = sum(amounts.values())
    when = values.as_date(recorded_on, "recorded_on") or datetime.date.today()
    outlier = screen(total, selectors.village_totals(rnd, household.village_code,
                                                     exclude_household=household.pk))
    if outlier and not confirm:
        raise NeedsConfirmation(_("Rp %(total)s a month is far from the other families of "
                                  "this village this round. Check the amounts; if they are "
                                  "right, tick 'the amounts are right' and save again.")
                                % {"total": f"{total:,}".replace(",", ".")})
    with transaction.atomic():
        _check_open(Round.objects.select_for_update().get(pk=rnd.pk))  # closed meanwhile?
        existing = (IncomeRecord.objects.select_for_update()
                    .filter(round=rnd, household=household).first())
        before = {"total": existing.total} if existing else None
        rec = existing or IncomeRecord(round=rnd, household=household, created_by=actor)
        for k, v in amounts.items():
            setattr(rec, k, v)
        rec.total = total
        rec.village_code = household.village_code
        rec.expenditure = rupiah(expenditure, "expenditure")
        rec.assets = rupiah(assets, "assets")
        rec.enumerator = values.text(enumerator, "enumerator", 120)
        rec.recorded_on = when
        rec.flags = OUTLIER if outlier else ""
        rec.save()
        audit_record(actor=actor, action="income.record", obj=rec, before=before,
                     after={"round": rnd.pk, "total": total, "flags": rec.flags})
    return rec


def business_record_save(*, actor, rnd: Round, group, turnover, costs, profit=None,
                         members_active=None, members_total=None, products="",
                         partner_sales=None, recorded_on=None) -> BusinessRecord:
    """Record (or correct) a group's business in an open business round."""
    access.check_capability(actor, "income.enter")
    if rnd.kind != BUSINESS:
        raise SinergiError(_("Round '%(name)s' collects family income, not group business.")
                           % {"name": rnd.name})
    _check_open(rnd)
    if not isinstance(group, Group):
        try:
            group = Group.objects.get(pk=int(group))
        except (Group.DoesNotExist, ValueError, TypeError):
            raise NotInScope(_("Group not found in your scope.")) from None
    if not access.in_scope(actor, group.village_code):
        raise NotInScope(_("Group not found in your scope."))
    if not group.village_code.startswith(rnd.region_id):
        raise SinergiError(_("This group's village is outside the round's region."),
                           field="group")
    turnover_v = rupiah(turnover, "turnover", required=True)
    costs_v = rupiah(costs, "costs", required=True)
    if profit in (None, ""):
        profit_v = turnover_v - costs_v
    else:
        text = str(profit).strip()
        negative = text.startswith("-")
        profit_v = rupiah(text.lstrip("-"), "profit", required=True) * (-1 if negative else 1)
    active = values.as_int(members_active, "members_active") if members_active not in (
        None, "") else None
    total = values.as_int(members_total, "members_total") if members_total not in (
        None, "") else None
    for value, field in ((active, "members_active"), (total, "members_total")):
        if value is not None and value < 0:
            raise SinergiError(_("A number of members cannot be negative."), field=field)
    if active is not None and total is not None and active > total:
        raise SinergiError(_("Active members cannot be more than the members in total."),
                           field="members_active")
    with transaction.atomic():
        _check_open(Round.objects.select_for_update().get(pk=rnd.pk))
        rec = (BusinessRecord.objects.select_for_update().filter(round=rnd, group=group).first()
               or BusinessRecord(round=rnd, group=group, created_by=actor))
        before = {"turnover": rec.turnover, "profit": rec.profit} if rec.pk else None
        rec.village_code = group.village_code
        rec.turnover, rec.costs, rec.profit = turnover_v, costs_v, profit_v
        rec.members_active, rec.members_total = active, total
        rec.products = values.text(products, "products", 300)
        rec.partner_sales = rupiah(partner_sales, "partner_sales")
        rec.recorded_on = values.as_date(recorded_on, "recorded_on") or datetime.date.today()
        rec.save()
        audit_record(actor=actor, action="business.record", obj=rec, before=before,
                     after={"round": rnd.pk, "turnover": turnover_v, "profit": profit_v})
    return rec


def inputs_exported(*, actor, subject, rows: int) -> None:
    """Audit an export of an analysis's inputs (income is personal data)."""
    with transaction.atomic():
        audit_record(actor=actor, action="impact.export", object_type="monitoring.subject",
                     object_id=str(subject.query()), object_repr=subject.label[:200],
                     region_code=subject.region_code,
                     after={"rows": rows})


def round_exported(*, actor, rnd: Round, rows: int) -> None:
    """Audit an export of a round's records (personal data)."""
    with transaction.atomic():
        audit_record(actor=actor, action="round.export", obj=rnd, after={"rows": rows})


def check_analysis_rounds(baseline: Round, followup: Round) -> None:
    """Two income rounds, the baseline ending before the follow-up."""
    for rnd, field in ((baseline, "baseline"), (followup, "followup")):
        if rnd.kind != INCOME:
            raise SinergiError(_("Round '%(name)s' collects group business; choose a family "
                                 "income round.") % {"name": rnd.name}, field=field)
    if baseline.ends_on >= followup.ends_on:
        raise SinergiError(_("The follow-up round must end after the baseline round."),
                           field="followup")
