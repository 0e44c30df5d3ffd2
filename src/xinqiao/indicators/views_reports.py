"""Pages of the supervision report (督导评估) and the data-quality panel (namespace ``indicators``).

Thin views: check the permission, resolve the region (``?region=``, default the user's own; a region
outside the user's scope or unknown is a 404, so its existence is not revealed) and the period
(``?period=``, default the latest stored for the region), call ``reports`` / ``quality``, render.

- ``report``: ``indicators.export_report``; ``?format=pdf|xlsx`` downloads the report (one ``export``
  audit event naming region, period and format), no format shows it as a page.
- ``quality``: ``indicators.view_data_quality``; counts per sub-region (aggregates only).
- ``quality_list``: the same permission; the records behind one count, through ``restrict`` and
  ``masks.present``, audited as a list view (``quality.view_list``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinqiao.core import audit
from xinqiao.core.exports import XLSX
from xinqiao.core.models import AuditAction, Region
from xinqiao.core.scope import in_scope
from xinqiao.indicators import periods, quality, reports
from xinqiao.indicators.periods import Period
from xinqiao.worklists.links import patient_link

REPORT_PERMISSION = "indicators.export_report"
FORMATS = ("html", "pdf", "xlsx")


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _region_or_404(request: HttpRequest) -> Region:
    """``?region=`` (default: the user's region) if it lies in the user's scope; 404 otherwise."""
    user: Any = request.user
    code = (request.GET.get("region") or user.region_id or "").strip()
    region = Region.objects.filter(code=code).first() if code else None
    if region is None or not in_scope(user, region.code):
        raise Http404
    return region


class BadPeriod(ValueError):
    pass


def _report_period(request: HttpRequest, region: Region) -> Period:
    """``?period=``; default the latest period stored for the region, else the last full quarter."""
    key = (request.GET.get("period") or "").strip() or reports.latest_period_key(region) or ""
    if not key:
        return periods.previous(periods.containing(timezone.localdate(), periods.QUARTER))
    try:
        return periods.parse(key)
    except ValueError as exc:
        raise BadPeriod(str(exc)) from exc


def _quality_period(request: HttpRequest) -> Period:
    """``?period=`` for the late case reports; default the current year."""
    key = (request.GET.get("period") or "").strip()
    if not key:
        return periods.containing(timezone.localdate(), periods.YEAR)
    try:
        return periods.parse(key)
    except ValueError as exc:
        raise BadPeriod(str(exc)) from exc


def _query(region_code: str, period: Period) -> str:
    return urlencode({"region": region_code, "period": period.key})


@login_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    """The supervision report of a region and period: a page, or ``?format=pdf|xlsx`` to download."""
    _require(request, REPORT_PERMISSION)
    region = _region_or_404(request)
    fmt = request.GET.get("format", "html") or "html"
    if fmt not in FORMATS:
        return HttpResponseBadRequest("format: pdf | xlsx")
    try:
        period = _report_period(request, region)
    except BadPeriod as exc:
        return HttpResponseBadRequest(str(exc))
    content = reports.build(region, period)
    if fmt == "html":
        return render(request, "indicators/report.html", {
            "report": content, "title": reports.title(content), "query": _query(region.code, period)})
    if fmt == "pdf":
        data, content_type = reports.render_pdf(content), "application/pdf"
    else:
        data, content_type = reports.render_xlsx(content), XLSX
    audit.record(AuditAction.EXPORT, object_type="indicators.indicatorresult", region_code=region.code,
                 detail={"report": "supervision", "region": region.code, "period": period.key, "format": fmt,
                         "indicators": len(content.lines), "rankings": len(content.rankings)})
    response = HttpResponse(data, content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="supervision-{region.code}-{period.key}-{stamp}.{fmt}"'
    return response


@login_required
@require_GET
def quality_panel(request: HttpRequest) -> HttpResponse:
    """Counts of every data-quality check per sub-region, each linking to its records."""
    _require(request, quality.PERMISSION)
    region = _region_or_404(request)
    try:
        period = _quality_period(request)
    except BadPeriod as exc:
        return HttpResponseBadRequest(str(exc))
    panel = quality.panel(region, period)
    panel_url = reverse("indicators:quality")
    rows = []
    for row in [*panel.rows, panel.total]:
        total = row is panel.total
        cells = []
        for rule in panel.rules:
            url = reverse("indicators:quality_list", kwargs={"rule": rule.code}) + "?" + _query(
                region.code if total else row.code, period)
            cells.append({"count": row.counts[rule.code], "url": url,
                          "of": row.case_reports if rule.subject == "case_report" else None})
        link = "" if total or row.code == region.code else f"{panel_url}?{_query(row.code, period)}"
        rows.append({"name": row.name, "cells": cells, "total": total, "link": link})
    return render(request, "indicators/quality.html", {
        "panel": panel, "rows": rows, "region_name": region.full_name()})


@login_required
@require_GET
def quality_list(request: HttpRequest, rule: str) -> HttpResponse:
    """The records one check flags in a region, as the user may see them (audited)."""
    _require(request, quality.PERMISSION)
    try:
        checked = quality.get(rule)
    except quality.UnknownRuleError:
        raise Http404 from None
    region = _region_or_404(request)
    try:
        period = _quality_period(request)
    except BadPeriod as exc:
        return HttpResponseBadRequest(str(exc))
    result = quality.view_list(request.user, checked.code, region, period, page=request.GET.get("page"))
    case_reports = checked.subject == "case_report"
    rows = []
    for item in result.rows:
        patient_id = item.record.patient_id if case_reports else item.record.pk
        rows.append({"item": item, "link": patient_link("record", patient_id) if patient_id else ""})
    return render(request, "indicators/quality_list.html", {
        "result": result, "rows": rows, "case_reports": case_reports, "region_name": region.full_name(),
        "query": _query(region.code, period), "back": reverse("indicators:quality") + "?" + _query(region.code, period)})
