"""Monitoring pages: survey rounds, entry family by family (phone-first),
the round import, panels over rounds, the impact analysis with its charts,
group business progress. Nothing here is public: income is personal data."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sinergi.accounts import access
from sinergi.core import charts
from sinergi.core.errors import NotInScope, SinergiError
from sinergi.core.exports import xlsx_response
from sinergi.core.forms import applied, form_error, form_page, saved
from sinergi.core.timelimit import time_limit
from sinergi.groups.models import Group, GroupKind
from sinergi.regions.codes import code_ancestors, village_in_q
from sinergi.regions.models import Region
from sinergi.registry import codes as registry_codes
from sinergi.registry.models import Household
from sinergi.registry.selectors import mask_nik

from . import analysis, forms, selectors, services, sheet, verdicts
from .models import BUSINESS, INCOME, INCOME_SOURCES, BusinessRecord, IncomeRecord


@login_required
@require_GET
def index(request):
    user = request.user
    rounds = selectors.round_list(user, kind=request.GET.get("kind") or None)
    kinds = GroupKind.objects.order_by("position", "code")
    return render(request, "monitoring/index.html", {
        "rounds": rounds, "kinds": kinds,
        "can_manage": access.user_can(user, "round.manage"),
        "can_analyse": access.user_can(user, "impact.view"),
        "default_region": access.scope_root(user) or ""})


@login_required
@require_http_methods(["GET", "POST"])
def round_create(request):
    user = request.user
    access.check_capability(user, "round.manage")
    form = forms.RoundForm(request.POST or None, agencies=access.agency_choices(user),
                           initial={"region": access.scope_root(user) or "",
                                    "owner_agency": user.agency_id, "kind": INCOME})
    rnd = saved(request, form, lambda d: services.round_create(actor=user, **d),
                _("The round has been set up."))
    if rnd:
        return redirect("monitoring:round", rnd.pk)
    return form_page(request, "monitoring/form.html", form, {"title": _("New survey round")})


def _children_progress(rnd, region: Region) -> tuple[list[dict], dict]:
    """Each child region (or village) of ``region``: the round's records and
    the registry's active families, and the whole region's totals."""
    children = list(Region.objects.filter(parent_id=region.code).order_by("code")[:500])
    width = len(children[0].code) if children else 13
    model = IncomeRecord if rnd.kind == INCOME else BusinessRecord
    recorded: dict[str, int] = {}
    for village, n in (model.objects.filter(round=rnd)
                       .filter(village_in_q("village_code", region.code))
                       .values_list("village_code").annotate(n=Count("id"))):
        recorded[village[:width]] = recorded.get(village[:width], 0) + n
    families: dict[str, int] = {}
    if rnd.kind == INCOME:
        for village, n in (Household.objects.filter(village_in_q("village_code", region.code),
                                                    is_active=True)
                           .values_list("village_code").annotate(n=Count("id"))):
            families[village[:width]] = families.get(village[:width], 0) + n

    def share(done: int, of: int) -> int:
        return min(100, round(100 * done / of)) if of else 0

    rows = [{"region": c, "recorded": recorded.get(c.code, 0),
             "families": families.get(c.code, 0),
             "percent": share(recorded.get(c.code, 0), families.get(c.code, 0))}
            for c in children]
    done, of = sum(recorded.values()), sum(families.values())
    return rows, {"recorded": done, "families": of, "percent": share(done, of)}


@login_required
@require_GET
def round_detail(request, pk: int):
    user = request.user
    rnd = selectors.access_round(user, pk)
    root = rnd.region_id
    own = access.scope_root(user)
    if own and own.startswith(root):
        root = own
    code = (request.GET.get("region") or root).strip()
    if not code.startswith(root):
        code = root
    region = access.access_region(user, code)
    children, total = _children_progress(rnd, region)
    groups, more = [], False
    if rnd.kind == BUSINESS:
        done = set(BusinessRecord.objects.filter(round=rnd).values_list("group_id", flat=True))
        found = list(Group.objects.filter(village_in_q("village_code", region.code),
                                          is_active=True)
                     .select_related("kind").order_by("village_code", "code")[:301])
        groups, more = [(g, g.pk in done) for g in found[:300]], len(found) > 300
    # The way down from the round's region (or the user's own root) to here.
    trail = list(Region.objects.filter(code__in=[c for c in [*code_ancestors(code), code]
                                                 if c.startswith(root)]).order_by("level"))
    return render(request, "monitoring/round.html", {
        "round": rnd, "region": region, "groups": groups, "groups_more": more,
        "children": children if region.level < 4 else [], "total": total,
        "trail": trail,
        "can_manage": selectors.can_manage_round(user, rnd),
        "can_enter": access.user_can(user, "income.enter") and rnd.status == "open",
        "can_export": access.user_can(user, "person.export")})


@login_required
@require_POST
def round_status(request, pk: int):
    user = request.user
    rnd = selectors.access_round(user, pk, for_manage=True)
    form = forms.StatusForm(request.POST)
    applied(request, form, lambda d: services.round_update(actor=user, rnd=rnd,
                                                          status=d["status"]),
            _("The round's status has been changed."))
    return redirect("monitoring:round", rnd.pk)


@login_required
@require_GET
def village_entry(request, pk: int, code: str):
    user = request.user
    access.check_capability(user, "income.enter")
    rnd = selectors.access_round(user, pk)
    if rnd.kind != INCOME:
        raise Http404
    try:
        page = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page = 1
    rows, missing = selectors.entry_list(user, rnd, code, page)
    return render(request, "monitoring/village.html", {
        "round": rnd, "village": access.access_region(user, code), "rows": rows,
        "missing": missing, "page": page, "more": len(rows) == selectors.ENTRY_PAGE})


@login_required
@require_http_methods(["GET", "POST"])
def family_record(request, pk: int, household_id: int):
    user = request.user
    access.check_capability(user, "income.enter")
    rnd = selectors.access_round(user, pk)
    try:
        household = Household.objects.get(pk=household_id)
    except Household.DoesNotExist:
        raise NotInScope(_("Family not found in your scope.")) from None
    if not access.in_scope(user, household.village_code):
        raise NotInScope(_("Family not found in your scope."))
    existing = IncomeRecord.objects.filter(round=rnd, household=household).first()
    initial = {k: getattr(existing, k) for k in (*INCOME_SOURCES, "expenditure", "assets",
                                                 "enumerator", "recorded_on")} \
        if existing else {"enumerator": request.session.get("monitoring_enumerator", "")}
    form = forms.IncomeForm(request.POST or None, initial=initial)
    # The head as the registry names it: the living member with SHDK 1, lowest id.
    head = household.members.filter(shdk=registry_codes.SHDK_HEAD,
                                    life_status=registry_codes.ALIVE).order_by("id").first()
    needs_confirm = False
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.income_record_save(actor=user, rnd=rnd, household=household,
                                        **{k: d[k] for k in (*INCOME_SOURCES, "expenditure",
                                                             "assets", "enumerator",
                                                             "recorded_on", "confirm")})
        except services.NeedsConfirmation as exc:
            form_error(form, exc)
            needs_confirm = True
        except SinergiError as exc:
            form_error(form, exc)
        else:
            request.session["monitoring_enumerator"] = d["enumerator"]
            messages.success(request, _("Saved: %(who)s, %(address)s.") % {
                "who": head.name if head else mask_nik(household.kk_number),
                "address": household.address or f"RT {household.rt}/RW {household.rw}"})
            following = selectors.next_missing(rnd, household.village_code, household)
            if following is not None and "next" in request.POST:
                return redirect("monitoring:family", rnd.pk, following.pk)
            return redirect("monitoring:village", rnd.pk, household.village_code)
    return form_page(request, "monitoring/family_form.html", form, {
        "round": rnd, "household": household, "head": head, "existing": existing,
        "needs_confirm": needs_confirm, "kk": mask_nik(household.kk_number),
        "history": [r for r in selectors.family_incomes(user, household) if r.round_id != rnd.pk]})


@login_required
@require_http_methods(["GET", "POST"])
def group_record(request, pk: int, group_id: int):
    user = request.user
    access.check_capability(user, "income.enter")
    rnd = selectors.access_round(user, pk)
    try:
        group = Group.objects.filter(access.village_scope_q(user, "village_code")).get(
            pk=group_id)
    except Group.DoesNotExist:
        raise NotInScope(_("Group not found in your scope.")) from None
    existing = BusinessRecord.objects.filter(round=rnd, group=group).first()
    initial = {k: getattr(existing, k) for k in (
        "turnover", "costs", "profit", "members_active", "members_total", "products",
        "partner_sales", "recorded_on")} if existing else {
        "members_total": group.members.filter(left_on__isnull=True).count(),
        "products": group.products}
    form = forms.BusinessForm(request.POST or None, initial=initial)
    rec = saved(request, form, lambda d: services.business_record_save(
        actor=user, rnd=rnd, group=group, **d), _("Saved."))
    if rec:
        return redirect("monitoring:round", rnd.pk)
    return form_page(request, "monitoring/group_form.html", form, {
        "round": rnd, "group": group, "existing": existing})


@login_required
@require_http_methods(["GET", "POST"])
@time_limit("EXPORT_TIME_LIMIT")  # a whole round's file: the bulk requests' longer limit
def round_import(request, pk: int):
    user = request.user
    access.check_capability(user, "income.enter")
    rnd = selectors.access_round(user, pk)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = sheet.income_import(actor=user, rnd=rnd, upload=form.cleaned_data["file"])
        except SinergiError as exc:
            form_error(form, exc)
        else:
            if result.ok:
                messages.success(request, _("%(n)d families' incomes imported.")
                                 % {"n": result.created})
                for warning in result.warnings:
                    messages.warning(request, warning)
                return redirect("monitoring:round", rnd.pk)
    return render(request, "monitoring/import.html", {
        "form": form, "round": rnd, "result": result},
        status=400 if form.errors or (result and not result.ok) else 200)


@login_required
@require_GET
def round_template(request, pk: int):
    rnd = selectors.access_round(request.user, pk)
    example = ["1904010101010001", "1500000", "0", "750000", "200000", "0", "1800000", "5000000",
               "Siti", "15/03/2026"]
    return xlsx_response(f"template-{rnd.pk}.xlsx", sheet.template_headers(), [example],
                         text_columns={0})


@login_required
@require_GET
@time_limit("EXPORT_TIME_LIMIT")
def round_export(request, pk: int):
    """The round's records in the user's scope; KK numbers in full only for
    who may export personal data (audited)."""
    user = request.user
    rnd = selectors.access_round(user, pk)
    access.check_capability(user, "person.export")
    if rnd.kind == INCOME:
        qs = (selectors.incomes_visible(user).filter(round=rnd)
              .order_by("village_code", "household_id")
              .values_list("household__kk_number", "village_code", "wages", "business",
                           "farming", "transfers", "other", "expenditure", "assets", "total",
                           "enumerator", "recorded_on", "flags"))
        headers = ["No KK", "Kode desa", *sheet.template_headers()[1:8], "Total", "Pencacah",
                   "Tanggal", "Tanda"]
        rows = [list(r) for r in qs[:sheet.MAX_ROWS].iterator(chunk_size=20_000)]
        text = {0, 1}
    else:
        qs = (selectors.businesses_visible(user).filter(round=rnd).select_related("group")
              .order_by("village_code", "group_id"))
        headers = ["Kode kelompok", "Kelompok", "Kode desa", "Omzet", "Biaya", "Laba",
                   "Anggota aktif", "Anggota", "Produk", "Penjualan ke mitra", "Tanggal"]
        rows = [[r.group.code, r.group.name, r.village_code, r.turnover, r.costs, r.profit,
                 r.members_active, r.members_total, r.products, r.partner_sales,
                 r.recorded_on] for r in qs[:50_000]]
        text = {0, 2}
    services.round_exported(actor=user, rnd=rnd, rows=len(rows))
    return xlsx_response(f"putaran-{rnd.pk}.xlsx", headers, rows, text_columns=text)


@login_required
@require_GET
def family_incomes(request, household_id: int):
    """A family's income over rounds (the family page loads it; in scope only)."""
    from sinergi.registry.selectors import access_household

    household = access_household(request.user, household_id)
    records = selectors.family_incomes(request.user, household)
    chart = charts.trend_line(
        [{"period": _short(r.round), "value": r.total} for r in records],
        caption=_("Monthly income of this family by round (Rp)"),
        headers=[_("Round"), _("Total"), "", ""], decimals=0) if len(records) > 1 else None
    template = "monitoring/_family.html" if request.htmx else "monitoring/family.html"
    return render(request, template, {"household": household, "records": records,
                                      "chart": chart})


