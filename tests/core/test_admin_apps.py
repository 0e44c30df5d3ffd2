"""Every ModelAdmin registered on the site, driven the same way.

For each registered model: a non-staff user (even holding the model permission) and the anonymous
are sent to the admin sign-in; an administrator placed in county A sees the county-A row and not
the county-B one, whose change page answers as a missing record; personal data appears only as
``present`` gives it to the administrator's roles (no encrypted value in clear for a role that may
not see it, no ID number in clear anywhere); list and change pages are audited; nothing read-only
can be added, changed or deleted; list pages cost the same number of queries for one row as for
five. Reference data is editable with the model permission, every write audited.

Rows are built generically (``build``): every encrypted column gets a marker of its own, so any
path that shows one in clear is caught, whichever model or inline it sits on.
"""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import PersonFactory, UserFactory
from tests.helpers import login_verified
from xinqiao.core.admin import (
    AuditedEditAdmin,
    AuditedMaskedAdmin,
    ReadOnlyAdmin,
    ReadOnlyMaskedInline,
    ScopedReadOnlyAdmin,
    related_model,
    withheld_fields,
)
from xinqiao.core.demo import DEMO_COUNTIES
from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.masking import mask_id_number
from xinqiao.core.masks import Visibility, pii_fields, visibility
from xinqiao.core.models import AuditAction, AuditEvent, Organisation, OrgType, Person, Region, User

pytestmark = pytest.mark.django_db

SITE = admin.site
#: Core's own admins, covered by tests/core and the permission matrix; here only the staff-only rule.
CORE_OWN = {Region, Organisation, User, AuditEvent}

_seq = itertools.count(1)


def ours(model: type[models.Model]) -> bool:
    """A model of xinqiao (the admins of Django, django-otp and axes are theirs)."""
    return model.__module__.startswith("xinqiao.") and model not in CORE_OWN


def registered(kind: type) -> list[type[models.Model]]:
    return sorted((m for m, a in SITE._registry.items() if isinstance(a, kind) and ours(m)),
                  key=lambda m: m._meta.label)


SCOPED = registered(ScopedReadOnlyAdmin)
MASKED = registered(AuditedMaskedAdmin)
EDITABLE = registered(AuditedEditAdmin)
PLAIN_READ_ONLY = [m for m in registered(ReadOnlyAdmin) if m not in SCOPED]


def marker(model: type[models.Model], field: str) -> str:
    """The clear text put in an encrypted column: unique per column, never shown unless allowed in full."""
    return f"明文{model._meta.model_name}{field}秘"


# --- Building rows --------------------------------------------------------------------------------------


def _organisation(town: Region) -> Organisation:
    return Organisation.objects.create(name=f"测试机构{next(_seq)}", org_type=OrgType.COMMUNITY_HEALTH_CENTRE,
                                       region=town)


def _value(field: models.Field[Any, Any]) -> Any:
    n = next(_seq)
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.DateTimeField):
        return timezone.now() - timedelta(minutes=n)
    if isinstance(field, models.DateField):
        return date(2025, 1, 1) + timedelta(days=n % 300)
    if isinstance(field, models.TimeField):
        return time(9, 0)
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DecimalField):
        return Decimal(1)
    if isinstance(field, models.FloatField):
        return 1.0
    if isinstance(field, models.IntegerField):
        return n
    if isinstance(field, models.JSONField):
        return []
    if isinstance(field, models.CharField | models.TextField):
        text = f"t{n}"
        return text[: field.max_length] if field.max_length else text
    raise NotImplementedError(f"no test value for {field}")


def build(model: type[models.Model], town: Region, staff: User, **overrides: Any) -> Any:
    """One row of ``model`` placed in ``town``: required fields filled, every encrypted column marked."""
    kwargs: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        name = field.name
        if name in overrides or field.primary_key:
            continue
        if isinstance(field, EncryptedTextField):
            kwargs[name] = marker(model, name)
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if field.is_relation:
            if field.null:
                continue
            related: Any = field.related_model
            if related is Region:
                kwargs[name] = town
            elif related is User:
                kwargs[name] = staff
            elif related is Organisation:
                kwargs[name] = _organisation(town)
            elif related is Person:
                kwargs[name] = PersonFactory(region=town)
            else:
                kwargs[name] = build(related, town, staff, **extra(related, town, staff))
            continue
        if field.null or field.has_default() or not field.editable:
            continue
        if field.blank and isinstance(field, models.CharField | models.TextField):
            continue
        kwargs[name] = _value(field)
    kwargs.update(overrides)
    return model._default_manager.create(**kwargs)


