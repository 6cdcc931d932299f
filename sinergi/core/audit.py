"""Writing audit rows; every service that changes data calls audit_record."""

import datetime
import decimal
import uuid

from django.db import models, transaction
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from .models import AuditLog


def plain(value):
    """``value`` as JSON can hold it (dates as ISO text, models as their key)."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict:
    """The audited state of ``obj``: concrete field values, JSON-safe.

    Foreign keys are recorded by their id; fields named in
    ``AUDIT_EXCLUDE`` on the model (password hashes) are never recorded.
    """
    exclude = set(getattr(obj, "AUDIT_EXCLUDE", ()))
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or (fields is not None and field.name not in fields):
            continue
        data[field.attname] = plain(getattr(obj, field.attname))
    return data


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str = "",
    object_repr: str = "",
    region_code: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditLog:
    """Record one change. Must run inside the transaction that made it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the writing transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        region_code = region_code or getattr(obj, "audit_region_code", "") or ""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditLog.objects.create(
        actor=actor if is_user else None,
        actor_label=actor.get_username() if is_user else "system",
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        object_repr=object_repr,
        region_code=region_code,
        before=before,
        after=after,
    )


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose value differs, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def audit_changes(actor, action: str, obj: models.Model, before: dict,
                  after: dict | None = None, *, extra: dict | None = None) -> AuditLog | None:
    """Audit what changed on ``obj`` since the snapshot ``before``.

    ``after`` defaults to ``snapshot(obj)``; only the fields whose value
    differs are recorded, never ``updated_at``. ``extra`` is added to the
    recorded "after" (what the change was about) and makes a row even when
    no field changed; with nothing changed and no ``extra``, nothing is
    recorded and None is returned.
    """
    old, new = changed_fields(before, snapshot(obj) if after is None else after)
    old.pop("updated_at", None)
    new.pop("updated_at", None)
    if extra:
        new.update(extra)
    if not new:
        return None
    return audit_record(actor=actor, action=action, obj=obj, before=old, after=new)


# What each audited action is called on pages (the audit log, the home page);
# the code stays what filters and exports use.
ACTION_LABELS = {
    "agency.create": _("Agency added"),
    "agency.update": _("Agency changed"),
    "agency.seed_defaults": _("Default agencies added"),
    "api_token.create": _("API token created"),
    "api_token.revoke": _("API token revoked"),
    "brief.create": _("Rakor brief requested"),
    "brief.fail": _("Rakor brief failed"),
    "commitment.create": _("Commitment added"),
    "commitment.update": _("Commitment changed"),
    "commitment.export": _("Commitments exported"),
    "commitment.import": _("Commitment list imported"),
    "convergence.refresh": _("Coverage recount requested"),
    "convergence.unserved_export": _("Unserved families exported"),
    "database.restore": _("Database restored from a backup"),
    "enrollment.create": _("Beneficiary enrolled"),
    "enrollment.export": _("Beneficiaries exported"),
    "enrollment.import": _("Beneficiary list imported"),
    "enrollment.status": _("Beneficiary status changed"),
    "group.create": _("Group added"),
    "indicator.create": _("Indicator added to the catalogue"),
    "indicator.update": _("Indicator definition changed"),
    "indicator.value": _("Indicator value entered"),
    "indicator.import": _("Indicator values imported"),
    "indicator.verify": _("Indicator values verified"),
    "indicator.target": _("Indicator target set"),
    "round.create": _("Survey round set up"),
    "round.update": _("Survey round changed"),
    "round.export": _("Survey round records downloaded"),
    "income.record": _("Family income recorded"),
    "income.import": _("Family incomes imported"),
    "business.record": _("Group business recorded"),
    "impact.export": _("Impact analysis inputs downloaded"),
    "group.update": _("Group changed"),
    "group.level": _("Group level recorded"),
    "group.member_add": _("Group member added"),
    "group.member_leave": _("Group member left"),
    "group.partner_add": _("Market partner added"),
    "household.change_kk": _("Family card number changed"),
    "household.split": _("Family split"),
    "import.create": _("Person list uploaded"),
    "import.cancel": _("Import cancelled"),
    "import.fail": _("Import failed"),
    "import.persons": _("Person list imported"),
    "import.report": _("Import report downloaded"),
    "meeting.create": _("Meeting recorded"),
    "meeting.update": _("Meeting changed"),
    "meeting.agenda_add": _("Agenda item added"),
    "meeting.attachment_add": _("Minutes file attached"),
    "meeting.issue_add": _("Issue recorded"),
    "meeting.participant_add": _("Participant added"),
    "person.export": _("Persons exported"),
    "person.move": _("Person moved to another family"),
    "person.reveal_nik": _("Full NIK shown"),
    "person.status": _("Life status changed"),
    "person.update": _("Person changed"),
    "program.create": _("Program added"),
    "program.update": _("Program changed"),
    "program.target_set": _("Program target set"),
    "program.target_remove": _("Program target removed"),
    "regions.load": _("Region edition loaded"),
    "user.create": _("Account created"),
    "user.change_password": _("Own password changed"),
    "user.set_password": _("Password set (command line)"),
    "user.set_password.admin": _("Password set by an administrator"),
}


def action_label(code: str) -> str:
    """The name of an audited action for people; an action without a name of
    its own (one added later, an admin edit) is named after its parts."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    head, _dot, tail = code.rpartition(".")
    if tail == "admin" and head in ACTION_LABELS:
        return gettext_now("%(action)s (in the admin)") % {"action": ACTION_LABELS[head]}
    if code.startswith("person.verivali."):
        return gettext_now("Import review applied (%(kind)s)") % {"kind": tail}
    if code.startswith("meeting.") and code.endswith("_remove"):
        return gettext_now("Meeting entry removed (%(part)s)") % {
            "part": code.removeprefix("meeting.").removesuffix("_remove")}
    return code
