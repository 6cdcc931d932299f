"""The one access layer: what a user may see and change.

Every page, API endpoint and command fetches objects through these helpers.
An object outside the user's scope raises ``NotInScope`` (a 404), never its
content and never a 403 that would confirm it exists; an object the user
may see but not change answers 403 (``AccessDenied``).

Scope: ``user.region`` is the root of the subtree the user works in (None
for an unscoped administrator). Regions *above* the root are visible too,
by name only, so a village operator can see the kabupaten and province
their village belongs to and those governments' agencies.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from sinergi.agencies.models import Agency
from sinergi.core.errors import AccessDenied, NotInScope, SinergiError
from sinergi.core.values import text
from sinergi.regions import codes
from sinergi.regions.models import Region

from . import roles


def user_can(user, capability: str) -> bool:
    """Whether ``user``'s role grants ``capability`` (see roles.CAPABILITIES)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return capability in roles.CAPABILITIES.get(user.role, set())


def scope_root(user) -> str | None:
    """The code at the root of the user's subtree; None means everything."""
    if not getattr(user, "is_authenticated", False):
        raise NotInScope
    return user.region_id


def in_scope(user, code: str | None) -> bool:
    """Whether a region code lies inside the user's subtree."""
    root = scope_root(user)
    return root is None or (code is not None and codes.code_in_subtree(code, root))


def scope_q(user, field: str) -> Q:
    """Filter for rows whose ``field`` (a region code) is in the user's subtree."""
    root = scope_root(user)
    return Q() if root is None else codes.subtree_q(field, root)


def village_scope_q(user, field: str) -> Q:
    """``scope_q`` for a field that always holds a village code (persons,
    families, groups, enrollments): one index range, no ``OR field = root``,
    so a list ordered by (village_code, id) reads the index in order and
    stops at its page instead of sorting the whole subtree."""
    root = scope_root(user)
    return Q() if root is None else codes.village_in_q(field, root)


def visible_region_q(user, field: str = "code") -> Q:
    """The user's subtree plus the regions above its root."""
    root = scope_root(user)
    if root is None:
        return Q()
    return codes.subtree_q(field, root) | Q(**{f"{field}__in": codes.code_ancestors(root)})


def code_visible(user, code: str) -> bool:
    """Whether a well-formed code is one the user may see (subtree or above it).

    Decided on the code alone, before asking the database whether such a
    region exists: answering "does not exist" for a code outside the scope
    would tell an outsider which codes exist there.
    """
    root = scope_root(user)
    return root is None or codes.code_in_subtree(code, root) or code in codes.code_ancestors(root)


def regions_visible(user) -> QuerySet[Region]:
    return Region.objects.filter(visible_region_q(user))


def access_region(user, code: str) -> Region:
    """The region ``code`` if the user may see it, else 404."""
    try:
        return regions_visible(user).get(code=code)
    except Region.DoesNotExist:
        raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                      % {"code": code}) from None


def region_filter(user, code: str, field: str = "region") -> Region:
    """A region typed as a list filter: a well-formed code (else a
    SinergiError naming ``field``) of a region the user may see (else
    NotInScope)."""
    problem = codes.code_problem(code)
    if problem:
        raise SinergiError(problem, field=field)
    return access_region(user, code)


def region_or_root(user, value, *, missing: str, field: str = "region") -> str:
    """The well-formed region code typed in ``value`` or, left empty, the
    user's root; ``missing`` says what to do when neither is there (an
    unscoped administrator who typed nothing)."""
    code = str(value or "").strip() or scope_root(user) or ""
    if not code:
        raise SinergiError(missing, field=field)
    problem = codes.code_problem(code)
    if problem:
        raise SinergiError(problem, field=field)
    return code


def access_subtree(user, code: str) -> Region:
    """The region ``code`` if it lies in the user's own subtree, else 404:
    for what gathers everything below a region (a rakor brief), where a
    region above the root would show what the user may not see."""
    if not in_scope(user, code):
        raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                         % {"code": code})
    return access_region(user, code)


def agencies_visible(user) -> QuerySet[Agency]:
    """Agencies of governments in the user's subtree or above its root."""
    return Agency.objects.filter(visible_region_q(user, "region__code"))


def access_agency(user, pk: int, *, for_write: bool = False) -> Agency:
    """The agency ``pk`` if visible; with ``for_write``, only if changeable.

    Changing an agency needs the ``agency.edit`` capability and the agency's
    government inside the user's own subtree (a kabupaten coordinator may
    not edit the province's agencies, though they can see them).
    """
    try:
        agency = agencies_visible(user).select_related("region").get(pk=pk)
    except (Agency.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Agency not found in your scope.")) from None
    if for_write:
        check_agency_write(user, agency.region_id)
    return agency


def check_agency_write(user, region_code: str) -> None:
    if not user_can(user, "agency.edit") or not in_scope(user, region_code):
        raise AccessDenied(
            _("You may not change the agencies of %(code)s; ask a coordinator of that region.")
            % {"code": region_code}
        )


def check_capability(user, capability: str) -> None:
    if not user_can(user, capability):
        raise AccessDenied(_("Your role does not allow this. Ask your administrator."))


def check_viewer(user, capability: str) -> None:
    """For reading: an anonymous caller finds nothing (404, nothing is said to
    exist); a signed-in one without ``capability`` is refused with the reason."""
    if not getattr(user, "is_authenticated", False):
        raise NotInScope
    check_capability(user, capability)


def audit_visible_q(user) -> Q:
    """Audit rows an administrator may read: those of objects in scope."""
    root = scope_root(user)
    return Q() if root is None else codes.subtree_q("region_code", root)


# --- values chosen in forms, the API and files ---------------------------------


def region_field(actor, value, field: str) -> Region:
    """A loaded, current region the actor may see (subtree or above); outside
    the scope is "not found", whether it exists or not, as everywhere."""
    code = text(value, field, 13, required=True)
    problem = codes.code_problem(code)
    if problem:
        raise SinergiError(problem, field=field)
    if actor is not None and not code_visible(actor, code):
        raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                      % {"code": code})
    problem = codes.region_code_problem(code)
    if problem:
        raise SinergiError(problem, field=field)
    return Region.objects.get(code=code)


def agency_field(actor, value, field: str) -> Agency:
    """An agency the actor may see, by id (or the agency itself)."""
    if isinstance(value, Agency):
        value = value.pk
    try:
        return access_agency(actor, int(value)) if actor is not None else \
            Agency.objects.get(pk=int(value))
    except (NotInScope, Agency.DoesNotExist, TypeError, ValueError):
        raise SinergiError(_("Agency '%(v)s' is not one you can choose; pick an agency from "
                             "the list.") % {"v": value}, field=field) from None


def agency_choices(user, *, blank: bool = True) -> list[tuple[str, str]]:
    """Active agencies the user can see, for a select (a province has ~150)."""
    # Plain values, not model objects: a province's list is built on every
    # form and filter page.
    agencies = (agencies_visible(user).filter(is_active=True)
                .order_by("region_id", "short_name")
                .values_list("pk", "short_name", "region__name"))
    choices = [(str(pk), f"{short} · {region}") for pk, short, region in agencies]
    return [("", "—"), *choices] if blank else choices
