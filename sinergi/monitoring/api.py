"""API: survey rounds, a family's income and a group's business in a round,
the round import, a family's incomes over rounds, panels and the impact
analysis (figures and verdict; never a family's row)."""

import datetime
import math

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from sinergi.accounts import access
from sinergi.core.errors import SinergiError
from sinergi.registry import selectors as registry_selectors

from . import analysis, selectors, services, sheet, verdicts
from .models import Round

router = Router(tags=["monitoring"])


class RoundOut(Schema):
    id: int
    name: str
    kind: str
    starts_on: datetime.date
    ends_on: datetime.date
    region_code: str
    owner_agency_id: int
    instrument: str
    status: str

    @staticmethod
    def resolve_region_code(rnd: Round) -> str:
        return rnd.region_id


class RoundIn(Schema):
    name: str
    kind: str
    starts_on: str
    ends_on: str
    region: str
    owner_agency: int
    instrument: str = ""
    note: str = ""


class StatusIn(Schema):
    status: str


class IncomeIn(Schema):
    household: int
    wages: str | int | None = None
    business: str | int | None = None
    farming: str | int | None = None
    transfers: str | int | None = None
    other: str | int | None = None
    expenditure: str | int | None = None
    assets: str | int | None = None
    enumerator: str = ""
    recorded_on: str | None = None
    confirm: bool = False


class IncomeOut(Schema):
    round_id: int
    household_id: int
    village_code: str
    wages: int
    business: int
    farming: int
    transfers: int
    other: int
    total: int
    expenditure: int | None
    assets: int | None
    recorded_on: datetime.date | None
    flags: str


class BusinessIn(Schema):
    group: int
    turnover: str | int
    costs: str | int
    profit: str | int | None = None
    members_active: int | None = None
    members_total: int | None = None
    products: str = ""
    partner_sales: str | int | None = None
    recorded_on: str | None = None


class BusinessOut(Schema):
    round_id: int
    group_id: int
    village_code: str
    turnover: int
    costs: int
    profit: int
    members_active: int | None
    members_total: int | None
    partner_sales: int | None


class ProblemOut(Schema):
    row: int | None
    column: str
    value: str
    message: str


class ImportOut(Schema):
    file: str
    created: int
    problems: list[ProblemOut]
    warnings: list[str]


class PointOut(Schema):
    round_id: int
    round: str
    families: int
    median: float | None
    mean: float | None

    @staticmethod
    def resolve_round_id(p) -> int:
        return p.round.pk

    @staticmethod
    def resolve_round(p) -> str:
        return p.round.name


class BalanceOut(Schema):
    covariate: str
    members: float
    comparison: float
    before: float | None
    after: float | None


class EstimateOut(Schema):
    effect: float | None
    se: float | None
    lower: float | None
    upper: float | None
    p_value: float | None
    method: str
    members: int
    controls: int
    villages: int
    dropped: int
    balance: list[BalanceOut]


class ImpactOut(Schema):
    subject: dict
    baseline_round: int | None
    followup_round: int | None
    verdict: str
    verdict_text: str
    sentence: str
    reasons: list[str]
    caveats: list[str]
    naive_before_after: float | None
    naive_member_gap: float | None
    members_total: int
    pool_total: int
    main: EstimateOut | None
    placebo: EstimateOut | None


def _finite(value):
    return value if isinstance(value, int | float) and math.isfinite(value) else None


def _estimate(e: analysis.Estimate | None) -> dict | None:
    if e is None:
        return None
    return {"effect": _finite(e.effect), "se": _finite(e.se), "lower": _finite(e.lower),
            "upper": _finite(e.upper), "p_value": _finite(e.p_value), "method": e.method,
            "members": e.members, "controls": e.controls, "villages": e.villages,
            "dropped": e.dropped,
            "balance": [{**b, "before": _finite(b["before"]), "after": _finite(b["after"])}
                        for b in e.balance]}


@router.get("/rounds", response=list[RoundOut], summary="Survey rounds in scope")
def round_list(request: HttpRequest, kind: str | None = None):
    return selectors.round_list(request.auth, kind=kind)


@router.post("/rounds", response={201: RoundOut}, summary="Set up a survey round")
def round_create(request: HttpRequest, payload: RoundIn):
    return Status(201, services.round_create(actor=request.auth, **payload.dict()))


@router.get("/rounds/{pk}", response=RoundOut, summary="One survey round")
def round_detail(request: HttpRequest, pk: int):
    return selectors.access_round(request.auth, pk)


@router.post("/rounds/{pk}/status", response=RoundOut,
             summary="Close, reopen or lock a round (open → closed → locked)")
