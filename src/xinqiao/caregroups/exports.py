"""Excel export of a group's joint visits: scoped (``restrict(user, "export")``, partner-narrowed),
masked per role, one audited export event with the row count (``core/exports.py`` pattern)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _

from xinqiao.caregroups.models import JointVisit, ManagementGroup
from xinqiao.core import audit
from xinqiao.core.models import AuditAction
from xinqiao.referrals.exports import Column, build_workbook, download


def export_visits(user: Any, group: ManagementGroup, qs: QuerySet[JointVisit]) -> HttpResponse:
    """The visits as a workbook: date, register number, outcome, participants; the note per mask."""
    columns: list[Column] = [
        (_("record id"), lambda v, s: v.pk),
        (_("date"), lambda v, s: v.visited_on.isoformat()),
        (_("register number"), lambda v, s: v.patient.register_number),
        (_("outcome"), lambda v, s: v.get_outcome_display()),
        (_("participants"), lambda v, s: len(v.participants.all())),
        (_("follow-up record"), lambda v, s: v.followup_id or ""),
    ]
    rows = qs.select_related("patient").prefetch_related("participants").order_by("-visited_on", "-id")
    content, count = build_workbook(user, _("joint visits"), rows, columns, JointVisit)
    audit.record(AuditAction.EXPORT, obj=group, detail={"records": "caregroups.jointvisit", "count": count,
                                                        "format": "xlsx", "masked": True})
    return download(content, f"joint-visits-{group.pk}")
