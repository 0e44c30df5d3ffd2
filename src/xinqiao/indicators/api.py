"""API routes of the indicators app, mounted under ``/api/v1/indicators/``. Every route is in the permission matrix.

- ``GET /api/v1/indicators/definitions``: every indicator with its targets (any signed-in user: the
  definitions are public policy, not data).
- ``GET /api/v1/indicators/results?period=&region=&indicator=``: the stored results of a region (default
  the caller's own) for a period (default the latest stored quarter) and of its sub-regions, each
  with its traffic-light status. Needs ``indicators.view_indicatorresult`` (403); a region outside
  the caller's scope or unknown answers 404; a malformed period 422 with a field error naming it. Counts only, so not
  audited (like the work-list counts).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from ninja import Router
from ninja.security import django_auth

from xinqiao.core.models import Region
from xinqiao.indicators import charts, definitions
from xinqiao.indicators.definitions import Indicator
from xinqiao.indicators.periods import Period
from xinqiao.indicators.schemas import DefinitionSchema, ResultsSchema

router = Router(tags=["indicators"])


def _definition(ind: Indicator) -> dict[str, Any]:
    return {
        "code": ind.code, "name_zh": ind.name_zh, "name_en": ind.name_en, "group": ind.group, "unit": ind.unit,
        "scale": ind.scale, "direction": ind.direction, "numerator_zh": ind.numerator_zh,
        "numerator_en": ind.numerator_en, "denominator_zh": ind.denominator_zh,
        "denominator_en": ind.denominator_en, "source": ind.source, "levels": list(ind.levels),
        "drilldown": ind.drilldown,
        "targets": [{"value": t.value, "year": t.year, "comparator": t.comparator, "source": t.source,
                     "note": t.note, "zone": t.zone} for t in ind.targets],
    }


@router.get("/definitions", response=list[DefinitionSchema], auth=django_auth, url_name="indicator_definitions")
def indicator_definitions(request: HttpRequest) -> list[dict[str, Any]]:
    """Every indicator: names, numerator and denominator, unit, direction, levels and targets with sources."""
    return [_definition(ind) for ind in definitions.all_indicators()]


def _result(line: charts.Line) -> dict[str, Any]:
    return {"indicator": line.ind.code, "value": line.value, "numerator": line.numerator,
            "denominator": line.denominator, "status": line.status,
            "target": line.target.value if line.target else None,
            "target_year": line.target.year if line.target else None,
            "target_source": line.target.source if line.target else None}


def _subregions(user: Any, region: Region | None, period: Period, codes: set[str]) -> list[dict[str, Any]]:
    """Every sub-region with its results (one query)."""
    return [{"code": code, "name": place.name, "level": place.level, "results": [_result(ln) for ln in lines]}
            for code, (place, lines) in charts.subregion_lines(user, region, period, codes).items()]


@router.get("/results", response=ResultsSchema, auth=django_auth, url_name="indicator_results")
def indicator_results(request: HttpRequest, period: str = "", region: str = "", indicator: str = "") -> dict[str, Any]:
    """Stored results of a region and its sub-regions for a period, with status against the target."""
    user: Any = request.user
    if not user.has_perm(charts.VIEW_PERMISSION):
        raise PermissionDenied
    place = charts.region_or_404(user, region)
    try:
        chosen = charts.parse_period(user, place, period)
    except ValueError as exc:
        raise ValidationError({"period": [str(exc)]}) from exc
    lines, _keys = charts.overview(user, place, chosen)
    if indicator:
        try:
            definitions.get(indicator)
        except KeyError:
            raise Http404 from None
        lines = [ln for ln in lines if ln.ind.code == indicator]
        codes = {indicator}
    else:
        codes = {ind.code for ind in definitions.all_indicators()}
    own = None
    if place is not None:
        own = {"code": place.code, "name": place.name, "level": place.level,
               "results": [_result(ln) for ln in lines if ln.computed]}
    return {"period": chosen.key, "period_type": chosen.type, "periods": charts.stored_periods(user, place),
            "region": own, "subregions": _subregions(user, place, chosen, codes)}
