"""Filtering the patient list (pages, Excel export and API share it).

A filter on a category of data the user may not see (danger level for civil affairs, diagnosis for
police, follow-up dates for partners) is neither offered nor applied: filtering by it would reveal
the hidden value (DOMAIN.md §7).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from xinqiao.core.masks import Visibility, visibility
from xinqiao.patients.codes import OFF_REGISTER_STATUSES, PatientStatus
from xinqiao.patients.forms import PatientFilterForm
from xinqiao.patients.models import Patient

#: Filter → the mask category it reveals.
FILTER_CATEGORIES = {"danger": "risk.danger_level", "diagnosis": "clinical.diagnosis", "due": "clinical.followup"}


def allowed_filters(user: Any) -> set[str]:
    """Filters whose category the user may see (at least masked)."""
    return {name for name, category in FILTER_CATEGORIES.items() if visibility(user, category) != Visibility.HIDDEN}


def filter_patients(user: Any, qs: QuerySet[Patient], params: Any) -> tuple[QuerySet[Patient], PatientFilterForm]:
    """Apply the list filters in ``params`` (a QueryDict or dict) that the user may use."""
    form = PatientFilterForm(params or None, allowed=allowed_filters(user))
    if not form.is_bound or not form.is_valid():
        return qs, form
    data: dict[str, Any] = form.cleaned_data
    status = data.get("status")
    if status == "on_register":
        qs = qs.exclude(status__in=OFF_REGISTER_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    danger = data.get("danger")
    if danger == "3":
        qs = qs.filter(danger_level__gte=3)
    elif danger:
        qs = qs.filter(danger_level=int(str(danger)))
    if data.get("diagnosis"):
        qs = qs.filter(diagnosis=data["diagnosis"])
    due = data.get("due")
    if due:
        today = timezone.localdate()
        active = Q(status__in=[PatientStatus.MANAGED, PatientStatus.LOST])
        qs = qs.filter(active)
        if due == "overdue":
            qs = qs.filter(next_followup_due__lt=today)
        elif due == "today":
            qs = qs.filter(next_followup_due=today)
        elif due == "week":
            qs = qs.filter(next_followup_due__gte=today, next_followup_due__lte=today + timedelta(days=7))
        elif due == "awaiting":
            qs = qs.filter(awaiting_first_visit_since__isnull=False)
    if data.get("q"):
        qs = qs.filter(register_number__startswith=data["q"].strip())
    return qs, form
