"""Permission-matrix declarations of the supervision report and the data-quality panel (``indicators``).

Who holds what (roles.json, indicator permissions set by the indicators engine), written out:

* ``indicators.export_report`` (the report page and its PDF/Excel downloads): the regulator (city and
  province) and the county mental-health centre (mhc_staff), which supervises its townships.
* ``indicators.view_data_quality`` (the panel and its drill-down lists): the same three.
* everyone else signed in gets 403; the anonymous are sent to sign in.

The routes take the region as ``?region=`` (default: the user's own region), so the matrix calls
them for the user's own region; a region outside the user's scope answers 404, an unknown check 404
(tests/indicators/test_reports.py and test_quality.py). The drill-down rows go through
``Patient.objects.restrict``: a holder of the panel permission without the patient view permission
sees an empty list, never a 404 of the page.
"""

from __future__ import annotations

from tests.security.test_permission_matrix import Route, by_role

REPORT_EXPORTERS = frozenset({"regulator", "regulator_province", "mhc_staff_a"})
QUALITY_VIEWERS = frozenset({"regulator", "regulator_province", "mhc_staff_a"})


def _overdue(ctx: dict, scope: str) -> dict:
    return {"rule": "overdue_followup"}


ROUTES: dict[str, Route] = {
    "indicators:report": Route(by_role(REPORT_EXPORTERS, 200, 403), anon=302),
    "indicators:quality": Route(by_role(QUALITY_VIEWERS, 200, 403), anon=302),
    "indicators:quality_list": Route(by_role(QUALITY_VIEWERS, 200, 403), anon=302, kwargs=_overdue),
}
