"""Sign-in (throttled), sign-out, password change, API tokens page."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sinergi.accounts import access
from sinergi.core.audit import ACTION_LABELS
from sinergi.core.errors import SinergiError

from . import selectors, services
from .forms import ThrottledAuthenticationForm, ThrottledPasswordChangeForm
from .models import ApiToken
from .throttle import LOCKED_ATTR


class LoginView(auth_views.LoginView):
    """Django's sign-in; throttled in the backend, answered here with 429 when locked."""

    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        locked = bool(getattr(self.request, LOCKED_ATTR, 0))
        return self.render_to_response(self.get_context_data(form=form),
                                       status=429 if locked else 200)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the own password: the current one is checked with sign-in
    throttling (429 while locked), the new one is set by the service, which
    revokes the user's API tokens; the page says how many."""

    template_name = "accounts/password_change.html"
    form_class = ThrottledPasswordChangeForm
    success_url = "/"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        try:
            revoked = services.user_set_password(
                actor=self.request.user, user=form.user,
                password=form.cleaned_data["new_password1"], action="user.change_password")
        except SinergiError as exc:
            form.add_error("new_password2", exc.message)
            return self.form_invalid(form)
        # This session stays signed in; the user's other sessions end.
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("Your password has been changed."))
        if revoked:
            messages.warning(self.request, ngettext(
                "%(n)d API token made before the change was revoked; make a new one on the "
                "API tokens page for the script that used it.",
                "%(n)d API tokens made before the change were revoked; make new ones on the "
                "API tokens page for the scripts that used them.", revoked) % {"n": revoked})
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        locked = bool(getattr(self.request, LOCKED_ATTR, 0))
        return self.render_to_response(self.get_context_data(form=form),
                                       status=429 if locked else 200)


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    """The user's own API tokens: create (shown once) and list."""
    access.check_capability(request.user, "token.own")
    created_token = None
    error = None
    if request.method == "POST":
        try:
            _row, created_token = services.api_token_create(
                actor=request.user, user=request.user, name=request.POST.get("name", "")
            )
        except SinergiError as exc:
            error = exc.message
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")[:100]
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": tokens, "created_token": created_token, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    row = ApiToken.objects.filter(user=request.user, pk=token_id).first()
    if row is None:
        raise Http404
    services.api_token_revoke(actor=request.user, token=row)
    messages.success(request, _("Token '%(name)s' has been revoked.") % {"name": row.name})
    return redirect("accounts:tokens")


@login_required
@require_GET
def audit_list(request):
    """The audit log of the administrator's scope, filterable, newest first."""
    filters = {key: request.GET.get(key, "").strip()
               for key in ("action", "object_type", "actor", "region")}
    rows, next_before, error = selectors.audit_entries(
        user=request.user, before=request.GET.get("before"), **filters)
    return render(request, "accounts/audit_list.html", {
        "rows": rows, "filters": filters, "error": error, "next_before": next_before,
        "actions": sorted(((code, str(label)) for code, label in ACTION_LABELS.items()),
                          key=lambda pair: pair[1])})
