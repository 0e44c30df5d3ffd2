"""The permission matrix: every URL pattern × every role × in scope / sibling / out of scope / anonymous.

A route that is not declared in ``MATRIX`` (or, for the Django admin, covered by the staff-only
rule) fails ``test_every_route_is_declared``. Each declared route states the status each role gets:
for record routes, for a record in the user's region (``in``: township A), in the neighbouring
county (``sibling``: township B, same city) and in another province (``out``: Beijing). The users
all sit in township A, county A, the city or the province (see ``tests/factories.build_cast``).

Expected answers are written out per role, not derived from the code under test: a change in a
role's permissions or in the scoping must show up here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import PersonFactory, build_cast
from tests.helpers import login_verified
from xinqiao.core.models import Region

# Users, one per role, placed in township A / county A / the city (and the province regulator).
USERS = [
    "sysadmin", "regulator", "regulator_province", "mhc_staff_a", "psychiatrist_a", "community_doctor_a",
    "police_a", "civil_affairs_a", "zongzhi_a", "grid_worker_a", "disabled_federation_a",
    "hotline_counsellor", "crisis_lead", "psychologist_a", "no_role",
]
EVERYONE = frozenset(USERS)
CITY_OR_ABOVE = frozenset({"sysadmin", "regulator", "regulator_province"})
# Who holds which permission (roles.json), written out.
PERSON_VIEWERS = frozenset({
    "sysadmin", "regulator", "regulator_province", "mhc_staff_a", "psychiatrist_a", "community_doctor_a",
    "police_a", "civil_affairs_a", "zongzhi_a", "grid_worker_a", "disabled_federation_a",
})
PERSON_ADDERS = frozenset({"mhc_staff_a", "psychiatrist_a", "community_doctor_a"})
PERSON_EXPORTERS = frozenset({"mhc_staff_a", "community_doctor_a"})
PERSON_UNMASKERS = frozenset({"mhc_staff_a", "psychiatrist_a", "community_doctor_a", "police_a",
                              "civil_affairs_a", "zongzhi_a"})
ORG_VIEWERS = EVERYONE - {"no_role"}
AUDIT_READERS = frozenset({"sysadmin", "regulator", "regulator_province"})
STAFF = frozenset({"sysadmin"})

SCOPES = ("in", "sibling", "out")


def by_role(yes: frozenset[str], yes_status: int, no_status: int) -> Callable[[str, str], int]:
    """Same answer in every scope: ``yes_status`` for the listed roles, ``no_status`` otherwise."""
    return lambda user, scope: yes_status if user in yes else no_status


def record(viewers: frozenset[str], ok: int = 200, *, denied_in_scope: int = 404,
           capable: frozenset[str] | None = None, incapable_status: int = 403) -> Callable[[str, str], int]:
    """A record route: ``ok`` where the user reaches the record, 404 where it is out of their scope.

    ``capable`` (if given) is the subset of viewers allowed the action; the other viewers get
    ``incapable_status`` on records they can see.
    """
    def expect(user: str, scope: str) -> int:
        reaches = user in viewers and (scope == "in" or (scope == "sibling" and user in CITY_OR_ABOVE))
        if not reaches:
            return denied_in_scope
        if capable is not None and user not in capable:
            return incapable_status
        return ok
    return expect


@dataclass
class Route:
    """How to call a route and what each role gets."""

    expect: Callable[[str, str], int]
    anon: int
    method: str = "get"
    kwargs: Callable[[dict[str, Any], str], dict[str, Any]] = field(default=lambda ctx, scope: {})
    data: Callable[[dict[str, Any], str, str], Any] | None = None
    json: bool = False
    per_scope: bool = False  # whether the answer depends on the record's region


def person_kwargs(name: str) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    return lambda ctx, scope: {name: ctx["persons"][scope].pk}


def api_person_payload(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    return {"name": "矩阵测试", "id_type": "resident_id", "id_number": "", "region_code": ctx["town_a"]}


MATRIX: dict[str, Route] = {
    "core:home": Route(by_role(EVERYONE, 200, 200), anon=302),
    "core:healthz": Route(by_role(EVERYONE, 200, 200), anon=200),
    "core:login": Route(by_role(EVERYONE, 302, 302), anon=200),
    "core:logout": Route(by_role(EVERYONE, 302, 302), anon=302, method="post"),
    "core:two_factor": Route(by_role(EVERYONE, 200, 200), anon=302),
    "core:region_browser": Route(by_role(EVERYONE, 200, 200), anon=200),
    "core:region_search": Route(by_role(EVERYONE, 200, 200), anon=200),
    "core:region_children": Route(by_role(EVERYONE, 200, 200), anon=200, kwargs=lambda ctx, s: {"code": "440106"}),
    "core:organisation_list": Route(by_role(ORG_VIEWERS, 200, 403), anon=302),
    "core:organisation_detail": Route(by_role(ORG_VIEWERS, 200, 403), anon=302,
                                      kwargs=lambda ctx, s: {"pk": ctx["org"].pk}),
    "core:person_list": Route(by_role(PERSON_VIEWERS, 200, 404), anon=302),
    "core:person_create": Route(by_role(PERSON_ADDERS, 200, 403), anon=302),
    "core:person_export": Route(by_role(PERSON_EXPORTERS, 200, 403), anon=302),
    "core:person_detail": Route(record(PERSON_VIEWERS), anon=302, kwargs=person_kwargs("pk"), per_scope=True),
    "core:person_unmask": Route(record(PERSON_VIEWERS, capable=PERSON_UNMASKERS), anon=302, method="post",
                                kwargs=person_kwargs("pk"), data=lambda ctx, u, s: {"purpose": "矩阵测试：核对身份"},
                                per_scope=True),
    "core:audit_list": Route(by_role(AUDIT_READERS, 200, 403), anon=302),
    "set_language": Route(by_role(EVERYONE, 302, 302), anon=302, method="post",
                          data=lambda ctx, u, s: {"language": "en", "next": "/"}),
    "api-1:openapi-json": Route(by_role(EVERYONE, 200, 200), anon=200),
    "api-1:openapi-view": Route(by_role(EVERYONE, 200, 200), anon=200),
    "api-1:api-root": Route(by_role(EVERYONE, 404, 404), anon=404),
    "api-1:region_search": Route(by_role(EVERYONE, 200, 200), anon=200),
    "api-1:region_detail": Route(by_role(EVERYONE, 200, 200), anon=200, kwargs=lambda ctx, s: {"code": "440106"}),
    "api-1:organisation_list": Route(by_role(ORG_VIEWERS, 200, 403), anon=401),
    "api-1:organisation_detail": Route(by_role(ORG_VIEWERS, 200, 403), anon=401,
                                       kwargs=lambda ctx, s: {"org_id": ctx["org"].pk}),
    "api-1:me": Route(by_role(EVERYONE, 200, 200), anon=401),
    "api-1:person_list": Route(by_role(PERSON_VIEWERS, 200, 404), anon=401),
    "api-1:person_create": Route(by_role(PERSON_ADDERS, 201, 403), anon=401, method="post",
                                 data=api_person_payload, json=True),
    "api-1:person_detail": Route(record(PERSON_VIEWERS), anon=401, kwargs=person_kwargs("person_id"), per_scope=True),
    "api-1:person_unmask": Route(record(PERSON_VIEWERS, capable=PERSON_UNMASKERS), anon=401, method="post",
                                 kwargs=person_kwargs("person_id"), per_scope=True, json=True,
                                 data=lambda ctx, u, s: {"purpose": "矩阵测试：核对身份"}),
    "fhir:metadata": Route(by_role(EVERYONE, 200, 200), anon=200),
    "fhir:patient_read": Route(record(PERSON_VIEWERS), anon=401, kwargs=person_kwargs("pk"), per_scope=True),
    # Without an identifier: viewers are told it is missing; others get an empty Bundle (nothing to see).
    "fhir:patient_search": Route(by_role(PERSON_VIEWERS, 400, 200), anon=401),
    "fhir:patient_search_post": Route(by_role(PERSON_VIEWERS, 200, 200), anon=401, method="post",
                                      data=lambda ctx, u, s: {"identifier": ctx["identifier"]}),
    # The Django admin: declared individually where personal data is shown; the rest by ADMIN_RULE.
    "admin:index": Route(by_role(STAFF, 200, 302), anon=302),
    "admin:core_person_changelist": Route(by_role(STAFF, 200, 302), anon=302),
    "admin:core_person_change": Route(
        lambda u, s: (200 if s in ("in", "sibling") else 302) if u in STAFF else 302,
        anon=302, kwargs=lambda ctx, s: {"object_id": ctx["persons"][s].pk}, per_scope=True),
    "admin:core_auditevent_changelist": Route(by_role(STAFF, 200, 302), anon=302),

    "api-1:screening_instruments": Route(by_role(EVERYONE, 200, 200), anon=200),
    # Anyone may submit a completed scale (public self-screening and campaign participants have no
    # account); the answer is the score of what was sent, nothing of anybody else's.
    "api-1:screening_responses": Route(by_role(EVERYONE, 201, 201), anon=201, method="post", json=True,
                                       data=lambda ctx, u, s: {"instrument": "phq2", "answers": [1, 1],
                                                               "region_code": "440106"}),
}


def _load_route_modules() -> None:
    """Each app's routes are declared in ``tests/security/routes_<app>.py`` as ``ROUTES``."""
    import importlib
    import pkgutil

    import tests.security as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("routes_"):
            module = importlib.import_module(f"tests.security.{info.name}")
            clash = set(module.ROUTES) & set(MATRIX)
            assert not clash, f"{info.name} declares routes twice: {clash}"
            MATRIX.update(module.ROUTES)