# --- analyses ----------------------------------------------------------------


def _asked(request) -> bool:
    return any(request.GET.get(k) for k in ("group", "kind", "program"))


def _subject(request):
    g = request.GET
    return selectors.subject_of(request.user, group=g.get("group") or None,
                                kind=g.get("kind") or None, program=g.get("program") or None,
                                region=(g.get("region") or "").strip() or None)


def _rounds_chosen(request, rounds):
    by_id = {str(r.pk): r for r in rounds}
    baseline = by_id.get(request.GET.get("baseline", "")) or (rounds[-2] if len(rounds) > 1
                                                               else None)
    followup = by_id.get(request.GET.get("followup", "")) or (rounds[-1] if rounds else None)
    return baseline, followup


def _in_order(request, baseline, followup) -> bool:
    """Whether both rounds are chosen and in order (else say why, once)."""
    if not (baseline and followup):
        return False
    try:
        services.check_analysis_rounds(baseline, followup)
    except SinergiError as exc:
        messages.error(request, exc.message)
        return False
    return True


def _short(rnd) -> str:
    """A round on a chart's axis: the month its period ends ("Okt 2025");
    the tables beside the charts give the full names."""
    return date_format(rnd.ends_on, "M Y")


def _impact_chart(points) -> charts.Chart | None:
    if not points:
        return None
    series = []
    for key, label in (("members", _("members")), ("comparison", _("comparison"))):
        series.append({"label": label, "points": [
            {"period": _short(p["round"]), "value": p[key][0] if p[key] else None,
             "lower": p[key][1] if p[key] else None, "upper": p[key][2] if p[key] else None}
            for p in points]})
    return charts.compare_lines(series, caption=_("Monthly income of member families and "
                                                  "their comparison families, by round "
                                                  "(mean with 95-percent interval)"),
                                headers=[_("Round"), *[s["label"] for s in series]],
                                decimals=0)


