"""Regulator pages of the indicators (namespace ``indicators``): dashboard, one indicator, its patients, refresh.

Thin views: check the permission, resolve the region (``?region=``, default the user's own; outside
the user's scope or unknown → 404) and the period (``?period=``, default the latest stored quarter;
malformed → 400 naming it), read through ``charts`` (``IndicatorResult.objects.restrict``), render.

- ``dashboard``: every indicator of the region against its target (traffic light, target year and
  source, previous period), and for one indicator (``?focus=``) the trend, the sorted bars and the
  choropleth map of the sub-regions (bars only where no boundary exists).
- ``detail``: one indicator, its sub-regions each linking one level down (province → city → county
  → township), and the links to the patients behind its numerator, denominator or missing from it.
- ``patients``: that patient list through ``drilldown.patients(base=Patient.objects.restrict(user))``,
  masked with ``masks.present`` and audited as a list view; needs ``patients.view_patient`` too.
- ``refresh``: POST, ``indicators.refresh_indicators``; recomputes the period (``engine.refresh``,
  trigger ``on_demand``) and records a ``change`` audit event naming the run.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xinqiao.core import audit
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, Region
from xinqiao.indicators import charts, definitions, drilldown, engine
from xinqiao.indicators.definitions import Indicator
from xinqiao.indicators.models import IndicatorRun
from xinqiao.indicators.periods import Period
from xinqiao.patients.models import Patient

log = logging.getLogger(__name__)
PAGE_SIZE = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _which_label(which: str) -> str:
    return {"numerator": _("Patients in the numerator"), "denominator": _("Patients in the denominator"),
            "missing": _("Patients missing from the numerator")}[which]


def _sides(ind: Indicator) -> list[str]:
    """The sides of ``ind`` that have a patient list (``drilldown.condition`` accepts them)."""
    if not ind.drilldown:
        return []
    sides = []
    for which in drilldown.WHICH:
        try:
            drilldown.condition(ind.code, which)
        except ValueError:
            continue
        sides.append(which)
    return sides


def _region_name(region: Region | None) -> str:
    return region.full_name() if region is not None else _("All provinces")


def _page_context(request: HttpRequest, region: Region | None, period: Period, focus: Indicator,
                  lines: list[charts.Line], keys: list[Period]) -> dict[str, Any]:
    """What the dashboard and the indicator page share: the region, the period and the focus charts."""
    user: Any = request.user
    subs = charts.subregions(user, region, period, focus)
    line = next((ln for ln in lines if ln.ind.code == focus.code), None)
    trend = line.trend if line is not None else []
    name = _region_name(region)
    stored = charts.stored_periods(user, region)
    if period.key not in stored:
        stored = [period.key, *stored]
    return {
        "region": region, "region_name": name, "period": period, "periods": stored,
        "crumbs": [(r, charts.dashboard_url(r, period)) for r in charts.breadcrumbs(user, region)],
        "focus": focus, "focus_line": line, "focus_name": charts.name(focus), "subregions": subs,
        "chart": charts.chart_data(focus, region, period, subs, trend, keys, name),
        "has_map": charts.boundary(region) is not None, "sub_level": charts.level_of(region) + 1,
        "can_refresh": user.has_perm(charts.REFRESH_PERMISSION),
        "can_report": user.has_perm("indicators.export_report") and region is not None,
        "can_quality": user.has_perm("indicators.view_data_quality") and region is not None,
        "query": charts.query(region, period),
    }


def _resolve(request: HttpRequest) -> tuple[Region | None, Period]:
    region = charts.region_or_404(request.user, request.GET.get("region"))
    period = charts.parse_period(request.user, region, request.GET.get("period"))
    return region, period


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every indicator of the region against its target, and one indicator's trend, bars and map."""
    _require(request, charts.VIEW_PERMISSION)
    try:
        region, period = _resolve(request)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    lines, keys = charts.overview(request.user, region, period)
    codes = [ln.ind.code for ln in lines]
    wanted = request.GET.get("focus") or charts.DEFAULT_FOCUS
    focus = definitions.get(wanted if wanted in codes else (charts.DEFAULT_FOCUS if charts.DEFAULT_FOCUS in codes
                                                             else codes[0]))
    context = _page_context(request, region, period, focus, lines, keys)
    context.update({
        "groups": [(_("Patient management"), [ln for ln in lines if ln.ind.group == "patient"]),
                   (_("Service system"), [ln for ln in lines if ln.ind.group == "service"])],
        "choices": [(ln.ind.code, ln.name) for ln in lines],
        "counts": {s: sum(1 for ln in lines if ln.status == s) for s in charts.STATUSES},
    })
    return render(request, "indicators/dashboard.html", context)


