"""Writing audit rows; every service that changes data calls audit_record."""

import datetime
import decimal
import uuid

from django.db import models, transaction

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
