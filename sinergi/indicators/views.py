"""Indicator pages: the catalogue, an indicator over a region's children
(ranked, with trend, target and breakdowns), a region's panel, entry and
import of external values, village facts, targets and the data quality list.
The catalogue, indicator and panel pages are open to the public, who see
verified values of provinces and kabupaten/kota only (selectors)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sinergi.accounts import access
from sinergi.core import charts
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.exports import xlsx_response
from sinergi.core.forms import form_page, saved
from sinergi.regions.codes import code_ancestors, subtree_q
from sinergi.regions.models import Region

from . import dimensions, forms, periods, quality, selectors, services, sheet
from .models import COMPUTED_SOURCES, STATUS_CHOICES, VILLAGE, Indicator

STATUS_LABELS = dict(STATUS_CHOICES)


def _page_region(request, default: str | None = None) -> Region:
    code = (request.GET.get("region") or "").strip() or default or \
        selectors.default_region(request.user)
    return selectors.region_visible(request.user, code)


@require_GET
def catalogue(request, as_xlsx: bool = False):
    indicators = list(selectors.indicators_visible(request.user))
    source = request.GET.get("source", "")
    if source:
        indicators = [i for i in indicators if i.source == source]
    if as_xlsx:
        headers = [_("Code"), _("Name"), _("Kind"), _("Unit"), _("Direction"), _("Source"),
                   _("Responsible agency"), _("Roll-up"), _("Disaggregations"),
                   _("Definition"), _("Formula in words"), _("Version")]
        return xlsx_response("indikator.xlsx", headers, (
            [i.code, i.name, i.get_kind_display(), i.unit, i.get_direction_display(),
             i.get_source_display(), i.agency, i.get_rollup_display(), i.disaggregations,
             i.definition, i.formula, i.version] for i in indicators))
    groups = [
        (_("From the registry, programs and groups"),
         [i for i in indicators if i.source in COMPUTED_SOURCES]),
        (_("External: BPS, agencies and surveys"),
         [i for i in indicators if i.source not in COMPUTED_SOURCES and i.source != VILLAGE]),
        (_("Village facts"), [i for i in indicators if i.source == VILLAGE]),
    ]
    return render(request, "indicators/catalogue.html", {
        "groups": groups, "source": source,
        "can_manage": access.user_can(request.user, "indicator.manage"),
        "can_facts": access.user_can(request.user, "villagefact.enter"),
        "can_quality": access.user_can(request.user, "indicator.enter"),
        "region": selectors.default_region(request.user)})


def _peers(request) -> str:
    peers = request.GET.get("peers", "siblings")
    return peers if peers in selectors.PEERS else "siblings"


@require_GET
def detail(request, code: str, as_xlsx: bool = False):
    user = request.user
    indicator = selectors.access_indicator(user, code)
    region = _page_region(request)
    available = selectors.periods_of(user, indicator)
    error = None
    try:
        period = selectors.check_period(indicator, request.GET.get("period"), available)
    except SinergiError as exc:
        period, error = (available[0] if available else None), exc.message
    disaggregation = request.GET.get("disaggregation", "")
    if dimensions.split(disaggregation)[0] not in ("", *indicator.dimensions):
        disaggregation, error = "", _("This indicator has no such breakdown; showing the total.")
    rows = selectors.children(user, indicator, region.code, period, disaggregation) \
        if period else []
    if as_xlsx:
        headers = [_("Rank"), _("Code"), _("Region"), _("Period"), _("Value"), _("Numerator"),
                   _("Denominator"), _("Interval, lower"), _("Interval, upper"),
                   _("Rank in the period before"), _("Status"), _("Data quality")]
        return xlsx_response(f"{indicator.code}-{region.code}-{period}.xlsx", headers, (
            [r.rank, r.code, r.name, period, r.value, r.numerator, r.denominator, r.lower,
             r.upper, r.previous_rank, str(STATUS_LABELS.get(r.status, r.status)),
             ", ".join(r.flag_labels)] for r in rows),
            text_columns={1})
    peers = _peers(request)
    own = selectors.own_row(user, indicator, region.code, period, disaggregation) \
        if period else None
    place = selectors.place(user, indicator, region.code, period, peers, disaggregation) \
        if period and indicator.is_ranked else None
    # No figures below the region (a kab/kota of a BPS indicator, a village):
    # the region among the peers it is ranked with, itself highlighted.
    compared = []
    if period and not rows and indicator.is_ranked:
        where, level = selectors.peer_q(region.code, peers)
        compared = selectors.ranked(user, indicator, where=where, level=level, period=period,
                                    disaggregation=disaggregation, with_previous=False)
        compared = compared if len(compared) > 1 else []
    points = selectors.trend_points(user, indicator, region.code, disaggregation)
    # Targets are set for the total: a breakdown is not judged against them.
    targets = [] if disaggregation else selectors.targets_of(indicator, region.code)
    target, judged = selectors.judgement(indicator, points, targets)
    unit = indicator.unit or ""
    label = periods.label(period) if period else ""
    shown = rows or compared
    bars = charts.ranking_bars(
        [{"key": r.code, "label": r.name, "value": r.value, "lower": r.lower,
          "upper": r.upper, "rank": str(r.rank or "")} for r in shown],
        caption=_("%(name)s by region, %(period)s") % {"name": indicator.name,
                                                      "period": label},
        headers=[_("Rank"), _("Region"), f"{_('Value')} {unit}".strip(), _("Interval")],
        decimals=indicator.decimals, highlight=region.code) if shown else None
    trend = charts.trend_line(
        [{"period": periods.label(p.period), "value": p.value, "lower": p.lower,
          "upper": p.upper, "at": periods.position(p.period)} for p in points],
        caption=_("%(name)s in %(region)s over time") % {"name": indicator.name,
                                                        "region": region.name},
        headers=[_("Period"), f"{_('Value')} {unit}".strip(), _("Interval"), _("Target")],
        decimals=indicator.decimals,
        targets=[{"period": periods.label(t.period), "value": t.target,
                  "at": periods.position(t.period)} for t in targets]) \
        if points or targets else None
    return render(request, "indicators/detail.html", {
        "indicator": indicator, "region": region, "period": period, "periods": available,
        "period_label": label, "rows": rows, "own": own, "compared": compared,
        "has_parts": any(r.numerator is not None and r.denominator is not None
                         for r in rows),
        "disaggregation_label": dimensions.label(disaggregation) if disaggregation else "",
        "place": place, "peers": peers, "peer_choices": selectors.PEERS.items(),
        "target": target, "judged": judged, "bars": bars, "trend": trend,
        "breakdown": selectors.breakdown(user, indicator, region.code, period)
        if period else {},
        "disaggregation": disaggregation,
        "disaggregation_choices": [("", _("total"))] + [
            (d, f"{dimensions.DIMENSIONS.get(dimensions.split(d)[0], '')}: "
                f"{dimensions.label(d)}")
            for d in selectors.disaggregations_of(user, indicator, region.code, period)],
        "flagged": [r for r in rows if r.flags],
        "pending": indicator.is_computed and selectors.pending(region.code),
        "parent": region.parent_id, "error": error,
        "can_enter": access.user_can(user, "indicator.enter") and not indicator.is_computed
        and not indicator.is_village_fact,
        "can_manage": access.user_can(user, "indicator.manage"),
        "can_verify": access.user_can(user, "indicator.verify"),
        "drafts": any(r.status == "draft" for r in rows) or (own and own.status == "draft"),
    }, status=400 if error else 200)


@require_GET
def region_panel(request, code: str, as_xlsx: bool = False):
    user = request.user
    region = selectors.region_visible(user, code)
    rows = selectors.panel(user, region.code)
    if as_xlsx:
        headers = [_("Code"), _("Indicator"), _("Period"), _("Value"), _("Unit"),
                   _("Target"), _("Target period"), _("Gap"), _("Judgement"), _("Rank"),
                   _("Of"), _("Trend"), _("Data as of")]
        return xlsx_response(f"panel-{region.code}.xlsx", headers, (
            [r.indicator.code, r.indicator.name, r.latest.period if r.latest else "",
             None if r.suppressed or not r.latest else r.latest.value, r.indicator.unit,
             r.target.target if r.target else None, r.target.period if r.target else "",
             r.judged.gap if r.judged else None, r.judged.label if r.judged else "",
             r.rank, r.of or None, r.trend.label if r.trend else "",
             timezone.localdate(r.latest.computed_at) if r.latest else None] for r in rows))
    shown_rows = [(r, charts.sparkline([p.value for p in r.points],
                                       label=_("%(name)s over time") % {
                                           "name": r.indicator.name}))
                  for r in rows if r.latest is not None or r.target is not None]
    children = Region.objects.filter(parent_id=region.code, retired_in="").order_by("code") \
        if region.level < 2 or (user.is_authenticated and access.in_scope(user, region.code)) \
        else Region.objects.none()
    # The nearest region above whose figures the user may read (a village
    # operator's kecamatan is not theirs; their kabupaten is).
    above = next((code for code in reversed(code_ancestors(region.code))
                  if code.count(".") <= 1 or (user.is_authenticated
                                              and access.in_scope(user, code))), None)
    parent = Region.objects.filter(code=above).first() if above else None
    return render(request, "indicators/panel.html", {
        "region": region, "rows": shown_rows, "children": children[:60], "parent": parent,
        "can_facts": region.level == 4 and access.user_can(user, "villagefact.enter")
        and access.in_scope(user, region.code),
        "missing": sum(1 for r in rows if r.latest is None and r.target is None),
        "pending": selectors.pending(region.code)})


@login_required
@require_http_methods(["GET", "POST"])
def enter(request, code: str):
    user = request.user
    access.check_capability(user, "indicator.enter")
    indicator = selectors.access_indicator(user, code)
    form = forms.ValueForm(request.POST or None, initial={
        "region": request.GET.get("region") or access.scope_root(user) or "",
        "period": periods.current(indicator.frequency, _today())})
    refused = _refused(request, user, indicator)
    if refused:
        return refused
    row = saved(request, form, lambda d: services.value_enter(
        actor=user, indicator=indicator, region_code=d["region"], period=d["period"],
        value=d["value"], numerator=d["numerator"], denominator=d["denominator"],
        lower=d["lower"], upper=d["upper"], source_note=d["source_note"]),
        _("The value has been saved as a draft; a coordinator verifies it before the public "
          "sees it."))
    if row:
        if row.flags:
            messages.warning(request, _("Check this value: %(flags)s.") % {
                "flags": ", ".join(quality.flag_label(f) for f in row.flag_list)})
        return redirect(f"{_detail_url(indicator)}?region={row.region_code}&period={row.period}")
    return form_page(request, "indicators/form.html", form, {
        "indicator": indicator, "title": _("Enter a value of %(c)s") % {"c": indicator.code}})


def _refused(request, user, indicator: Indicator):
    """Whether this indicator's values are typed in here at all (a computed
    one is not: back to its page with the reason); a role or agency that may
    not enter them is refused (403) by the service."""
    try:
        services.check_indicator_enter(user, indicator)
    except AccessDenied:
        raise
    except SinergiError as exc:
        messages.error(request, exc.message)
        return redirect(_detail_url(indicator))
    return None


def _detail_url(indicator: Indicator) -> str:
    return reverse("indicators:detail", args=[indicator.code])


def _today():
    return timezone.localdate()


@login_required
@require_http_methods(["GET", "POST"])
def values_import(request, code: str):
    user = request.user
    access.check_capability(user, "indicator.enter")
    indicator = selectors.access_indicator(user, code)
    refused = _refused(request, user, indicator)
    if refused:
        return refused
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = sheet.values_import(actor=user, indicator=indicator,
                                     upload=form.cleaned_data["file"],
                                     source_note=form.cleaned_data["source_note"])
        if result.ok:
            messages.success(request, _("%(n)d values imported as drafts.") % {
                "n": result.created})
            return redirect(_detail_url(indicator))
    return render(request, "indicators/import.html", {
        "form": form, "indicator": indicator, "result": result},
        status=400 if form.errors or (result and not result.ok) else 200)


@login_required
@require_GET
def export_bps(request, code: str):
    """Every period of the indicator for a region's children (and the region),
    regions as rows and periods as columns, as BPS publishes them."""
    user = request.user
    indicator = selectors.access_indicator(user, code)
    region = _page_region(request)
    values = selectors.values_visible(user).filter(
        subtree_q("region_code", region.code), indicator=indicator,
        disaggregation="", level__lte=region.level + 1)
    headers, rows = sheet.bps_rows(indicator, values)
    return xlsx_response(f"{indicator.code}-{region.code}-bps.xlsx", headers, rows,
                         text_columns={0})


@login_required
@require_POST
def verify(request, code: str):
    user = request.user
    indicator = selectors.access_indicator(user, code)
    region, period = request.POST.get("region", ""), request.POST.get("period", "")
    access.check_capability(user, "indicator.verify")
    try:
        count = services.values_verify(actor=user, indicator=indicator, period=period,
                                       region_code=region)
    except AccessDenied:
        raise
    except SinergiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d values verified: the public sees them now.")
                         % {"n": count})
    return redirect(f"{_detail_url(indicator)}?region={region}&period={period}")


@login_required
@require_http_methods(["GET", "POST"])
def targets(request, code: str):
    user = request.user
    access.check_capability(user, "indicator.manage")
    indicator = selectors.access_indicator(user, code)
    form = forms.TargetForm(request.POST or None, initial={
        "region": request.GET.get("region") or access.scope_root(user) or ""})
    if saved(request, form, lambda d: services.target_set(actor=user, indicator=indicator,
                                                          region_code=d["region"], **{
            k: d[k] for k in ("period", "target", "baseline", "baseline_period", "document",
                              "document_note")}), _("The target has been saved.")):
        return redirect(f"{_detail_url(indicator)}?region={form.cleaned_data['region']}")
    return form_page(request, "indicators/form.html", form, {
        "indicator": indicator, "title": _("Set a target of %(c)s") % {"c": indicator.code},
        "existing": selectors.targets_visible(user, indicator)})


def _catalogue_data(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "code"}


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    access.check_capability(request.user, "indicator.manage")
    form = forms.IndicatorForm(request.POST or None)
    indicator = saved(request, form, lambda d: services.indicator_create(
        actor=request.user, code=d["code"], **_catalogue_data(d)),
        _("The indicator has been added to the catalogue."))
    if indicator:
        return redirect(_detail_url(indicator))
    return form_page(request, "indicators/form.html", form, {
        "indicator": None, "title": _("New indicator")})


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, code: str):
    access.check_capability(request.user, "indicator.manage")
    indicator = selectors.access_indicator(request.user, code)
    initial = {f: getattr(indicator, f) for f in services.CATALOGUE_FIELDS}
    initial.update(code=indicator.code, disaggregations=indicator.dimensions)
    form = forms.IndicatorForm(request.POST or None, initial=initial)
    form.fields["code"].disabled = True
    if saved(request, form, lambda d: services.indicator_update(
            actor=request.user, indicator=indicator, **_catalogue_data(d)),
            _("The indicator has been saved.")):
        return redirect(_detail_url(indicator))
    return form_page(request, "indicators/form.html", form, {
        "indicator": indicator, "title": _("Edit %(c)s") % {"c": indicator.code}})


@login_required
@require_http_methods(["GET", "POST"])
def facts(request):
    """A village's facts for a year: one form, every village fact."""
    user = request.user
    access.check_capability(user, "villagefact.enter")
    asked = (request.POST.get("village") or request.GET.get("village") or "").strip()
    root = access.scope_root(user) or ""
    # A village operator's own village opens at once; others choose one.
    village_code = asked or (root if len(root) == 13 else "")
    year = (request.POST.get("year") or request.GET.get("year") or str(_today().year)).strip()
    indicators = list(Indicator.objects.filter(source=VILLAGE, is_active=True))
    village, error = None, None
    try:
        village = access.region_field(user, village_code, "village") if village_code else None
        if village is not None and village.level != 4:
            village, error = None, _("Choose a desa or kelurahan (a 10-digit village code).")
    except SinergiError as exc:
        error = exc.message
    current = {}
    if village is not None:
        for v in selectors.values_visible(user).filter(
                indicator__in=indicators, region_code=village.code, period=year):
            current[v.indicator.code] = "1" if v.indicator.kind == "yesno" and v.numerator \
                else "0" if v.indicator.kind == "yesno" else int(v.numerator or 0)
    form = forms.FactsForm(request.POST or None, indicators=indicators, initial=current)
    if request.method == "POST" and village is not None and form.is_valid():
        try:
            written = services.facts_set(actor=user, village_code=village.code, year=year,
                                         facts=form.cleaned_data)
        except SinergiError as exc:
            error = exc.message
        else:
            messages.success(request, _("%(n)d facts of %(village)s for %(year)s saved as drafts; "
                                        "a coordinator verifies them before the public sees "
                                        "them.") % {
                "n": written, "village": village.name, "year": year})
            return redirect(f"{request.path}?village={village.code}&year={year}")
    return render(request, "indicators/facts.html", {
        "form": form, "village": village, "village_code": village_code, "year": year,
        "error": error}, status=400 if error or form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def facts_import(request):
    """The facts of many villages for a year from one spreadsheet: villages
    as rows, facts as columns (sheet.facts_import), all or nothing."""
    user = request.user
    access.check_capability(user, "villagefact.enter")
    form = forms.FactsImportForm(request.POST or None, request.FILES or None,
                                 initial={"year": str(_today().year)})
    result = None
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["year"].strip()
        result = sheet.facts_import(actor=user, year=year, upload=form.cleaned_data["file"])
        if result.ok:
            year = periods.normalize(year, "year")
            messages.success(request, _("%(n)d answers of village facts for %(year)s imported "
                                        "as drafts; a coordinator verifies them before the "
                                        "public sees them.") % {"n": result.created,
                                                                "year": year})
            for warning in result.warnings:
                messages.warning(request, warning)
            return redirect(f"{reverse('indicators:facts')}?year={year}")
    return render(request, "indicators/facts_import.html", {
        "form": form, "result": result,
        "facts": Indicator.objects.filter(source=VILLAGE, is_active=True)},
        status=400 if form.errors or (result and not result.ok) else 200)


@login_required
@require_GET
def quality_list(request, as_xlsx: bool = False):
    user = request.user
    access.check_capability(user, "indicator.enter")
    found = selectors.quality_list(user)
    if as_xlsx:
        headers = [_("Indicator"), _("Code"), _("Region"), _("Period"), _("Value"),
                   _("Problem")]
        return xlsx_response("kualitas-data.xlsx", headers, (
            [f["indicator"].code, f["region_code"], f["region_name"], f["period"],
             f["value"], "; ".join(f["problems"])] for f in found), text_columns={1})
    return render(request, "indicators/quality.html", {
        "found": found, "can_enter": access.user_can(user, "indicator.enter")})