def extra(model: type[models.Model], town: Region, staff: User) -> dict[str, Any]:
    """What a generic row of ``model`` needs beyond its required fields."""
    from xinqiao.patients.models import Patient
    from xinqiao.referrals.models import EmergencyRecord
    from xinqiao.registry.models import Institution, Sanction

    if model is Sanction:  # names exactly one of institution or practitioner
        return {"institution": build(Institution, town, staff)}
    if model is EmergencyRecord:  # of a registered patient, the person's identity shown with it
        patient = build(Patient, town, staff)
        return {"patient": patient, "person": patient.person}
    return {}


def build_with_lines(model: type[models.Model], town: Region, staff: User) -> Any:
    """A row and one line of each of its admin's inlines."""
    obj = build(model, town, staff, **extra(model, town, staff))
    for inline in SITE._registry[model].inlines:
        fk = next(f for f in inline.model._meta.concrete_fields if f.is_relation and f.related_model is model)
        build(inline.model, town, staff, **{fk.name: obj})
    return obj


# --- Fixtures -----------------------------------------------------------------------------------------------


def view_permissions() -> list[Permission]:
    """``view_<model>`` of every model registered here, and of the scoped parents they are reached through."""
    models_: set[type[models.Model]] = {*SITE._registry, Person}
    for model_admin in SITE._registry.values():
        for path in getattr(model_admin, "scope_through", ()):
            models_.add(related_model(model_admin.model, path))
    return [Permission.objects.get(content_type__app_label=m._meta.app_label, codename=f"view_{m._meta.model_name}")
            for m in models_ if m._meta.managed]


@pytest.fixture
def places(towns: list[Region]) -> dict[str, Any]:
    county_a = Region.objects.get(code=DEMO_COUNTIES[0])
    assert towns[0].code.startswith(county_a.code) and not towns[1].code.startswith(county_a.code)
    return {"a": towns[0], "b": towns[1], "county_a": county_a}


def _staff(username: str, role: str, county: Region, *, is_staff: bool = True) -> User:
    user: Any = UserFactory(username=username, region=county, roles=[role], is_staff=is_staff)
    user.user_permissions.set(view_permissions())
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


@pytest.fixture
def admin_a(places: dict[str, Any]) -> User:
    """Staff in county A whose role (sysadmin) masks identity and hides every clinical category."""
    return _staff("admin_a", "sysadmin", places["county_a"])


@pytest.fixture
def clinical_admin_a(places: dict[str, Any]) -> User:
    """Staff in county A whose role (mhc_staff) sees clinical categories in full, identity masked."""
    return _staff("clinical_admin_a", "mhc_staff", places["county_a"])


def pair(model: type[models.Model], places: dict[str, Any], staff: User) -> tuple[Any, Any]:
    """A row of ``model`` (with its lines) in township A and one in township B."""
    return build_with_lines(model, places["a"], staff), build_with_lines(model, places["b"], staff)


def url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# --- The guard: personal data only through read-only, scoped, masked admins ---------------------------------


def _holds_personal_data(model: type[models.Model]) -> bool:
    return bool(pii_fields(model)) or any(isinstance(f, EncryptedTextField) for f in model._meta.concrete_fields)


def test_every_model_with_personal_data_is_behind_a_masked_admin(rf: Any, admin_a: User) -> None:
    from django.apps import apps

    request = rf.get("/")
    request.user = admin_a
    inlines: dict[type[models.Model], list[Any]] = {}
    for model_admin in SITE._registry.values():
        for inline in model_admin.inlines:
            inlines.setdefault(inline.model, []).append((inline, model_admin))
    missing = []
    for model in apps.get_models():
        if not _holds_personal_data(model):
            continue
        registered_admin = SITE._registry.get(model)
        if registered_admin is not None:
            if not isinstance(registered_admin, AuditedMaskedAdmin):
                missing.append((model._meta.label, type(registered_admin).__name__))
            continue
        shown_in = inlines.get(model, [])
        if not shown_in or not all(isinstance(i, type) and issubclass(i, ReadOnlyMaskedInline)
                                   and isinstance(p, AuditedMaskedAdmin) for i, p in shown_in):
            missing.append((model._meta.label, "not registered"))
    assert missing == []


