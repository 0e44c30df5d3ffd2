"""Django admin for administrators. Personal data here is scoped, masked and audited too.

The building blocks every app's ``admin.py`` uses:

- ``AuditedMaskedAdmin``: records holding personal data. Read-only, rows from ``restrict`` (or
  through scoped parents), personal data only through ``present`` (``masked`` columns, one
  ``personal_data`` block on the change page), list pages audited as ``list`` and change pages as
  ``view``. ``ReadOnlyMaskedInline`` shows a record's lines on its page.
- ``ScopedReadOnlyAdmin``: scoped and read-only, for scoped records without personal data.
- ``AuditedEditAdmin``: reference data staff may edit with the model permission, every write audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from xinqiao.core import audit
from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.masking import mask
from xinqiao.core.masks import Visibility, pii_fields, present, visibility
from xinqiao.core.models import AuditAction, AuditEvent, Organisation, Person, Region, User
from xinqiao.core.request_context import current_request_info
from xinqiao.core.scope import permission_for


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted in the admin."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    """Division codes are loaded from the shipped data file; read-only here."""

    list_display = ("code", "name", "level", "kind", "parent")
    list_filter = ("level", "kind")
    search_fields = ("code", "name", "pinyin", "initials")


# -- Reference data: editable by staff holding the model permission, every write audited --------------------


class AuditedEditAdmin(admin.ModelAdmin):
    """Reference and configuration data (no personal data): staff with the model permission may add,
    change and delete it here; every write is recorded in the audit chain, with the changed field names."""

    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(AuditAction.CHANGE if change else AuditAction.CREATE, obj=obj,
                     detail={"via": "admin", "fields": sorted(form.changed_data)})

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.record(AuditAction.DELETE, obj=obj, detail={"via": "admin"})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            rows = list(queryset)
            if rows:
                audit.record_many(AuditAction.DELETE, rows, detail={"via": "admin"})
            super().delete_queryset(request, queryset)


@admin.register(Organisation)
class OrganisationAdmin(AuditedEditAdmin):
    """Organisations of the network; every change is written to the audit chain."""

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


class ScopedReadOnlyAdmin(ReadOnlyAdmin):
    """Scoped records in the admin: ``restrict`` scoping, no edits here (``AuditedMaskedAdmin`` adds
    the masks and the audit for records holding personal data).

    Rows come from ``Model.objects.restrict(request.user)``: a record outside the administrator's
    region (or beyond their model permission) is missing from the list and its change page answers
    as a record that does not exist. A record without a region of its own (a line of a follow-up, an
    event of a referral) names its scoped parents in ``scope_through``: it is reachable only when
    each of them is. Nothing is added, changed or deleted here: corrections go through the app's own
    pages, where the services validate and audit them.
    """

    #: Relation paths to scoped parents, for a model without ``restrict`` of its own.
    scope_through: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped_queryset(self.model, request.user, self.scope_through)


def related_model(model: type[Model], path: str) -> type[Model]:
    """The model at the end of a ``__``-separated relation path."""
    for part in path.split("__"):
        related = model._meta.get_field(part).related_model
        if not isinstance(related, type):
            raise ImproperlyConfigured(f"{model._meta.label}.{part} is not a relation")
        model = related
    return model


def scoped_queryset(model: type[Model], user: Any, scope_through: tuple[str, ...] = ()) -> QuerySet[Any]:
    """The rows of ``model`` the user may view: ``restrict``, or through each scoped parent."""
    # No ``select_related`` here: the changelist applies ``list_select_related`` only to a queryset
    # that has none yet.
    if not scope_through:
        restricted: QuerySet[Any] = model._default_manager.restrict(user)  # type: ignore[attr-defined]
        return restricted
    qs = model._default_manager.all()
    for path in scope_through:
        parent = related_model(model, path)
        qs = qs.filter(**{f"{path}__in": parent._default_manager.restrict(user).values("pk")})  # type: ignore[attr-defined]
    return qs


# -- Personal data shown through ``present`` ----------------------------------------------------------------

#: Categories never listed in clear, whatever a role's mask grants: an ID number is masked in every list.
ALWAYS_MASKED_IN_LISTS = frozenset({"identity.id_number"})


def _shown(value: Any) -> Any:
    """A presented value as the admin shows one: lists joined, dates localised, yes/no as icons,
    empty as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    return display_for_value(value, "—", boolean=isinstance(value, bool))


