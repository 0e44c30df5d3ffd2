"""Page routes of the indicators app (namespace ``indicators``). Every route is in the permission matrix."""

import re

from django.urls import path, register_converter

from xinqiao.indicators import definitions, views


class IndicatorCodeConverter:
    """Only the codes of ``data/indicators.json`` match: ``report/``, ``quality/`` … never look like one."""

    regex = "|".join(re.escape(ind.code) for ind in definitions.all_indicators())

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IndicatorCodeConverter, "indicator")

app_name = "indicators"

# DASHBOARD: the regulator dashboard, one indicator with its drill-down, its patients, refresh (views.py).
urlpatterns: list = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.refresh, name="refresh"),
    path("<indicator:code>/", views.detail, name="detail"),
    path("<indicator:code>/patients/", views.patients, name="patients"),
]

# REPORTS: supervision report (督导评估) and data-quality panel (views_reports.py).
from xinqiao.indicators import views_reports  # noqa: E402

urlpatterns += [
    path("report/", views_reports.report, name="report"),
    path("quality/", views_reports.quality_panel, name="quality"),
    path("quality/<slug:rule>/", views_reports.quality_list, name="quality_list"),
]

# SERVICE: import of populations and survey figures (views_population.py).
from xinqiao.indicators import views_population  # noqa: E402

urlpatterns += [
    path("populations/upload/", views_population.population_upload, name="population_upload"),
]
