"""Work-list pages (namespace ``worklists``): the overview, one list, and its Excel export.

Thin views: check the permission, call ``services`` (which queries and audits), render. Phone
first: a list of cards, tabs that scroll sideways, and htmx that swaps the tabs and the list in
place (``hx-get`` on each tab; without JavaScript the tabs are plain links).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from xinqiao.worklists import exports, queries, rules, services
from xinqiao.worklists.labels import list_description, list_label
from xinqiao.worklists.links import patients_links, worklist_urls


def _require(request: HttpRequest, perm: str = queries.PERMISSION) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _mine(request: HttpRequest) -> bool:
    return request.GET.get("mine") == "1"


def _code_or_404(code: str) -> str:
    try:
        return queries.check_code(code)
    except queries.UnknownListError:
        raise Http404 from None


def _context(request: HttpRequest, result: queries.WorklistPage, *, overview: bool) -> dict[str, Any]:
    mine = _mine(request)
    urls = worklist_urls()  # reversed once, not per tab and link
    links = patients_links([row.patient.pk for row in result.rows])
    return {
        "result": result,
        "code": result.code,
        "label": list_label(result.code),
        "description": list_description(result.code),
        "list_url": urls[result.code]["list"],
        "export_url": urls[result.code]["export"],
        "tabs": [{"code": c, "label": list_label(c), "count": result.counts[c], "active": c == result.code,
                  "url": urls[c]["list"]} for c in rules.LIST_CODES],
        "rows": [{"row": row, "links": row_links} for row, row_links in zip(result.rows, links, strict=True)],
        "mine": mine,
        "mine_query": "mine=1&" if mine else "",
        "overview": overview,
        "caseload": queries.is_caseload_user(request.user),
        "can_export": request.user.has_perm("patients.export_patient"),
        "first_visit_days": rules.settings().first_visit_days,
        "lost_threshold": rules.settings().failed_attempts_for_lost,
        # The county centre's board: case reports not yet entered, past their deadline (patients app).
        "pending_reports": queries.pending_case_report_counts(request.user) if overview else None,
    }


def _respond(request: HttpRequest, page_template: str, context: dict[str, Any]) -> HttpResponse:
    """The whole page, or only the tabs and list for an htmx tab switch."""
    template = "worklists/_worklist.html" if getattr(request, "htmx", False) else page_template
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The counts of every list and the top of one (``?list=``, default overdue)."""
    _require(request)
    active = request.GET.get("list", rules.DEFAULT_LIST)
    if active not in rules.LIST_CODES:
        active = rules.DEFAULT_LIST
    result = services.view_overview(request.user, active=active, mine=_mine(request))
    return _respond(request, "worklists/overview.html", _context(request, result, overview=True))


@login_required
@require_GET
def worklist(request: HttpRequest, code: str) -> HttpResponse:
    """One list, paginated; 404 for an unknown list."""
    _require(request)
    code = _code_or_404(code)
    result = services.view_worklist(request.user, code, page=request.GET.get("page"), mine=_mine(request))
    return _respond(request, "worklists/list.html", _context(request, result, overview=False))


@login_required
@require_GET
def worklist_export(request: HttpRequest, code: str) -> HttpResponse:
    """List ``code`` as an Excel file, masked as on screen; audited with the count."""
    _require(request)
    _require(request, "patients.export_patient")
    code = _code_or_404(code)
    return exports.export_worklist_xlsx(request.user, code, mine=_mine(request))
