"""Django admin for indicators: computed results and the runs that computed them, read-only.

Results are recomputed from the source records (nightly, on demand from the indicator pages, or
with ``xinqiao indicators``); an edit here would be overwritten and is refused. Results are scoped
like the dashboards (``restrict``). They hold counts, no personal data.
"""

from __future__ import annotations

from django.contrib import admin

from xinqiao.core.admin import ReadOnlyAdmin, ScopedReadOnlyAdmin
from xinqiao.indicators.models import IndicatorResult, IndicatorRun


@admin.register(IndicatorResult)
class IndicatorResultAdmin(ScopedReadOnlyAdmin):
    """Indicator values per region and period, in the administrator's region."""

    list_display = ("indicator", "period", "region", "level", "numerator", "denominator", "value", "computed_at")
    list_select_related = ("region",)
    list_filter = ("period_type", "level")
    search_fields = ("indicator", "period")


@admin.register(IndicatorRun)
class IndicatorRunAdmin(ReadOnlyAdmin):
    """The log of computations: trigger, duration, rows written, errors."""

    list_display = ("started_at", "period", "trigger", "incremental", "skipped", "rows", "duration_s", "requested_by")
    list_select_related = ("requested_by",)
    list_filter = ("trigger", "skipped")
