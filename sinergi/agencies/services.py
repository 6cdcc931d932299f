"""Writes to agencies: create, update, seed the default set."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sinergi.core import access
from sinergi.core.audit import audit_record, changed_fields, snapshot
from sinergi.core.errors import SinergiError
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
        if field in {"name", "short_name"}:
            value = " ".join(str(value or "").split())
            if not value:
                raise SinergiError(_("This field cannot be empty."), field=field)
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


def _save(agency: Agency, field: str = "short_name") -> None:
    try:
        with transaction.atomic():
            agency.save()
    except IntegrityError:
        raise SinergiError(
            _("An agency with short name '%(short)s' already exists in %(code)s; "
              "choose another short name.")
            % {"short": agency.short_name, "code": agency.region_id},
            field=field,
        ) from None


@transaction.atomic
def agency_create(*, actor, region_code: str, name: str, short_name: str, sector: str) -> Agency:
    """Create an agency of the government of ``region_code``."""
    problem = codes.region_code_problem(region_code, levels=(1, 2))
    if problem:
        raise SinergiError(problem, field="region")
    region = access.access_region(actor, region_code) if actor is not None else (
        Region.objects.get(code=region_code)
    )
    if actor is not None:
        access.check_agency_write(actor, region.code)
    data = _clean({"name": name, "short_name": short_name, "sector": sector})
    agency = Agency(region=region, level=agency_level_for(region), **data)
    _save(agency)
    audit_record(actor=actor, action="agency.create", obj=agency, after=snapshot(agency))
    return agency


@transaction.atomic
def agency_update(*, actor, agency: Agency, data: dict) -> Agency:
    """Change the editable fields of an agency the actor may write."""
    access.check_agency_write(actor, agency.region_id)
    before = snapshot(agency)
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
    region = Region.objects.get(code=region_code)
    if actor is not None:
        access.access_region(actor, region_code)
        access.check_agency_write(actor, region_code)
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
            object_repr=f"{len(created)} agencies of {region.code} {region.name}",
            region_code=region.code,
            after={"created": [a.short_name for a in created]},
        )
    return created
