"""Staff pages of practitioners: the list, registration, credentials, workplaces and training.

Names and certificate numbers leave the models through ``masks.present`` (categories
``practitioner.*``); opening a practitioner is audited as a view.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from xinqiao.core import audit
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.core.services import view_record
from xinqiao.registry import people
from xinqiao.registry.forms import CredentialForm, PractitionerForm, RevokeForm, TrainingForm
from xinqiao.registry.models import (
    Credential,
    Institution,
    InstitutionStatus,
    Practitioner,
    PractitionerStatus,
    Profession,
    Sanction,
)
from xinqiao.registry.views.institutions import _redirect, forbid_unless, lang

CREDENTIAL_STATUS_LABELS = {"valid": gettext_lazy("valid"), "expired": gettext_lazy("expired"),
                            "revoked": gettext_lazy("revoked")}


@login_required
@permission_required("registry.view_practitioner", raise_exception=True)
def practitioner_list(request: HttpRequest) -> HttpResponse:
    """Practitioners of the region (or of one's own institution), by profession; audited as a list."""
    user: Any = request.user
    qs = Practitioner.objects.restrict(user).select_related("region").prefetch_related(
        "practices__institution__organisation", "credentials")
    profession = request.GET.get("profession", "")
    if profession in Profession.values:
        qs = qs.filter(profession=profession)
    page = Paginator(qs.order_by("region_id", "id"), 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = []
    for p in page.object_list:
        rows.append({"obj": p, "shown": present(user, p),
                     "workplaces": [x.institution.organisation.name for x in p.practices.all() if x.ended_on is None],
                     "statuses": [CREDENTIAL_STATUS_LABELS[code] for code in
                                  sorted({c.status_on(today) for c in p.credentials.all()})]})
    if rows:
        audit.record_many(AuditAction.LIST, [r["obj"] for r in rows], detail={"page": page.number})
    return render(request, "registry/staff/practitioner_list.html",
                  {"page": page, "rows": rows, "professions": Profession.choices, "profession": profession})


def _workplace_choices(user: Any) -> list[tuple[int, str]]:
    return [(i.pk, f"{i.organisation.name} ({i.region_id})") for i in Institution.objects.restrict(user)
            .exclude(status=InstitutionStatus.REMOVED).select_related("organisation").order_by("organisation__name")]


@login_required
@permission_required("registry.add_practitioner", raise_exception=True)
@require_http_methods(["GET", "POST"])
def practitioner_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    choices = _workplace_choices(user)
    form = PractitionerForm(request.POST or None, institutions=choices)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            practitioner = people.register_practitioner(user, people.PractitionerInput(
                name=d["name"], profession=d["profession"], institution_id=d["institution"], post=d.get("post") or "",
                started_on=d.get("started_on")))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Practitioner registered. Add their credentials below."))
            return _redirect("registry:practitioner_detail", pk=practitioner.pk)
    return render(request, "registry/staff/practitioner_form.html", {"form": form},
                  status=400 if form.is_bound else 200)


def _detail(request: HttpRequest, practitioner: Practitioner, *, credential_form: CredentialForm | None = None,
            training_form: TrainingForm | None = None, status: int = 200) -> HttpResponse:
    user: Any = request.user
    shown = view_record(user, practitioner)
    today = timezone.localdate()
    credentials = [{"obj": c, "shown": present(user, c), "status": c.status_on(today),
                    "type": c.type.label(lang()) if c.type else c.type_code}
                   for c in practitioner.credentials.order_by("type_code", "id")]
    sanctions = (list(Sanction.objects.restrict(user).filter(practitioner=practitioner))
                 if user.has_perm("registry.view_sanction") else [])
    return render(request, "registry/staff/practitioner_detail.html", {
        "practitioner": practitioner, "shown": shown, "credentials": credentials,
        "practices": practitioner.practices.select_related("institution__organisation").order_by("-is_primary", "id"),
        "training": practitioner.training.order_by("-completed_on")[:50], "sanctions": sanctions,
        "credential_form": credential_form or CredentialForm(lang=lang()),
        "training_form": training_form or TrainingForm(), "revoke_form": RevokeForm(),
        "can_add_credential": user.has_perm("registry.add_credential"),
        "can_change": user.has_perm("registry.change_practitioner"),
        "can_revoke": user.has_perm("registry.change_credential"),
        "can_sanction": user.has_perm("registry.add_sanction"),
        "statuses": PractitionerStatus,
    }, status=status)


@login_required
def practitioner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    practitioner = get_scoped_or_404(Practitioner, request.user, pk=pk)
    return _detail(request, practitioner)


@login_required
@require_POST
def credential_add(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    practitioner = get_scoped_or_404(Practitioner, user, pk=pk)
    forbid_unless(user.has_perm("registry.add_credential"))
    form = CredentialForm(request.POST, lang=lang())
    if form.is_valid():
        d = form.cleaned_data
        try:
            people.add_credential(user, practitioner, people.CredentialInput(
                type_code=d["type_code"], number=d["number"], issuer=d.get("issuer") or "",
                scope=d.get("scope") or "", issue_date=d.get("issue_date"), expiry_date=d.get("expiry_date")))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Credential registered."))
            return _redirect("registry:practitioner_detail", pk=practitioner.pk)
    return _detail(request, practitioner, credential_form=form, status=400)


@login_required
@require_POST
def credential_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    # A credential is reached through its practitioner's scope (404 outside it).
    credential = Credential.objects.filter(pk=pk, practitioner__in=Practitioner.objects.restrict(user)).first()
    if credential is None:
        raise Http404
    forbid_unless(user.has_perm("registry.change_credential"))
    form = RevokeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": _("Reason: please give a reason.")})
        people.revoke_credential(user, credential, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Credential revoked."))
    return _redirect("registry:practitioner_detail", pk=credential.practitioner_id)


@login_required
@require_POST
def training_add(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    practitioner = get_scoped_or_404(Practitioner, user, pk=pk)
    forbid_unless(user.has_perm("registry.change_practitioner"))
    form = TrainingForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            people.add_training(user, practitioner, kind=d["kind"], title=d["title"], completed_on=d["completed_on"],
                                hours=d["hours"], provider=d.get("provider") or "")
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Training recorded."))
            return _redirect("registry:practitioner_detail", pk=practitioner.pk)
    return _detail(request, practitioner, training_form=form, status=400)