def _names(items: Any) -> set[str]:
    out = set()
    for item in items or ():
        if isinstance(item, str):
            out.add(item.lstrip("-").split("__")[0])
        elif isinstance(item, tuple | list) and item and isinstance(item[0], str):
            out.add(item[0].split("__")[0])
    return out


def _related_withheld(model: type[models.Model], item: str) -> bool:
    """Whether a ``a__b`` path ends on a withheld field of a related model."""
    parts = item.lstrip("-").split("__")
    current = model
    for part in parts[:-1]:
        try:
            current = current._meta.get_field(part).related_model  # type: ignore[assignment]
        except Exception:
            return False
        if current is None:
            return False
    return len(parts) > 1 and parts[-1] in withheld_fields(current)


def test_no_admin_shows_filters_or_searches_a_personal_field_raw(rf: Any, admin_a: User) -> None:
    request = rf.get("/")
    request.user = admin_a
    leaks: list[tuple[str, str, Any]] = []
    for model, model_admin in SITE._registry.items():
        withheld = withheld_fields(model)
        shown = {
            "list_display": _names(model_admin.get_list_display(request)),
            "list_filter": _names(model_admin.get_list_filter(request)),
            "search_fields": _names(model_admin.get_search_fields(request)),
            "ordering": _names(model_admin.get_ordering(request)),
            "date_hierarchy": _names([model_admin.date_hierarchy] if model_admin.date_hierarchy else []),
        }
        if isinstance(model_admin, ReadOnlyAdmin):
            shown["fields"] = _names(model_admin.get_fields(request))
        for where, names in shown.items():
            if names & withheld:
                leaks.append((model._meta.label, where, sorted(names & withheld)))
        for item in [*model_admin.get_search_fields(request), *(model_admin.list_filter or ())]:
            if isinstance(item, str) and _related_withheld(model, item):
                leaks.append((model._meta.label, "related path", item))
        for inline in model_admin.get_inline_instances(request):
            inline_withheld = withheld_fields(inline.model)
            names = _names(inline.get_fields(request))
            if names & inline_withheld:
                leaks.append((inline.model._meta.label, "inline", sorted(names & inline_withheld)))
    assert leaks == []


def test_the_registry_is_what_this_file_drives() -> None:
    from xinqiao.followups.models import FollowUpRevision, MedicationCatalogue
    from xinqiao.patients.models import Patient
    from xinqiao.registry.models import RegionStatistic

    assert {Patient, FollowUpRevision} <= set(MASKED)
    assert {MedicationCatalogue, RegionStatistic} <= set(EDITABLE)
    assert len(SCOPED) > 25
    assert [m for m in SITE._registry if ours(m) and m not in {*SCOPED, *EDITABLE, *PLAIN_READ_ONLY}] == []


# --- Staff only ---------------------------------------------------------------------------------------------


def test_non_staff_and_anonymous_are_sent_to_the_admin_sign_in(client: Client, places: dict[str, Any]) -> None:
    # Holding every view permission and placed in county A is not enough without staff status.
    clerk = _staff("clerk_a", "mhc_staff", places["county_a"], is_staff=False)
    login = reverse("admin:login")
    for model in SITE._registry:
        for target in (url(model, "changelist"), url(model, "change", 1), url(model, "add"), url(model, "delete", 1),
                       url(model, "history", 1)):
            client.logout()
            resp = client.get(target)
            assert resp.status_code == 302 and resp["Location"].startswith(login), (target, "anonymous")
            login_verified(client, clerk)
            resp = client.get(target)
            assert resp.status_code == 302 and resp["Location"].startswith(login), (target, "non-staff")


