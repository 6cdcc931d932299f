"""Reads of the accounts app: the audit log an administrator may read."""

from django.utils.translation import gettext as _

from sinergi.core.models import AuditLog
from sinergi.regions import codes

from . import access
from .models import User

AUDIT_PAGE = 50


def audit_entries(*, user, action: str = "", object_type: str = "", actor: str = "",
                  region: str = "", before: str | None = None) -> tuple[list, int | None,
                                                                         str | None]:
    """One page of the audit log of ``user``'s scope, newest first, filtered.

    Returns (rows, the id to page on, or None at the end, a message about a
    filter that cannot match, or None). Keyset on -id: the next page is the
    rows below the last id.
    """
    access.check_capability(user, "audit.view")
    qs = AuditLog.objects.filter(access.audit_visible_q(user))
    error = None
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if actor:
        # By the account, on the (actor, -id) index; the label is only the
        # name the account had when it acted.
        accounts = User.objects.filter(access.scope_q(user, "region__code")).only("id")
        found = (accounts.filter(username=actor).first()
                 or accounts.filter(username__iexact=actor).first())
        if found is None:
            qs = qs.none()
            error = _("No account named '%(u)s' in your scope; check the username.") % {
                "u": actor}
        else:
            qs = qs.filter(actor_id=found.id)
    if region:
        problem = codes.code_problem(region)
        if problem:
            error = problem
        else:
            qs = qs.filter(codes.subtree_q("region_code", region))
    if before and before.isdigit():
        qs = qs.filter(id__lt=int(before))
    rows = list(qs.order_by("-id")[:AUDIT_PAGE + 1])
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    return rows, rows[-1].id if more else None, error