@login_required
@require_GET
def impact(request):
    user = request.user
    if not _asked(request):
        return index(request)  # the chooser: what to analyse
    subject = _subject(request)
    rounds = selectors.income_rounds(user, subject.region_code)
    baseline, followup = _rounds_chosen(request, rounds)
    context = {"subject": subject, "rounds": rounds, "baseline": baseline,
               "followup": followup, "query": subject.query(),
               "enough_rounds": len(rounds) >= 2}
    if _in_order(request, baseline, followup):
        th = analysis.Thresholds.from_settings()
        data = selectors.impact_data(rounds, subject, baseline, followup)
        result = analysis.analyse(data.panel, th)
        points = selectors.series(data, result)
        if result.members_total < selectors.MIN_CELL:  # a handful of families: no figures
            result.naive_before_after = result.naive_member_gap = None
            if result.main is not None:
                result.main.balance = []
        context.update({
            "result": result, "th": th, "data": data,
            "verdict": verdicts.VERDICT_LABELS[result.verdict],
            "sentence": verdicts.sentence(result),
            "reasons": verdicts.reason_texts(result, th),
            "naive": verdicts.naive_text(result),
            "caveats": verdicts.caveats(result, th, has_pre=data.pre is not None,
                                       flagged=data.flagged),
            "chart": _impact_chart(points),
            "balance_chart": charts.balance_dots(
                [{"label": str(verdicts.COVARIATE_LABELS[b["covariate"]]),
                  "before": b["before"], "after": b["after"]}
                 for b in (result.main.balance if result.main else [])],
                caption=_("Standardised mean difference of each covariate, before and after "
                          "matching"), target=th.target_smd,
                headers=[_("Covariate"), _("Before"), _("After")]),
            "balance": [{**b, "label": verdicts.COVARIATE_LABELS[b["covariate"]]}
                        for b in (result.main.balance if result.main else [])],
            "cohorts": [(c, e, rounds_label(data, c)) for c, e in result.cohorts],
            "rp": verdicts.rupiah,
            "can_export": access.user_can(user, "person.export"),
        })
    return render(request, "monitoring/impact.html", context)