# --- Scope, masks, audit and read-only, per scoped model ------------------------------------------------------


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m._meta.label)
def test_scoped_changelist_shows_only_the_administrators_region(client: Client, admin_a: User, places: Any,
                                                                model: type[models.Model]) -> None:
    a, b = pair(model, places, admin_a)
    login_verified(client, admin_a)
    resp = client.get(url(model, "changelist"))
    assert resp.status_code == 200
    shown = {o.pk for o in resp.context["cl"].result_list}
    assert a.pk in shown and b.pk not in shown
    assert client.get(url(model, "change", a.pk)).status_code == 200
    # Out of scope answers as a record that does not exist: back to the admin index.
    for view in ("change", "history"):
        resp = client.get(url(model, view, b.pk))
        assert resp.status_code == 302 and resp["Location"] == reverse("admin:index"), view
        missing = client.get(url(model, view, 10**9))
        assert (missing.status_code, missing["Location"]) == (302, reverse("admin:index"))


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m._meta.label)
def test_read_only_admins_refuse_add_change_and_delete(client: Client, admin_a: User, places: Any,
                                                       model: type[models.Model]) -> None:
    a, _b = pair(model, places, admin_a)
    login_verified(client, admin_a)
    assert client.get(url(model, "add")).status_code == 403
    assert client.post(url(model, "add"), {}).status_code == 403
    assert client.post(url(model, "change", a.pk), {}).status_code == 403
    assert client.get(url(model, "delete", a.pk)).status_code == 403
    assert client.post(url(model, "delete", a.pk), {"post": "yes"}).status_code == 403
    resp = client.post(url(model, "changelist"), {"action": "delete_selected", "_selected_action": [a.pk]})
    assert resp.status_code in (200, 302)
    assert model._default_manager.filter(pk=a.pk).exists()
    assert "delete_selected" not in (SITE._registry[model].get_actions(resp.wsgi_request) or {})


@pytest.mark.parametrize("model", MASKED, ids=lambda m: m._meta.label)
def test_list_and_change_pages_are_audited(client: Client, admin_a: User, places: Any,
                                           model: type[models.Model]) -> None:
    a, b = pair(model, places, admin_a)
    label = model._meta.label_lower
    login_verified(client, admin_a)
    resp = client.get(url(model, "changelist"))
    listed = AuditEvent.objects.filter(action=AuditAction.LIST, object_type=label, actor_id=admin_a.pk)
    assert listed.count() == 1
    detail = listed.get().detail
    assert detail["ids"] == [str(o.pk) for o in resp.context["cl"].result_list] and detail["via"] == "admin"
    assert str(a.pk) in detail["ids"] and str(b.pk) not in detail["ids"]
    client.get(url(model, "change", a.pk))
    viewed = AuditEvent.objects.filter(action=AuditAction.VIEW, object_type=label, actor_id=admin_a.pk)
    assert list(viewed.values_list("object_id", flat=True)) == [str(a.pk)]
    # Nothing is recorded as viewed for a record out of scope.
    client.get(url(model, "change", b.pk))
    assert viewed.count() == 1


@pytest.mark.parametrize("model", MASKED, ids=lambda m: m._meta.label)
def test_personal_data_cannot_be_filtered_through_the_url(client: Client, admin_a: User, places: Any,
                                                          model: type[models.Model]) -> None:
    """``?danger_level=3`` would tell which records hold what the administrator's roles may not see."""
    login_verified(client, admin_a)
    target = url(model, "changelist")
    local = {f.name for f in model._meta.concrete_fields}
    refused = sorted(withheld_fields(model) & local)
    for field in refused:
        assert client.get(target, {field: "1"}).status_code == 400, field
    people = [f.name for f in model._meta.concrete_fields if f.is_relation and f.related_model is Person]
    for fk in people:
        assert client.get(target, {f"{fk}__id_number_index": "x"}).status_code == 400
        assert client.get(target, {f"{fk}__birth_date": "1980-05-17"}).status_code == 400
    assert not AuditEvent.objects.filter(action=AuditAction.LIST, object_type=model._meta.label_lower).exists()
    assert client.get(target).status_code == 200