def round_status(request: HttpRequest, pk: int, payload: StatusIn):
    rnd = selectors.access_round(request.auth, pk, for_manage=True)
    return services.round_update(actor=request.auth, rnd=rnd, status=payload.status)


@router.get("/rounds/{pk}/incomes", response=list[IncomeOut],
            summary="A round's family incomes in a village of your scope")
def income_list(request: HttpRequest, pk: int, village: str):
    rnd = selectors.access_round(request.auth, pk)
    return list(selectors.incomes_visible(request.auth).filter(round=rnd, village_code=village)
                .order_by("household_id")[:5000])


@router.post("/rounds/{pk}/incomes", response={201: IncomeOut},
             summary="Record or correct a family's income in an open round")
def income_save(request: HttpRequest, pk: int, payload: IncomeIn):
    rnd = selectors.access_round(request.auth, pk)
    data = payload.dict()
    return Status(201, services.income_record_save(actor=request.auth, rnd=rnd, **data))


@router.post("/rounds/{pk}/import", response={200: ImportOut, 400: ImportOut},
             summary="Import a round's file (all rows or none)")
def income_import(request: HttpRequest, pk: int, file: File[UploadedFile]):
    rnd = selectors.access_round(request.auth, pk)
    result = sheet.income_import(actor=request.auth, rnd=rnd, upload=file)
    return Status(200 if result.ok else 400, result.as_dict())


@router.post("/rounds/{pk}/business", response={201: BusinessOut},
             summary="Record or correct a group's business in an open round")
def business_save(request: HttpRequest, pk: int, payload: BusinessIn):
    rnd = selectors.access_round(request.auth, pk)
    return Status(201, services.business_record_save(actor=request.auth, rnd=rnd,
                                                     **payload.dict()))


@router.get("/families/{household_id}/incomes", response=list[IncomeOut],
            summary="A family's income over rounds")
def family_incomes(request: HttpRequest, household_id: int):
    household = registry_selectors.access_household(request.auth, household_id)
    return selectors.family_incomes(request.auth, household)


@router.get("/panel", response=list[PointOut],
            summary="Median and mean income per round: of a group's, a kind's or a program's "
                    "member families, or of a region")
def panel(request: HttpRequest, group: int | None = None, kind: str | None = None,
          program: int | None = None, region: str | None = None):
    if group or kind or program:
        subject = selectors.subject_of(request.auth, group=group, kind=kind, program=program,
                                       region=region)
        return selectors.panel_of(request.auth, subject)
    return selectors.region_panel(request.auth, region or access.scope_root(request.auth) or "")


@router.get("/impact", response=ImpactOut,
            summary="Did joining raise income? Difference-in-differences against matched "
                    "never-members, with interval and verdict")
def impact(request: HttpRequest, baseline: int | None = None, followup: int | None = None,
           group: int | None = None, kind: str | None = None, program: int | None = None,
           region: str | None = None):
    user = request.auth
    subject = selectors.subject_of(user, group=group, kind=kind, program=program, region=region)
    rounds = selectors.income_rounds(user, subject.region_code)
    if (baseline is None) != (followup is None):
        raise SinergiError(_("Give both rounds, baseline and followup, or neither (the last "
                             "two income rounds)."), field="followup" if followup is None
                           else "baseline")
    if baseline is None or followup is None:  # the last two rounds, as the page does
        if len(rounds) < 2:
            raise SinergiError(_("Two income rounds are needed, a baseline and a later "
                                 "follow-up."), field="baseline")
        base, follow = rounds[-2], rounds[-1]
    else:
        base = selectors.access_round(user, baseline)
        follow = selectors.access_round(user, followup)
    services.check_analysis_rounds(base, follow)
    th = analysis.Thresholds.from_settings()
    data = selectors.impact_data(rounds, subject, base, follow)
    result = analysis.analyse(data.panel, th)
    if result.members_total < selectors.MIN_CELL:  # a handful of families: no figures
        result.naive_before_after = result.naive_member_gap = None
        if result.main is not None:
            result.main.balance = []
    return {"subject": subject.query(), "baseline_round": base.pk, "followup_round": follow.pk,
            "verdict": result.verdict,
            "verdict_text": str(verdicts.VERDICT_LABELS[result.verdict]),
            "sentence": verdicts.sentence(result),
            "reasons": verdicts.reason_texts(result, th),
            "caveats": verdicts.caveats(result, th, has_pre=data.pre is not None,
                                        flagged=data.flagged),
            "naive_before_after": result.naive_before_after,
            "naive_member_gap": result.naive_member_gap,
            "members_total": result.members_total, "pool_total": result.pool_total,
            "main": _estimate(result.main), "placebo": _estimate(result.placebo)}

