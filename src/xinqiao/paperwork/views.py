"""Paperwork pages: spreadsheet imports with their reports, and the national forms as PDF.

Thin views in the house pattern: ``restrict``/``get_scoped_or_404`` (a record out of scope is a
404), a permission check for the action (403), one call into ``services`` (which audits), render.

* Imports: the list of the region's batches, the upload (check only, or check and import all or
  nothing), the template download, a batch's report as a page and as .xlsx.
* Prints: a patient's print page (the 个人信息补充表 and each 随访服务记录表, masked, or revealed after
  a stated purpose), the PDFs themselves, and the blank forms for paper use.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from xinqiao.core import audit
from xinqiao.core.forms import UnmaskForm
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.paperwork import services
from xinqiao.paperwork.forms import ImportForm
from xinqiao.paperwork.models import ImportBatch, ImportKind
from xinqiao.paperwork.workbooks import XLSX, build_report, build_template

PAGE_SIZE = 30
REPORT_PAGE_SIZE = 200
FORMS = ("supplement", "followup")


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _kind_or_404(kind: str) -> str:
    if kind not in ImportKind.values:
        raise Http404
    return kind


def _attachment(content: bytes, content_type: str, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------------------------------
# Imports
# --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def import_home(request: HttpRequest) -> HttpResponse:
    """The import batches of the user's region (newest first) and what the user may upload."""
    _require(request, "paperwork.view_importbatch")
    qs = ImportBatch.objects.restrict(request.user).select_related("created_by").order_by("-created_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    kinds = [(kind, label, services.may_import(request.user, kind)) for kind, label in ImportKind.choices]
    return render(request, "paperwork/import_home.html", {"page": page, "kinds": kinds})


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, kind: str) -> HttpResponse:
    """Upload a spreadsheet: every row is checked; a fully valid file is imported in one transaction."""
    kind = _kind_or_404(kind)
    if not services.may_import(request.user, kind):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = services.import_spreadsheet(request.user, kind, upload.name, upload.read(),
                                            commit=form.cleaned_data["action"] == ImportForm.IMPORT)
        return redirect("paperwork:batch_detail", pk=batch.pk)
    return render(request, "paperwork/import_upload.html", {
        "form": form, "kind": kind, "kind_label": ImportKind(kind).label,
        "columns": services.columns_for(kind), "limits": services.limits(),
    }, status=400 if form.errors else 200)


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """The .xlsx template of a kind: headers, legend of codes, drop-downs, an example row."""
    kind = _kind_or_404(kind)
    if not services.may_import(request.user, kind):
        raise PermissionDenied
    content = build_template(services.columns_for(kind), rows=services.limits()["max_rows"])
    return _attachment(content, XLSX, f"xinqiao-import-{kind}.xlsx")


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch's validation report: row, column and problem, then the rows skipped."""
    batch = services.view_batch(request.user, get_scoped_or_404(ImportBatch, request.user, pk=pk))
    page = Paginator(batch.errors, REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "paperwork/batch_detail.html", {
        "batch": batch, "page": page, "truncated": batch.error_count > len(batch.errors),
        "may_import": services.may_import(request.user, batch.kind),
    })


@login_required
@require_GET
def batch_report(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch's report as .xlsx (no identities in it); audited as an export."""
    batch = get_scoped_or_404(ImportBatch, request.user, pk=pk)
    content = build_report(batch)
    audit.record(AuditAction.EXPORT, obj=batch, actor=request.user,
                 detail={"format": "xlsx", "errors": batch.error_count})
    stamp = timezone.localtime(batch.created_at).strftime("%Y%m%d-%H%M")
    return _attachment(content, XLSX, f"import-{batch.pk}-report-{stamp}.xlsx")


# --------------------------------------------------------------------------------------------------
# Prints
# --------------------------------------------------------------------------------------------------


def _patient(request: HttpRequest, pk: int) -> Any:
    from xinqiao.patients.models import Patient

    patient = get_scoped_or_404(Patient, request.user, pk=pk)
    _require(request, services.PRINT_PERMISSION)
    return patient


def _print_page(request: HttpRequest, patient: Any, *, form: UnmaskForm | None = None, target: str = "",
                status: int = 200) -> HttpResponse:
    from xinqiao.followups.models import FollowUp

    followups = list(FollowUp.objects.restrict(request.user).filter(patient=patient)
                     .order_by("-followup_date", "-id")[:50])
    return render(request, "paperwork/patient_print.html", {
        "patient": patient, "person": present(request.user, patient.person), "followups": followups,
        "form": form or UnmaskForm(), "target": target,
        "can_reveal": request.user.has_perm("patients.unmask_patient"),
    }, status=status)


@login_required
@require_GET
def patient_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The forms of one patient that can be printed (masked, or revealed after a purpose); audited as a view."""
    patient = _patient(request, pk)
    audit.record(AuditAction.VIEW, obj=patient, actor=request.user, detail={"via": "print page"})
    return _print_page(request, patient)


def _purpose(request: HttpRequest) -> tuple[str | None, UnmaskForm | None]:
    """``(purpose, None)`` for a valid reveal request, ``(None, form)`` with errors, ``(None, None)`` on GET."""
    if request.method != "POST":
        return None, None
    form = UnmaskForm(request.POST)
    if form.is_valid():
        return form.cleaned_data["purpose"], None
    return None, form


@login_required
@require_http_methods(["GET", "POST"])
def supplement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The 个人信息补充表 as PDF: GET masked, POST with a purpose revealed (both audited)."""
    patient = _patient(request, pk)
    purpose, errors = _purpose(request)
    if errors is not None:
        return _print_page(request, patient, form=errors, target="supplement", status=400)
    try:
        content = services.print_supplement(request.user, patient, purpose=purpose)
    except ValidationError as exc:
        form = UnmaskForm(request.POST)
        form.is_valid()
        for message in exc.messages:
            form.add_error("purpose", message)
        return _print_page(request, patient, form=form, target="supplement", status=400)
    return _attachment(content, "application/pdf", f"supplement-{patient.register_number}.pdf", inline=True)


@login_required
@require_http_methods(["GET", "POST"])
def followup_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One 随访服务记录表 as PDF: GET masked, POST with a purpose revealed (both audited)."""
    from xinqiao.followups.models import FollowUp

    followup = get_scoped_or_404(FollowUp, request.user, pk=pk)
    _require(request, services.PRINT_PERMISSION)
    purpose, errors = _purpose(request)
    if errors is not None:
        return _print_page(request, followup.patient, form=errors, target=str(followup.pk), status=400)
    try:
        content = services.print_followup(request.user, followup, purpose=purpose)
    except ValidationError as exc:
        form = UnmaskForm(request.POST)
        form.is_valid()
        for message in exc.messages:
            form.add_error("purpose", message)
        return _print_page(request, followup.patient, form=form, target=str(followup.pk), status=400)
    return _attachment(content, "application/pdf", f"followup-{followup.pk}.pdf", inline=True)


@login_required
@require_GET
def blank_pdf(request: HttpRequest, form: str) -> HttpResponse:
    """A blank form for paper use (no personal data): any signed-in user."""
    if form not in FORMS:
        raise Http404
    return _attachment(services.print_blank(request.user, form), "application/pdf", f"{form}-blank.pdf",
                       inline=True)