def _follow(obj: Any, via: str) -> Any:
    for part in via.split("__") if via else ():
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def masked(field: str, label: Any = None, *, via: str = "") -> Any:
    """A list column or read-only field: ``field`` of the record (or of ``obj.<via>``) as ``present`` shows it.

    A field the administrator's roles hide shows as a dash; a masked one is masked; an ID number is
    masked even for a role that could see it in full. The heading is the field's own verbose name
    unless ``label`` is given. Put ``via`` in ``list_select_related``.
    """

    def show(self: Any, obj: Any) -> Any:
        target = _follow(obj, via)
        if target is None:
            return "—"
        user = current_request_info().user
        shown = present(user, target, fields=[field])
        if field not in shown:
            return "—"
        category = pii_fields(target)[field]
        if category in ALWAYS_MASKED_IN_LISTS and visibility(user, category) == Visibility.FULL:
            return _shown(mask(category, shown[field]))
        return _shown(shown[field])

    show.masked_field = (field, via)  # type: ignore[attr-defined]
    if label is not None:
        show.short_description = label  # type: ignore[attr-defined]
    return show


def _label_masked_columns(admin_class: type[Any], model: type[Model]) -> None:
    """Give each ``masked`` column without a label its field's verbose name (known once registered)."""
    for name in dir(admin_class):
        show = getattr(admin_class, name, None)
        spec = getattr(show, "masked_field", None)
        if spec is None or hasattr(show, "short_description"):
            continue
        field, via = spec
        target = related_model(model, via) if via else model
        show.short_description = capfirst(target._meta.get_field(field).verbose_name)  # type: ignore[union-attr]


def _label(model: type[Model], name: str) -> str:
    try:
        field: Any = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(capfirst(getattr(field, "verbose_name", name)))


def withheld_fields(model: type[Model]) -> set[str]:
    """Fields the admin never shows raw: personal data (shown only through ``present``), every
    encrypted column (personal or not) and the blind indexes beside them."""
    out = set(pii_fields(model))
    for f in model._meta.concrete_fields:
        if isinstance(f, EncryptedTextField) or f.name.endswith("_index") or f.name in (
                "submission_key", "submission_fingerprint"):
            out.add(f.name)
    return out