@login_required
@require_GET
def detail(request: HttpRequest, code: str) -> HttpResponse:
    """One indicator: its value and target, trend, sub-regions (each linking down) and patient lists."""
    _require(request, charts.VIEW_PERMISSION)
    ind = charts.indicator_or_404(code)
    try:
        region, period = _resolve(request)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    lines, keys = charts.overview(request.user, region, period)
    context = _page_context(request, region, period, ind, lines, keys)
    can_list = request.user.has_perm(charts.PATIENT_PERMISSION) and region is not None
    context.update({
        "ind": ind, "numerator_label": charts.numerator_label(ind), "denominator_label": charts.denominator_label(ind),
        "patient_links": [(which, _which_label(which), charts.patients_url(ind.code, region, period, which))
                          for which in _sides(ind)] if can_list and region is not None else [],
        "computed_here": region is None or region.level in ind.levels,
    })
    return render(request, "indicators/detail.html", context)


@login_required
@require_GET
def patients(request: HttpRequest, code: str) -> HttpResponse:
    """The patients behind an indicator's numerator or denominator, or missing from it; masked, audited."""
    _require(request, charts.VIEW_PERMISSION)
    _require(request, charts.PATIENT_PERMISSION)
    user: Any = request.user
    ind = charts.indicator_or_404(code)
    if not ind.drilldown:
        raise Http404
    region = charts.region_or_404(user, request.GET.get("region"))
    if region is None:
        raise Http404
    which = request.GET.get("which") or "missing"
    if which not in _sides(ind):
        return HttpResponseBadRequest(_("“%(which)s” is not a patient list of this indicator.") % {"which": which})
    try:
        period = charts.parse_period(user, region, request.GET.get("period"))
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    base = Patient.objects.restrict(user).select_related("person", "region")
    qs = drilldown.patients(ind.code, period, region.code, which, base=base)
    page = Paginator(qs.order_by("region_id", "register_number", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(p, present(user, p.person), present(user, p)) for p in page.object_list]
    audit.record_many(AuditAction.LIST, [p for p, _a, _b in rows], object_type="patients.patient",
                      region_code=region.code,
                      detail={"indicator": ind.code, "period": period.key, "region": region.code, "which": which,
                              "page": page.number, "total": page.paginator.count})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "indicators/patients.html", {
        "ind": ind, "ind_name": charts.name(ind), "region": region, "region_name": region.full_name(),
        "period": period, "which": which, "which_label": _which_label(which), "page": page, "rows": rows,
        "query": query.urlencode(), "back": charts.detail_url(ind.code, region, period),
        "sides": [(w, _which_label(w), charts.patients_url(ind.code, region, period, w)) for w in _sides(ind)],
    })


@login_required
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """Recompute a period's indicators now (``engine.refresh``, trigger on demand); audited."""
    _require(request, charts.REFRESH_PERMISSION)
    user: Any = request.user
    region = charts.region_or_404(user, request.POST.get("region"))
    try:
        period = charts.parse_period(user, region, request.POST.get("period"))
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    try:
        run = engine.refresh(period, trigger=IndicatorRun.Trigger.ON_DEMAND, user=user)
    except Exception:
        log.exception("on-demand refresh of %s failed", period.key)
        messages.error(request, _("The indicators of %(period)s could not be recomputed; the previous results "
                                  "are kept. The error is in the log.") % {"period": period.key})
        return redirect(charts.dashboard_url(region, period))
    audit.record(AuditAction.CHANGE, object_type="indicators.indicatorrun", object_id=run.pk,
                 region_code=region.code if region is not None else "",
                 detail={"period": period.key, "trigger": run.trigger, "rows": run.rows,
                         "indicators": len(run.indicators), "seconds": run.duration_s})
    messages.success(request, _("Indicators of %(period)s recomputed: %(rows)s results in %(seconds).1f s.")
                     % {"period": period.key, "rows": run.rows, "seconds": run.duration_s or 0.0})
    return redirect(charts.dashboard_url(region, period))
