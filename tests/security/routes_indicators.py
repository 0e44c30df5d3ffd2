"""Permission-matrix declarations of the indicator dashboard, drill-down and API (loaded by ``test_permission_matrix``).

Who holds what (roles.json), written out:

* ``indicators.view_indicatorresult`` (dashboard, indicator page, results API): sysadmin, the city
  and province regulators, the county centre (mhc_staff). Everyone else signed in gets 403.
* the patient list behind an indicator also needs ``patients.view_patient``: the regulators and the
  county centre; sysadmin (no patient access) gets 403.
* ``indicators.refresh_indicators`` (POST refresh): sysadmin and the county centre; they are sent
  back to the dashboard (302).
* the definitions API: anyone signed in (the definitions are policy, not data).

The matrix calls each route without a query string, i.e. for the user's own region; the 404 for a
region outside the user's scope (``?region=``) is tested in ``tests/indicators/test_views.py`` and
``test_api.py``.
"""

from __future__ import annotations

from tests.security.test_permission_matrix import EVERYONE, Route, by_role

VIEWERS = frozenset({"sysadmin", "regulator", "regulator_province", "mhc_staff_a"})
PATIENT_LISTERS = frozenset({"regulator", "regulator_province", "mhc_staff_a"})
REFRESHERS = frozenset({"sysadmin", "mhc_staff_a"})


def _managed(ctx: dict, scope: str) -> dict:
    return {"code": "managed_rate"}


ROUTES: dict[str, Route] = {
    "indicators:dashboard": Route(by_role(VIEWERS, 200, 403), anon=302),
    "indicators:detail": Route(by_role(VIEWERS, 200, 403), anon=302, kwargs=_managed),
    "indicators:patients": Route(by_role(PATIENT_LISTERS, 200, 403), anon=302, kwargs=_managed),
    "indicators:refresh": Route(by_role(REFRESHERS, 302, 403), anon=302, method="post",
                                data=lambda ctx, u, s: {"period": "2026Q3"}),
    "api-1:indicator_definitions": Route(by_role(EVERYONE, 200, 200), anon=401),
    "api-1:indicator_results": Route(by_role(VIEWERS, 200, 403), anon=401),
}
