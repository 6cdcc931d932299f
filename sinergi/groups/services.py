"""Writes to groups: create and change, members, level history, market partners."""

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access, roles
from sinergi.agencies.models import Agency
from sinergi.core import changes as data_changes
from sinergi.core import values
from sinergi.core.audit import audit_record, changed_fields, snapshot
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.core.values import UNSET
from sinergi.registry import codes as registry_codes
from sinergi.registry.models import Person

from . import selectors
from .models import (
    PARTNER_KIND_CHOICES,
    ROLE_CHOICES,
    Group,
    GroupKind,
    GroupLevel,
    GroupMember,
    MarketPartner,
)

GROUP_FIELDS = ("code", "name", "kind", "village_code", "founded_on", "sector", "products",
                "nib", "pirt", "halal", "is_active")


def _check_edit(actor, group: Group) -> None:
    if actor is not None and not selectors.can_edit_group(actor, group):
        raise AccessDenied(_("Only a supervising agency of this group or a coordinator of its "
                             "region may change it."))


def _kind(value) -> GroupKind:
    kind = GroupKind.objects.filter(code=str(value or "").strip().upper()).first()
    if kind is None:
        raise SinergiError(_("Unknown group kind '%(v)s'; choose one of: %(all)s.")
                           % {"v": value, "all": ", ".join(
                               GroupKind.objects.values_list("code", flat=True))},
                           field="kind")
    return kind


def _village(actor, value) -> str:
    region = access.region_field(actor, value, "village_code")
    if region.level != 4:
        raise SinergiError(_("A group belongs to a village (desa/kelurahan): give a "
                             "10-digit village code such as 19.04.01.2001."),
                           field="village_code")
    if actor is not None and not access.in_scope(actor, region.code):
        raise AccessDenied(_("You may only register groups in your own region."))
    return region.code


def _cleaned(actor, *, code: str = UNSET, name: str = UNSET, kind: str = UNSET,
             village_code: str = UNSET, founded_on: datetime.date | str | None = UNSET,
             sector: str | None = UNSET, products: str | None = UNSET, nib: str | None = UNSET,
             pirt: str | None = UNSET, halal: str | None = UNSET,
             is_active: bool | None = UNSET) -> dict:
    """The fields given, parsed and checked, in GROUP_FIELDS order (so the
    first problem reported is the first field of the form)."""
    out: dict = {}
    if code is not UNSET:
        out["code"] = values.text(code, "code", 40, required=True).upper()
    if name is not UNSET:
        out["name"] = values.text(name, "name", 200, required=True)
    if kind is not UNSET:
        out["kind"] = _kind(kind)
    if village_code is not UNSET:
        out["village_code"] = _village(actor, village_code)
    if founded_on is not UNSET:
        out["founded_on"] = values.as_date(founded_on, "founded_on")
    texts = {"sector": sector, "products": products, "nib": nib, "pirt": pirt, "halal": halal}
    for field, value in values.given(**texts).items():
        out[field] = values.text(value, field, Group._meta.get_field(field).max_length)
    if is_active is not UNSET:
        out["is_active"] = bool(is_active)
    return out


def _supervisors(actor, agencies) -> list:
    """The chosen agencies, each one the actor may see; an officer's own
    agency always stays among them (an officer cannot hand a group away)."""
    chosen = [access.agency_field(actor, a, "agencies") for a in agencies or ()]
    if actor is not None and actor.role == roles.OFFICER and actor.agency_id not in {
            a.pk for a in chosen}:
        chosen.append(actor.agency)
    return chosen


def _save(group: Group) -> None:
    taken = SinergiError(_("Group code %(c)s is taken; choose another code.")
                         % {"c": group.code}, field="code")
    if Group.objects.filter(code=group.code).exclude(pk=group.pk).exists():
        raise taken
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise taken from None


@transaction.atomic
def group_create(*, actor, code: str, name: str, kind: str, village_code: str,
                 agencies: Iterable[int | str | Agency] = (),
                 founded_on: datetime.date | str | None = None, sector: str = "",
                 products: str = "", nib: str = "", pirt: str = "", halal: str = "",
                 is_active: bool = True) -> Group:
    """Register a group in a village of the actor's region, supervised by
    ``agencies`` (an officer's own agency is always added)."""
    if actor is not None:
        access.check_capability(actor, "program.edit")
    required = {"code": code, "name": name, "kind": kind, "village_code": village_code}
    for field, value in required.items():
        if value in (None, ""):
            raise SinergiError(_("This field is required; fill it in."), field=field)
    group = Group(**_cleaned(actor, **required, founded_on=founded_on, sector=sector,
                             products=products, nib=nib, pirt=pirt, halal=halal,
                             is_active=is_active))
    chosen = _supervisors(actor, agencies)
    _save(group)
    group.agencies.set(chosen)
    data_changes.changed(data_changes.GROUPS, [group.village_code])
    audit_record(actor=actor, action="group.create", obj=group,
                 after={**snapshot(group), "agencies": [a.pk for a in chosen]})
    return group