_load_route_modules()

# Every other admin route: never 200 for a non-staff user or the anonymous (redirect to the admin login).
ADMIN_PREFIX = "admin/"


def walk(patterns: list[Any], prefix: str = "", ns: str = "") -> list[tuple[str, str | None, URLPattern]]:
    out = []
    for p in patterns:
        if isinstance(p, URLResolver):
            out += walk(p.url_patterns, prefix + str(p.pattern), ns + (f"{p.namespace}:" if p.namespace else ""))
        else:
            out.append((prefix + str(p.pattern), f"{ns}{p.name}" if p.name else None, p))
    return out


def all_routes() -> list[tuple[str, str | None, URLPattern]]:
    return walk(get_resolver().url_patterns)


def test_every_route_is_declared() -> None:
    undeclared = [
        (path, name) for path, name, _p in all_routes()
        if not path.startswith(ADMIN_PREFIX) and name not in MATRIX
    ]
    assert undeclared == [], f"routes missing from the permission matrix: {undeclared}"
    unnamed = [path for path, name, _p in all_routes() if name is None and not path.startswith(ADMIN_PREFIX)]
    assert unnamed == [], f"routes without a name cannot be declared: {unnamed}"


def test_matrix_has_no_stale_entries() -> None:
    names = {name for _path, name, _p in all_routes()}
    assert set(MATRIX) - names == set()


