"""Staff pages of institutions: the register, applications and their workflow, Excel import,
coverage figures and look-up counts. Thin: parse, scope (``restrict``/404), call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from xinqiao.core.models import Region
from xinqiao.core.scope import get_scoped_or_404, in_scope
from xinqiao.registry import coverage as coverage_module
from xinqiao.registry import imports, rules, services
from xinqiao.registry.forms import CoverageForm, ImportForm, InstitutionForm, TransitionForm
from xinqiao.registry.models import (
    ApplicationStatus,
    Evaluation,
    Institution,
    InstitutionKind,
    InstitutionStatus,
    LookupCount,
    RegistrationApplication,
    Sanction,
)
from xinqiao.registry.models.institutions import own_organisation_only


def lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _redirect(name: str, **kwargs: Any) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse(name, kwargs=kwargs or None))


# --------------------------------------------------------------------------------------------------
# Overview and the register
# --------------------------------------------------------------------------------------------------


@login_required
@permission_required("registry.view_institution", raise_exception=True)
def home(request: HttpRequest) -> HttpResponse:
    """What the user can do in the registry, with the counts of their region (a few grouped queries)."""
    user: Any = request.user
    institutions = Institution.objects.restrict(user)
    counts = institutions.aggregate(active=Count("id", filter=Q(status=InstitutionStatus.ACTIVE)),
                                    suspended=Count("id", filter=Q(status=InstitutionStatus.SUSPENDED)),
                                    demonstration=Count("id", filter=Q(demonstration=True)))
    open_apps = RegistrationApplication.objects.restrict(user).filter(status__in=services.OPEN_STATUSES).count()
    return render(request, "registry/staff/home.html", {"counts": counts, "open_apps": open_apps})


@login_required
@permission_required("registry.view_institution", raise_exception=True)
def institution_list(request: HttpRequest) -> HttpResponse:
    """Registered institutions of the user's region (or organisation), filterable by kind and status."""
    qs = Institution.objects.restrict(request.user).select_related("organisation", "region")
    kind, status, text = request.GET.get("kind", ""), request.GET.get("status", ""), request.GET.get("q", "").strip()
    if kind in InstitutionKind.values:
        qs = qs.filter(kind=kind)
    if status in InstitutionStatus.values:
        qs = qs.filter(status=status)
    if text:
        qs = qs.filter(Q(organisation__name__icontains=text) | Q(registration_number__icontains=text))
    page = Paginator(qs.order_by("region_id", "organisation__name"), 50).get_page(request.GET.get("page"))
    return render(request, "registry/staff/institution_list.html", {
        "page": page, "kinds": InstitutionKind.choices, "statuses": InstitutionStatus.choices, "kind": kind,
        "status": status, "q": text})


@login_required
def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One institution: details, service points, versions, practitioners, evaluations, sanctions."""
    user: Any = request.user
    institution = get_scoped_or_404(Institution, user, pk=pk)
    points = list(institution.points.prefetch_related("services", "hours").order_by("code"))
    versions = list(institution.versions.select_related("created_by").order_by("-number")[:20])
    evaluations = (list(Evaluation.objects.restrict(user).filter(institution=institution).order_by("-visited_on")[:10])
                   if user.has_perm("registry.view_evaluation") else [])
    sanctions = (list(Sanction.objects.restrict(user).filter(institution=institution)[:10])
                 if user.has_perm("registry.view_sanction") else [])
    practices = (list(institution.practices.filter(ended_on__isnull=True).select_related("practitioner")[:100])
                 if user.has_perm("registry.view_practitioner") else [])
    open_app = institution.applications.filter(status__in=services.OPEN_STATUSES).first()
    return render(request, "registry/staff/institution_detail.html", {
        "institution": institution, "points": points, "versions": versions, "evaluations": evaluations,
        "sanctions": sanctions, "practices": practices, "open_app": open_app,
        "can_apply": user.has_perm("registry.add_registrationapplication") and open_app is None
        and institution.status != InstitutionStatus.REMOVED,
        "can_designate": user.has_perm("registry.decide_registrationapplication"),
        "grade": _grade_label(institution.grade),
        "year": timezone.localdate().year,
    })


def _grade_label(code: str) -> str:
    if not code:
        return ""
    try:
        return rules.checklist().grade(code).label(lang())
    except KeyError:
        return code


@login_required
@require_POST
def institution_designate(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark or unmark a 示范单位 (the registering authority)."""
    institution = get_scoped_or_404(Institution, request.user, pk=pk)
    on = request.POST.get("on") == "1"
    year_text = request.POST.get("year", "")
    year = int(year_text) if year_text.isdigit() else timezone.localdate().year
    try:
        services.designate_demonstration(request.user, institution, year=year, on=on)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Saved as a new version."))
    return _redirect("registry:institution_detail", pk=institution.pk)


