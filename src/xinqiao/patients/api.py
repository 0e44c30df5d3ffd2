"""API routes of the patients app, mounted under ``/api/v1/patients/``. Every route is in the permission matrix.

Thin handlers: scope (``restrict`` / ``get_scoped_or_404``: 404 outside scope), call a service,
answer from ``present`` (hidden categories ``null``). Every POST that creates or changes takes an
``Idempotency-Key`` (``core.idempotency.run_once``): a retry is answered from the first run.
Errors name the field: ``{"detail": [{"field", "message"}]}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from ninja import Header, Router, Status
from ninja.security import django_auth

from xinqiao.core import audit
from xinqiao.core.idempotency import run_once
from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.core.models import AuditAction, Person
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.core.services import PersonInput
from xinqiao.patients import services
from xinqiao.patients.filters import filter_patients
from xinqiao.patients.models import CaseReport, Patient, PersonalSupplement, SuspectedCase, Transfer
from xinqiao.patients.schemas import (
    CaseReportCreateSchema,
    CaseReportDraftSchema,
    CaseReportEnterSchema,
    CaseReportPage,
    CaseReportSchema,
    CloseSchema,
    ConfirmSchema,
    DuplicateSchema,
    MergeResultSchema,
    MergeSchema,
    PatientPage,
    PatientSchema,
    ReferSchema,
    StatusChangeCreateSchema,
    StatusChangeSchema,
    SupplementSchema,
    SuspectedCaseCreateSchema,
    SuspectedCaseSchema,
    SuspectedPage,
    TransferCreateSchema,
    TransferDecisionSchema,
    TransferSchema,
    UnmaskSchema,
)

router = Router(tags=["patients"], auth=django_auth)
PAGE_SIZE = 50
Key = Header(..., alias="Idempotency-Key", min_length=1, max_length=128)


def _once(request: HttpRequest, scope: str, key: str, payload: Any, action: Callable[[], Any],
          status: int = 201) -> Status:
    code, body, _replayed = run_once(request.user, f"patients.api.{scope}", key, payload, lambda: (status, action()))
    return Status(code, body)


def _full(user: Any, category: str, unmasked: bool) -> bool:
    level = visibility(user, category)
    return level == Visibility.FULL or (unmasked and level == Visibility.MASKED)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def patient_out(user: Any, patient: Patient, *, unmasked: bool = False) -> dict[str, Any]:
    """A patient as ``user`` may see them (``present`` on person and patient)."""
    person = present(user, patient.person, unmasked=unmasked)
    shown = present(user, patient, unmasked=unmasked)
    diagnosis_full = "diagnosis" in shown and _full(user, "clinical.diagnosis", unmasked)
    danger_full = "danger_level" in shown and _full(user, "risk.danger_level", unmasked)
    followup_full = "last_classification" in shown and _full(user, "clinical.followup", unmasked)
    return {
        "id": patient.pk, "register_number": patient.register_number, "status": patient.status,
        "status_label": str(patient.get_status_display()), "source": patient.source,
        "registered_on": patient.registered_on, "township_code": patient.township_code,
        "county_code": patient.county_code, "managing_organisation_id": patient.managing_organisation_id,
        "name": person.get("name"), "id_number": person.get("id_number"),
        "sex": patient.person.sex if "sex" in person else None, "birth_date": _text(person.get("birth_date")),
        "phone": person.get("phone"), "address": person.get("address"),
        "diagnosis": patient.diagnosis if diagnosis_full else None,
        "diagnosis_label": _text(shown.get("diagnosis")), "icd10_code": _text(shown.get("icd10_code")),
        "co_icd10_code": _text(shown.get("co_icd10_code")), "diagnosed_on": _text(shown.get("diagnosed_on")),
        "diagnosing_hospital": _text(shown.get("diagnosing_hospital")),
        "danger_level": patient.danger_level if danger_full else None,
        "incident_history": patient.incident_history if danger_full else None,
        "responsible_doctor": _text(shown.get("responsible_doctor")),
        "last_followup_date": _text(shown.get("last_followup_date")),
        "last_classification": patient.last_classification if followup_full else None,
        "next_followup_due": _text(shown.get("next_followup_due")), "unmasked": unmasked,
    }


def _person_input(payload: Any) -> PersonInput:
    return PersonInput(name=payload.name, id_type=payload.id_type, id_number=payload.id_number,
                       region_code=payload.region_code, phone=payload.phone, address=payload.address,
                       sex=payload.sex, birth_date=payload.birth_date)


def _diagnosis_input(payload: Any) -> services.DiagnosisInput:
    return services.DiagnosisInput(diagnosis=payload.diagnosis, icd10_code=payload.icd10_code,
                                   co_icd10_code=payload.co_icd10_code,
                                   diagnosing_hospital_id=payload.diagnosing_hospital,
                                   diagnosed_on=payload.diagnosed_on)


# --- Patients ------------------------------------------------------------------------------------------

@router.get("", response=PatientPage, url_name="patients_list")
def patient_list(request: HttpRequest, page: int = 1, status: str = "", danger: str = "", diagnosis: str = "",
                 due: str = "", q: str = "") -> dict[str, Any]:
    """Patients in the caller's scope, filtered, masked per role (audited as a list)."""
    user: Any = request.user
    if not user.has_perm("patients.view_patient"):
        raise PermissionDenied
    params = {k: v for k, v in {"status": status, "danger": danger, "diagnosis": diagnosis, "due": due,
                                "q": q}.items() if v}
    scoped = Patient.objects.restrict(user)
    qs, _form = filter_patients(user, scoped.select_related("person", "responsible_doctor", "diagnosing_hospital"),
                                params)
    paged = Paginator(qs.order_by("-registered_on", "-id"), PAGE_SIZE).get_page(page)
    rows = list(paged.object_list)
    audit.record_many(AuditAction.LIST, rows, object_type="patients.patient",
                      detail={"page": paged.number, "via": "api", "filters": params})
    return {"count": paged.paginator.count, "registered": services.registered_count(scoped), "page": paged.number,
            "pages": paged.paginator.num_pages, "results": [patient_out(user, p) for p in rows]}


