"""Django admin writes go through the audit log like every other write."""

from django.db import transaction

from .audit import audit_record, changed_fields, snapshot


class AuditedAdminMixin:
    """Record create/update/delete made in the admin, with before and after."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
            super().save_model(request, obj, form, change)
            old, new = changed_fields(before, snapshot(obj))
            if new or not change:
                action = f"{obj._meta.model_name}.{'update' if change else 'create'}.admin"
                audit_record(actor=request.user, action=action, obj=obj,
                             before=old or None, after=new)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(actor=request.user, action=f"{obj._meta.model_name}.delete.admin",
                         obj=obj, before=snapshot(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
