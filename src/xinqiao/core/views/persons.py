"""Persons: scoped, masked list and detail; registration; audited unmask and export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from xinqiao.core import audit, services
from xinqiao.core.exports import export_persons_xlsx
from xinqiao.core.forms import PersonForm, UnmaskForm
from xinqiao.core.masks import present, unmaskable_fields
from xinqiao.core.models import AuditAction, Person
from xinqiao.core.scope import get_scoped_or_404

PAGE_SIZE = 50


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    """The persons of the user's region, masked per role; the list view itself is audited."""
    qs = Person.objects.restrict(request.user).select_related("region")
    if not request.user.has_perm("core.view_person"):
        raise Http404
    page = Paginator(qs.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(p, present(request.user, p)) for p in page.object_list]
    audit.record_many(AuditAction.LIST, [p for p, _ in rows], object_type="core.person",
                      detail={"page": page.number})
    return render(request, "core/person_list.html", {"page": page, "rows": rows})


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One person (404 when out of scope); audited as a view."""
    person = get_scoped_or_404(Person, request.user, pk=pk)
    shown = services.view_person(request.user, person)
    return render(request, "core/person_detail.html", {
        "person": person, "shown": shown, "unmask_form": UnmaskForm(),
        "can_unmask": bool(unmaskable_fields(request.user, person)), "unmasked": False,
    })


@login_required
@require_POST
def person_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal masked fields after a stated purpose (audited); the page shows them once."""
    person = get_scoped_or_404(Person, request.user, pk=pk)
    form = UnmaskForm(request.POST)
    shown = present(request.user, person)
    unmasked = False
    if form.is_valid():
        shown = services.unmask_person(request.user, person, form.cleaned_data["purpose"])  # 403 if not allowed
        unmasked = True
    return render(request, "core/person_detail.html", {
        "person": person, "shown": shown, "unmask_form": form, "unmasked": unmasked,
        "can_unmask": bool(unmaskable_fields(request.user, person)),
    }, status=200 if unmasked or form.is_valid() else 400)


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    """Register a person in a township of the user's region."""
    if not request.user.has_perm("core.add_person"):
        raise PermissionDenied
    form = PersonForm(request.POST or None, initial={"region_code": request.user.region_id or ""})  # type: ignore[union-attr]
    if request.method == "POST" and form.is_valid():
        try:
            person = services.create_person(request.user, form.to_input())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The person was registered."))
            return redirect("core:person_detail", pk=person.pk)
    return render(request, "core/person_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def person_export(request: HttpRequest) -> HttpResponse:
    """The scoped persons as an Excel file, masked per role; audited with the count."""
    qs = Person.objects.restrict(request.user, "export").select_related("region")
    if not request.user.has_perm("core.export_person"):
        raise PermissionDenied
    return export_persons_xlsx(request.user, qs)
