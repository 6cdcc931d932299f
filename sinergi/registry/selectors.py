"""Reads of the registry, always inside the user's region subtree."""

import re

from django.db.models import Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from sinergi.accounts import access
from sinergi.core.errors import NotInScope, SinergiError
from sinergi.core.pagination import Page, keyset_page
from sinergi.regions import codes as region_codes

from . import codes
from .models import ExportJob, Household, KKNumberHistory, Person

DIGITS = re.compile(r"^\d{16}$")


def mask_nik(nik: str | None) -> str:
    """First 6 and last 4 digits: enough to tell people apart, not to misuse."""
    if not nik:
        return ""
    return nik[:6] + "••••••" + nik[-4:] if len(nik) == 16 else "•" * len(nik)


def persons_visible(user) -> QuerySet[Person]:
    access.check_capability(user, "registry.view")
    return Person.objects.filter(access.village_scope_q(user, "village_code"))


def households_visible(user) -> QuerySet[Household]:
    access.check_capability(user, "registry.view")
    return Household.objects.filter(access.village_scope_q(user, "village_code"))


def access_person(user, pk) -> Person:
    try:
        return persons_visible(user).select_related("household").get(pk=pk)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Person not found in your region.")) from None


def access_household(user, pk) -> Household:
    try:
        return households_visible(user).get(pk=pk)
    except (Household.DoesNotExist, ValueError, TypeError):
        raise NotInScope(_("Family not found in your region.")) from None


def person_search(*, user, q: str | None = None, region: str | None = None,
                  cursor: str | None = None, limit: int | None = None) -> Page:
    """Search by NIK (exact 16 digits), KK number (exact, current or past),
    or name (contains), within a region of the user's scope, paginated."""
    return keyset_page(persons_found(user=user, q=q, region=region).select_related("household"),
                       ["village_code", "id"], cursor=cursor, limit=limit)


SEARCH_MAX = 100


def persons_found(*, user, q: str | None = None, region: str | None = None) -> QuerySet[Person]:
    """The persons in the user's scope that the search page finds (its list
    and its export): by NIK (exact 16 digits), KK number (exact, current or
    past) or name (contains), within ``region`` (a code the user may see;
    a region above the scope means the scope), each when given."""
    qs = persons_visible(user)
    if q and len(q.strip()) > SEARCH_MAX:
        raise SinergiError(_("Type at most %(n)d characters to search.") % {"n": SEARCH_MAX},
                           field="q")
    if region:
        access.region_filter(user, region)
        qs = qs.filter(region_codes.village_in_q("village_code", region))
    q = (q or "").strip()
    if q:
        digits = re.sub(r"[\s.'-]", "", q)
        if DIGITS.match(digits):
            households = list(Household.objects.filter(kk_number=digits).values_list(
                "id", flat=True)) + list(KKNumberHistory.objects.filter(
                    kk_number=digits).values_list("household_id", flat=True))
            qs = qs.filter(Q(nik=digits) | Q(household_id__in=households))
        elif digits.isdigit():
            raise SinergiError(_("A NIK or KK number has 16 digits; '%(q)s' has %(n)d.")
                               % {"q": q, "n": len(digits)}, field="q")
        elif len(q) < 3:
            raise SinergiError(_("Type at least 3 letters of the name."), field="q")
        else:
            qs = qs.filter(name__icontains=q)
    return qs


def access_export_job(user, pk) -> ExportJob:
    """A persons export the user asked for; anyone else's is not found (it
    holds full NIKs of the asker's scope)."""
    access.check_capability(user, "person.export")
    job = ExportJob.objects.filter(pk=pk if str(pk).isdigit() else None,
                                   created_by=user).first()
    # Not the user's, or the asker's scope no longer holds its region.
    if job is None or not access.in_scope(user, job.region_code):
        raise NotInScope(_("Export not found in your exports; export again from the registry."))
    return job


FOUND_COUNT_MAX = 1000


def found_count(*, user, q: str | None = None, region: str | None = None) -> tuple[int, bool]:
    """How many persons the search finds, counted up to FOUND_COUNT_MAX (a
    name search over a province is not counted to the end on every page):
    (count, True when there are more)."""
    found = persons_found(user=user, q=q, region=region).order_by()[:FOUND_COUNT_MAX + 1].count()
    return min(found, FOUND_COUNT_MAX), found > FOUND_COUNT_MAX


def head_of(household, field: str) -> Subquery:
    """A field of the head of ``household`` (an OuterRef to a family): its
    alive member with SHDK 1, lowest id (pages, exports and convergence agree)."""
    return Subquery(Person.objects.filter(
        household=household, shdk=codes.SHDK_HEAD, life_status=codes.ALIVE)
        .order_by("id").values(field)[:1])


def household_members(household: Household) -> list[Person]:
    return list(Person.objects.filter(household=household).order_by("shdk", "birth_date",
                                                                      "id")[:100])
