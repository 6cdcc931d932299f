"""Convergence pages: coverage by desil and sex, the unserved ("tepat sasaran")
list, overlap between programs, target against actual, village profile.

Every page works on a region inside the user's subtree (a village operator:
the own village) and a year; the numbers come from convergence.selectors.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sinergi.accounts import access
from sinergi.core.errors import SinergiError
from sinergi.core.exports import xlsx_response
from sinergi.core.timelimit import time_limit
from sinergi.regions import codes as region_codes
from sinergi.registry.codes import POOR_DESIL_MAX

from . import params, selectors, services, terms


def _params(request) -> dict:
    get = request.GET
    return params.resolve(request.user, region=get.get("region") or request.POST.get("region"),
                          year=get.get("year"), program_ids=get.getlist("program"))


def _page(request, template: str, build):
    context = {"error": None}
    try:
        chosen = _params(request)
        context.update(chosen)
        context["all_programs"] = chosen["visible"]
        context["chosen"] = {p.id for p in chosen["programs"] or []}
        context.update(build(chosen))
    except SinergiError as exc:
        context["error"] = exc.message
    context["query"] = request.GET.urlencode()
    return render(request, template, context, status=400 if context["error"] else 200)


@login_required
@require_GET
def coverage(request):
    def build(p):
        data = selectors.coverage(region=p["region"].code, year=p["year"],
                                  programs=p["programs"], today=timezone.localdate())
        poor = [data["all"]["by_desil"][d] for d in range(1, POOR_DESIL_MAX + 1)]
        return {"data": data, "desils": selectors.DESILS, "terms": terms,
                "sexes": [(s, terms.sex_label(s)) for s in selectors.SEXES],
                "poor": {"label": terms.poor_label(),
                         "families": sum(c["total"] for c in poor),
                         "unserved": sum(c["total"] - c["served"] for c in poor)},
                "can_refresh": access.user_can(request.user, "program.edit"),
                "pending": data["source"] == "rollup"
                and services.pending(p["region"].code, p["year"])}
    return _page(request, "convergence/coverage.html", build)


@login_required
@require_POST
def refresh(request):
    """Recompute the coverage rollup of a region the user works in, now."""
    access.check_capability(request.user, "program.edit")
    chosen = params.resolve(request.user, region=request.POST.get("region"),
                            year=request.POST.get("year"))
    code, year = chosen["region"].code, chosen["year"]
    services.coverage_refresh_request(actor=request.user, region_code=code, year=year)
    messages.success(request, _("Coverage will be recomputed in the background; reload "
                                "this page in a while."))
    return redirect(f"/convergence/?region={code}&year={year}")


@login_required
@require_GET
def unserved(request):
    access.check_capability(request.user, "registry.view")

    def build(p):
        page = selectors.unserved(region=p["region"].code, year=p["year"],
                                  programs=p["programs"], today=timezone.localdate(),
                                  cursor=request.GET.get("cursor"))
        return {"page": page, "terms": terms, "poor_label": terms.poor_label(),
                "can_export": access.user_can(request.user, "person.export")}
    return _page(request, "convergence/unserved.html", build)


@login_required
@require_GET
@time_limit("EXPORT_TIME_LIMIT")
def unserved_export(request):
    """The whole unserved list of a region as Excel (personal data: audited)."""
    access.check_capability(request.user, "person.export")
    try:
        p = _params(request)
    except SinergiError as exc:
        return render(request, "convergence/unserved.html", {"error": exc.message}, status=400)
    rows = services.unserved_export(actor=request.user, region_code=p["region"].code,
                                    year=p["year"], programs=p["programs"],
                                    today=timezone.localdate())
    # The page's columns, the village's name beside its code and the address
    # besides; "not served by" says what the page says: the programs a family
    # misses or, without chosen programs, that no program of the year serves
    # it (the list is then desil 1-4 served by none).
    nothing = _("no program (desil 1–4)")
    return xlsx_response(
        f"tepat-sasaran-{p['region'].code}-{p['year']}.xlsx",
        [_("Village code"), _("Village"), _("KK number"), _("Head of family"), _("Address"),
         _("Desil"), str(terms.NOT_SERVED_BY)],
        ((r["village_code"], r["village_name"], r["kk_number"], r["head_name"], r["address"],
          r["desil"], ", ".join(x["code"] for x in r["programs"]) or nothing) for r in rows),
        text_columns={0, 2})


@login_required
@require_GET
def overlap(request):
    def build(p):
        data = selectors.overlap(region=p["region"].code, year=p["year"],
                                 programs=p["programs"])
        rows = [(a, [data["matrix"][a["id"]][b["id"]] for b in data["programs"]])
                for a in data["programs"]]
        return {"data": data, "rows": rows}
    return _page(request, "convergence/overlap.html", build)


@login_required
@require_GET
def targets(request):
    def build(p):
        return {"data": selectors.target_vs_actual(region=p["region"].code, year=p["year"],
                                                   programs=p["programs"])}
    return _page(request, "convergence/targets.html", build)


@login_required
@require_GET
def village(request, code: str):
    access.check_capability(request.user, "program.view")
    if region_codes.code_problem(code) or region_codes.code_level(code) != 4:
        raise Http404(_("Not a village code."))
    access.access_subtree(request.user, code)
    try:
        chosen = params.resolve(request.user, region=code, year=request.GET.get("year"))
    except SinergiError as exc:
        return render(request, "convergence/village.html", {"error": exc.message}, status=400)
    region, year = chosen["region"], chosen["year"]
    data = selectors.village_profile(village=code, year=year, today=timezone.localdate())
    return render(request, "convergence/village.html", {
        "region": region, "year": year, "data": data, "desils": selectors.DESILS,
        "poor_label": terms.poor_label()})
