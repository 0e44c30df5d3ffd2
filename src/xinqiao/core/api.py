"""API v1 routes of the foundation: regions (public), organisations, me, persons (scoped, masked)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Header, Router, Status
from ninja.security import django_auth

from xinqiao.core import audit, services
from xinqiao.core.idempotency import run_once
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, Organisation, OrgType, Person, Region
from xinqiao.core.regions import search_regions
from xinqiao.core.schemas import (
    MeSchema,
    OrganisationSchema,
    PersonCreateSchema,
    PersonPage,
    PersonSchema,
    RegionDetailSchema,
    RegionSchema,
    UnmaskSchema,
)
from xinqiao.core.scope import get_scoped_or_404

router = Router()


def _region_out(r: Region) -> dict[str, Any]:
    return {"code": r.code, "name": r.name, "level": r.level, "kind": r.kind,
            "parent_code": r.parent_id, "pinyin": r.pinyin}


@router.get("/regions", response=list[RegionSchema], tags=["regions"], url_name="region_search")
def region_search(request: HttpRequest, q: str = "", level: int | None = None, within: str = "") -> list[dict[str, Any]]:
    """Typeahead: regions by Chinese name, pinyin, initials or code prefix (public data)."""
    return [_region_out(r) for r in search_regions(q, level=level, within=within)]


@router.get("/regions/{code}", response=RegionDetailSchema, tags=["regions"], url_name="region_detail")
def region_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    """One region, its full name and its children."""
    region = get_object_or_404(Region, code=code)
    return {**_region_out(region), "full_name": region.full_name(),
            "children": [_region_out(c) for c in region.children.order_by("code")]}


def _org_out(o: Organisation) -> dict[str, Any]:
    return {"id": o.pk, "name": o.name, "org_type": o.org_type, "org_type_label": o.get_org_type_display(),
            "region_code": o.region_id, "parent_id": o.parent_id, "phone": o.phone, "address": o.address,
            "is_active": o.is_active}


@router.get("/organisations", response=list[OrganisationSchema], auth=django_auth, tags=["organisations"],
            url_name="organisation_list")
def organisation_list(request: HttpRequest, type: str = "", region: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """Organisations, filtered by type code and region-code prefix."""
    if not request.user.has_perm("core.view_organisation"):
        raise PermissionDenied
    qs = Organisation.objects.order_by("region_id", "name")
    if type in OrgType.values:
        qs = qs.filter(org_type=type)
    if region.isdigit():
        qs = qs.filter(region__code__startswith=region)
    return [_org_out(o) for o in qs[: max(1, min(limit, 1000))]]


@router.get("/organisations/{org_id}", response=OrganisationSchema, auth=django_auth, tags=["organisations"],
            url_name="organisation_detail")
def organisation_detail(request: HttpRequest, org_id: int) -> dict[str, Any]:
    """One organisation."""
    if not request.user.has_perm("core.view_organisation"):
        raise PermissionDenied
    return _org_out(get_object_or_404(Organisation, pk=org_id))


@router.get("/me", response=MeSchema, auth=django_auth, tags=["accounts"], url_name="me")
def me(request: HttpRequest) -> dict[str, Any]:
    """Who the caller is: roles, region, organisation."""
    user: Any = request.user
    return {"username": user.username, "display_name": user.display_name, "roles": sorted(user.role_codes),
            "region_code": user.region_id, "organisation_id": user.organisation_id,
            "two_factor_verified": user.is_verified()}


def _person_out(user: Any, person: Person, *, unmasked: bool = False) -> dict[str, Any]:
    shown = present(user, person, unmasked=unmasked)
    birth = shown.get("birth_date")
    return {
        "id": person.pk, "township_code": person.township_code, "county_code": person.county_code,
        "id_type": person.id_type, "name": shown.get("name"), "id_number": shown.get("id_number"),
        "sex": person.sex if "sex" in shown else None, "birth_date": str(birth) if birth else None,
        "phone": shown.get("phone"), "address": shown.get("address"), "unmasked": unmasked,
    }


@router.get("/persons", response=PersonPage, auth=django_auth, tags=["persons"], url_name="person_list")
def person_list(request: HttpRequest, page: int = 1) -> dict[str, Any]:
    """Persons in the caller's scope, masked per role (audited as a list view)."""
    if not request.user.has_perm("core.view_person"):
        raise Http404
    qs = Person.objects.restrict(request.user).order_by("-id")
    paged = Paginator(qs, 50).get_page(page)
    rows = list(paged.object_list)
    audit.record_many(AuditAction.LIST, rows, object_type="core.person", detail={"page": paged.number, "via": "api"})
    return {"count": paged.paginator.count, "page": paged.number, "pages": paged.paginator.num_pages,
            "results": [_person_out(request.user, p) for p in rows]}


@router.get("/persons/{person_id}", response=PersonSchema, auth=django_auth, tags=["persons"], url_name="person_detail")
def person_detail(request: HttpRequest, person_id: int) -> dict[str, Any]:
    """One person (404 when out of scope), audited as a view."""
    person = get_scoped_or_404(Person, request.user, pk=person_id)
    services.view_person(request.user, person)
    return _person_out(request.user, person)


@router.post("/persons", response={201: PersonSchema}, auth=django_auth, tags=["persons"], url_name="person_create")
def person_create(
    request: HttpRequest, payload: PersonCreateSchema, idempotency_key: str = Header(..., alias="Idempotency-Key")
) -> Status:
    """Register a person; a retry with the same ``Idempotency-Key`` is stored once."""
    if not request.user.has_perm("core.add_person"):
        raise PermissionDenied
    body = payload.dict()

    def create() -> tuple[int, dict[str, Any]]:
        person = services.create_person(request.user, services.PersonInput(**body))
        return 201, _person_out(request.user, person)

    status, out, _replayed = run_once(request.user, "persons.create", idempotency_key[:128], body, create)
    return Status(status, out)


@router.post("/persons/{person_id}/unmask", response=PersonSchema, auth=django_auth, tags=["persons"],
             url_name="person_unmask")
def person_unmask(request: HttpRequest, person_id: int, payload: UnmaskSchema) -> dict[str, Any]:
    """Reveal the masked fields the caller may reveal, recording the purpose (audited)."""
    person = get_scoped_or_404(Person, request.user, pk=person_id)
    services.unmask_person(request.user, person, payload.purpose)  # 403 without the unmask permission
    return _person_out(request.user, person, unmasked=True)