def _markers(model: type[models.Model], user: User, *, level: Visibility) -> list[str]:
    """Markers of the encrypted columns of ``model`` and its inlines' models shown at ``level`` or not."""
    out = []
    for m in (model, *(i.model for i in SITE._registry[model].inlines)):
        categories = pii_fields(m)
        for f in m._meta.concrete_fields:
            if not isinstance(f, EncryptedTextField):
                continue
            seen = visibility(user, categories[f.name]) if f.name in categories else Visibility.HIDDEN
            if (seen == Visibility.FULL) == (level == Visibility.FULL):
                out.append(marker(m, f.name))
    return out


def _people_of(obj: Any) -> list[Person]:
    return [v for f in obj._meta.concrete_fields if f.is_relation and isinstance(v := getattr(obj, f.name), Person)]


@pytest.mark.parametrize("model", MASKED, ids=lambda m: m._meta.label)
def test_no_clear_personal_data_for_a_role_that_may_not_see_it(client: Client, admin_a: User, places: Any,
                                                               model: type[models.Model]) -> None:
    a, _b = pair(model, places, admin_a)
    login_verified(client, admin_a)
    pages = [client.get(url(model, "changelist")), client.get(url(model, "change", a.pk))]
    html = "".join(p.content.decode() for p in pages)
    assert all(p.status_code == 200 for p in pages)
    assert [m for m in _markers(model, admin_a, level=Visibility.MASKED) if m in html] == []
    for person in _people_of(a):
        assert person.id_number not in html and person.name not in html and person.phone not in html
        assert mask_id_number(person.id_number) in html  # the masked form, through present


@pytest.mark.parametrize("model", MASKED, ids=lambda m: m._meta.label)
def test_a_role_allowed_in_full_sees_the_values(client: Client, clinical_admin_a: User, places: Any,
                                                model: type[models.Model]) -> None:
    a, _b = pair(model, places, clinical_admin_a)
    login_verified(client, clinical_admin_a)
    html = client.get(url(model, "change", a.pk)).content.decode()
    for m in _markers(model, clinical_admin_a, level=Visibility.FULL):
        assert m in html, m
    for m in _markers(model, clinical_admin_a, level=Visibility.MASKED):
        assert m not in html, m
    for person in _people_of(a):
        assert person.id_number not in html  # no role sees an ID number in clear here


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m._meta.label)
def test_list_pages_cost_a_fixed_number_of_queries(client: Client, admin_a: User, places: Any,
                                                   model: type[models.Model]) -> None:
    pair(model, places, admin_a)
    login_verified(client, admin_a)
    target = url(model, "changelist")
    client.get(target)  # warm: session, permissions
    with CaptureQueriesContext(connection) as one:
        before = len(client.get(target).context["cl"].result_list)
    for _ in range(4):
        build_with_lines(model, places["a"], admin_a)
    with CaptureQueriesContext(connection) as five:
        resp = client.get(target)
    assert len(resp.context["cl"].result_list) == before + 4
    assert len(five) == len(one), "\n".join(q["sql"][:300] for q in five.captured_queries)


# --- Plain read-only and editable reference data -----------------------------------------------------------------


@pytest.mark.parametrize("model", PLAIN_READ_ONLY, ids=lambda m: m._meta.label)
def test_plain_read_only_admins(client: Client, admin_a: User, places: Any, model: type[models.Model]) -> None:
    obj = build(model, places["a"], admin_a)
    login_verified(client, admin_a)
    assert client.get(url(model, "changelist")).status_code == 200
    assert client.get(url(model, "change", obj.pk)).status_code == 200
    assert client.get(url(model, "add")).status_code == 403
    assert client.post(url(model, "change", obj.pk), {}).status_code == 403
    assert client.get(url(model, "delete", obj.pk)).status_code == 403


def _grant(user: User, model: type[models.Model], *actions: str) -> User:
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label=model._meta.app_label,
        codename__in=[f"{a}_{model._meta.model_name}" for a in actions]))
    return User.objects.get(pk=user.pk)


