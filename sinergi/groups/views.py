"""Group pages: list in scope, detail with members, levels and partners, forms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sinergi.accounts import access
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.forms import applied, form_page, saved
from sinergi.registry.selectors import mask_nik

from . import forms, selectors
from . import services as group_services
from .models import GroupKind


@login_required
@require_GET
def group_list(request):
    kind = request.GET.get("kind", "")
    region = request.GET.get("region", "").strip()
    error = None
    try:
        page = selectors.group_list(request.user, kind=kind, region=region,
                                    cursor=request.GET.get("cursor"))
    except AccessDenied:
        raise  # a role that may not see groups is refused (403), not shown a filter error
    except SinergiError as exc:
        page, error = None, exc.message
    return render(request, "groups/list.html", {
        "page": page, "kinds": GroupKind.objects.all(), "kind": kind, "region": region,
        "error": error, "query": request.GET.copy(),
        "can_edit": access.user_can(request.user, "program.edit")},
        status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request):
    access.check_capability(request.user, "program.edit")
    form = forms.GroupForm(request.POST or None, user=request.user,
                           initial={"village_code": access.scope_root(request.user) or ""})
    group = saved(request, form, lambda data: group_services.group_create(
        actor=request.user, **data), _("The group has been saved."))
    if group:
        return redirect("groups:detail", group_id=group.pk)
    return form_page(request, "groups/form.html", form, {"group": None})


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request, group_id: int):
    group = selectors.access_group(request.user, group_id, for_write=True)
    initial = {f: getattr(group, f) for f in group_services.GROUP_FIELDS}
    initial.update(kind=group.kind_id, agencies=[str(a.pk) for a in group.agencies.all()])
    form = forms.GroupForm(request.POST or None, user=request.user, initial=initial)
    if saved(request, form, lambda data: group_services.group_update(
            actor=request.user, group=group, **data),
            _("The group has been saved.")):
        return redirect("groups:detail", group_id=group.pk)
    return form_page(request, "groups/form.html", form, {"group": group})


@login_required
@require_GET
def group_detail(request, group_id: int):
    user = request.user
    group = selectors.access_group(user, group_id)
    can_edit = selectors.can_edit_group(user, group)
    context = {
        "group": group, "can_edit": can_edit, "mask": mask_nik,
        "members": group.members.select_related("person").order_by("left_on", "role", "id"),
        "levels": group.level_history.order_by("-since", "-id"),
        "partners": group.partners.all(), "agencies": group.agencies.all(),
        "enrollments": group.enrollments.select_related("program").order_by("-year"),
    }
    if can_edit:
        context.update(member_form=forms.MemberForm(prefix="m"),
                       level_form=forms.LevelForm(prefix="l"),
                       partner_form=forms.PartnerForm(prefix="p"))
    return render(request, "groups/detail.html", context)


def _group_part(request, group_id, form_class, prefix, apply):
    group = selectors.access_group(request.user, group_id, for_write=True)
    applied(request, form_class(request.POST, prefix=prefix),
            lambda data: apply(group, data), _("Saved."))
    return redirect("groups:detail", group_id=group.pk)


@login_required
@require_POST
def group_member_add(request, group_id: int):
    return _group_part(request, group_id, forms.MemberForm, "m", lambda g, d: (
        group_services.member_add(actor=request.user, group=g, **d)))


@login_required
@require_POST
def group_member_leave(request, group_id: int, member_id: int):
    group = selectors.access_group(request.user, group_id, for_write=True)
    try:
        group_services.member_leave(actor=request.user, group=group, member_id=member_id,
                                    left_on=request.POST.get("left_on"))
    except SinergiError as exc:
        messages.error(request, exc.message)
    return redirect("groups:detail", group_id=group.pk)


@login_required
@require_POST
def group_level(request, group_id: int):
    return _group_part(request, group_id, forms.LevelForm, "l", lambda g, d: (
        group_services.level_set(actor=request.user, group=g, **d)))


@login_required
@require_POST
def group_partner_add(request, group_id: int):
    return _group_part(request, group_id, forms.PartnerForm, "p", lambda g, d: (
        group_services.partner_add(actor=request.user, group=g, **d)))
