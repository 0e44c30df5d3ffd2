"""The audit page for regulators and administrators: filterable, scoped to their region."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from xinqiao.core.forms import AuditFilterForm
from xinqiao.core.models import AuditEvent


def scoped_audit_events(user: Any) -> QuerySet[AuditEvent]:
    """Events about records in the user's region, or by actors of it (superusers: all)."""
    qs = AuditEvent.objects.all()
    if user.region_id is None:
        return qs if user.is_superuser else qs.none()
    from xinqiao.core.models import User

    local_actors = User.objects.filter(region__code__startswith=user.region_id).values("id")
    return qs.filter(Q(region_code__startswith=user.region_id) | Q(actor_id__in=local_actors))


@login_required
@permission_required("core.view_auditevent", raise_exception=True)
def audit_list(request: HttpRequest) -> HttpResponse:
    """Audit events, newest first, with filters."""
    form = AuditFilterForm(request.GET or None)
    qs = scoped_audit_events(request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            qs = qs.filter(action=data["action"])
        if data["actor"]:
            qs = qs.filter(actor_username=data["actor"])
        if data["object_type"]:
            qs = qs.filter(object_type=data["object_type"])
        if data["object_id"]:
            qs = qs.filter(object_id=data["object_id"])
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            qs = qs.filter(occurred_at__gte=datetime.combine(data["date_from"], time.min, tz))
        if data["date_to"]:
            qs = qs.filter(occurred_at__lte=datetime.combine(data["date_to"], time.max, tz))
    page = Paginator(qs.order_by("-id"), 100).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"form": form, "page": page}, status=200 if form.is_valid() or not request.GET else 400)
