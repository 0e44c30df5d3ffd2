"""Organisation list and detail (organisations are not personal data; sign-in required)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from xinqiao.core.models import Organisation, OrgType


@login_required
@permission_required("core.view_organisation", raise_exception=True)
def organisation_list(request: HttpRequest) -> HttpResponse:
    """Organisations, filterable by type and region code prefix."""
    qs = Organisation.objects.select_related("region", "parent").order_by("region_id", "name")
    org_type = request.GET.get("type", "")
    region = request.GET.get("region", "").strip()
    if org_type in OrgType.values:
        qs = qs.filter(org_type=org_type)
    if region.isdigit():
        qs = qs.filter(region__code__startswith=region)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/organisation_list.html",
                  {"page": page, "types": OrgType.choices, "type": org_type, "region": region})


@login_required
@permission_required("core.view_organisation", raise_exception=True)
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One organisation with its sub-organisations."""
    org = get_object_or_404(Organisation.objects.select_related("region", "parent"), pk=pk)
    return render(request, "core/organisation_detail.html",
                  {"org": org, "children": org.children.order_by("name"), "region_name": org.region.full_name()})