@pytest.fixture
def ctx(db: Any) -> dict[str, Any]:
    from xinqiao.core.demo import demo_townships
    from xinqiao.core.models import Organisation, OrgType

    cast = build_cast()
    town_a, town_b = demo_townships()
    beijing = Region.objects.get(code="110101001")
    persons = {
        "in": PersonFactory(region=town_a),
        "sibling": PersonFactory(region=town_b),
        "out": PersonFactory(region=beijing),
    }
    org = Organisation.objects.create(name="矩阵测试机构", org_type=OrgType.POLICE_STATION, region=town_a)
    from xinqiao.fhir.resources import id_system

    identifier = f"{id_system('resident_id')}|{persons['in'].id_number}"
    return {"cast": cast, "persons": persons, "org": org, "town_a": town_a.code, "identifier": identifier}


def call(client: Any, route: Route, name: str, ctx: dict[str, Any], user: str, scope: str, n: int) -> int:
    url = reverse(name, kwargs=route.kwargs(ctx, scope))
    if route.method == "get":
        return int(client.get(url).status_code)
    data = route.data(ctx, user, scope) if route.data else {}
    if route.json:
        return int(client.post(url, data, content_type="application/json",
                               headers={"Idempotency-Key": f"matrix-{user}-{scope}-{n}"}).status_code)
    return int(client.post(url, data).status_code)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_route_answers_per_role_and_scope(name: str, ctx: dict[str, Any], client: Any) -> None:
    route = MATRIX[name]
    scopes = SCOPES if route.per_scope else ("in",)
    failures = []
    counter = itertools.count()
    for scope in scopes:
        client.logout()
        got = call(client, route, name, ctx, "anonymous", scope, next(counter))
        if got != route.anon:
            failures.append(("anonymous", scope, route.anon, got))
        for user in USERS:
            login_verified(client, ctx["cast"][user])
            want = route.expect(user, scope)
            got = call(client, route, name, ctx, user, scope, next(counter))
            if got != want:
                failures.append((user, scope, want, got))
    assert failures == [], f"{name}: (user, scope, expected, got) {failures}"


def _admin_url(pattern: URLPattern, path: str) -> str:
    url = "/" + path
    for token in ("<path:object_id>", "<int:object_id>", "<object_id>", "<id>", "<int:id>"):
        url = url.replace(token, "1")
    for token in ("<int:content_type_id>", "<path:object_id>"):
        url = url.replace(token, "1")
    import re

    url = re.sub(r"<[^>]+>", "x", url)
    url = url.replace("^", "").replace("$", "")
    return url


def test_admin_routes_refuse_non_staff(ctx: dict[str, Any], client: Any) -> None:
    non_staff = [u for u in USERS if u not in STAFF]
    # The admin's own sign-in page is a form, open to all; everything else must refuse.
    admin_paths = [(path, name, p) for path, name, p in all_routes()
                   if path.startswith(ADMIN_PREFIX) and name not in ("admin:login",)]
    assert len(admin_paths) > 20
    leaks = []
    for path, name, pattern in admin_paths:
        url = _admin_url(pattern, path)
        client.logout()
        if client.get(url).status_code == 200:
            leaks.append(("anonymous", name, url))
        for user in [*non_staff[:4], "grid_worker_a", "no_role"]:
            login_verified(client, ctx["cast"][user])
            if client.get(url).status_code == 200:
                leaks.append((user, name, url))
    assert leaks == []