class AuditedMaskedAdmin(ScopedReadOnlyAdmin):
    """Read-only, scoped, masked and audited: the admin of every model holding personal data.

    - The change page shows the record's ordinary fields, and its personal data (and that of
      ``personal_via``, e.g. the patient's person) only as ``present`` gives it to the
      administrator's roles, in one block. Encrypted columns that are not declared personal data are
      never shown; ``hidden_fields`` withholds more.
    - Opening a record is audited as ``view``; every list page as ``list`` with the ids shown.
    - List columns with personal data use ``masked(field)``; URL filters on personal data are refused.
    """

    #: Relation paths whose personal data is shown with the record's (``("person",)``).
    personal_via: tuple[str, ...] = ()
    #: Ordinary fields not to show either (free JSON that may quote a person, access codes).
    hidden_fields: tuple[str, ...] = ()
    #: Region columns are shown as the one ``region``.
    _REGION_COLUMNS = frozenset({"province_code", "city_code", "county_code", "township_code"})

    def __init__(self, model: type[Model], admin_site: Any) -> None:
        super().__init__(model, admin_site)
        _label_masked_columns(type(self), model)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if self.fields:
            return self.fields
        hidden = withheld_fields(self.model) | set(self.hidden_fields) | self._REGION_COLUMNS
        names = [f.name for f in self.model._meta.concrete_fields if f.name not in hidden]
        if pii_fields(self.model) or self.personal_via:
            names.append("personal_data")
        return names

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """No filtering on personal data through the URL (``?danger_level=3`` would tell what the
        administrator's roles may not see), here or on a related record."""
        model: Any = self.model
        withheld = withheld_fields(model) | set(self.hidden_fields)
        for part in lookup.split("__"):
            if part in withheld:
                return False
            try:
                field: Any = model._meta.get_field(part)
            except FieldDoesNotExist:
                break
            if not getattr(field, "is_relation", False) or field.related_model is None:
                break
            model = field.related_model
            withheld = withheld_fields(model)
        return bool(super().lookup_allowed(lookup, value, request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    @admin.display(description=_("personal data (as your roles may see it)"))
    def personal_data(self, obj: Any) -> Any:
        user = current_request_info().user
        rows: list[tuple[str, Any]] = []
        for via in ("", *self.personal_via):
            target = _follow(obj, via)
            if target is None:
                continue
            prefix = f"{capfirst(target._meta.verbose_name)} · " if via else ""
            rows += [(prefix + _label(type(target), name), _shown(value))
                     for name, value in present(user, target).items()]
        if not rows:
            return _("Nothing: your roles see none of this record's personal data.")
        return format_html('<table class="masked">{}</table>',
                           format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if changelist is not None:
            audit.record_many(AuditAction.LIST, list(changelist.result_list), object_type=self.model._meta.label_lower,
                              detail={"via": "admin"})
        return response

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_or_change_permission(request, obj):
            audit.record(AuditAction.VIEW, obj=obj, detail={"via": "admin"})
        return super().change_view(request, object_id, form_url, extra_context)


class ReadOnlyMaskedInline(admin.TabularInline):
    """Lines of a record shown on its (read-only, scoped, audited) change page: readable by whoever
    may view the parent, never edited here; personal data only through ``masked`` columns."""

    extra = 0
    can_delete = False
    show_change_link = False

    def __init__(self, parent_model: type[Model], admin_site: Any) -> None:
        super().__init__(parent_model, admin_site)
        _label_masked_columns(type(self), self.model)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if self.fields:
            return self.fields
        hidden = withheld_fields(self.model) | {self.fk_name or ""}
        fk = {f.name for f in self.model._meta.concrete_fields
              if f.is_relation and f.related_model is self.parent_model}
        return [f.name for f in self.model._meta.concrete_fields
                if f.name not in hidden | fk and f.name != "id"] + list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm(permission_for(self.parent_model, "view")))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(AuditedMaskedAdmin):
    """Persons, masked per the administrator's role; opening one is audited as a view. Identities are
    corrected through the patients pages (and duplicates merged there), never here."""

    list_display = ("id", "masked_name", "id_type", "masked_id_number", "township_code", "created_at")
    fields = ("id", "masked_name", "id_type", "masked_id_number", "masked_sex", "masked_birth_date", "masked_phone",
              "masked_address", "region", "created_at")
    readonly_fields = fields
    list_filter = ("id_type",)
    list_select_related = ("region",)

    masked_name = masked("name", _("name"))
    masked_sex = masked("sex", _("sex"))
    masked_id_number = masked("id_number", _("ID number"))
    masked_birth_date = masked("birth_date", _("date of birth"))
    masked_phone = masked("phone", _("phone"))
    masked_address = masked("address", _("address"))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log, read-only."""

    list_display = ("id", "occurred_at", "actor_username", "action", "object_type", "object_id", "region_code", "purpose")
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "object_id", "region_code")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        from xinqiao.core.views.audit import scoped_audit_events

        return scoped_audit_events(request.user)