@transaction.atomic
def group_update(*, actor, group: Group, code: str = UNSET, name: str = UNSET,
                 kind: str = UNSET, village_code: str = UNSET,
                 founded_on: datetime.date | str | None = UNSET, sector: str | None = UNSET,
                 products: str | None = UNSET, nib: str | None = UNSET,
                 pirt: str | None = UNSET, halal: str | None = UNSET,
                 is_active: bool | None = UNSET,
                 agencies: Iterable[int | str | Agency] | None = UNSET) -> Group:
    """Change the fields given; ``agencies``, when given, replaces the
    supervising agencies (None or empty: none but an officer's own)."""
    _check_edit(actor, group)
    before = snapshot(group)
    agencies_before = sorted(group.agencies.values_list("pk", flat=True))
    fields = values.given(code=code, name=name, kind=kind, village_code=village_code,
                          founded_on=founded_on, sector=sector, products=products, nib=nib,
                          pirt=pirt, halal=halal, is_active=is_active)
    for field, value in _cleaned(actor, **fields).items():
        setattr(group, field, value)
    _save(group)
    if agencies is not UNSET:
        group.agencies.set(_supervisors(actor, agencies))
    old, new = changed_fields(before, snapshot(group))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    agencies_after = sorted(group.agencies.values_list("pk", flat=True))
    if agencies_after != agencies_before:
        old["agencies"], new["agencies"] = agencies_before, agencies_after
    if new:
        audit_record(actor=actor, action="group.update", obj=group, before=old, after=new)
        data_changes.changed(data_changes.GROUPS,
                             [group.village_code, old.get("village_code") or ""])
    return group


@transaction.atomic
def member_add(*, actor, group: Group, nik: str, role: str = "anggota",
               joined_on: datetime.date | str | None = None) -> GroupMember:
    """Add a registry person (by NIK, inside the actor's scope) to the group."""
    _check_edit(actor, group)
    nik = values.text(nik, "nik", 20, required=True).replace(" ", "")
    person = Person.objects.filter(nik=nik)
    if actor is not None:
        person = person.filter(access.village_scope_q(actor, "village_code"))
    person = person.first()
    if person is None:
        raise SinergiError(_("No person with NIK %(nik)s in your region; register the person "
                             "first.") % {"nik": nik}, field="nik")
    if person.life_status != registry_codes.ALIVE:
        raise SinergiError(_("%(name)s is not recorded as living in the registry.")
                           % {"name": person.name}, field="nik")
    if GroupMember.objects.filter(group=group, person=person, left_on__isnull=True).exists():
        raise SinergiError(_("%(name)s is already a member.") % {"name": person.name},
                           field="nik")
    member = GroupMember.objects.create(
        group=group, person=person, role=values.choice(role, "role", ROLE_CHOICES),
        joined_on=values.as_date(joined_on, "joined_on") or timezone.localdate())
    data_changes.changed(data_changes.GROUPS, [group.village_code])
    audit_record(actor=actor, action="group.member_add", obj=group,
                 after={"person": person.pk, "role": member.role,
                        "joined_on": member.joined_on.isoformat()})
    return member


@transaction.atomic
def member_leave(*, actor, group: Group, member_id: int,
                 left_on: datetime.date | str | None = None) -> GroupMember:
    """End a current membership (today, unless ``left_on``); the row stays as history."""
    _check_edit(actor, group)
    member = GroupMember.objects.filter(group=group, pk=member_id, left_on__isnull=True).first()
    if member is None:
        raise SinergiError(_("That person is not a current member of this group."),
                           field="member")
    left = values.as_date(left_on, "left_on") or timezone.localdate()
    if member.joined_on and left < member.joined_on:
        raise SinergiError(_("A member cannot leave before joining."), field="left_on")
    member.left_on = left
    member.save(update_fields=["left_on"])
    data_changes.changed(data_changes.GROUPS, [group.village_code])
    audit_record(actor=actor, action="group.member_leave", obj=group,
                 after={"person": member.person_id, "left_on": left.isoformat()})
    return member


@transaction.atomic
def level_set(*, actor, group: Group, level: str, since: datetime.date | str | None = None,
              note: str = "") -> GroupLevel:
    """Record the group's level from a date on; the kind's level names only."""
    _check_edit(actor, group)
    names = list(group.kind.levels or [])
    level = values.text(level, "level", 40, required=True)
    if names and level not in names:
        raise SinergiError(_("Level '%(v)s' is not a level of %(kind)s; choose one of: "
                             "%(all)s.") % {"v": level, "kind": group.kind.name,
                                            "all": ", ".join(names)}, field="level")
    since = values.as_date(since, "since") or timezone.localdate()
    entry = GroupLevel.objects.create(group=group, level=level, since=since,
                                      note=values.text(note, "note", 300),
                                      recorded_by=actor if getattr(actor, "pk", None) else None)
    latest = group.level_history.order_by("-since", "-id").first()
    before = group.level
    group.level = latest.level
    group.save(update_fields=["level", "updated_at"])
    audit_record(actor=actor, action="group.level", obj=group, before={"level": before},
                 after={"level": level, "since": since.isoformat()})
    return entry


@transaction.atomic
def partner_add(*, actor, group: Group, name: str, kind: str, takes: str = "",
                since: datetime.date | str | None = None) -> MarketPartner:
    """Record who buys from the group (a shop, a hotel) and what it takes."""
    _check_edit(actor, group)
    partner = MarketPartner.objects.create(
        group=group, name=values.text(name, "name", 200, required=True),
        kind=values.choice(kind, "kind", PARTNER_KIND_CHOICES),
        takes=values.text(takes, "takes", 300),
        since=values.as_date(since, "since"))
    audit_record(actor=actor, action="group.partner_add", obj=group,
                 after={"partner": partner.name, "kind": partner.kind})
    return partner
