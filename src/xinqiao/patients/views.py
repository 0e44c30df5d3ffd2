"""Pages of the register: thin views that scope, call a service and render what ``present`` allows.

Records out of the user's scope answer 404 (``get_scoped_or_404``); actions the user's roles do not
carry on a record they can see answer 403. Every page showing a patient is audited (list, view,
unmask, export). Submitting forms are stored once per hidden ``form_key`` (``_once``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinqiao.core import audit
from xinqiao.core.idempotency import submit_form
from xinqiao.core.masks import present, unmaskable_fields
from xinqiao.core.models import AuditAction, Person
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.patients import services
from xinqiao.patients.codes import CaseReportStatus, DangerBehaviour, SuspectedStatus, Symptom, TransferStatus
from xinqiao.patients.exports import export_patients_xlsx
from xinqiao.patients.filters import filter_patients
from xinqiao.patients.forms import (
    SUPPLEMENT_SECTIONS,
    CaseReportCompleteForm,
    CaseReportForm,
    CloseForm,
    ConfirmForm,
    DecideTransferForm,
    KeyedForm,
    MergeForm,
    ReferForm,
    StatusForm,
    SupplementForm,
    SuspectedCaseForm,
    TransferForm,
    UnmaskPatientForm,
)
from xinqiao.patients.models import (
    BEHAVIOUR_COUNT_FIELDS,
    CaseReport,
    Patient,
    PersonalSupplement,
    SuspectedCase,
    Transfer,
)

PAGE_SIZE = 50


def _submit(request: HttpRequest, scope: str, form: KeyedForm, action: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """Run a form's service call once per ``form_key``; ``None`` when the form must be shown again."""
    return submit_form(request, f"patients.{scope}", form, action)


def _labels(choices: Any, codes: Any) -> list[str]:
    names = dict(choices)
    return [str(names.get(c, c)) for c in codes or []]


# --- Patients --------------------------------------------------------------------------------------------

