"""Writes to groups: create and change, members, level history, market partners."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sinergi.accounts import access, roles
from sinergi.core import values
from sinergi.core.audit import audit_record, changed_fields, snapshot
from sinergi.core.errors import AccessDenied, SinergiError
from sinergi.programs import selectors
from sinergi.registry import codes as registry_codes
from sinergi.registry.models import Person

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


def _clean(actor, data: dict) -> dict:
    out: dict = {}
    for field in GROUP_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "code":
            out[field] = values.text(value, field, 40, required=True).upper()
        elif field == "name":
            out[field] = values.text(value, field, 200, required=True)
        elif field == "kind":
            kind = GroupKind.objects.filter(code=str(value or "").strip().upper()).first()
            if kind is None:
                raise SinergiError(_("Unknown group kind '%(v)s'; choose one of: %(all)s.")
                                   % {"v": value, "all": ", ".join(
                                       GroupKind.objects.values_list("code", flat=True))},
                                   field=field)
            out[field] = kind
        elif field == "village_code":
            region = access.region_field(actor, value, field)
            if region.level != 4:
                raise SinergiError(_("A group belongs to a village (desa/kelurahan): give a "
                                     "10-digit village code such as 19.04.01.2001."),
                                   field=field)
            if actor is not None and not access.in_scope(actor, region.code):
                raise AccessDenied(_("You may only register groups in your own region."))
            out[field] = region.code
        elif field == "founded_on":
            out[field] = values.as_date(value, field)
        elif field in {"sector", "products", "nib", "pirt", "halal"}:
            out[field] = values.text(value, field, Group._meta.get_field(field).max_length)
        elif field == "is_active":
            out[field] = bool(value)
    return out


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
def group_create(*, actor, data: dict, agencies=()) -> Group:
    if actor is not None:
        access.check_capability(actor, "program.edit")
    for required in ("code", "name", "kind", "village_code"):
        if data.get(required) in (None, ""):
            raise SinergiError(_("This field is required; fill it in."), field=required)
    group = Group(**_clean(actor, data))
    chosen = [access.agency_field(actor, a, "agencies") for a in agencies]
    if actor is not None and actor.role == roles.OFFICER and actor.agency_id not in {
            a.pk for a in chosen}:
        chosen.append(actor.agency)  # an officer's group is supervised by the own agency
    _save(group)
    group.agencies.set(chosen)
    audit_record(actor=actor, action="group.create", obj=group,
                 after={**snapshot(group), "agencies": [a.pk for a in chosen]})
    return group


@transaction.atomic
def group_update(*, actor, group: Group, data: dict, agencies=None) -> Group:
    _check_edit(actor, group)
    before = snapshot(group)
    agencies_before = sorted(group.agencies.values_list("pk", flat=True))
    for field, value in _clean(actor, data).items():
        setattr(group, field, value)
    _save(group)
    if agencies is not None:
        chosen = [access.agency_field(actor, a, "agencies") for a in agencies]
        if actor is not None and actor.role == roles.OFFICER and actor.agency_id not in {
                a.pk for a in chosen}:
            chosen.append(actor.agency)  # an officer cannot hand the group away
        group.agencies.set(chosen)
    old, new = changed_fields(before, snapshot(group))
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    agencies_after = sorted(group.agencies.values_list("pk", flat=True))
    if agencies_after != agencies_before:
        old["agencies"], new["agencies"] = agencies_before, agencies_after
    if new:
        audit_record(actor=actor, action="group.update", obj=group, before=old, after=new)
    return group


@transaction.atomic
def member_add(*, actor, group: Group, nik: str, role: str = "anggota",
               joined_on=None) -> GroupMember:
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
    audit_record(actor=actor, action="group.member_add", obj=group,
                 after={"person": person.pk, "role": member.role,
                        "joined_on": member.joined_on.isoformat()})
    return member


@transaction.atomic
def member_leave(*, actor, group: Group, member_id: int, left_on=None) -> GroupMember:
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
    audit_record(actor=actor, action="group.member_leave", obj=group,
                 after={"person": member.person_id, "left_on": left.isoformat()})
    return member


@transaction.atomic
def level_set(*, actor, group: Group, level: str, since=None, note: str = "") -> GroupLevel:
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
def partner_add(*, actor, group: Group, data: dict) -> MarketPartner:
    _check_edit(actor, group)
    partner = MarketPartner.objects.create(
        group=group, name=values.text(data.get("name"), "name", 200, required=True),
        kind=values.choice(data.get("kind"), "kind", PARTNER_KIND_CHOICES),
        takes=values.text(data.get("takes"), "takes", 300),
        since=values.as_date(data.get("since"), "since"))
    audit_record(actor=actor, action="group.partner_add", obj=group,
                 after={"partner": partner.name, "kind": partner.kind})
    return partner
