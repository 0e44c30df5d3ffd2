"""Django admin for administrators. Personal data here is scoped, masked and audited too:
the person admin is read-only, shows only masked values, and records every view."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from xinqiao.core import audit
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, AuditEvent, Organisation, Person, Region, User
from xinqiao.core.request_context import current_request_info


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    """Division codes are loaded from the shipped data file; read-only here."""

    list_display = ("code", "name", "level", "kind", "parent")
    list_filter = ("level", "kind")
    search_fields = ("code", "name", "pinyin", "initials")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    """Organisations of the network."""

    list_display = ("name", "org_type", "region", "parent", "phone", "is_active")
    list_filter = ("org_type", "is_active")
    search_fields = ("name", "region__name", "region__code")
    autocomplete_fields = ("region", "parent")
    list_select_related = ("region", "parent")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Accounts with their organisation, region and roles (groups).

    A non-superuser administrator manages only accounts inside their own region, may grant
    roles (groups) but never superuser status or individual permissions, and cannot change their
    own roles. Every change is written to the audit chain.
    """

    list_display = ("username", "display_name", "organisation", "region", "is_active", "last_login")
    list_select_related = ("organisation", "region")
    autocomplete_fields = ("organisation", "region")
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("Placement"), {"fields": ("display_name", "organisation", "region")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request)
        user: Any = request.user
        if user.is_superuser:
            return qs
        if user.region_id is None:
            return qs.none()
        return qs.filter(region__code__startswith=user.region_id, is_superuser=False)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions", "last_login", "date_joined"]
            if obj is not None and obj.pk == request.user.pk:
                fields += ["groups", "is_staff", "is_active", "region"]
        return fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(AuditAction.CHANGE if change else AuditAction.CREATE, obj=obj,
                     region_code=obj.region_id or "", detail={"via": "admin", "fields": sorted(form.changed_data)})

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if "groups" in form.changed_data:
            audit.record(AuditAction.CHANGE, obj=form.instance, region_code=form.instance.region_id or "",
                         detail={"via": "admin", "roles": sorted(g.name for g in form.instance.groups.all())})


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    """Base for personal data in the admin: ``restrict`` scoping, no edits here."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model._default_manager.restrict(request.user).select_related("region")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _masked(field: str, label: Any) -> Any:
    def show(self: Any, obj: Person) -> Any:
        return present(current_request_info().user, obj).get(field, "—")

    show.short_description = label  # type: ignore[attr-defined]
    return show


@admin.register(Person)
class PersonAdmin(ScopedReadOnlyAdmin):
    """Persons, masked per the administrator's role; opening one is audited as a view."""

    list_display = ("id", "masked_name", "id_type", "masked_id_number", "township_code", "created_at")
    fields = ("id", "masked_name", "id_type", "masked_id_number", "masked_sex", "masked_birth_date", "masked_phone",
              "masked_address", "region", "created_at")
    readonly_fields = fields
    list_filter = ("id_type",)
    show_full_result_count = False

    masked_name = _masked("name", _("name"))
    masked_sex = _masked("sex", _("sex"))
    masked_id_number = _masked("id_number", _("ID number"))
    masked_birth_date = _masked("birth_date", _("date of birth"))
    masked_phone = _masked("phone", _("phone"))
    masked_address = _masked("address", _("address"))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        rows = getattr(getattr(response, "context_data", None) or {}, "get", lambda k: None)("cl")
        if rows is not None:
            audit.record_many(AuditAction.LIST, list(rows.result_list), object_type="core.person",
                              detail={"via": "admin"})
        return response

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        obj = self.get_object(request, object_id)
        if obj is not None:
            audit.record(AuditAction.VIEW, obj=obj, detail={"via": "admin"})
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, read-only."""

    list_display = ("id", "occurred_at", "actor_username", "action", "object_type", "object_id", "region_code", "purpose")
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "object_id", "region_code")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        from xinqiao.core.views.audit import scoped_audit_events

        return scoped_audit_events(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