# --------------------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------------------


@login_required
@permission_required("registry.view_registrationapplication", raise_exception=True)
def application_list(request: HttpRequest) -> HttpResponse:
    qs = (RegistrationApplication.objects.restrict(request.user)
          .select_related("institution__organisation", "applicant", "region"))
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=services.OPEN_STATUSES)
    elif status in ApplicationStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "registry/staff/application_list.html",
                  {"page": page, "status": status, "statuses": ApplicationStatus.choices})


def _application_form_page(request: HttpRequest, form: InstitutionForm, institution: Institution | None,
                           status: int = 200) -> HttpResponse:
    return render(request, "registry/staff/application_form.html",
                  {"form": form, "institution": institution}, status=status)


@login_required
@permission_required("registry.add_registrationapplication", raise_exception=True)
@require_http_methods(["GET", "POST"])
def application_create(request: HttpRequest) -> HttpResponse:
    """Apply to register a new institution (staff for their organisation or a unit of it; the county
    centre from a paper application)."""
    user: Any = request.user
    own = own_organisation_only(user) and user.organisation_id is not None
    if request.method == "GET":
        initial: dict[str, Any] = {"region_code": user.region_id or ""}
        if own and not Institution.objects.filter(organisation_id=user.organisation_id).exists():
            org = user.organisation
            initial.update(name=org.name, region_code=org.region_id, address=org.address, phone=org.phone)
        return _application_form_page(request, InstitutionForm(initial=initial, own_organisation=own), None)
    form = InstitutionForm(request.POST, own_organisation=own)
    if form.is_valid():
        try:
            app, _created = services.submit_application(user, form.to_input(),
                                                        form_key=form.cleaned_data["form_key"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Application submitted. The county mental-health centre reviews it."))
            return _redirect("registry:application_detail", pk=app.pk)
    return _application_form_page(request, form, None, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def institution_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply to change the registered details (takes effect on approval, as a new version)."""
    user: Any = request.user
    institution = get_scoped_or_404(Institution, user, pk=pk)
    forbid_unless(user.has_perm("registry.add_registrationapplication"))
    if request.method == "GET":
        form = InstitutionForm(initial=InstitutionForm.initial_from(services.snapshot(institution)))
        return _application_form_page(request, form, institution)
    form = InstitutionForm(request.POST)
    if form.is_valid():
        try:
            app, _created = services.submit_application(user, form.to_input(), institution=institution,
                                                        form_key=form.cleaned_data["form_key"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Change application submitted."))
            return _redirect("registry:application_detail", pk=app.pk)
    return _application_form_page(request, form, institution, status=400)


ACTION_LABELS = {
    "submit": gettext_lazy("Submitted"), "review": gettext_lazy("Review"), "return": gettext_lazy("Return for correction"), "resubmit": gettext_lazy("Resubmit"),
    "withdraw": gettext_lazy("Withdraw"), "approve": gettext_lazy("Approve"), "reject": gettext_lazy("Reject"),
    "impose": gettext_lazy("Impose"), "lift": gettext_lazy("Lift"), "report": gettext_lazy("Report rectification"), "verify": gettext_lazy("Verify and close"),
    "reopen": gettext_lazy("Reopen"), "investigate": gettext_lazy("Start investigating"), "resolve": gettext_lazy("Resolve"), "dismiss": gettext_lazy("Dismiss"),
}


def action_buttons(machine: str, state: str, user: Any, parties: set[str], kind: str | None = None) -> list[dict[str, Any]]:
    """The steps this user may take now, with their labels and whether they need a reason."""
    m = rules.workflow(machine)
    return [{"action": a, "label": ACTION_LABELS.get(a, a), "reason": m.transitions[a].reason}
            for a in rules.available_actions(m, state, has_perm=user.has_perm, parties=parties, kind=kind)]


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    app = get_scoped_or_404(RegistrationApplication, user, pk=pk)
    form_fields = InstitutionForm().fields
    proposed = [(form_fields[k].label if k in form_fields else k, v) for k, v in app.data.items()
                if k != "own_organisation" and v not in ("", None, [])]
    changes = [(form_fields[k].label if k in form_fields else k, old, new)
               for k, old, new in services.proposed_changes(app)]
    return render(request, "registry/staff/application_detail.html", {
        "app": app, "proposed": proposed, "changes": changes,
        "events": [(e, ACTION_LABELS.get(e.action, e.action)) for e in
                   app.events.select_related("actor").order_by("at", "id")],
        "actions": action_buttons("application", app.status, user, services.application_parties(user, app)),
        "form": TransitionForm(),
    })


@login_required
@require_POST
def application_transition(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    app = get_scoped_or_404(RegistrationApplication, user, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        services.transition_application(user, app, form.cleaned_data["action"],
                                        reason=form.cleaned_data.get("reason") or "",
                                        recommendation=form.cleaned_data.get("recommendation") or "")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done."))
    return _redirect("registry:application_detail", pk=app.pk)


# --------------------------------------------------------------------------------------------------
# Import, coverage, look-up counts
# --------------------------------------------------------------------------------------------------


@login_required
@permission_required("registry.import_institution", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a workbook; nothing is written unless every row is right (row-level error report)."""
    result = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = imports.import_workbook(request.user, upload.read(), form_key=form.cleaned_data["form_key"],
                                             file_name=upload.name)
            if result.ok:
                messages.success(request, _("Imported %(i)s institutions, %(p)s practitioners and %(c)s credentials.")
                                 % {"i": result.institutions, "p": result.practitioners, "c": result.credentials})
                return _redirect("registry:institution_list")
            form = ImportForm()  # a fresh key: the corrected file is a new import
    else:
        form = ImportForm()
    return render(request, "registry/staff/import.html", {"form": form, "result": result},
                  status=400 if result is not None and not result.ok else 200)


@login_required
@permission_required("registry.import_institution", raise_exception=True)
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(imports.template_workbook(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="registry-import-template.xlsx"'
    return response


def coverage_region(user: Any, code: str) -> Region:
    """The region to report on: the one asked for if inside the user's, else 404; default the user's."""
    code = code or (user.region_id or "")
    if not code:
        raise Http404
    region = Region.objects.filter(code=code).first()
    if region is None or not in_scope(user, code):
        raise Http404
    return region


@login_required
@permission_required("registry.view_coverage", raise_exception=True)
def coverage(request: HttpRequest) -> HttpResponse:
    """Coverage of the service network per region (set-based SQL; see registry/coverage.py)."""
    form = CoverageForm(request.GET or None)
    code, year = "", None
    if form.is_bound and form.is_valid():
        code, year = form.cleaned_data.get("region") or "", form.cleaned_data.get("year")
    region = coverage_region(request.user, code)
    report = coverage_module.coverage(region.code, year=year)
    parent = region.parent_id if region.parent_id and in_scope(request.user, region.parent_id) else None
    return render(request, "registry/staff/coverage.html",
                  {"form": form, "report": report, "region": region, "parent": parent,
                   "targets": rules.coverage_config()["targets"]})


@login_required
@permission_required("registry.view_coverage", raise_exception=True)
def lookup_counts(request: HttpRequest) -> HttpResponse:
    """How many public credential look-ups there were per day (counts only: nothing is logged)."""
    rows = (LookupCount.objects.values("day").annotate(
        found=Sum("count", filter=Q(outcome=LookupCount.Outcome.FOUND)),
        not_found=Sum("count", filter=Q(outcome=LookupCount.Outcome.NOT_FOUND)),
        limited=Sum("count", filter=Q(outcome=LookupCount.Outcome.LIMITED)),
        total=Sum("count")).order_by("-day")[:60])
    return render(request, "registry/staff/lookup_counts.html", {"rows": rows})


def forbid_unless(condition: bool) -> None:
    if not condition:
        raise PermissionDenied
