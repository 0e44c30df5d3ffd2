"""Permission-matrix declarations of the registry's public pages (``services:*``) and public API
(``api-1:services_*``): no sign-in, the same answer for every role and the anonymous.

The service page is called for the ``in`` scope's village counselling room of routes_registry (a
public kind). The look-up and complaint pages are called with GET here (their POSTs, the rate
limits and the answers are covered in tests/registry/test_public.py); the API look-up is a POST
with a name and number that match nothing, which every caller gets answered alike.
"""

from __future__ import annotations

from typing import Any

from tests.security.routes_registry import registry_objects
from tests.security.test_permission_matrix import EVERYONE, Route, by_role


def _point(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    return {"pk": registry_objects(ctx)["in"]["institution"].points.get().pk}


ROUTES: dict[str, Route] = {
    "services:finder": Route(by_role(EVERYONE, 200, 200), anon=200),
    "services:point_detail": Route(by_role(EVERYONE, 200, 200), anon=200, kwargs=_point),
    "services:lookup": Route(by_role(EVERYONE, 200, 200), anon=200),
    "services:disclosure_index": Route(by_role(EVERYONE, 200, 200), anon=200),
    "services:disclosure": Route(by_role(EVERYONE, 200, 200), anon=200, kwargs=lambda ctx, s: {"code": "4401"}),
    "services:complaint_create": Route(by_role(EVERYONE, 200, 200), anon=200),
    "services:complaint_status": Route(by_role(EVERYONE, 200, 200), anon=200),
    "api-1:services_finder": Route(by_role(EVERYONE, 200, 200), anon=200),
    "api-1:services_lookup": Route(by_role(EVERYONE, 200, 200), anon=200, method="post", json=True,
                                   data=lambda ctx, u, s: {"name": "无此人", "number": "NO-SUCH-NUMBER"}),
    "api-1:services_disclosure": Route(by_role(EVERYONE, 200, 200), anon=200, kwargs=lambda ctx, s: {"code": "4401"}),
}
