"""Follow-up pages: the phone form with the engine's live proposal, a patient's follow-ups, details,
the annual health check and the hospital's discharge form.

Thin views in the pattern restrict → service → present → audit: the patient comes through
``get_scoped_or_404`` (out of scope → 404), the permission is checked next (in scope without it →
403), writes go through ``services``, and what is shown comes from ``core.masks.present``. Every
page that shows a patient's record is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinqiao.core import audit
from xinqiao.core import services as core_services
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.followups import corrections, exports, labels, rules, services
from xinqiao.followups.codes import Outcome
from xinqiao.followups.display import history, rows
from xinqiao.followups.forms import (
    CorrectionForm,
    DischargeForm,
    FollowUpForm,
    HealthCheckForm,
    MedicationFormSet,
    ParticipantFormSet,
    attach_line_errors,
    correction_initial,
    kept_lines,
    medication_lines,
    participant_lines,
)
from xinqiao.followups.models import DischargeRecord, FollowUp, HealthCheck
from xinqiao.patients.models import Patient

LIST_LIMIT = 200


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _key(request: HttpRequest, form: Any) -> str:
    return f"u{request.user.pk}:{form.cleaned_data['form_key']}"


def patient_header(user: Any, patient: Patient) -> dict[str, Any]:
    """What the page header shows of the patient (masked per role)."""
    return {"patient": patient, "person": present(user, patient.person), "record": present(user, patient)}


# --------------------------------------------------------------------------------------------------
# The follow-up form
# --------------------------------------------------------------------------------------------------

def _bound_forms(request: HttpRequest) -> tuple[FollowUpForm, Any, Any]:
    data = request.POST if request.method == "POST" else None
    today = timezone.localdate()
    form = FollowUpForm(data, initial={"followup_date": today, "outcome": Outcome.VISITED})
    return form, MedicationFormSet(data, prefix="med"), ParticipantFormSet(data, prefix="part")


def _proposal_context(patient: Patient, form: FollowUpForm) -> dict[str, Any]:
    """The engine's proposal for what the form holds so far (for the live panel)."""
    if not form.is_bound:
        return {"proposal": None, "missing": []}
    form.is_valid()  # cleaned_data holds every valid field, even when others are not yet filled
    data = form.to_input([], [])
    needed = ("followup_date", "danger_level", "insight", "self_care", "housework", "work", "study", "social")
    missing = [str(form.fields[n].label) for n in needed if form.cleaned_data.get(n) is None]
    proposal = services.propose_for(patient, data) if not missing else None
    return {
        "proposal": proposal, "missing": missing if data.outcome == Outcome.VISITED else [],
        "outcome": data.outcome,
        "reasons": labels.reason_labels(proposal.reasons) if proposal else [],
        "actions": labels.action_labels(proposal.actions) if proposal else [],
        "latest": rules.latest_allowed_date(data.followup_date) if data.followup_date else None,
    }


@login_required
@require_http_methods(["GET", "POST"])
def followup_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The 随访服务记录表 on a phone: one column, collapsible sections, the proposal shown live."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    _require(request, "followups.add_followup")
    form, meds, parts = _bound_forms(request)
    status = 200
    if request.method == "POST":
        if form.is_valid() & meds.is_valid() & parts.is_valid():
            med_forms = [i for i, f in enumerate(meds.forms) if f.has_changed() and not f.is_blank()]
            part_forms = [i for i, f in enumerate(parts.forms) if f.has_changed() and f.to_input() is not None]
            try:
                followup, created = services.record_followup(
                    request.user, patient, form.to_input(medication_lines(meds), participant_lines(parts)),
                    key=_key(request, form))
            except ValidationError as exc:
                rest = attach_line_errors(exc, {"medications": meds, "participants": parts},
                                          {"medications": med_forms, "participants": part_forms})
                form.add_service_errors(rest)
            else:
                if created:
                    messages.success(request, _("The follow-up was recorded."))
                    referral = services.referral_of(request.user, followup)
                    if referral and referral["message"]:
                        messages.warning(request, referral["message"])
                return redirect("followups:followup_detail", pk=followup.pk)
        status = 400
    audit.record(AuditAction.VIEW, obj=patient, detail={"via": "followup_form"})
    return render(request, "followups/followup_form.html", {
        **patient_header(request.user, patient), "form": form, "meds": meds, "parts": parts,
        **_proposal_context(patient, form),
    }, status=status)