def rounds_label(data, cohort: int) -> str:
    between = [r for r in data.rounds if data.baseline.ends_on < r.ends_on
               <= data.followup.ends_on]
    if 1 <= cohort <= len(between):
        return _("joined before %(round)s") % {"round": between[cohort - 1].name}
    return str(cohort)


@login_required
@require_GET
@time_limit("EXPORT_TIME_LIMIT")
def impact_inputs(request):
    """The analysis's inputs, a row per family: for checking it elsewhere.
    The head's name only for who may export personal data; audited."""
    user = request.user
    access.check_capability(user, "person.export")
    subject = _subject(request)
    rounds = selectors.income_rounds(user, subject.region_code)
    baseline, followup = _rounds_chosen(request, rounds)
    if not _in_order(request, baseline, followup):
        messages.error(request, _("Choose a baseline and a later follow-up round."))
        return redirect(reverse("monitoring:impact") + "?" + request.GET.urlencode())
    data = selectors.impact_data(rounds, subject, baseline, followup)
    result = analysis.analyse(data.panel)
    p = data.panel
    matched = {}
    if result.main is not None and result.main.sample:
        s = result.main.sample
        matched = dict(zip(s["family"].tolist(), s["weight"].tolist(), strict=True))
    ids, kk = p.family.tolist(), {}
    for start in range(0, len(ids), 5000):
        kk.update(Household.objects.filter(pk__in=ids[start:start + 5000])
                  .values_list("pk", "kk_number"))
    headers = ["No KK", "Kode desa", "Anggota (bergabung antara putaran)", "Kohor",
               f"Pendapatan {baseline.name}", f"Pendapatan {followup.name}",
               "Pendapatan putaran sebelumnya", "Desil", "Jumlah anggota keluarga",
               "Kepala keluarga perempuan", "Dipakai (bobot)"]
    rows = []
    for i, fam in enumerate(p.family.tolist()):
        rows.append([kk.get(fam, ""), p.village[i], int(p.treated[i]), int(p.cohort[i]),
                     p.y0[i], p.y1[i], None if p.ypre is None or p.ypre[i] != p.ypre[i]
                     else p.ypre[i], None if p.desil[i] != p.desil[i] else int(p.desil[i]),
                     int(p.family_size[i]), int(p.female_head[i]), matched.get(fam, 0)])
    services.inputs_exported(actor=user, subject=subject, rows=len(rows))
    return xlsx_response("dampak-input.xlsx", headers, rows, text_columns={0, 1})


