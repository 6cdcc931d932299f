"""Pages of the shell: home per role, region browser and picker, audit log."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from sinergi.accounts import access, roles
from sinergi.accounts.access import user_can
from sinergi.accounts.models import User
from sinergi.agencies.models import Agency
from sinergi.meetings import selectors as meeting_selectors
from sinergi.regions import codes
from sinergi.regions import selectors as region_selectors
from sinergi.regions.models import Region, RegionEdition

from .errors import SinergiError
from .models import AuditLog
from .pagination import clamp_limit

# The home page lists at most this many regions below the scope root.
HOME_CHILDREN_MAX = 100
# Children of a region per page on the region page, unless ?limit= says otherwise.
REGION_CHILDREN_PAGE = 100


def _limit_param(request, *, default: int) -> int:
    """``?limit=`` as a page size within 1..PAGE_SIZE_MAX, or a 400 saying so."""
    raw = request.GET.get("limit", "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0  # clamp_limit says what is allowed
    return clamp_limit(value)


@require_GET
def healthz(request):
    """For load balancers and the demo script: the database answers."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def home(request):
    """The public landing page, or the home of the signed-in user's role."""
    edition = RegionEdition.objects.order_by("-loaded_at").first()
    if not request.user.is_authenticated:
        # Counted when the edition was loaded, not on every visit.
        counts = edition.active_by_level if edition else {}
        return render(request, "core/home_public.html", {"counts": counts})
    user = request.user
    root = access.scope_root(user)
    context = {
        "role": user.role,
        "roles": roles,
        "scope": region_selectors.region_breadcrumbs(root) if root else [],
        "edition": edition,
    }
    if user.role == roles.OFFICER:
        context["agency"] = user.agency
    if user.role in {roles.ADMINISTRATOR, roles.COORDINATOR, roles.LEADER}:
        context["agency_count"] = access.agencies_visible(user).filter(
            access.scope_q(user, "region__code")
        ).count()
        # Provinces are the regions with no parent; both filters use the
        # (parent, code) index. The count is the true one, the list is capped.
        children = Region.objects.filter(parent_id=root, retired_in="")
        context["children_count"] = children.count()
        context["children"] = children.order_by("code")[:HOME_CHILDREN_MAX]
    if user_can(user, "meeting.view"):
        context["upcoming_meetings"] = meeting_selectors.upcoming(user)
        if user.role in {roles.ADMINISTRATOR, roles.COORDINATOR, roles.LEADER}:
            context["overdue"] = meeting_selectors.overdue(user)
        if user.role == roles.OFFICER and user.agency_id:
            context["my_commitments"], _truncated = meeting_selectors.board(user=user,
                                                                              mine=True)
    if user.role == roles.ADMINISTRATOR:
        context["recent_audit"] = list(
            AuditLog.objects.filter(access.audit_visible_q(user)).order_by("-id")[:10]
        )
    return render(request, "core/home.html", context)


@login_required
@require_GET
def region_detail(request, code: str):
    """A region: where it sits, its children, its government's agencies."""
    region = access.access_region(request.user, code)
    try:
        limit = _limit_param(request, default=REGION_CHILDREN_PAGE)
        page = region_selectors.region_list(
            user=request.user,
            parent=region.code,
            cursor=request.GET.get("cursor"),
            limit=limit,
        )
    except SinergiError as exc:
        return render(request, "400.html", {"message": exc.message}, status=400)
    agencies = []
    if region.level <= 2:
        agencies = list(Agency.objects.filter(region=region).order_by("short_name")[:200])
    context = {
        "region": region,
        "limit_param": "" if limit == REGION_CHILDREN_PAGE else f"&limit={limit}",
        "crumbs": region_selectors.region_breadcrumbs(region.code),
        "page": page,
        "agencies": agencies,
        "can_edit_agencies": access.user_can(request.user, "agency.edit")
        and access.in_scope(request.user, region.code),
    }
    if request.htmx:
        return render(request, "core/_region_children.html", context)
    return render(request, "core/region_detail.html", context)


@login_required
@require_GET
def region_picker(request):
    """One level of the region picker: the children of ``parent`` as a select.

    The picker only offers regions in the user's scope; choosing one loads
    the next level with htmx.
    """
    parent = request.GET.get("parent") or None
    user = request.user
    if parent and codes.code_problem(parent):
        return HttpResponse("")
    if parent:
        region = access.access_region(user, parent)
        if region.level >= 4:
            return HttpResponse("")
        options = Region.objects.filter(
            access.scope_q(user, "code"), parent_id=parent, retired_in=""
        ).order_by("code")[:500]
    else:
        root = access.scope_root(user)
        options = (
            Region.objects.filter(level=1, retired_in="").order_by("code")
            if root is None
            else Region.objects.filter(code=root)
        )
    return render(request, "core/_region_picker.html", {"options": options})


@login_required
@require_GET
def region_go(request):
    """Open the deepest region chosen in the picker (works without JavaScript too)."""
    chosen = [c for c in request.GET.getlist("parent") if c]
    if not chosen:
        return redirect("core:home")
    region = access.access_region(request.user, max(chosen, key=len))
    return redirect("core:region", code=region.code)


@login_required
@require_GET
def audit_list(request):
    """The audit log of the administrator's scope, filterable, newest first."""
    access.check_capability(request.user, "audit.view")
    qs = AuditLog.objects.filter(access.audit_visible_q(request.user))
    filters = {
        "action": request.GET.get("action", "").strip(),
        "object_type": request.GET.get("object_type", "").strip(),
        "actor": request.GET.get("actor", "").strip(),
        "region": request.GET.get("region", "").strip(),
    }
    error = None
    if filters["action"]:
        qs = qs.filter(action=filters["action"])
    if filters["object_type"]:
        qs = qs.filter(object_type=filters["object_type"])
    if filters["actor"]:
        # By the account, on the (actor, -id) index; the label is only the
        # name the account had when it acted.
        accounts = User.objects.filter(access.scope_q(request.user, "region__code")).only("id")
        actor = (accounts.filter(username=filters["actor"]).first()
                 or accounts.filter(username__iexact=filters["actor"]).first())
        if actor is None:
            qs = qs.none()
            error = _("No account named '%(u)s' in your scope; check the username.") % {
                "u": filters["actor"]
            }
        else:
            qs = qs.filter(actor_id=actor.id)
    if filters["region"]:
        problem = codes.code_problem(filters["region"])
        if problem:
            error = problem
        else:
            qs = qs.filter(codes.subtree_q("region_code", filters["region"]))
    # Newest first: keyset on -id, expressed as id below the cursor.
    cursor = request.GET.get("before")
    if cursor and cursor.isdigit():
        qs = qs.filter(id__lt=int(cursor))
    rows = list(qs.order_by("-id")[:51])
    more = len(rows) > 50
    rows = rows[:50]
    context = {
        "rows": rows,
        "filters": filters,
        "error": error,
        "next_before": rows[-1].id if more else None,
    }
    return render(request, "core/audit_list.html", context)

