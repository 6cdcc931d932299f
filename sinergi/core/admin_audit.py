"""Django admin writes go through the audit log like every other write."""

from django.db import transaction

from .audit import audit_record, changed_fields, snapshot


def is_autocomplete(request) -> bool:
    """Whether this admin request is the autocomplete lookup of a form field."""
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name == "autocomplete"


def _region_of(obj) -> str:
    return getattr(obj, "audit_region_code", "") or ""


class AuditedAdminMixin:
    """Record create/update/delete made in the admin, with before and after.

    A change that moves an object from one region to another is recorded
    under both: the administrators of the old region see that it left, those
    of the new one that it arrived (an administrator over both sees two rows
    of one change). ``audit_m2m_fields`` names many-to-many fields whose
    changes (saved after the object, in ``save_related``) are audited too.
    """

    audit_m2m_fields: tuple[str, ...] = ()
    # The object's name in action names ("agency" -> "agency.update.admin");
    # set it where the services spell the model differently ("api_token").
    audit_name: str | None = None

    def _action(self, obj, verb: str) -> str:
        return f"{self.audit_name or obj._meta.model_name}.{verb}.admin"

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            old_obj = type(obj).objects.get(pk=obj.pk) if change and obj.pk else None
            before = snapshot(old_obj) if old_obj is not None else {}
            super().save_model(request, obj, form, change)
            old, new = changed_fields(before, snapshot(obj))
            if new or not change:
                action = self._action(obj, "update" if change else "create")
                regions = [_region_of(obj)]
                if old_obj is not None and _region_of(old_obj) not in regions:
                    regions.append(_region_of(old_obj))
                for region_code in regions:
                    audit_record(actor=request.user, action=action, obj=obj,
                                 region_code=region_code, before=old or None, after=new)

    def _m2m_state(self, obj) -> dict:
        if obj.pk is None:
            return {}
        return {
            name: sorted(str(item) for item in getattr(obj, name).all())
            for name in self.audit_m2m_fields
        }

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            before = self._m2m_state(form.instance) if change else {}
            super().save_related(request, form, formsets, change)
            old, new = changed_fields(before, self._m2m_state(form.instance))
            if new and (change or any(new.values())):
                obj = form.instance
                audit_record(actor=request.user,
                             action=self._action(obj, "update_related"),
                             obj=obj, before=old or None, after=new)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(actor=request.user, action=self._action(obj, "delete"), obj=obj,
                         before=snapshot(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