@login_required
@require_POST
def followup_propose(request: HttpRequest, patient_id: int) -> HttpResponse:
    """htmx: the engine's proposal for the form as filled so far (nothing is stored)."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    _require(request, "followups.add_followup")
    form = FollowUpForm(request.POST)
    return render(request, "followups/_proposal.html", {"patient": patient, **_proposal_context(patient, form)})


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------

@login_required
@require_GET
def followup_list(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's follow-ups, health checks and discharges (audited as a view of the patient and a list)."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    _require(request, "followups.view_followup")
    user: Any = request.user
    followups = list(FollowUp.objects.restrict(user).filter(patient=patient).order_by("-followup_date", "-id")
                     [:LIST_LIMIT])
    checks = list(HealthCheck.objects.restrict(user).filter(patient=patient)[:LIST_LIMIT])
    discharges = list(DischargeRecord.objects.restrict(user).filter(patient=patient)
                      .select_related("hospital")[:LIST_LIMIT])
    audit.record(AuditAction.VIEW, obj=patient, detail={"via": "followup_list"})
    audit.record_many(AuditAction.LIST, followups, object_type="followups.followup", detail={"patient": patient.pk})
    for rows_of_kind in (checks, discharges):
        if rows_of_kind:
            audit.record_many(AuditAction.LIST, rows_of_kind, detail={"patient": patient.pk})
    return render(request, "followups/followup_list.html", {
        **patient_header(user, patient),
        "followups": [(f, present(user, f)) for f in followups],
        "checks": [(c, present(user, c)) for c in checks],
        "discharges": [(d, present(user, d)) for d in discharges],
        "can_add": user.has_perm("followups.add_followup"),
        "can_check": user.has_perm("followups.add_healthcheck"),
        "can_discharge": user.has_perm("followups.add_dischargerecord"),
        "can_export": user.has_perm("followups.export_followup"),
    })


@login_required
@require_GET
def followup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One follow-up as the user may see it (audited)."""
    user: Any = request.user
    followup = get_scoped_or_404(FollowUp, user, pk=pk)
    shown = core_services.view_record(user, followup)
    patient = followup.patient
    return render(request, "followups/followup_detail.html", {
        **patient_header(user, patient), "followup": followup, "rows": rows(followup, shown),
        "medications": [present(user, m) for m in followup.medications.all()],
        "participants": [{**present(user, p), "user": p.user} for p in followup.participants.select_related("user")],
        "overridden": followup.overridden and "classification" in shown,
        "revisions": history(user, followup),
        "can_correct": corrections.may_correct(user, followup),
        "referral": services.referral_of(user, followup),
    })


# --------------------------------------------------------------------------------------------------
# Correcting a follow-up
# --------------------------------------------------------------------------------------------------

def _correction_forms(request: HttpRequest, followup: FollowUp) -> tuple[CorrectionForm, Any, Any]:
    if request.method == "POST":
        return (CorrectionForm(request.POST), MedicationFormSet(request.POST, prefix="med"),
                ParticipantFormSet(request.POST, prefix="part"))
    initial, med_initial, part_initial = correction_initial(corrections.input_from(followup))
    return (CorrectionForm(initial=initial), MedicationFormSet(initial=med_initial, prefix="med"),
            ParticipantFormSet(initial=part_initial, prefix="part"))


def _correction_proposal(followup: FollowUp, form: CorrectionForm) -> dict[str, Any]:
    """The rules' proposal for the corrected form (the follow-up itself not counted as "previous");
    before anything is sent, for the stored values."""
    needed = ("followup_date", "danger_level", "insight", "self_care", "housework", "work", "study", "social")
    if form.is_bound:
        form.is_valid()  # cleaned_data holds every valid field, even when others are not yet filled
        data = form.to_input([], [])
    else:
        data = corrections.input_from(followup)
    missing = [str(form.fields[n].label) for n in needed if getattr(data, n) is None]
    proposal = corrections.propose(followup, data) if not missing else None
    return {
        "proposal": proposal, "missing": missing if data.outcome == Outcome.VISITED else [], "outcome": data.outcome,
        "reasons": labels.reason_labels(proposal.reasons) if proposal else [],
        "actions": labels.action_labels(proposal.actions) if proposal else [],
        "latest": rules.latest_allowed_date(data.followup_date) if data.followup_date else None,
    }


def _scoped_for_correction(request: HttpRequest, pk: int) -> FollowUp:
    """The follow-up (404 outside scope), then the permission to correct it (403 with the reason)."""
    followup = get_scoped_or_404(FollowUp, request.user, pk=pk)
    refused = corrections.refusal(request.user, followup)
    if refused:
        raise corrections.CorrectionRefused(refused)
    return followup


