"""API routes of the worklists app, mounted under ``/api/v1/worklists/``. Every route is in the permission matrix.

- ``GET /api/v1/worklists/``: the number of patients on each list (one aggregate query; no rows,
  so nothing personal is shown and nothing is audited);
- ``GET /api/v1/worklists/{list}?page=&mine=``: one page of a list, masked per role, audited as a
  list view (like the page).

403 without ``worklists.view_worklist``; 404 for an unknown list.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.security import django_auth

from xinqiao.worklists import queries, rules, services
from xinqiao.worklists.labels import list_label
from xinqiao.worklists.links import patient_links

router = Router(tags=["worklists"])


class WorklistCountsSchema(Schema):
    """How many patients are on each list, and the lists' names in the caller's language."""

    counts: dict[str, int]
    labels: dict[str, str]
    mine: bool


class WorklistRowSchema(Schema):
    """One patient on a list; personal fields as the caller's role may see them (masked or absent)."""

    id: int
    register_number: str
    township_code: str
    township: str
    status: str
    name: str | None
    danger_level: int | None
    danger_level_label: str | None
    last_classification: str | None
    last_followup_date: str | None
    next_followup_due: str | None
    responsible_doctor: str | None
    failed_attempts: int
    days: int | None
    late: bool
    prompt_lost: bool
    links: dict[str, str]


class WorklistPageSchema(Schema):
    """One page of a list, with the counts of every list."""

    code: str
    label: str
    count: int
    page: int
    pages: int
    counts: dict[str, int]
    results: list[WorklistRowSchema]


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(queries.PERMISSION):
        raise PermissionDenied


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def row_out(row: queries.WorklistRow) -> dict[str, Any]:
    """A row as JSON (only what ``masks.present`` let through)."""
    p, shown = row.patient, row.shown
    return {
        "id": p.pk, "register_number": p.register_number, "township_code": p.township_code,
        "township": p.region.name, "status": p.status, "name": row.name or None,
        "danger_level": row.danger_level, "danger_level_label": _text(shown.get("danger_level")),
        "last_classification": _text(shown.get("last_classification")),
        "last_followup_date": _text(shown.get("last_followup_date")),
        "next_followup_due": _text(shown.get("next_followup_due")),
        "responsible_doctor": _text(shown.get("responsible_doctor")),
        "failed_attempts": p.failed_attempts, "days": row.days, "late": row.late, "prompt_lost": row.prompt_lost,
        "links": patient_links(p.pk),
    }


@router.get("/", response=WorklistCountsSchema, auth=django_auth, url_name="worklist_counts")
def worklist_counts(request: HttpRequest, mine: bool = False) -> dict[str, Any]:
    """How many patients are on each list (the caller's caseload or region)."""
    _require(request)
    return {"counts": queries.worklist_counts(request.user, mine=mine),
            "labels": {c: str(list_label(c)) for c in rules.LIST_CODES}, "mine": mine}


@router.get("/{code}", response=WorklistPageSchema, auth=django_auth, url_name="worklist")
def worklist(request: HttpRequest, code: str, page: int = 1, mine: bool = False) -> dict[str, Any]:
    """One page of list ``code`` (``due_today``, ``due_week``, ``overdue``, ``unstable``,
    ``first_visit``, ``failed_attempts``), masked per role; audited."""
    _require(request)
    if code not in rules.LIST_CODES:
        raise Http404
    result = services.view_worklist(request.user, code, page=page, mine=mine, via="api")
    return {
        "code": code, "label": str(list_label(code)), "count": result.page.paginator.count,
        "page": result.page.number, "pages": result.page.paginator.num_pages, "counts": result.counts,
        "results": [row_out(r) for r in result.rows],
    }