@login_required
@require_GET
def panel(request):
    """Median and mean income per round: of a group's, a kind's or a
    program's member families, or of every recorded family of a region."""
    user = request.user
    g = request.GET
    if _asked(request):
        subject = _subject(request)
        points = selectors.panel_of(user, subject)
        title = subject.label
    else:
        subject = None
        code = (g.get("region") or access.scope_root(user) or "").strip()
        if not code:
            raise NotInScope(_("Choose a region."))
        code = selectors.narrowed_region(user, code)
        points = selectors.region_panel(user, code)
        title = access.access_region(user, code).name
    chart = charts.trend_line(
        [{"period": _short(p.round), "value": p.median} for p in points],
        caption=_("Median monthly family income by round (Rp)"),
        headers=[_("Round"), _("Median"), "", ""], decimals=0) if points else None
    return render(request, "monitoring/panel.html", {
        "points": points, "title": title, "subject": subject, "chart": chart,
        "min_cell": selectors.MIN_CELL, "rp": verdicts.rupiah})


@login_required
@require_GET
def business(request):
    user = request.user
    if not _asked(request):
        return index(request)
    subject = _subject(request)
    progress = selectors.business_progress(user, subject)
    totals = selectors.kind_totals(progress)
    chart = charts.trend_line(
        [{"period": _short(t["round"]), "value": t["profit"]} for t in totals],
        caption=_("Median monthly profit of the groups by round (Rp)"),
        headers=[_("Round"), _("Median profit"), "", ""], decimals=0) if totals else None
    order = [t["round"].pk for t in totals]
    for p in progress:
        by_round = {r.round_id: r.profit for r in p.records}
        p.cells = [by_round.get(pk) for pk in order]
    return render(request, "monitoring/business.html", {
        "subject": subject, "progress": progress, "totals": totals, "chart": chart,
        "moved": [p for p in progress if p.moves]})