@login_required
@require_http_methods(["GET", "POST"])
def followup_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a stored follow-up: the same phone form, prefilled, with a required reason."""
    user: Any = request.user
    try:
        followup = _scoped_for_correction(request, pk)
    except corrections.CorrectionRefused as exc:
        return render(request, "followups/correction_refused.html", {"message": str(exc), "pk": pk}, status=403)
    patient = followup.patient
    form, meds, parts = _correction_forms(request, followup)
    status = 200
    if request.method == "POST":
        if form.is_valid() & meds.is_valid() & parts.is_valid():
            med_forms, part_forms = kept_lines(meds), kept_lines(parts)
            linked = [p for p in corrections.input_from(followup).participants if p.user_id is not None]
            data = form.to_input([meds.forms[i].to_input() for i in med_forms],
                                 [*[parts.forms[i].to_input() for i in part_forms], *linked])
            try:
                _revision, created = corrections.correct_followup(
                    user, followup, data, form.cleaned_data.get("reason") or "", key=_key(request, form))
            except corrections.CorrectionRefused as exc:
                return render(request, "followups/correction_refused.html", {"message": str(exc), "pk": pk},
                              status=403)
            except ValidationError as exc:
                rest = attach_line_errors(exc, {"medications": meds, "participants": parts},
                                          {"medications": med_forms, "participants": part_forms})
                form.add_service_errors(rest)
            else:
                if created:
                    messages.success(request, _("The follow-up was corrected; the previous version is kept."))
                return redirect("followups:followup_detail", pk=followup.pk)
        status = 400
    audit.record(AuditAction.VIEW, obj=followup, detail={"via": "correction_form", "patient": patient.pk})
    return render(request, "followups/followup_correct.html", {
        **patient_header(user, patient), "followup": followup, "form": form, "meds": meds, "parts": parts,
        **_correction_proposal(followup, form),
    }, status=status)


@login_required
@require_POST
def followup_correct_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the rules' proposal for the correction form as filled so far (nothing is stored)."""
    followup = _scoped_for_correction(request, pk)
    form = CorrectionForm(request.POST)
    return render(request, "followups/_proposal.html", {"patient": followup.patient,
                                                         **_correction_proposal(followup, form)})


# --------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------

@login_required
@require_GET
def followup_export(request: HttpRequest) -> HttpResponse:
    """The follow-ups the user may see, filtered, as an Excel file (masked as on screen, audited).

    Without ``download`` the page shows the filters; with it, the file (or the filters again with
    the error, when a filter is wrong or too many rows match).
    """
    user: Any = request.user
    _require(request, "followups.export_followup")
    form = exports.FollowUpExportForm(request.GET if "download" in request.GET else None, user=user)
    status = 200
    if form.is_bound:
        if form.is_valid():
            qs = exports.filter_followups(FollowUp.objects.restrict(user, "export"), form)
            try:
                return exports.export_followups_xlsx(user, qs, form.applied())
            except exports.ExportTooLarge as exc:
                form.add_error(None, str(exc))
        status = 400
    return render(request, "followups/followup_export.html", {"form": form}, status=status)


# --------------------------------------------------------------------------------------------------
# Health check, discharge
# --------------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def healthcheck_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The annual health check, with consent."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    _require(request, "followups.add_healthcheck")
    form = HealthCheckForm(request.POST or None, initial={"check_date": timezone.localdate(), "consent": 1})
    if request.method == "POST":
        if form.is_valid():
            try:
                check, _created = services.record_health_check(request.user, patient, form.to_input(),
                                                               key=_key(request, form))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("The health check was recorded."))
                return redirect("followups:healthcheck_detail", pk=check.pk)
    audit.record(AuditAction.VIEW, obj=patient, detail={"via": "healthcheck_form"})
    return render(request, "followups/healthcheck_form.html", {**patient_header(request.user, patient), "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def healthcheck_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_scoped_or_404(HealthCheck, request.user, pk=pk)
    shown = core_services.view_record(request.user, check)
    return render(request, "followups/record_detail.html", {
        **patient_header(request.user, check.patient), "title": _("Health check"), "rows": rows(check, shown),
        "record_date": check.check_date,
    })


@login_required
@require_http_methods(["GET", "POST"])
def discharge_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    """出院单 from a hospital: notifies the home clinic, which then owes a first visit."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    _require(request, "followups.add_dischargerecord")
    user: Any = request.user
    data = request.POST if request.method == "POST" else None
    form = DischargeForm(data, user=user, initial={"discharge_date": timezone.localdate(),
                                                   "diagnosis": patient.diagnosis, "icd10_code": patient.icd10_code})
    meds = MedicationFormSet(data, prefix="med")
    if request.method == "POST":
        if form.is_valid() & meds.is_valid():
            med_forms = [i for i, f in enumerate(meds.forms) if f.has_changed() and not f.is_blank()]
            try:
                record, _created = services.record_discharge(user, patient, form.to_input(medication_lines(meds)),
                                                             key=_key(request, form))
            except ValidationError as exc:
                rest = attach_line_errors(exc, {"medications": meds}, {"medications": med_forms})
                for field, msgs in rest.message_dict.items():
                    for message in msgs:
                        target = "hospital" if field == "hospital_id" else field
                        form.add_error(target if target in form.fields else None, message)
            else:
                messages.success(request, _("The discharge was recorded and the home clinic informed."))
                return redirect("followups:discharge_detail", pk=record.pk)
    audit.record(AuditAction.VIEW, obj=patient, detail={"via": "discharge_form"})
    return render(request, "followups/discharge_form.html", {
        **patient_header(user, patient), "form": form, "meds": meds,
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def discharge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_scoped_or_404(DischargeRecord, request.user, pk=pk)
    shown = core_services.view_record(request.user, record)
    return render(request, "followups/record_detail.html", {
        **patient_header(request.user, record.patient), "title": _("Discharge record"), "rows": rows(record, shown),
        "record_date": record.discharge_date, "hospital": record.hospital,
        "medications": [present(request.user, m) for m in record.medications.all()],
        "deadline": {"due": record.report_deadline, "late": record.late, "uncertain": record.deadline_uncertain},
    })

