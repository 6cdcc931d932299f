"""Writes to agencies: create, update, seed the default set."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sinergi.accounts import access
from sinergi.core.audit import audit_record, changed_fields, snapshot
from sinergi.core.errors import NotInScope, SinergiError
from sinergi.core.values import UNSET, given
from sinergi.regions import codes
from sinergi.regions.models import Region

from .defaults import DEFAULT_AGENCIES
from .models import KABUPATEN, KOTA, PROVINCE, SECTOR_CHOICES, Agency

EDITABLE_FIELDS = ("name", "short_name", "sector", "is_active")
_SECTORS = {key for key, _label in SECTOR_CHOICES}


def agency_level_for(region: Region) -> str:
    """An agency's level follows from its government's region kind."""
    if region.kind == codes.PROVINSI:
        return PROVINCE
    if region.kind == codes.KABUPATEN:
        return KABUPATEN
    if region.kind == codes.KOTA:
        return KOTA
    raise SinergiError(
        _("Agencies belong to a province or a kabupaten/kota, not to %(code)s %(name)s "
          "(kind: %(kind)s). Choose the government's region code, e.g. 19.04.")
        % {"code": region.code, "name": region.name, "kind": region.get_kind_display()},
        field="region",
    )


def _clean(data: dict) -> dict:
    cleaned = {}
    for field in EDITABLE_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "is_active":
            if not isinstance(value, bool):
                raise SinergiError(
                    _("Active must be true or false; leave it out to keep the current value."),
                    field=field,
                )
            cleaned[field] = value
            continue
        if value is None:
            # A PATCH with null: the field would be emptied, never allowed.
            raise SinergiError(
                _("This field cannot be empty; give a value, or leave it out to keep the "
                  "current one."),
                field=field,
            )
        if field in {"name", "short_name"}:
            value = " ".join(str(value).split())
            if not value:
                raise SinergiError(
                    _("This field cannot be empty; give a value, or leave it out to keep the "
                      "current one."),
                    field=field,
                )
            limit = Agency._meta.get_field(field).max_length
            if len(value) > limit:
                raise SinergiError(
                    _("At most %(n)d characters, please shorten it.") % {"n": limit},
                    field=field,
                )
        if field == "sector" and value not in _SECTORS:
            raise SinergiError(
                _("Unknown sector '%(value)s'; choose one of: %(choices)s.")
                % {"value": value, "choices": ", ".join(sorted(_SECTORS))},
                field="sector",
            )
        cleaned[field] = value
    return cleaned


def _duplicate_short_name(agency: Agency) -> bool:
    return (
        Agency.objects.filter(region_id=agency.region_id, short_name=agency.short_name)
        .exclude(pk=agency.pk)
        .exists()
    )


def _save(agency: Agency) -> None:
    """Save, reporting a taken short name as a field error.

    Only the (region, short name) uniqueness is the user's to fix; any other
    integrity error is a bug and is raised as it is.
    """
    duplicate_error = SinergiError(
        _("An agency with short name '%(short)s' already exists in %(code)s; "
          "choose another short name.")
        % {"short": agency.short_name, "code": agency.region_id},
        field="short_name",
    )
    if _duplicate_short_name(agency):
        raise duplicate_error
    try:
        with transaction.atomic():
            agency.save()
    except IntegrityError:
        # Someone took the short name between the check and the save.
        if _duplicate_short_name(agency):
            raise duplicate_error from None
        raise


def _government_region(actor, region_code: str) -> Region:
    """The region whose government gets agencies, checked in the access order.

    Format first (400), then scope on the code alone (404: an outsider learns
    nothing about which codes exist), then existence, level and retirement
    (400), then the right to write there (403).
    """
    problem = codes.code_problem(region_code)
    if problem:
        raise SinergiError(problem, field="region")
    if actor is not None and not access.code_visible(actor, region_code):
        raise NotInScope(_("Region %(code)s is not in your scope or does not exist.")
                      % {"code": region_code})
    problem = codes.region_code_problem(region_code, levels=(1, 2))
    if problem:
        raise SinergiError(problem, field="region")
    region = Region.objects.get(code=region_code)
    if actor is not None:
        access.check_agency_write(actor, region.code)
    return region


@transaction.atomic
def agency_create(*, actor, region_code: str, name: str, short_name: str, sector: str) -> Agency:
    """Create an agency of the government of ``region_code``."""
    region = _government_region(actor, region_code)
    data = _clean({"name": name, "short_name": short_name, "sector": sector})
    agency = Agency(region=region, level=agency_level_for(region), **data)
    _save(agency)
    audit_record(actor=actor, action="agency.create", obj=agency, after=snapshot(agency))
    return agency


@transaction.atomic
def agency_update(*, actor, agency: Agency, name: str | None = UNSET,
                  short_name: str | None = UNSET, sector: str | None = UNSET,
                  is_active: bool | None = UNSET) -> Agency:
    """Change the editable fields of an agency the actor may write: only
    those given (None for a required field is refused with its reason)."""
    access.check_agency_write(actor, agency.region_id)
    before = snapshot(agency)
    data = given(name=name, short_name=short_name, sector=sector, is_active=is_active)
    for field, value in _clean(data).items():
        setattr(agency, field, value)
    _save(agency)
    old, new = changed_fields(before, snapshot(agency))
    new.pop("updated_at", None)
    old.pop("updated_at", None)
    if new:
        audit_record(actor=actor, action="agency.update", obj=agency, before=old, after=new)
    return agency


@transaction.atomic
def agency_seed_defaults(*, actor, region_code: str) -> list[Agency]:
    """Create the default agency set for a government, skipping existing ones.

    Idempotent: an agency whose short name already exists in the region is
    left as it is (it may have been renamed on purpose).
    """
    region = _government_region(actor, region_code)
    level = agency_level_for(region)
    existing = set(Agency.objects.filter(region=region).values_list("short_name", flat=True))
    created = []
    for short_name, name, sector in DEFAULT_AGENCIES:
        if short_name in existing:
            continue
        agency = Agency.objects.create(
            region=region, level=level, name=name, short_name=short_name, sector=sector
        )
        created.append(agency)
    if created:
        audit_record(
            actor=actor,
            action="agency.seed_defaults",
            object_type="agencies.agency",
            object_repr=ngettext(
                "%(n)d agency of %(code)s %(name)s", "%(n)d agencies of %(code)s %(name)s",
                len(created),
            ) % {"n": len(created), "code": region.code, "name": region.name},
            region_code=region.code,
            after={"created": [a.short_name for a in created]},
        )
    return created
