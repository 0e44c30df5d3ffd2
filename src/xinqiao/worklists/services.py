"""Audited reads of the work lists: every page of a list, and every export, goes into the audit log.

The queries live in ``queries.py``; the views and the API call these so that a list shown anywhere
is recorded (who saw which patients' rows, which list, which page) like any list of personal data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from xinqiao.core import audit
from xinqiao.core.models import AuditAction
from xinqiao.worklists import queries, rules


def view_worklist(user: Any, code: str, *, page: int | str | None = 1, per_page: int | None = None,
                  mine: bool = False, today: date | None = None, via: str = "web") -> queries.WorklistPage:
    """One page of list ``code`` (with the counts of all lists), audited as a list view."""
    result = queries.worklist_page(user, code, page=page, per_page=per_page, mine=mine, today=today)
    audit.record_many(
        AuditAction.LIST, [row.patient for row in result.rows], object_type="patients.patient",
        region_code=getattr(user, "region_id", "") or "",
        detail={"worklist": code, "page": result.page.number, "mine": mine, "via": via},
    )
    return result


def view_overview(user: Any, *, active: str = rules.DEFAULT_LIST, mine: bool = False,
                  today: date | None = None) -> queries.WorklistPage:
    """The overview: the counts of every list and the top rows of ``active`` (audited)."""
    return view_worklist(user, active, page=1, per_page=rules.settings().overview_top, mine=mine, today=today)