@login_required
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    """The patients of the user's region (partners: danger ≥3 or 肇事肇祸 only), masked; audited as a list."""
    user: Any = request.user
    if not user.has_perm("patients.view_patient"):
        raise PermissionDenied
    qs = Patient.objects.restrict(user).select_related("person", "region", "responsible_doctor",
                                                       "managing_organisation", "diagnosing_hospital")
    qs, form = filter_patients(user, qs, request.GET)
    page = Paginator(qs.order_by("-registered_on", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(p, present(user, p.person), present(user, p)) for p in page.object_list]
    audit.record_many(AuditAction.LIST, [p for p, _a, _b in rows], object_type="patients.patient",
                      detail={"page": page.number, "filters": {k: v for k, v in request.GET.items() if k != "page"}})
    query = request.GET.copy()
    query.pop("page", None)
    template = "patients/_patient_rows.html" if getattr(request, "htmx", False) else "patients/patient_list.html"
    return render(request, template, {
        "page": page, "rows": rows, "form": form, "query": query.urlencode(),
        "registered": services.registered_count(Patient.objects.restrict(user)),
    })


@login_required
@require_GET
def patient_export(request: HttpRequest) -> HttpResponse:
    """The filtered patient list as an Excel file, masked as on screen; audited with its size."""
    user: Any = request.user
    if not user.has_perm("patients.export_patient"):
        raise PermissionDenied
    qs, _form = filter_patients(user, Patient.objects.restrict(user, "export"), request.GET)
    return export_patients_xlsx(user, qs, {k: v for k, v in request.GET.items()})


def _detail_context(request: HttpRequest, patient: Patient, view: services.PatientView) -> dict[str, Any]:
    user: Any = request.user
    supplement = PersonalSupplement.objects.filter(patient=patient).first()
    history = [(c, present(user, c)) for c in patient.status_changes.select_related("created_by").order_by("-changed_on", "-id")]
    pending = Transfer.objects.filter(patient=patient, status=TransferStatus.PENDING).select_related("region").first()
    unmaskable = bool(unmaskable_fields(user, patient.person) or unmaskable_fields(user, patient)
                      or (supplement is not None and unmaskable_fields(user, supplement)))
    sup = view.supplement or {}
    return {
        "patient": patient, "view": view, "shown": view.patient, "person": view.person, "supplement": supplement,
        "sup": sup, "sup_symptoms": _labels(Symptom.choices, sup.get("past_symptoms")),
        "sup_behaviours": [(label, sup[BEHAVIOUR_COUNT_FIELDS[code]]) for code, label in DangerBehaviour.choices
                           if BEHAVIOUR_COUNT_FIELDS[code] in sup],
        "history": history, "pending_transfer": pending,
        "can_unmask": user.has_perm("patients.unmask_patient") and unmaskable and not view.unmasked,
        "unmask_form": UnmaskPatientForm(), "can_change": user.has_perm("patients.change_patient"),
        "can_transfer": user.has_perm("patients.add_transfer") and user.has_perm("patients.change_patient"),
    }


@login_required
@require_GET
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One patient (404 when out of scope or, for partners, below the sharing threshold); audited."""
    patient = get_scoped_or_404(Patient, request.user, pk=pk)
    view = services.view_patient(request.user, patient)
    return render(request, "patients/patient_detail.html", _detail_context(request, patient, view))


@login_required
@require_POST
def patient_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal the masked fields after a stated purpose (audited); shown once on this page."""
    patient = get_scoped_or_404(Patient, request.user, pk=pk)
    if not request.user.has_perm("patients.unmask_patient"):
        raise PermissionDenied
    form = UnmaskPatientForm(request.POST)
    if form.is_valid():
        view = services.unmask_patient(request.user, patient, form.cleaned_data["purpose"])
        return render(request, "patients/patient_detail.html", _detail_context(request, patient, view))
    view = services.view_patient(request.user, patient)
    context = _detail_context(request, patient, view)
    context["unmask_form"] = form
    return render(request, "patients/patient_detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def patient_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a status change (失访, 住院, 死亡, 迁出, 销案, back to managed) with its facts."""
    patient = get_scoped_or_404(Patient, request.user, pk=pk)
    if not request.user.has_perm("patients.change_patient"):
        raise PermissionDenied
    # A GET may prefill the form (the work list's "record as lost" link: ?to_status=lost&loss_reason=4).
    prefill = {k: request.GET[k] for k in ("to_status", "loss_reason") if k in request.GET}
    form = StatusForm(request.POST or None, initial=prefill)
    if request.method == "POST" and form.is_valid():
        done = _submit(request, f"status:{patient.pk}", form,
                       lambda: {"id": services.change_status(request.user, patient, form.to_status_input()).pk})
        if done is not None:
            messages.success(request, _("The status change was recorded."))
            return redirect("patients:patient_detail", pk=patient.pk)
    return render(request, "patients/status_form.html", {"patient": patient, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def supplement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Fill in or update the 个人信息补充表 (and 目前诊断)."""
    patient = get_scoped_or_404(Patient, request.user, pk=pk)
    if not request.user.has_perm("patients.change_patient"):
        raise PermissionDenied
    supplement = PersonalSupplement.objects.filter(patient=patient).first()
    initial: dict[str, Any] = {"diagnosis": patient.diagnosis, "icd10_code": patient.icd10_code,
                               "co_icd10_code": patient.co_icd10_code, "diagnosed_on": patient.diagnosed_on,
                               "diagnosing_hospital": patient.diagnosing_hospital_id}
    if supplement is not None:
        for _title, names in SUPPLEMENT_SECTIONS:
            for name in names:
                if hasattr(supplement, name) and name not in initial:
                    initial[name] = getattr(supplement, name)
    form = SupplementForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        done = _submit(request, f"supplement:{patient.pk}", form, lambda: {"id": services.save_supplement(
            request.user, patient, form.to_supplement(), form.diagnosis_input()).pk})
        if done is not None:
            messages.success(request, _("The personal information supplement was saved."))
            return redirect("patients:patient_detail", pk=patient.pk)
    return render(request, "patients/supplement_form.html", {"patient": patient, "form": form},
                  status=400 if form.errors else 200)


# --- Transfers ------------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def transfer_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand a patient who moved over to another township of the deployment."""
    patient = get_scoped_or_404(Patient, request.user, pk=pk)
    if not (request.user.has_perm("patients.add_transfer") and request.user.has_perm("patients.change_patient")):
        raise PermissionDenied
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _submit(request, f"transfer:{patient.pk}", form,
                       lambda: {"id": services.request_transfer(request.user, patient, form.to_transfer()).pk})
        if done is not None:
            messages.success(request, _("The transfer was sent; the receiving region must accept it."))
            return redirect("patients:patient_detail", pk=patient.pk)
    return render(request, "patients/transfer_form.html", {"patient": patient, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def transfer_inbox(request: HttpRequest) -> HttpResponse:
    """Transfers to the user's region waiting for an answer, and the recent ones both ways."""
    user: Any = request.user
    if not user.has_perm("patients.view_transfer"):
        raise PermissionDenied
    scoped = Transfer.objects.restrict(user).select_related("patient", "patient__person", "region", "from_region")
    incoming = Transfer.objects.incoming(user).filter(pk__in=scoped.values("pk"))
    waiting = list(incoming.filter(status=TransferStatus.PENDING).select_related(
        "patient", "patient__person", "region", "from_region", "from_organisation"))
    recent = list(scoped.order_by("-requested_at")[:50])
    cards = [(t, present(user, t.patient.person), present(user, t.patient), present(user, t), uuid.uuid4())
             for t in waiting]
    audit.record_many(AuditAction.LIST, [t.patient for t in waiting], object_type="patients.patient",
                      detail={"via": "transfer_inbox"})
    return render(request, "patients/transfer_inbox.html", {
        "cards": cards, "recent": recent, "form_for": DecideTransferForm(user=user),
    })


@login_required
@require_POST
def transfer_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept or decline a transfer (the receiving region only)."""
    transfer = get_scoped_or_404(Transfer, request.user, pk=pk)
    if not request.user.has_perm("patients.change_transfer"):
        raise PermissionDenied
    form = DecideTransferForm(request.POST, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        clinic = d.get("managing_organisation")

        def act() -> dict[str, Any]:
            if d["decision"] == "accept":
                done = services.accept_transfer(request.user, transfer,
                                                managing_organisation_id=clinic.pk if clinic else None)
            else:
                done = services.decline_transfer(request.user, transfer, d.get("decline_reason") or "")
            return {"id": done.pk, "status": done.status}

        result = _submit(request, f"transfer_decide:{transfer.pk}", form, act)
        if result is not None:
            messages.success(request, _("Your answer was recorded."))
            return redirect("patients:transfer_inbox")
    for field, errors in form.errors.items():
        for error in errors:
            messages.error(request, f"{form.fields[field].label if field in form.fields else ''} {error}".strip())
    return redirect("patients:transfer_inbox")


# --- Case reports -------------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def case_report_create(request: HttpRequest) -> HttpResponse:
    """Enter a 发病报告卡 (hospital) or a written card received by the county centre, or save it as a
    draft (``save_draft``): the diagnosis is known, the card is not finished; its deadline runs."""
    if not request.user.has_perm("patients.add_casereport"):
        raise PermissionDenied
    as_draft = request.method == "POST" and "save_draft" in request.POST
    form = CaseReportForm(request.POST or None, user=request.user, draft=as_draft)
    if request.method == "POST" and form.is_valid():
        if as_draft:
            done = _submit(request, "case_report_draft", form, lambda: _draft_answer(
                services.save_case_report_draft(request.user, form.to_case_report())))
            if done is not None:
                messages.info(request, _("Draft saved: not yet a registration. Enter it by %(due)s.")
                              % {"due": done["due"]})
                return redirect(reverse("patients:case_report_list") + "?pending=1")
        else:
            done = _submit(request, "case_report", form, lambda: _case_report_answer(
                services.register_from_case_report(request.user, form.to_case_report())))
            if done is not None:
                _entered_message(request, done)
                return redirect("patients:case_report_list")
    return render(request, "patients/case_report_form.html", {"form": form}, status=400 if form.errors else 200)


def _entered_message(request: HttpRequest, done: dict[str, Any]) -> None:
    if done["late"]:
        messages.warning(request, _("Case report entered after its deadline (%(due)s): it is marked late.")
                         % {"due": done["deadline"]})
    else:
        messages.success(request, _("Case report entered; the patient is on the register (%(number)s).")
                         % {"number": done["register_number"]})


def _case_report_answer(report: CaseReport) -> dict[str, Any]:
    assert report.patient is not None
    return {"id": report.pk, "patient_id": report.patient_id, "register_number": report.patient.register_number,
            "late": report.late, "deadline": str(report.entry_deadline or report.report_deadline)}


def _draft_answer(report: CaseReport) -> dict[str, Any]:
    return {"id": report.pk, "late": report.late, "due": str(report.entry_deadline or report.report_deadline)}


@login_required
@require_http_methods(["GET", "POST"])
def case_report_enter(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter a draft case report (the reporting hospital, or the county centre for its county's drafts).

    Drafts outside ``services.pending_case_reports(user)`` answer 404, as does one already entered.
    """
    user: Any = request.user
    if not user.has_perm("patients.add_casereport"):
        raise PermissionDenied
    draft = services.pending_case_reports(user).select_related("person", "patient", "region",
                                                                 "diagnosing_hospital").filter(pk=pk).first()
    if draft is None:
        raise Http404
    form = CaseReportCompleteForm(request.POST or None, user=user, initial={
        "report_type": draft.report_type, "brought_by": draft.brought_by, "onset_date": draft.onset_date,
        "prior_danger": draft.prior_danger, "entry": draft.entry, "received_on": draft.received_on,
        "danger_level": 0})
    if request.method == "POST" and form.is_valid():
        done = _submit(request, f"case_report_enter:{draft.pk}", form, lambda: _case_report_answer(
            services.register_from_case_report(user, form.to_case_report(services.draft_input(draft)), draft=draft)))
        if done is not None:
            _entered_message(request, done)
            return redirect("patients:case_report_list")
    else:
        audit.record(AuditAction.VIEW, obj=draft, actor=user, detail={"via": "case_report_enter"})
    return render(request, "patients/case_report_enter.html", {
        "form": form, "draft": draft, "shown": present(user, draft)}, status=400 if form.errors else 200)


@login_required
@require_GET
def case_report_list(request: HttpRequest) -> HttpResponse:
    """Case reports of the user's region, late ones on request (the county centre's check); with
    ``?pending=1`` the drafts the user answers for (``services.pending_case_reports``), overdue first."""
    user: Any = request.user
    if not user.has_perm("patients.view_casereport"):
        raise PermissionDenied
    entered = CaseReport.objects.restrict(user).filter(status=CaseReportStatus.ENTERED)
    pending = services.pending_case_reports(user)
    late_only = request.GET.get("late") == "1"
    pending_only = request.GET.get("pending") == "1"
    if pending_only:
        qs = pending.order_by("-late", "report_deadline", "id")
    else:
        qs = (entered.filter(late=True) if late_only else entered).order_by("-entered_on", "-id")
    qs = qs.select_related("patient", "diagnosing_hospital", "reporting_unit", "region")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(r, present(user, r)) for r in page.object_list]
    audit.record_many(AuditAction.LIST, [r for r, _s in rows], object_type="patients.casereport",
                      detail={"page": page.number, "late": late_only, "pending": pending_only})
    return render(request, "patients/case_report_list.html", {
        "page": page, "rows": rows, "late_only": late_only, "pending_only": pending_only,
        "late_count": entered.filter(late=True).count(), "pending_count": pending.count(),
        "pending_late_count": pending.filter(late=True).count(),
        "may_enter": user.has_perm("patients.add_casereport"),
    })


# --- Suspected cases ---------------------------------------------------------------------------------------------

@login_required
@require_GET
def suspected_list(request: HttpRequest) -> HttpResponse:
    """Suspected cases of the user's region, open ones first."""
    user: Any = request.user
    if not user.has_perm("patients.view_suspectedcase"):
        raise PermissionDenied
    qs = SuspectedCase.objects.restrict(user).select_related("person", "region", "referred_to")
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=[SuspectedStatus.REPORTED, SuspectedStatus.REFERRED])
    elif status in SuspectedStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("-discovered_on", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(c, present(user, c.person)) for c in page.object_list]
    audit.record_many(AuditAction.LIST, [c for c, _s in rows], object_type="patients.suspectedcase",
                      detail={"page": page.number, "status": status})
    return render(request, "patients/suspected_list.html", {
        "page": page, "rows": rows, "status": status, "statuses": SuspectedStatus.choices,
    })


@login_required
@require_http_methods(["GET", "POST"])
def suspected_create(request: HttpRequest) -> HttpResponse:
    """Record a suspected case found by a village committee or a doctor."""
    if not request.user.has_perm("patients.add_suspectedcase"):
        raise PermissionDenied
    form = SuspectedCaseForm(request.POST or None, initial={"region_code": request.user.region_id or ""})  # type: ignore[union-attr]
    if request.method == "POST" and form.is_valid():
        done = _submit(request, "suspected", form,
                       lambda: {"id": services.report_suspected_case(request.user, form.to_suspected()).pk})
        if done is not None:
            messages.success(request, _("The suspected case was recorded."))
            return redirect("patients:suspected_detail", pk=done["id"])
    return render(request, "patients/suspected_form.html", {"form": form}, status=400 if form.errors else 200)


def _suspected_context(request: HttpRequest, case: SuspectedCase, **forms: Any) -> dict[str, Any]:
    user: Any = request.user
    return {
        "case": case, "shown": present(user, case), "person": present(user, case.person),
        "symptoms": _labels(Symptom.choices, present(user, case).get("symptoms")),
        "events": list(case.events.select_related("by")),
        "open": case.status in (SuspectedStatus.REPORTED, SuspectedStatus.REFERRED),
        "can_change": user.has_perm("patients.change_suspectedcase"),
        "can_confirm": user.has_perm("patients.add_casereport"),
        "refer_form": forms.get("refer_form") or ReferForm(user=user),
        "close_form": forms.get("close_form") or CloseForm(),
    }


@login_required
@require_GET
def suspected_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One suspected case with its history (audited)."""
    case = get_scoped_or_404(SuspectedCase, request.user, pk=pk)
    audit.record(AuditAction.VIEW, obj=case)
    return render(request, "patients/suspected_detail.html", _suspected_context(request, case))


@login_required
@require_POST
def suspected_refer(request: HttpRequest, pk: int) -> HttpResponse:
    """Refer the suspected case to a psychiatric institution."""
    case = get_scoped_or_404(SuspectedCase, request.user, pk=pk)
    if not request.user.has_perm("patients.change_suspectedcase"):
        raise PermissionDenied
    form = ReferForm(request.POST, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        done = _submit(request, f"suspected_refer:{case.pk}", form, lambda: {"id": services.refer_suspected_case(
            request.user, case, d["referred_to"].pk, d["referred_on"], d.get("note") or "").pk})
        if done is not None:
            messages.success(request, _("The referral was recorded."))
            return redirect("patients:suspected_detail", pk=case.pk)
    return render(request, "patients/suspected_detail.html", _suspected_context(request, case, refer_form=form),
                  status=400)


@login_required
@require_POST
def suspected_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close the suspected case as not a case."""
    case = get_scoped_or_404(SuspectedCase, request.user, pk=pk)
    if not request.user.has_perm("patients.change_suspectedcase"):
        raise PermissionDenied
    form = CloseForm(request.POST)
    if form.is_valid():
        done = _submit(request, f"suspected_close:{case.pk}", form, lambda: {"id": services.close_suspected_case(
            request.user, case, form.cleaned_data["closing_reason"]).pk})
        if done is not None:
            messages.success(request, _("The suspected case was closed."))
            return redirect("patients:suspected_detail", pk=case.pk)
    return render(request, "patients/suspected_detail.html", _suspected_context(request, case, close_form=form),
                  status=400)


@login_required
@require_http_methods(["GET", "POST"])
def suspected_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The diagnosis was confirmed: register the patient (psychiatrist or county centre)."""
    case = get_scoped_or_404(SuspectedCase, request.user, pk=pk)
    if not request.user.has_perm("patients.add_casereport"):
        raise PermissionDenied
    form = ConfirmForm(request.POST or None, user=request.user,
                       initial={"diagnosing_hospital": case.referred_to_id, "danger_level": 0})
    if request.method == "POST" and form.is_valid():
        clinic = form.cleaned_data.get("managing_organisation")
        done = _submit(request, f"suspected_confirm:{case.pk}", form, lambda: {"id": services.confirm_suspected_case(
            request.user, case, form.diagnosis_input(), managing_organisation_id=clinic.pk if clinic else None,
            danger_level=form.cleaned_data["danger_level"]).pk})
        if done is not None:
            messages.success(request, _("The diagnosis was confirmed and the patient registered."))
            return redirect("patients:suspected_detail", pk=case.pk)
    return render(request, "patients/suspected_confirm.html", {"case": case, "form": form},
                  status=400 if form.errors else 200)


# --- Duplicates ---------------------------------------------------------------------------------------------------

@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Persons sharing an ID number within the user's region, with their registrations (masked)."""
    user: Any = request.user
    if not user.has_perm("patients.merge_patient"):
        raise PermissionDenied
    groups = []
    for group in services.duplicate_groups(user):
        members = [(p, present(user, p), getattr(p, "patient", None)) for p in group]
        groups.append(members)
    audit.record_many(AuditAction.LIST, [p for g in groups for p, _s, _pt in g], object_type="core.person",
                      detail={"via": "duplicates"})
    return render(request, "patients/duplicate_list.html", {"groups": groups, "form": MergeForm()})


@login_required
@require_POST
def merge(request: HttpRequest) -> HttpResponse:
    """Merge two duplicate records (permission ``patients.merge_patient``; audited)."""
    if not request.user.has_perm("patients.merge_patient"):
        raise PermissionDenied
    form = MergeForm(request.POST)
    if not form.is_valid():
        for field, field_errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(str(e) for e in field_errors)}")
        return redirect("patients:duplicate_list")
    keep = get_scoped_or_404(Person, request.user, pk=form.cleaned_data["keep"])
    drop = get_scoped_or_404(Person, request.user, pk=form.cleaned_data["drop"])
    try:
        services.merge_persons(request.user, keep, drop, form.cleaned_data["reason"])
    except ValidationError as exc:
        for messages_of_field in exc.message_dict.values():
            for error in messages_of_field:
                messages.error(request, str(error))
    else:
        messages.success(request, _("The records were merged."))
    return redirect("patients:duplicate_list")
