"""API: the indicator catalogue, values of a region's children ranked, a
region's panel, and entry of external values."""

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from . import selectors, services
from .models import Indicator, Value

router = Router(tags=["indicators"])


# Out schemas read the model themselves (aliases, resolvers). Comments, not
# docstrings: a docstring would become a description in /api/openapi.json.
class IndicatorOut(Schema):
    code: str
    name: str
    name_id: str
    name_en: str
    kind: str
    unit: str
    direction: str
    decimals: int
    rollup: str
    source: str
    agency: str
    frequency: str
    disaggregations: list[str]
    definition: str
    formula: str
    numerator: str
    denominator: str
    version: int

    @staticmethod
    def resolve_disaggregations(indicator: Indicator) -> list[str]:
        return indicator.dimensions


# A cell as the caller may see it: suppressed counts come as null.
class ValueOut(Schema):
    region_code: str
    region_name: str = ""
    period: str
    disaggregation: str = ""
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    status: str
    rank: int | None = None
    previous_rank: int | None = None
    trend: str | None = None
    flags: list[str]
    suppressed: bool = False
    computed_at: datetime | None

    @staticmethod
    def resolve_region_name(row) -> str:
        return getattr(row, "name", "")

    @staticmethod
    def resolve_region_code(row) -> str:
        return getattr(row, "code", None) or row.region_code

    @staticmethod
    def resolve_trend(row) -> str | None:
        trend = getattr(row, "trend", None)
        return trend.direction if trend is not None and not isinstance(trend, str) else None

    @staticmethod
    def resolve_flags(row) -> list[str]:
        return row.flags if isinstance(row.flags, list) else row.flag_list


class PanelOut(Schema):
    indicator: str
    period: str | None
    value: Decimal | None
    target: Decimal | None
    target_period: str | None
    judgement: str | None
    gap: Decimal | None
    rank: int | None
    of: int
    trend: str | None

    @staticmethod
    def resolve_indicator(row) -> str:
        return row.indicator.code

    @staticmethod
    def resolve_period(row) -> str | None:
        return row.latest.period if row.latest else None

    @staticmethod
    def resolve_value(row) -> Decimal | None:
        return None if row.suppressed or row.latest is None else row.latest.value

    @staticmethod
    def resolve_target(row) -> Decimal | None:
        return row.target.target if row.target else None

    @staticmethod
    def resolve_target_period(row) -> str | None:
        return row.target.period if row.target else None

    @staticmethod
    def resolve_judgement(row) -> str | None:
        return row.judged.status if row.judged else None

    @staticmethod
    def resolve_gap(row) -> Decimal | None:
        return row.judged.gap if row.judged else None

    @staticmethod
    def resolve_trend(row) -> str | None:
        return row.trend.direction if row.trend else None


class ValueIn(Schema):
    region: str
    period: str
    value: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    lower: str | None = None
    upper: str | None = None
    source_note: str = ""


@router.get("", response=list[IndicatorOut], summary="The indicator catalogue")
def indicator_list(request: HttpRequest):
    return list(selectors.indicators_visible(request.auth))


@router.get("/panel/{region}", response=list[PanelOut],
            summary="Every indicator of a region: latest value, target, rank and trend")
def indicator_panel(request: HttpRequest, region: str):
    return selectors.panel(request.auth, selectors.region_visible(request.auth, region).code)


@router.get("/{code}", response=IndicatorOut, summary="One indicator's definition")
def indicator_detail(request: HttpRequest, code: str):
    return selectors.access_indicator(request.auth, code)


@router.get("/{code}/values", response=list[ValueOut],
            summary="Values of a region's children for a period, ranked (or the region's "
                    "own values over time with scope=own)")
def indicator_values(request: HttpRequest, code: str, region: str | None = None,
                     period: str | None = None, scope: str = "children",
                     disaggregation: str = ""):
    user = request.auth
    indicator = selectors.access_indicator(user, code)
    place = selectors.region_visible(user, region or selectors.default_region(user))
    if scope == "own":
        rows: list[Value] = selectors.trend_points(user, indicator, place.code, disaggregation)
        return [r for r in rows if not selectors.suppressed(user, r)]
    chosen = selectors.check_period(indicator, period, selectors.periods_of(user, indicator))
    if chosen is None:
        return []
    return selectors.children(user, indicator, place.code, chosen, disaggregation)


@router.post("/{code}/values", response={201: ValueOut},
             summary="Enter an external value (a draft until verified)")
def indicator_value_enter(request: HttpRequest, code: str, payload: ValueIn):
    indicator = selectors.access_indicator(request.auth, code)
    data = payload.dict()
    row = services.value_enter(actor=request.auth, indicator=indicator,
                               region_code=data.pop("region"), **data)
    return Status(201, row)