@router.get("/{int:patient_id}", response=PatientSchema, url_name="patients_detail")
def patient_detail(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """One patient (404 out of scope, or below the partner threshold), audited as a view."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    services.view_patient(request.user, patient, via="api")
    return patient_out(request.user, patient)


@router.post("/{int:patient_id}/unmask", response=PatientSchema, url_name="patients_unmask")
def patient_unmask(request: HttpRequest, patient_id: int, payload: UnmaskSchema) -> dict[str, Any]:
    """Reveal the masked fields the caller may reveal, recording the purpose (audited)."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    services.unmask_patient(request.user, patient, payload.purpose)
    return patient_out(request.user, patient, unmasked=True)


@router.post("/{int:patient_id}/status", response={201: StatusChangeSchema}, url_name="patients_status")
def patient_status(request: HttpRequest, patient_id: int, payload: StatusChangeCreateSchema,
                   idempotency_key: str = Key) -> Status:
    """Record a status change with its facts (失访原因, 死亡原因, …)."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    if not request.user.has_perm("patients.change_patient"):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        change = services.change_status(request.user, patient, services.StatusInput(**body))
        return {"id": change.pk, "patient_id": patient.pk, "from_status": change.from_status,
                "to_status": change.to_status, "changed_on": str(change.changed_on)}

    return _once(request, f"status:{patient.pk}", idempotency_key, body, act)


def _supplement_out(user: Any, supplement: PersonalSupplement) -> dict[str, Any]:
    """Codes as stored where the category is shown in full; masked text where masked; ``null`` where hidden."""
    shown = present(user, supplement)
    out: dict[str, Any] = {}
    for name in SupplementSchema.model_fields:
        if name == "behaviour_counts":
            counts = {code: getattr(supplement, f"{code}_count") for code in supplement.behaviour_counts()
                      if f"{code}_count" in shown}
            out[name] = counts or None
        elif name not in shown:
            out[name] = None
        elif _full(user, PersonalSupplement.PII_FIELDS.get(name, ""), False) or name == "filled_on":
            out[name] = getattr(supplement, name)
        else:
            out[name] = shown[name]
    return out


@router.get("/{int:patient_id}/supplement", response=SupplementSchema, url_name="patients_supplement")
def supplement_detail(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """The 个人信息补充表 as the caller may see it (404 when not filled in); audited as a view."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    supplement = PersonalSupplement.objects.filter(patient=patient).first()
    if supplement is None:
        raise Http404
    audit.record(AuditAction.VIEW, obj=supplement, detail={"via": "api"})
    return _supplement_out(request.user, supplement)


def _supplement_input(body: dict[str, Any]) -> services.SupplementInput:
    """The schema's values, ``null`` read as empty (text ``""``, lists and counts empty, flags false)."""
    values: dict[str, Any] = {}
    for name, spec in services.SupplementInput.__dataclass_fields__.items():
        value = body.get(name)
        if value is None:
            value = spec.default_factory() if callable(spec.default_factory) else spec.default
        values[name] = value
    return services.SupplementInput(**values)


@router.post("/{int:patient_id}/supplement", response={200: SupplementSchema}, url_name="patients_supplement_save")
def supplement_save(request: HttpRequest, patient_id: int, payload: SupplementSchema,
                    idempotency_key: str = Key) -> Status:
    """Create or replace the 个人信息补充表 (the fields sent; those left out are emptied)."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    if not request.user.has_perm("patients.change_patient"):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        supplement = services.save_supplement(request.user, patient, _supplement_input(body))
        return _jsonable(_supplement_out(request.user, supplement))

    return _once(request, f"supplement:{patient.pk}", idempotency_key, body, act, status=200)


# --- Transfers ------------------------------------------------------------------------------------------------

def _transfer_out(user: Any, transfer: Transfer) -> dict[str, Any]:
    region = user.region_id or ""
    return {"id": transfer.pk, "patient_id": transfer.patient_id, "register_number": transfer.patient.register_number,
            "status": transfer.status, "status_label": str(transfer.get_status_display()),
            "from_township_code": transfer.from_township_code, "to_township_code": transfer.township_code,
            "moved_on": transfer.moved_on, "incoming": transfer.township_code.startswith(region)}


@router.post("/{int:patient_id}/transfers", response={201: TransferSchema}, url_name="patients_transfer_create")
def transfer_create(request: HttpRequest, patient_id: int, payload: TransferCreateSchema,
                    idempotency_key: str = Key) -> Status:
    """Hand the patient over to the township they moved to (waits for the receiving region)."""
    patient = get_scoped_or_404(Patient, request.user, pk=patient_id)
    if not (request.user.has_perm("patients.add_transfer") and request.user.has_perm("patients.change_patient")):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        transfer = services.request_transfer(request.user, patient, services.TransferInput(
            to_region_code=body["to_region"], moved_on=body["moved_on"], reason=body["reason"],
            new_address=body["new_address"], to_organisation_id=body["to_organisation"]))
        return _transfer_out(request.user, transfer) | {"moved_on": str(transfer.moved_on)}

    return _once(request, f"transfer:{patient.pk}", idempotency_key, body, act)


@router.get("/transfers", response=list[TransferSchema], url_name="patients_transfer_list")
def transfer_list(request: HttpRequest, status: str = "pending") -> list[dict[str, Any]]:
    """Transfers to or from the caller's region (default: those waiting)."""
    user: Any = request.user
    if not user.has_perm("patients.view_transfer"):
        raise PermissionDenied
    qs = Transfer.objects.restrict(user).select_related("patient")
    if status:
        qs = qs.filter(status=status)
    return [_transfer_out(user, t) for t in qs.order_by("-requested_at")[:200]]


@router.post("/transfers/{int:transfer_id}/decision", response={200: TransferSchema},
             url_name="patients_transfer_decide")
def transfer_decide(request: HttpRequest, transfer_id: int, payload: TransferDecisionSchema,
                    idempotency_key: str = Key) -> Status:
    """Accept or decline a transfer to the caller's region (403 for the sending side)."""
    transfer = get_scoped_or_404(Transfer, request.user, pk=transfer_id)
    if not request.user.has_perm("patients.change_transfer"):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        if body["decision"] == "accept":
            done = services.accept_transfer(request.user, transfer, managing_organisation_id=body["managing_organisation"],
                                            responsible_doctor_id=body["responsible_doctor"])
        else:
            done = services.decline_transfer(request.user, transfer, body["decline_reason"])
        return _transfer_out(request.user, done) | {"moved_on": str(done.moved_on)}

    return _once(request, f"transfer_decide:{transfer.pk}", idempotency_key, body, act, status=200)


# --- Case reports ----------------------------------------------------------------------------------------------

def _case_report_out(user: Any, report: CaseReport) -> dict[str, Any]:
    shown = present(user, report)
    return {
        "id": report.pk, "status": report.status, "patient_id": report.patient_id,
        "register_number": report.patient.register_number if report.patient else None,
        "report_type": report.report_type, "entry": report.entry, "township_code": report.township_code,
        "diagnosis": report.diagnosis if "diagnosis" in shown else None, "icd10_code": _text(shown.get("icd10_code")),
        "diagnosed_on": _text(shown.get("diagnosed_on")), "received_on": report.received_on,
        "entered_on": report.entered_on, "report_deadline": report.report_deadline,
        "entry_deadline": report.entry_deadline, "late": report.late, "deadline_uncertain": report.deadline_uncertain,
    }


@router.post("/case-reports", response={201: CaseReportSchema}, url_name="patients_case_report_create")
def case_report_create(request: HttpRequest, payload: CaseReportCreateSchema, idempotency_key: str = Key) -> Status:
    """Enter a 发病报告卡; the patient is registered in their home township; deadline and lateness recorded."""
    if not request.user.has_perm("patients.add_casereport"):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        report = services.register_from_case_report(request.user, services.CaseReportInput(
            person=_person_input(payload), report_type=payload.report_type, diagnosis=_diagnosis_input(payload),
            brought_by=payload.brought_by, prior_danger=tuple(payload.prior_danger), onset_date=payload.onset_date,
            danger_level=payload.danger_level, entry=payload.entry, received_on=payload.received_on,
            reporting_unit_id=payload.reporting_unit, managing_organisation_id=payload.managing_organisation,
            responsible_doctor_id=payload.responsible_doctor))
        out = _case_report_out(request.user, report)
        return {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in out.items()}

    return _once(request, "case_report", idempotency_key, body, act)


@router.post("/case-reports/drafts", response={201: CaseReportSchema}, url_name="patients_case_report_draft_create")
def case_report_draft_create(request: HttpRequest, payload: CaseReportDraftSchema,
                             idempotency_key: str = Key) -> Status:
    """Save a 发病报告卡 as a draft (not a registration); its deadline runs from the diagnosis."""
    if not request.user.has_perm("patients.add_casereport"):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        report = services.save_case_report_draft(request.user, services.CaseReportInput(
            person=_person_input(payload), report_type=payload.report_type or 0, diagnosis=_diagnosis_input(payload),
            brought_by=payload.brought_by or 0, prior_danger=tuple(payload.prior_danger), onset_date=payload.onset_date,
            entry=payload.entry, received_on=payload.received_on, reporting_unit_id=payload.reporting_unit))
        out = _case_report_out(request.user, report)
        return {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in out.items()}

    return _once(request, "case_report_draft", idempotency_key, body, act)


@router.post("/case-reports/{report_id}/enter", response={200: CaseReportSchema},
             url_name="patients_case_report_enter")
def case_report_enter(request: HttpRequest, report_id: int, payload: CaseReportEnterSchema,
                      idempotency_key: str = Key) -> Status:
    """Enter a draft (``services.pending_case_reports`` scope: the reporting hospital, or the region's
    county centre; 404 otherwise); registers the patient unless already registered."""
    user: Any = request.user
    if not user.has_perm("patients.add_casereport"):
        raise PermissionDenied
    draft = services.pending_case_reports(user).select_related("person").filter(pk=report_id).first()
    if draft is None:
        raise Http404
    body = payload.dict()

    def act() -> dict[str, Any]:
        data = replace(services.draft_input(draft), report_type=payload.report_type or 0,
                       brought_by=payload.brought_by or 0, prior_danger=tuple(payload.prior_danger),
                       onset_date=payload.onset_date, danger_level=payload.danger_level, entry=payload.entry,
                       received_on=payload.received_on, managing_organisation_id=payload.managing_organisation,
                       responsible_doctor_id=payload.responsible_doctor)
        report = services.register_from_case_report(user, data, draft=draft)
        out = _case_report_out(user, report)
        return {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in out.items()}

    return _once(request, f"case_report_enter:{draft.pk}", idempotency_key, body, act, status=200)


@router.get("/case-reports", response=CaseReportPage, url_name="patients_case_report_list")
def case_report_list(request: HttpRequest, page: int = 1, late: bool | None = None,
                     pending: bool = False) -> dict[str, Any]:
    """Entered case reports of the caller's region (``late=true`` for the late ones); ``pending=true``:
    the drafts the caller answers for (``services.pending_case_reports``), past their deadline first."""
    user: Any = request.user
    if not user.has_perm("patients.view_casereport"):
        raise PermissionDenied
    if pending:
        qs = services.pending_case_reports(user).order_by("-late", "report_deadline", "id")
    else:
        qs = CaseReport.objects.restrict(user).filter(status="entered").order_by("-entered_on", "-id")
    if late is not None:
        qs = qs.filter(late=late)
    paged = Paginator(qs.select_related("patient"), PAGE_SIZE).get_page(page)
    rows = list(paged.object_list)
    audit.record_many(AuditAction.LIST, rows, object_type="patients.casereport",
                      detail={"via": "api", "pending": pending})
    return {"count": paged.paginator.count, "page": paged.number, "pages": paged.paginator.num_pages,
            "results": [_case_report_out(user, r) for r in rows]}


# --- Suspected cases -------------------------------------------------------------------------------------------

def _suspected_out(user: Any, case: SuspectedCase) -> dict[str, Any]:
    shown = present(user, case)
    person = present(user, case.person)
    return {
        "id": case.pk, "status": case.status, "status_label": str(case.get_status_display()),
        "township_code": case.township_code, "found_by": case.found_by, "discovered_on": case.discovered_on,
        "name": person.get("name"), "symptoms": case.symptoms if "symptoms" in shown else None,
        "referred_to_id": case.referred_to_id, "referred_on": case.referred_on, "decided_on": case.decided_on,
        "patient_id": case.patient_id,
        "history": [{"from": e.from_status, "to": e.to_status, "on": str(e.on)} for e in case.events.all()],
    }


def _jsonable(out: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in out.items()}


@router.post("/suspected", response={201: SuspectedCaseSchema}, url_name="patients_suspected_create")
def suspected_create(request: HttpRequest, payload: SuspectedCaseCreateSchema, idempotency_key: str = Key) -> Status:
    """Record a suspected case found by a village committee or a doctor."""
    if not request.user.has_perm("patients.add_suspectedcase"):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        case = services.report_suspected_case(request.user, services.SuspectedCaseInput(
            person=_person_input(payload), found_by=payload.found_by, discovered_on=payload.discovered_on,
            reporter_name=payload.reporter_name, symptoms=tuple(payload.symptoms), description=payload.description))
        return _jsonable(_suspected_out(request.user, case))

    return _once(request, "suspected", idempotency_key, body, act)


@router.get("/suspected", response=SuspectedPage, url_name="patients_suspected_list")
def suspected_list(request: HttpRequest, page: int = 1, status: str = "") -> dict[str, Any]:
    """Suspected cases of the caller's region."""
    user: Any = request.user
    if not user.has_perm("patients.view_suspectedcase"):
        raise PermissionDenied
    qs = SuspectedCase.objects.restrict(user).select_related("person").prefetch_related("events")
    if status:
        qs = qs.filter(status=status)
    paged = Paginator(qs.order_by("-discovered_on", "-id"), PAGE_SIZE).get_page(page)
    rows = list(paged.object_list)
    audit.record_many(AuditAction.LIST, rows, object_type="patients.suspectedcase", detail={"via": "api"})
    return {"count": paged.paginator.count, "page": paged.number, "pages": paged.paginator.num_pages,
            "results": [_suspected_out(user, c) for c in rows]}


@router.post("/suspected/{int:case_id}/referral", response={200: SuspectedCaseSchema},
             url_name="patients_suspected_refer")
def suspected_refer(request: HttpRequest, case_id: int, payload: ReferSchema, idempotency_key: str = Key) -> Status:
    """Refer the suspected case for diagnosis."""
    case = get_scoped_or_404(SuspectedCase, request.user, pk=case_id)
    if not request.user.has_perm("patients.change_suspectedcase"):
        raise PermissionDenied
    body = payload.dict()
    return _once(request, f"suspected_refer:{case.pk}", idempotency_key, body, lambda: _jsonable(_suspected_out(
        request.user, services.refer_suspected_case(request.user, case, payload.referred_to, payload.referred_on,
                                                    payload.note))), status=200)


@router.post("/suspected/{int:case_id}/confirmation", response={201: PatientSchema},
             url_name="patients_suspected_confirm")
def suspected_confirm(request: HttpRequest, case_id: int, payload: ConfirmSchema, idempotency_key: str = Key) -> Status:
    """The diagnosis was confirmed: register the patient."""
    case = get_scoped_or_404(SuspectedCase, request.user, pk=case_id)
    if not request.user.has_perm("patients.add_casereport"):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        patient = services.confirm_suspected_case(request.user, case, _diagnosis_input(payload),
                                                  managing_organisation_id=payload.managing_organisation,
                                                  responsible_doctor_id=payload.responsible_doctor,
                                                  danger_level=payload.danger_level)
        return _jsonable(patient_out(request.user, patient))

    return _once(request, f"suspected_confirm:{case.pk}", idempotency_key, body, act)


@router.post("/suspected/{int:case_id}/closure", response={200: SuspectedCaseSchema},
             url_name="patients_suspected_close")
def suspected_close(request: HttpRequest, case_id: int, payload: CloseSchema, idempotency_key: str = Key) -> Status:
    """Close the suspected case as not a case."""
    case = get_scoped_or_404(SuspectedCase, request.user, pk=case_id)
    if not request.user.has_perm("patients.change_suspectedcase"):
        raise PermissionDenied
    body = payload.dict()
    return _once(request, f"suspected_close:{case.pk}", idempotency_key, body, lambda: _jsonable(_suspected_out(
        request.user, services.close_suspected_case(request.user, case, payload.closing_reason))), status=200)


# --- Duplicates -------------------------------------------------------------------------------------------------

@router.get("/duplicates", response=list[list[DuplicateSchema]], url_name="patients_duplicates")
def duplicates(request: HttpRequest) -> list[list[dict[str, Any]]]:
    """Groups of persons of the caller's region sharing an ID number (masked)."""
    user: Any = request.user
    if not user.has_perm("patients.merge_patient"):
        raise PermissionDenied
    out = []
    for group in services.duplicate_groups(user):
        rows = []
        for person in group:
            shown = present(user, person)
            patient = getattr(person, "patient", None)
            rows.append({"person_id": person.pk, "name": shown.get("name"), "id_number": shown.get("id_number"),
                         "township_code": person.township_code, "patient_id": patient.pk if patient else None,
                         "register_number": patient.register_number if patient else None})
        out.append(rows)
    audit.record(AuditAction.LIST, object_type="core.person", detail={"via": "api.duplicates", "groups": len(out)})
    return out


@router.post("/merges", response={201: MergeResultSchema}, url_name="patients_merge")
def merge(request: HttpRequest, payload: MergeSchema, idempotency_key: str = Key) -> Status:
    """Merge a duplicate person (and registration) into another (audited)."""
    if not request.user.has_perm("patients.merge_patient"):
        raise PermissionDenied
    body = payload.dict()

    def act() -> dict[str, Any]:
        keep = get_scoped_or_404(Person, request.user, pk=payload.keep)
        drop = get_scoped_or_404(Person, request.user, pk=payload.drop)
        done = services.merge_persons(request.user, keep, drop, payload.reason)
        return {"id": done.pk, "kept_person_id": done.kept_person_id, "kept_patient_id": done.kept_patient_id,
                "dropped_person_id": done.dropped_person_id, "dropped_register_number": done.dropped_register_number,
                "moved": done.moved}

    return _once(request, "merge", idempotency_key, body, act)
