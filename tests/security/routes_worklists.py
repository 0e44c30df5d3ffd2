"""Permission-matrix declarations of the work lists (loaded by ``test_permission_matrix``).

Who holds what (roles.json), written out:

* ``worklists.view_worklist`` (the pages, their htmx fragments and the API): the community doctor
  and the county centre (mhc_staff). Everyone else signed in gets 403: the lists are a working tool,
  not a record; a patient outside the user's scope never appears on them (tests/worklists).
* the Excel export also needs ``patients.export_patient``: both of them hold it.

The routes take the list's code, not a record: the answer does not depend on the scope. An unknown
list is a 404 (tests/worklists/test_views.py).
"""

from __future__ import annotations

from tests.security.test_permission_matrix import Route, by_role

WORKLIST_VIEWERS = frozenset({"community_doctor_a", "mhc_staff_a"})
EXPORTERS = frozenset({"community_doctor_a", "mhc_staff_a"})


def _overdue(ctx: dict, scope: str) -> dict:
    return {"code": "overdue"}


ROUTES: dict[str, Route] = {
    "worklists:overview": Route(by_role(WORKLIST_VIEWERS, 200, 403), anon=302),
    "worklists:list": Route(by_role(WORKLIST_VIEWERS, 200, 403), anon=302, kwargs=_overdue),
    "worklists:export": Route(by_role(EXPORTERS, 200, 403), anon=302, kwargs=_overdue),
    "api-1:worklist_counts": Route(by_role(WORKLIST_VIEWERS, 200, 403), anon=401),
    "api-1:worklist": Route(by_role(WORKLIST_VIEWERS, 200, 403), anon=401, kwargs=_overdue),
}