def test_medication_catalogue_is_editable_with_the_permission_and_audited(client: Client, admin_a: User) -> None:
    from xinqiao.followups.codes import DrugClass
    from xinqiao.followups.models import MedicationCatalogue

    login_verified(client, admin_a)
    add = url(MedicationCatalogue, "add")
    assert client.get(add).status_code == 403  # view permission only
    login_verified(client, _grant(admin_a, MedicationCatalogue, "add", "change", "delete"))
    data = {"generic_name_zh": "测试平", "generic_name_en": "testapine", "atc_code": "N05AX99",
            "drug_class": DrugClass.ANTIPSYCHOTIC,
            "default_unit": "mg", "default_period": "day", "active": "on"}
    assert client.post(add, data).status_code == 302
    drug = MedicationCatalogue.objects.get(generic_name_zh="测试平")
    created = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="followups.medicationcatalogue")
    assert created.object_id == str(drug.pk) and created.actor_id == admin_a.pk
    assert client.post(url(MedicationCatalogue, "change", drug.pk), {**data, "active": ""}).status_code == 302
    changed = AuditEvent.objects.get(action=AuditAction.CHANGE, object_type="followups.medicationcatalogue")
    assert changed.detail["fields"] == ["active"]
    assert client.post(url(MedicationCatalogue, "delete", drug.pk), {"post": "yes"}).status_code == 302
    assert not MedicationCatalogue.objects.filter(pk=drug.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, object_id=str(drug.pk)).exists()


def test_region_statistics_are_edited_only_inside_the_administrators_region(client: Client, admin_a: User,
                                                                           places: Any) -> None:
    from xinqiao.registry.models import Measure, RegionStatistic

    mine = RegionStatistic.objects.create(region=places["county_a"], year=2024, measure=Measure.POPULATION, value=1)
    other = RegionStatistic.objects.create(region=places["b"], year=2024, measure=Measure.POPULATION, value=2)
    login_verified(client, _grant(admin_a, RegionStatistic, "add", "change", "delete"))
    shown = {o.pk for o in client.get(url(RegionStatistic, "changelist")).context["cl"].result_list}
    assert shown == {mine.pk}
    assert client.get(url(RegionStatistic, "change", other.pk)).status_code == 302
    data = {"region": places["county_a"].code, "year": 2024, "measure": Measure.POPULATION, "value": 980000,
            "source": "统计年鉴2024"}
    assert client.post(url(RegionStatistic, "change", mine.pk), data).status_code == 302
    mine.refresh_from_db()
    assert mine.value == 980000
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, object_type="registry.regionstatistic")
    assert event.object_id == str(mine.pk) and sorted(event.detail["fields"]) == ["source", "value"]
    # A figure for a region outside the administrator's own is refused with the field named.
    resp = client.post(url(RegionStatistic, "add"), {**data, "region": places["b"].code, "year": 2023})
    assert resp.status_code == 200
    assert "region" in resp.context["adminform"].form.errors
    assert not RegionStatistic.objects.filter(region=places["b"], year=2023).exists()


def test_bulk_delete_of_reference_data_is_audited_once(client: Client, admin_a: User) -> None:
    from xinqiao.followups.codes import DrugClass
    from xinqiao.followups.models import MedicationCatalogue

    drugs = [MedicationCatalogue.objects.create(generic_name_zh=f"测试药{i}", generic_name_en=f"test{i}",
                                                atc_code="N05AX98", drug_class=DrugClass.OTHER) for i in range(2)]
    login_verified(client, _grant(admin_a, MedicationCatalogue, "delete"))
    resp = client.post(url(MedicationCatalogue, "changelist"),
                       {"action": "delete_selected", "_selected_action": [d.pk for d in drugs], "post": "yes"})
    assert resp.status_code == 302
    assert not MedicationCatalogue.objects.filter(pk__in=[d.pk for d in drugs]).exists()
    event = AuditEvent.objects.get(action=AuditAction.DELETE, object_type="followups.medicationcatalogue")
    assert sorted(event.detail["ids"]) == sorted(str(d.pk) for d in drugs) and event.detail["via"] == "admin"


def test_organisation_changes_are_audited(client: Client, admin_a: User, places: Any) -> None:
    org = _organisation(places["a"])
    login_verified(client, _grant(admin_a, Organisation, "change"))
    data = {"name": "改名后的机构", "org_type": org.org_type, "region": places["a"].code, "is_active": "on",
            "unified_credit_code": "", "phone": "", "address": "", "email": "", "parent": ""}
    resp = client.post(url(Organisation, "change", org.pk), data)
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, object_type="core.organisation")
    assert event.object_id == str(org.pk) and event.actor_id == admin_a.pk and "name" in event.detail["fields"]
