"""Writes of the register: the only place that creates or changes patients and their records.

Three ways onto the register (规划 三(一); 《严重精神障碍管理治疗工作规范（2018年版）》):

- ``register_from_case_report``: a hospital's 发病报告卡, with its working-day deadline;
- ``report_suspected_case`` → ``refer_suspected_case`` → ``confirm_suspected_case`` (registers) or
  ``close_suspected_case``: community discovery;
- ``request_transfer`` → ``accept_transfer`` / ``decline_transfer``: a patient who moved within the
  deployment (the receiving region must accept before the patient appears on its register).

``register_patient`` is the common core (imports call it with ``source=IMPORT``). Then the record:
``save_supplement`` (个人信息补充表), ``change_status`` / ``apply_status_change`` (lifecycle with
history), ``view_patient`` / ``unmask_patient`` (audited), ``merge_persons`` (duplicates).

Each action is one transaction: validate, write, audit (the event commits or rolls back with the
write); notifications are sent on commit. De-duplication is by the ID-number blind index across
the whole deployment: registering someone whose ``Person`` exists reuses it; registering someone
already on a register is refused, naming the register number only when the actor may see it.
An optional ``key`` makes a call idempotent at this level too (imports, retries), besides the
API's ``Idempotency-Key`` (``core.idempotency.run_once``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.core import audit
from xinqiao.core.masks import present, unmaskable_fields
from xinqiao.core.models import (
    AuditAction,
    InRegion,
    Organisation,
    OrgType,
    Person,
    Region,
    RegionLevel,
    User,
)
from xinqiao.core.notifications import Notice, notify_many
from xinqiao.core.scope import in_scope, permission_for
from xinqiao.core.services import PersonInput, check_document
from xinqiao.patients import rules
from xinqiao.patients.codes import (
    INCIDENT_BEHAVIOURS,
    OFF_REGISTER_STATUSES,
    BroughtBy,
    CaseReportStatus,
    Consent,
    DangerBehaviour,
    DangerLevel,
    DeathCause,
    DisabilityGrade,
    EconomicStatus,
    Employment,
    Household,
    LatestTreatmentEffect,
    LockStatus,
    LossReason,
    OutpatientHistory,
    PatientStatus,
    PhysicalDeathCause,
    RegistrationSource,
    ReportEntry,
    ReportType,
    SuspectedSource,
    SuspectedStatus,
    Symptom,
    TransferStatus,
)
from xinqiao.patients.models import (
    BEHAVIOUR_COUNT_FIELDS,
    CaseReport,
    Patient,
    PatientMerge,
    PersonalSupplement,
    RegisterSequence,
    StatusChange,
    SuspectedCase,
    SuspectedCaseEvent,
    Transfer,
)

#: Organisation types that manage patients at home (基层医疗卫生机构).
CLINIC_TYPES = (OrgType.COMMUNITY_HEALTH_CENTRE, OrgType.TOWNSHIP_HEALTH_CENTRE, OrgType.VILLAGE_CLINIC)
#: Organisation types that may confirm a diagnosis (精神卫生医疗机构).
HOSPITAL_TYPES = (OrgType.PSYCHIATRIC_HOSPITAL, OrgType.GENERAL_HOSPITAL_PSYCH, OrgType.MHC_PROVINCE,
                  OrgType.MHC_CITY, OrgType.MHC_COUNTY)


# --- Messages -----------------------------------------------------------------------------------------

def _message(code: str) -> str:
    """The translated message of a rule's error code."""
    messages = {
        "required": _("This field is required."),
        "format": _("Enter an ICD-10 code such as F20.0."),
        "not_six": _("Choose one of the six severe mental disorders."),
        "mismatch": _("This ICD-10 code does not belong to the chosen diagnosis."),
        "needs_g40": _("Mental disorder due to epilepsy (F06) needs the co-occurring epilepsy code G40.x."),
        "needs_co_disorder": _("Mental retardation (F70–F79) needs the code of the co-occurring mental "
                               "disorder (an F code outside F70–F79)."),
        "not_allowed": _("This status change is not allowed from the current status."),
        "future": _("This date is in the future."),
        "only_physical": _("Give a physical-illness sub-code only when the cause of death is physical illness."),
    }
    return messages.get(code, _("This value is not valid."))


def _raise(errors: Sequence[tuple[str, str]] | Mapping[str, str]) -> None:
    """Raise one ``ValidationError`` naming every failing field (first message per field)."""
    pairs = errors.items() if isinstance(errors, Mapping) else errors
    out: dict[str, str] = {}
    for name, message in pairs:
        out.setdefault(name, message)
    if out:
        raise ValidationError(out)


def _today() -> date:
    return timezone.localdate()


def _require(actor: Any, model: type[models.Model], action: str) -> None:
    if not actor.has_perm(permission_for(model, action)):
        raise PermissionDenied


# --- Register numbers ----------------------------------------------------------------------------------

def next_register_numbers(county_code: str, year: int, count: int = 1) -> list[str]:
    """``count`` new register numbers ``<county code><year><6-digit sequence>``, unique deployment-wide.

    One row per county and year, locked until the transaction ends; bulk imports ask for all their
    numbers at once.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        return reserve_register_numbers(cursor, county_code, year, count)


def reserve_register_numbers(cursor: Any, county_code: str, year: int, count: int) -> list[str]:
    """``next_register_numbers`` on a given DB-API cursor (an import's COPY stream runs it on its own
    connection thread): one upsert of ``RegisterSequence`` returning the new last number."""
    quote = connection.ops.quote_name
    table, last = quote(RegisterSequence._meta.db_table), quote("last")
    county, year_column = quote("county_code"), quote("year")
    cursor.execute(
        f"INSERT INTO {table} ({county}, {year_column}, {last}) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({county}, {year_column}) DO UPDATE SET {last} = {table}.{last} + EXCLUDED.{last} "
        f"RETURNING {last}", [county_code, year, count])
    end = cursor.fetchone()[0]
    return [f"{county_code}{year}{n:06d}" for n in range(end - count + 1, end + 1)]


# --- Inputs ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiagnosisInput:
    """目前诊断: one of the six disorders, its ICD-10 code(s), the confirming hospital and date."""

    diagnosis: str
    icd10_code: str
    co_icd10_code: str = ""
    diagnosing_hospital_id: int | None = None
    diagnosed_on: date | None = None


@dataclass(frozen=True)
class RegistrationInput:
    """What every way onto the register needs (field names match the models)."""

    person: PersonInput
    diagnosis: DiagnosisInput
    managing_organisation_id: int | None = None
    responsible_doctor_id: int | None = None
    danger_level: int = 0
    incident_history: bool = False
    registered_on: date | None = None
    register_number: str = ""
    key: str = ""


@dataclass(frozen=True)
class CaseReportInput:
    """发病报告卡 as entered by a hospital or, for a written card, by the county centre."""

    person: PersonInput
    report_type: int
    diagnosis: DiagnosisInput
    brought_by: int
    prior_danger: tuple[str, ...] = ()
    onset_date: date | None = None
    danger_level: int = 0
    entry: str = ReportEntry.ONLINE
    received_on: date | None = None
    reporting_unit_id: int | None = None
    managing_organisation_id: int | None = None
    responsible_doctor_id: int | None = None
    key: str = ""


@dataclass(frozen=True)
class SuspectedCaseInput:
    """A suspected case found in the community."""

    person: PersonInput
    found_by: str
    discovered_on: date
    reporter_name: str = ""
    symptoms: tuple[int, ...] = ()
    description: str = ""
    key: str = ""


@dataclass(frozen=True)
class StatusInput:
    """A status change and the facts the target status needs (``rules.status_change_errors``)."""

    to_status: str
    changed_on: date
    loss_reason: int | None = None
    death_date: date | None = None
    death_cause: int | None = None
    physical_death_cause: int | None = None
    destination: str = ""
    note: str = ""


@dataclass(frozen=True)
class TransferInput:
    """A hand-over to the township the patient moved to."""

    to_region_code: str
    moved_on: date
    reason: str = ""
    new_address: str = ""
    to_organisation_id: int | None = None
    key: str = ""


@dataclass
class SupplementInput:
    """The 个人信息补充表; field names match ``PersonalSupplement`` (codes as on the paper form)."""

    guardian_name: str = ""
    guardian_relation: str = ""
    guardian_address: str = ""
    guardian_phone: str = ""
    village_contact_name: str = ""
    village_contact_phone: str = ""
    household: int | None = None
    employment: int | None = None
    consent: int | None = None
    consent_signed_by: str = ""
    consent_date: date | None = None
    onset_date: date | None = None
    past_symptoms: list[int] = field(default_factory=list)
    past_lock: int | None = None
    outpatient_history: int | None = None
    first_antipsychotic_date: date | None = None
    admissions: int | None = None
    latest_treatment_effect: int | None = None
    behaviour_counts: dict[str, int] = field(default_factory=dict)
    economic_status: int | None = None
    specialist_opinion: str = ""
    poverty_alleviation: bool = False
    guardianship_subsidy: bool = False
    disability_card: bool = False
    disability_grade: int | None = None
    care_group_service: bool = False
    family_doctor_contract: bool = False
    community_rehab: bool = False
    filled_on: date | None = None


# --- Persons and de-duplication ------------------------------------------------------------------------

def already_registered_message(actor: Any, patient: Patient) -> str:
    """Name the existing register number only if the actor may see that patient; otherwise stay neutral."""
    if Patient.objects.restrict(actor).filter(pk=patient.pk).exists():
        return _("This person is already registered (register number %(number)s).") % {
            "number": patient.register_number}
    return _("This person is already on a register of another region or agency. Contact the county "
             "mental-health centre to transfer or merge the record.")


def _township(code: str, name: str = "region_code") -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None or region.level != RegionLevel.TOWNSHIP:
        raise ValidationError({name: _("Choose a township (乡镇/街道) by its 9-digit code.")})
    return region


def resolve_person(actor: Any, data: PersonInput) -> Person:
    """The ``Person`` to register: the existing one with this ID number anywhere in the deployment, or a new one.

    Refuses (on ``id_number``) when that person already has a registration. A person without an
    ID number cannot be matched and is always new (the duplicate finder cannot see them either).
    """
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("This field is required.")
    try:
        region = _township(data.region_code)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        region = None
    normalized = ""
    if data.id_number:
        try:
            normalized = check_document(data.id_type, data.id_number).normalized
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    _raise(errors)
    assert region is not None
    if normalized:
        index = Person.id_index_for(data.id_type, normalized)
        registered = Patient.objects.filter(person__id_number_index=index).order_by("id").first()
        if registered is not None:
            raise ValidationError({"id_number": already_registered_message(actor, registered)})
        existing = Person.objects.filter(id_number_index=index).order_by("id").first()
        if existing is not None:
            _fill_blanks(existing, data)
            return existing
    checked = check_document(data.id_type, normalized) if normalized else None
    person = Person(
        name=data.name.strip(), id_type=data.id_type, id_number=normalized, region=region,
        phone=data.phone.strip(), address=data.address.strip(),
        sex=(checked.sex if checked and checked.sex else data.sex) or "U",
        birth_date=(checked.birth_date if checked and checked.birth_date else data.birth_date),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    person.save()
    audit.record(AuditAction.CREATE, obj=person, actor=actor, detail={"fields": sorted(Person.PII_FIELDS),
                                                                      "via": "patients"})
    return person


def _fill_blanks(person: Person, data: PersonInput) -> None:
    """Complete a reused person's empty contact fields; never overwrite what is recorded."""
    changed = []
    for name in ("phone", "address"):
        value = getattr(data, name).strip()
        if value and not getattr(person, name):
            setattr(person, name, value)
            changed.append(name)
    if changed:
        person.save(update_fields=[*changed, "updated_at"])
        audit.record(AuditAction.CHANGE, obj=person, detail={"fields": changed, "via": "patients"})


# --- Registration --------------------------------------------------------------------------------------

def _diagnosis_errors(data: DiagnosisInput, *, hospital_required: bool) -> dict[str, str]:
    errors = {name: _message(code) for name, code in rules.icd10_errors(data.diagnosis, data.icd10_code,
                                                                       data.co_icd10_code)}
    if data.diagnosing_hospital_id is None:
        if hospital_required:
            errors["diagnosing_hospital"] = _("This field is required.")
    elif not Organisation.objects.filter(pk=data.diagnosing_hospital_id, org_type__in=HOSPITAL_TYPES).exists():
        errors["diagnosing_hospital"] = _("Choose a psychiatric hospital, a general hospital's psychiatry "
                                          "department or a mental-health centre.")
    if data.diagnosed_on is None:
        if hospital_required:
            errors["diagnosed_on"] = _("This field is required.")
    elif data.diagnosed_on > _today():
        errors["diagnosed_on"] = _message("future")
    return errors


def _clinic(township: Region, organisation_id: int | None) -> Organisation | None:
    """The managing clinic: the one given (in the township), or the township's health centre."""
    qs = Organisation.objects.filter(township_code=township.code, org_type__in=CLINIC_TYPES, is_active=True)
    if organisation_id is not None:
        return qs.filter(pk=organisation_id).first()
    return qs.order_by("org_type", "id").first()


def _clinic_and_doctor(township: Region, organisation_id: int | None,
                       doctor_id: int | None) -> tuple[Organisation, User | None]:
    errors: dict[str, str] = {}
    clinic = _clinic(township, organisation_id)
    if clinic is None:
        errors["managing_organisation"] = _("Choose a community or township health centre of the patient's "
                                            "township.")
    doctor = None
    if doctor_id is not None:
        doctor = User.objects.filter(pk=doctor_id, is_active=True).first()
        if doctor is None or not in_scope(doctor, township.code):
            errors["responsible_doctor"] = _("Choose a doctor working in the patient's township.")
    _raise(errors)
    assert clinic is not None
    return clinic, doctor


def register_patient(actor: Any, data: RegistrationInput, *, source: str = RegistrationSource.IMPORT) -> Patient:
    """Put a person on the register of a township in the actor's region (audited; idempotent by ``data.key``).

    The common core of the three ways in; an import (``source=IMPORT``) calls it directly.
    """
    _require(actor, Patient, "add")
    return _register(actor, data, source=source, check_scope=True)


def _register(actor: Any, data: RegistrationInput, *, source: str, check_scope: bool,
              person: Person | None = None) -> Patient:
    """Register without the permission check (the caller checked its own).

    ``check_scope``: the township must lie in the actor's region. A hospital reporting a case from
    another region passes ``False``: the register that receives it is the patient's home.
    ``person``: register this very person (a suspected case without an ID number) instead of
    resolving one from ``data.person``.
    """
    if data.key:
        existing = Patient.objects.filter(submission_key=data.key).first()
        if existing is not None:
            return existing
    township = _township(data.person.region_code)
    errors: dict[str, str] = {}
    if check_scope and not in_scope(actor, township.code):
        errors["region_code"] = _("This township is outside your region.")
    errors.update(_diagnosis_errors(data.diagnosis, hospital_required=False))
    if data.danger_level not in DangerLevel.values:
        errors["danger_level"] = _("Choose a danger level from 0 to 5.")
    registered_on = data.registered_on or _today()
    if registered_on > _today():
        errors["registered_on"] = _message("future")
    if data.register_number and Patient.objects.filter(register_number=data.register_number).exists():
        errors["register_number"] = _("This register number is already in use.")
    _raise(errors)
    clinic, doctor = _clinic_and_doctor(township, data.managing_organisation_id, data.responsible_doctor_id)
    with transaction.atomic():
        if person is None:
            person = resolve_person(actor, data.person)
        else:
            same = Q(person=person) | (Q(person__id_number_index=person.id_number_index)
                                       if person.id_number_index else Q(pk__in=[]))
            registered = Patient.objects.filter(same).order_by("id").first()
            if registered is not None:
                raise ValidationError({"id_number": already_registered_message(actor, registered)})
        number = data.register_number or next_register_numbers(township.county_code, registered_on.year)[0]
        dx = data.diagnosis
        creator = actor if getattr(actor, "pk", None) else None
        patient = Patient(
            person=person, register_number=number, status=PatientStatus.MANAGED, source=source,
            registered_on=registered_on, diagnosis=dx.diagnosis, icd10_code=rules.normalize_icd10(dx.icd10_code),
            co_icd10_code=rules.normalize_icd10(dx.co_icd10_code), diagnosed_on=dx.diagnosed_on,
            diagnosing_hospital_id=dx.diagnosing_hospital_id, managing_organisation=clinic,
            responsible_doctor=doctor, danger_level=data.danger_level, incident_history=data.incident_history,
            awaiting_first_visit_since=registered_on, next_followup_due=rules.first_visit_due(registered_on),
            status_changed_on=registered_on, region=township, created_by=creator,
            submission_key=data.key or None,
        )
        patient.save()
        StatusChange.objects.create(patient=patient, from_status="", to_status=PatientStatus.MANAGED,
                                    changed_on=registered_on, region=township, created_by=creator)
        audit.record(AuditAction.CREATE, obj=patient, actor=actor,
                     detail={"source": source, "diagnosis": dx.diagnosis, "danger_level": data.danger_level})
        _notify_on_commit(_new_patient_notices(patient))
    return patient


def _new_patient_notices(patient: Patient) -> list[Notice]:
    link = reverse("patients:patient_detail", kwargs={"pk": patient.pk})
    title = _("New patient %(number)s: first follow-up due by %(due)s") % {
        "number": patient.register_number, "due": patient.next_followup_due}
    notices = [Notice(kind="patients.new_patient", title=title, link=link, organisation_id=patient.managing_organisation_id,
                      subject_type="patients.patient", subject_id=str(patient.pk),
                      dedupe_key=f"new_patient:{patient.pk}:{patient.managing_organisation_id}:{patient.registered_on}")]
    if patient.responsible_doctor_id:
        notices.append(Notice(kind="patients.new_patient", title=title, link=link,
                              recipient_id=patient.responsible_doctor_id, subject_type="patients.patient",
                              subject_id=str(patient.pk),
                              dedupe_key=f"new_patient:{patient.pk}:doctor:{patient.responsible_doctor_id}"))
    return notices


def _notify_on_commit(notices: list[Notice]) -> None:
    transaction.on_commit(lambda: notify_many(notices))


def county_centre(county_code: str) -> Organisation | None:
    """The county's mental-health centre (精防机构), which follows late reports and transfers."""
    return (Organisation.objects.filter(region_id=county_code, org_type=OrgType.MHC_COUNTY, is_active=True)
            .order_by("id").first())


def _case_report_errors(data: CaseReportInput, today: date, *, draft: bool) -> dict[str, str]:
    """Field errors of a 发病报告卡; a draft may still lack the report type and who brought the patient."""
    errors = _diagnosis_errors(data.diagnosis, hospital_required=True)
    if not (draft and data.report_type in (None, 0)) and data.report_type not in ReportType.values:
        errors["report_type"] = _("Choose report type 1 or 2.")
    if not (draft and data.brought_by in (None, 0)) and data.brought_by not in BroughtBy.values:
        errors["brought_by"] = _("Choose who brought the patient.")
    bad = [c for c in data.prior_danger if c not in DangerBehaviour.values]
    if bad:
        errors["prior_danger"] = _("Unknown dangerous-behaviour code: %(code)s.") % {"code": bad[0]}
    if data.danger_level not in DangerLevel.values:
        errors["danger_level"] = _("Choose a danger level from 0 to 5.")
    if data.onset_date and data.onset_date > today:
        errors["onset_date"] = _message("future")
    if data.entry not in ReportEntry.values:
        errors["entry"] = _("Choose how the report was made.")
    elif data.entry == ReportEntry.WRITTEN:
        if data.received_on is None:
            errors["received_on"] = _("Give the date the county received the written report.")
        elif data.received_on > today:
            errors["received_on"] = _message("future")
        elif data.diagnosis.diagnosed_on and data.received_on < data.diagnosis.diagnosed_on:
            errors["received_on"] = _("The report cannot be received before the diagnosis.")
    if data.reporting_unit_id is not None and not Organisation.objects.filter(pk=data.reporting_unit_id).exists():
        errors["reporting_unit"] = _("Choose the reporting unit.")
    return errors


def register_from_case_report(actor: Any, data: CaseReportInput, *, draft: CaseReport | None = None) -> CaseReport:
    """Enter a 发病报告卡 and register the patient in their home township (audited, idempotent by key).

    Deadlines on the official calendar (``rules.case_report_timeliness``): online, diagnosis + 10
    working days; a written card, received by the county within those 10 days and entered within
    5 working days of receipt. A late report is stored as late and the county centre is told.

    ``draft``: enter this pending report (``save_case_report_draft`` or a confirmed suspected case)
    instead of creating one. Its person and diagnosis stay those of the draft; a draft whose patient
    is already registered (a confirmed suspected case) registers no one. A draft already flagged late
    by the daily job stays late.
    """
    _require(actor, CaseReport, "add")
    if data.key and draft is None:
        existing = CaseReport.objects.filter(submission_key=data.key).first()
        if existing is not None:
            return existing
    today = _today()
    if draft is not None:
        data = _draft_input(draft, data)
    errors = _case_report_errors(data, today, draft=False)
    _raise(errors)
    # The reporting unit is the hospital that diagnosed, unless another unit is named.
    reporting_unit_id = data.reporting_unit_id or data.diagnosis.diagnosing_hospital_id
    diagnosed_on, hospital_id = data.diagnosis.diagnosed_on, data.diagnosis.diagnosing_hospital_id
    assert diagnosed_on is not None and hospital_id is not None and reporting_unit_id is not None
    timing = rules.case_report_timeliness(diagnosed_on, today,
                                          data.received_on if data.entry == ReportEntry.WRITTEN else None)
    incident = bool(INCIDENT_BEHAVIOURS & set(data.prior_danger))
    with transaction.atomic():
        report = CaseReport(submission_key=data.key or None)
        patient: Patient | None = None
        if draft is not None:
            report = CaseReport.objects.select_for_update().get(pk=draft.pk)
            if report.status != CaseReportStatus.DRAFT:
                raise ValidationError({"status": _("This case report is already entered.")})
            patient = report.patient
        if patient is None:
            patient = _register(actor, RegistrationInput(
                person=data.person, diagnosis=data.diagnosis, managing_organisation_id=data.managing_organisation_id,
                responsible_doctor_id=data.responsible_doctor_id, danger_level=data.danger_level,
                incident_history=incident, registered_on=today,
            ), source=RegistrationSource.CASE_REPORT, check_scope=False,
                person=draft.person if draft is not None else None)
        late = timing.late or (draft is not None and report.late)
        values = {
            "person": patient.person, "patient": patient, "status": CaseReportStatus.ENTERED,
            "report_type": data.report_type, "diagnosis": patient.diagnosis if draft is None else report.diagnosis,
            "icd10_code": patient.icd10_code if draft is None else report.icd10_code,
            "co_icd10_code": patient.co_icd10_code if draft is None else report.co_icd10_code,
            "diagnosing_hospital_id": hospital_id, "diagnosed_on": diagnosed_on, "onset_date": data.onset_date,
            "prior_danger": sorted(set(data.prior_danger)), "brought_by": data.brought_by,
            "reporting_unit_id": reporting_unit_id, "reported_by": actor if getattr(actor, "pk", None) else None,
            "entry": data.entry, "received_on": data.received_on if data.entry == ReportEntry.WRITTEN else None,
            "entered_on": today, "report_deadline": timing.report_deadline, "entry_deadline": timing.entry_deadline,
            "late": late, "deadline_uncertain": not timing.certain, "region": patient.region,
        }
        for name, value in values.items():
            setattr(report, name, value)
        report.save()
        audit.record(AuditAction.CREATE if draft is None else AuditAction.CHANGE, obj=report, actor=actor,
                     detail={"patient": patient.pk, "entry": data.entry, "late": late,
                             "report_deadline": str(timing.report_deadline), "from_draft": draft is not None})
        if late:
            _notify_on_commit(_late_report_notices(report))
    return report


def draft_input(draft: CaseReport) -> CaseReportInput:
    """What ``draft`` already holds, as the input of entering it (forms and the API fill in the rest)."""
    person = draft.person
    return CaseReportInput(
        person=PersonInput(name=person.name, id_type=person.id_type, id_number=person.id_number,
                           region_code=draft.region_id, phone=person.phone, address=person.address,
                           sex=person.sex, birth_date=person.birth_date),
        report_type=draft.report_type or 0,
        diagnosis=DiagnosisInput(draft.diagnosis, draft.icd10_code, draft.co_icd10_code,
                                 draft.diagnosing_hospital_id, draft.diagnosed_on),
        brought_by=draft.brought_by or 0, prior_danger=tuple(draft.prior_danger or ()), onset_date=draft.onset_date,
        entry=draft.entry, received_on=draft.received_on, reporting_unit_id=draft.reporting_unit_id,
    )


def _draft_input(draft: CaseReport, data: CaseReportInput) -> CaseReportInput:
    """The input of entering ``draft``: its person and diagnosis, the rest from ``data``."""
    base = draft_input(draft)
    return replace(data, person=base.person, diagnosis=base.diagnosis,
                   reporting_unit_id=data.reporting_unit_id or draft.reporting_unit_id)


def save_case_report_draft(actor: Any, data: CaseReportInput) -> CaseReport:
    """Save a case report as a draft (草稿): the diagnosis is known, the card is not entered yet.

    Not a registration: no patient is created. The clock runs from the diagnosis
    (``rules.pending_case_report_due``); the daily job flags the draft once it is past its deadline.
    A county centre records a written card it received but cannot enter yet the same way
    (``entry=written`` with ``received_on``: the county's 5 working days run from receipt).
    Needs ``add_casereport``; audited; idempotent by ``data.key``.
    """
    _require(actor, CaseReport, "add")
    if data.key:
        existing = CaseReport.objects.filter(submission_key=data.key).first()
        if existing is not None:
            return existing
    today = _today()
    errors = _case_report_errors(data, today, draft=True)
    try:
        township = _township(data.person.region_code)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    _raise(errors)
    reporting_unit_id = data.reporting_unit_id or data.diagnosis.diagnosing_hospital_id
    dx = data.diagnosis
    assert dx.diagnosed_on is not None and dx.diagnosing_hospital_id is not None and reporting_unit_id is not None
    received_on = data.received_on if data.entry == ReportEntry.WRITTEN else None
    due = rules.pending_case_report_due(dx.diagnosed_on, received_on)
    with transaction.atomic():
        person = resolve_person(actor, data.person)
        report = CaseReport(
            person=person, patient=None, status=CaseReportStatus.DRAFT, report_type=data.report_type or None,
            diagnosis=dx.diagnosis, icd10_code=rules.normalize_icd10(dx.icd10_code),
            co_icd10_code=rules.normalize_icd10(dx.co_icd10_code), diagnosing_hospital_id=dx.diagnosing_hospital_id,
            diagnosed_on=dx.diagnosed_on, onset_date=data.onset_date, prior_danger=sorted(set(data.prior_danger)),
            brought_by=data.brought_by or None, reporting_unit_id=reporting_unit_id,
            reported_by=actor if getattr(actor, "pk", None) else None, entry=data.entry, received_on=received_on,
            entered_on=None, report_deadline=due.report_deadline, entry_deadline=due.entry_deadline,
            late=due.overdue(today), deadline_uncertain=not due.certain, submission_key=data.key or None,
            region=township,
        )
        report.save()
        audit.record(AuditAction.CREATE, obj=report, actor=actor,
                     detail={"status": CaseReportStatus.DRAFT, "entry": data.entry, "due": str(due.due)})
    return report


def _open_draft_for(patient: Patient, diagnosis: DiagnosisInput, actor: Any, today: date) -> CaseReport:
    """The card a confirmed suspected case still needs: a draft with the patient already registered."""
    assert diagnosis.diagnosed_on is not None and diagnosis.diagnosing_hospital_id is not None
    due = rules.pending_case_report_due(diagnosis.diagnosed_on)
    report = CaseReport(
        person=patient.person, patient=patient, status=CaseReportStatus.DRAFT, report_type=None,
        diagnosis=patient.diagnosis, icd10_code=patient.icd10_code, co_icd10_code=patient.co_icd10_code,
        diagnosing_hospital_id=diagnosis.diagnosing_hospital_id, diagnosed_on=diagnosis.diagnosed_on,
        brought_by=None, reporting_unit_id=diagnosis.diagnosing_hospital_id,
        reported_by=actor if getattr(actor, "pk", None) else None, entry=ReportEntry.ONLINE, entered_on=None,
        report_deadline=due.report_deadline, late=due.overdue(today), deadline_uncertain=not due.certain,
        region=patient.region,
    )
    report.save()
    audit.record(AuditAction.CREATE, obj=report, actor=actor,
                 detail={"status": CaseReportStatus.DRAFT, "patient": patient.pk, "via": "suspected_case",
                         "due": str(due.due)})
    return report


def pending_overdue_q(today: date) -> Q:
    """Drafts past the deadline now running on ``today`` (SQL form of ``PendingDue.overdue``)."""
    return Q(status=CaseReportStatus.DRAFT) & (
        Q(received_on__isnull=True, report_deadline__lt=today)
        | Q(received_on__isnull=False, received_on__gt=F("report_deadline"))
        | Q(received_on__isnull=False, entry_deadline__lt=today)
    )


def mark_overdue_drafts(today: date) -> int:
    """Set ``late`` on every draft past its deadline: one UPDATE, idempotent (only rows not yet late).

    Called by the daily job (``worklists.flagging``); returns the number newly marked.
    """
    return CaseReport.objects.filter(pending_overdue_q(today), late=False).update(late=True)


#: Organisation types whose users see their own unit's pending case reports (the reporting hospital),
#: not the region's; the county centre (``mhc_county``) sees its county's.
REPORTING_HOSPITAL_TYPES = tuple(t for t in HOSPITAL_TYPES if t != OrgType.MHC_COUNTY)


def pending_case_reports(user: Any) -> models.QuerySet[CaseReport]:
    """The drafts ``user`` answers for (lazy): a hospital's users, their unit's drafts wherever the
    patient lives (the hospital wrote them); everyone else with ``view_casereport``, those of their
    region (the county centre: its county). Nobody else sees any."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm(permission_for(CaseReport, "view")):
        return CaseReport.objects.none()
    drafts = CaseReport.objects.filter(status=CaseReportStatus.DRAFT)
    organisation = getattr(user, "organisation", None)
    if organisation is not None and organisation.org_type in REPORTING_HOSPITAL_TYPES:
        return drafts.filter(reporting_unit_id=organisation.pk)
    return CaseReport.objects.restrict(user).filter(status=CaseReportStatus.DRAFT)


def _late_report_notices(report: CaseReport) -> list[Notice]:
    centre = county_centre(report.county_code)
    if centre is None:
        return []
    return [Notice(
        kind="patients.late_case_report",
        title=_("Case report #%(id)s was entered after its deadline (%(due)s)") % {
            "id": report.pk, "due": report.entry_deadline or report.report_deadline},
        link=reverse("patients:case_report_list") + "?late=1", organisation_id=centre.pk,
        subject_type="patients.casereport", subject_id=str(report.pk), dedupe_key=f"late_case_report:{report.pk}",
    )]


# --- Community discovery ---------------------------------------------------------------------------------

def _suspected_event(case: SuspectedCase, from_status: str, on: date, actor: Any, note: str = "") -> None:
    SuspectedCaseEvent.objects.create(case=case, from_status=from_status, to_status=case.status, on=on,
                                      note=note, by=actor if getattr(actor, "pk", None) else None)


def report_suspected_case(actor: Any, data: SuspectedCaseInput) -> SuspectedCase:
    """Record a suspected case found by a village committee or a doctor (audited, idempotent by key)."""
    _require(actor, SuspectedCase, "add")
    if data.key:
        existing = SuspectedCase.objects.filter(submission_key=data.key).first()
        if existing is not None:
            return existing
    errors: dict[str, str] = {}
    if data.found_by not in SuspectedSource.values:
        errors["found_by"] = _("Choose who found the case.")
    if data.discovered_on > _today():
        errors["discovered_on"] = _message("future")
    bad = [s for s in data.symptoms if s not in Symptom.values]
    if bad:
        errors["symptoms"] = _("Unknown symptom code: %(code)s.") % {"code": bad[0]}
    region = Region.objects.filter(code=data.person.region_code).first()
    if region is not None and not in_scope(actor, region.code):
        errors["region_code"] = _("This township is outside your region.")
    _raise(errors)
    with transaction.atomic():
        person = resolve_person(actor, data.person)
        case = SuspectedCase(
            person=person, found_by=data.found_by, reporter_name=data.reporter_name.strip(),
            discovered_on=data.discovered_on, symptoms=sorted(set(data.symptoms)), description=data.description.strip(),
            reported_by=actor if getattr(actor, "pk", None) else None, submission_key=data.key or None,
            region_id=data.person.region_code,
        )
        case.save()
        _suspected_event(case, "", data.discovered_on, actor)
        audit.record(AuditAction.CREATE, obj=case, actor=actor, detail={"found_by": data.found_by})
    return case


def _locked_case(case: SuspectedCase, allowed_from: set[str]) -> SuspectedCase:
    locked = SuspectedCase.objects.select_for_update().get(pk=case.pk)
    if locked.status not in allowed_from:
        raise ValidationError({"status": _("This suspected case is %(status)s: that step is no longer possible.")
                               % {"status": locked.get_status_display()}})
    return locked


def refer_suspected_case(actor: Any, case: SuspectedCase, referred_to_id: int, referred_on: date,
                         note: str = "") -> SuspectedCase:
    """Refer a suspected case to a psychiatric institution for diagnosis."""
    _require(actor, SuspectedCase, "change")
    errors: dict[str, str] = {}
    if not Organisation.objects.filter(pk=referred_to_id, org_type__in=HOSPITAL_TYPES).exists():
        errors["referred_to"] = _("Choose a psychiatric hospital, a general hospital's psychiatry "
                                  "department or a mental-health centre.")
    if referred_on > _today():
        errors["referred_on"] = _message("future")
    elif referred_on < case.discovered_on:
        errors["referred_on"] = _("The referral cannot be before the case was found.")
    _raise(errors)
    with transaction.atomic():
        locked = _locked_case(case, {SuspectedStatus.REPORTED})
        before = locked.status
        locked.status = SuspectedStatus.REFERRED
        locked.referred_to_id = referred_to_id
        locked.referred_on = referred_on
        locked.save(update_fields=["status", "referred_to", "referred_on"])
        _suspected_event(locked, before, referred_on, actor, note)
        audit.record(AuditAction.CHANGE, obj=locked, actor=actor,
                     detail={"status": locked.status, "referred_to": referred_to_id})
    return locked


def confirm_suspected_case(actor: Any, case: SuspectedCase, diagnosis: DiagnosisInput, *,
                           managing_organisation_id: int | None = None, responsible_doctor_id: int | None = None,
                           danger_level: int = 0) -> Patient:
    """A psychiatric institution confirmed the diagnosis: register the patient and close the case.

    Needs the suspected-case view permission and the hospital-side ``add_casereport`` permission (a
    confirmation is a diagnosis).
    """
    _require(actor, SuspectedCase, "view")
    _require(actor, CaseReport, "add")
    errors = _diagnosis_errors(diagnosis, hospital_required=True)
    _raise(errors)
    person = case.person
    data = RegistrationInput(
        person=PersonInput(name=person.name, id_type=person.id_type, id_number=person.id_number,
                           region_code=case.region_id, phone=person.phone, address=person.address,
                           sex=person.sex, birth_date=person.birth_date),
        diagnosis=diagnosis, managing_organisation_id=managing_organisation_id,
        responsible_doctor_id=responsible_doctor_id, danger_level=danger_level,
    )
    with transaction.atomic():
        locked = _locked_case(case, {SuspectedStatus.REFERRED, SuspectedStatus.REPORTED})
        before = locked.status
        patient = _register(actor, data, source=RegistrationSource.COMMUNITY, check_scope=False, person=person)
        locked.status = SuspectedStatus.CONFIRMED
        locked.decided_on = diagnosis.diagnosed_on or _today()
        locked.patient = patient
        locked.save(update_fields=["status", "decided_on", "patient"])
        _suspected_event(locked, before, locked.decided_on, actor)
        # The diagnosis is now known to the system: the hospital's case report is due from it.
        _open_draft_for(patient, diagnosis, actor, _today())
        audit.record(AuditAction.CHANGE, obj=locked, actor=actor, detail={"status": locked.status, "patient": patient.pk})
    return patient


def close_suspected_case(actor: Any, case: SuspectedCase, reason: str, closed_on: date | None = None) -> SuspectedCase:
    """Close a suspected case as not a case of the six disorders (or no diagnosis obtained)."""
    _require(actor, SuspectedCase, "change")
    closed_on = closed_on or _today()
    errors: dict[str, str] = {}
    if len(reason.strip()) < 2:
        errors["closing_reason"] = _("Say why the case is closed.")
    if closed_on > _today():
        errors["closed_on"] = _message("future")
    _raise(errors)
    with transaction.atomic():
        locked = _locked_case(case, {SuspectedStatus.REPORTED, SuspectedStatus.REFERRED})
        before = locked.status
        locked.status = SuspectedStatus.CLOSED
        locked.decided_on = closed_on
        locked.closing_reason = reason.strip()
        locked.save(update_fields=["status", "decided_on", "closing_reason"])
        _suspected_event(locked, before, closed_on, actor, reason.strip())
        audit.record(AuditAction.CHANGE, obj=locked, actor=actor, detail={"status": locked.status})
    return locked


# --- Status lifecycle ----------------------------------------------------------------------------------

def apply_status_change(patient: Patient, data: StatusInput, *, actor: Any = None,
                        transfer: Transfer | None = None) -> StatusChange:
    """Record a status change without a permission check (follow-up services call it, e.g. 失访 after
    three failed attempts). Validates against ``data/status_transitions.json``; audited."""
    facts = {
        "changed_on": data.changed_on, "loss_reason": data.loss_reason, "death_date": data.death_date,
        "death_cause": data.death_cause, "physical_death_cause": data.physical_death_cause,
        "destination": data.destination.strip(), "note": data.note.strip(),
    }
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        errors = [(name, _message(code)) for name, code in
                  rules.status_change_errors(locked.status, data.to_status, facts, _today())]
        if data.loss_reason is not None and data.loss_reason not in LossReason.values:
            errors.append(("loss_reason", _("Choose a reason code from 1 to 5.")))
        if data.death_cause is not None and data.death_cause not in DeathCause.values:
            errors.append(("death_cause", _("Choose a cause code from 1 to 6.")))
        if data.physical_death_cause is not None and data.physical_death_cause not in PhysicalDeathCause.values:
            errors.append(("physical_death_cause", _("Choose a physical-illness code from 1 to 8.")))
        if data.changed_on < locked.registered_on:
            errors.append(("changed_on", _("The change cannot be before the registration.")))
        _raise(errors)
        kept_facts: dict[str, set[str]] = {
            PatientStatus.LOST.value: {"loss_reason"},
            PatientStatus.DEAD.value: {"death_date", "death_cause", "physical_death_cause"},
            PatientStatus.MOVED_OUT.value: {"destination"},
        }
        keep = kept_facts.get(str(data.to_status), set())
        change = StatusChange(
            patient=locked, from_status=locked.status, to_status=data.to_status, changed_on=data.changed_on,
            loss_reason=data.loss_reason if "loss_reason" in keep else None,
            death_date=data.death_date if "death_date" in keep else None,
            death_cause=data.death_cause if "death_cause" in keep else None,
            physical_death_cause=data.physical_death_cause if "physical_death_cause" in keep else None,
            destination=data.destination.strip() if "destination" in keep else "", note=data.note.strip(),
            transfer=transfer, region_id=locked.region_id, created_by=actor if getattr(actor, "pk", None) else None,
        )
        change.save()
        locked.status = data.to_status
        locked.status_changed_on = data.changed_on
        fields = ["status", "status_changed_on", "updated_at"]
        if data.to_status in (PatientStatus.DEAD, PatientStatus.DEREGISTERED, PatientStatus.MOVED_OUT):
            locked.next_followup_due = None
            locked.awaiting_first_visit_since = None
            fields += ["next_followup_due", "awaiting_first_visit_since"]
        elif data.to_status == PatientStatus.MANAGED:
            locked.failed_attempts = 0
            fields.append("failed_attempts")
            if locked.next_followup_due is None:
                locked.next_followup_due = rules.first_visit_due(data.changed_on)
                fields.append("next_followup_due")
        locked.save(update_fields=fields)
        audit.record(AuditAction.CHANGE, obj=locked, actor=actor,
                     detail={"status": [change.from_status, change.to_status], "status_change": change.pk})
    patient.status, patient.status_changed_on = locked.status, locked.status_changed_on
    patient.next_followup_due = locked.next_followup_due
    return change


def raise_danger_level(actor: Any, patient: Patient, level: int, *, source: str) -> bool:
    """Record a higher danger level assessed outside a follow-up (e.g. at an emergency).

    The latest assessment stands until the next follow-up reassesses it; a lower level seen at an
    emergency does not lower the patient's level. One conditional UPDATE; audited when it changes.
    Returns whether the level was raised.
    """
    raised = Patient._base_manager.filter(pk=patient.pk, danger_level__lt=level).update(danger_level=level)
    if raised:
        audit.record(AuditAction.CHANGE, actor=actor, obj=patient, detail={
            "danger_level": {"from": patient.danger_level, "to": level}, "source": source,
        })
        patient.danger_level = level
    return bool(raised)


def change_status(actor: Any, patient: Patient, data: StatusInput) -> StatusChange:
    """A user records a status change (needs ``patients.change_patient``; the caller scoped the patient)."""
    _require(actor, Patient, "change")
    return apply_status_change(patient, data, actor=actor)


def on_register_q() -> Q:
    """在册: neither dead nor moved out (DOMAIN.md §5; ``codes.OFF_REGISTER_STATUSES``)."""
    return ~Q(status__in=OFF_REGISTER_STATUSES)


def registered_count(qs: models.QuerySet[Patient] | None = None) -> int:
    """在册 count of a (scoped) patient queryset, in one query."""
    base = qs if qs is not None else Patient.objects.all()
    return base.filter(on_register_q()).count()


def status_counts(qs: models.QuerySet[Patient]) -> dict[str, int]:
    """Patients per status of a (scoped) queryset, one GROUP BY; every status present."""
    counts = dict.fromkeys(PatientStatus.values, 0)
    for row in qs.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


# --- 个人信息补充表 ---------------------------------------------------------------------------------------

_SUPPLEMENT_CHOICES: dict[str, Any] = {
    "household": Household, "employment": Employment, "consent": Consent, "past_lock": LockStatus,
    "outpatient_history": OutpatientHistory, "latest_treatment_effect": LatestTreatmentEffect,
    "economic_status": EconomicStatus, "disability_grade": DisabilityGrade,
}
_SUPPLEMENT_DATES = ("consent_date", "onset_date", "first_antipsychotic_date", "filled_on")


def supplement_errors(data: SupplementInput, patient: Patient) -> dict[str, str]:
    """Check a 个人信息补充表 against its codes and dates."""
    errors: dict[str, str] = {}
    today = _today()
    for name, choices in _SUPPLEMENT_CHOICES.items():
        value = getattr(data, name)
        if value is not None and value not in choices.values:
            errors[name] = _("Choose one of the allowed values.")
    for name in _SUPPLEMENT_DATES:
        value = getattr(data, name)
        if value is not None and value > today:
            errors[name] = _message("future")
    bad = [s for s in data.past_symptoms if s not in Symptom.values]
    if bad:
        errors["past_symptoms"] = _("Unknown symptom code: %(code)s.") % {"code": bad[0]}
    for code, count in data.behaviour_counts.items():
        if code not in BEHAVIOUR_COUNT_FIELDS:
            errors["behaviour_counts"] = _("Unknown dangerous-behaviour code: %(code)s.") % {"code": code}
        elif count is None or not 0 <= int(count) <= 999:
            errors[BEHAVIOUR_COUNT_FIELDS[code]] = _("Enter a count from 0 to 999.")
    if data.admissions is not None and not 0 <= data.admissions <= 999:
        errors["admissions"] = _("Enter a count from 0 to 999.")
    if data.consent is not None:
        if not data.consent_signed_by.strip():
            errors["consent_signed_by"] = _("Who signed the consent form? (the patient or the guardian)")
        if data.consent_date is None:
            errors["consent_date"] = _("Give the date the consent form was signed.")
    if data.disability_grade is not None and not data.disability_card:
        errors["disability_grade"] = _("A disability grade needs a disability card.")
    if data.first_antipsychotic_date and data.onset_date and data.first_antipsychotic_date < data.onset_date:
        errors["first_antipsychotic_date"] = _("Treatment cannot start before the first onset.")
    return errors


def save_supplement(actor: Any, patient: Patient, data: SupplementInput,
                    diagnosis: DiagnosisInput | None = None) -> PersonalSupplement:
    """Create or update the patient's 个人信息补充表 (and 目前诊断 on the patient), audited.

    肇事 or 肇祸 counts above zero set ``Patient.incident_history`` (shared with the township group,
    DOMAIN.md §7); a later zero never clears it (the history stays).
    """
    _require(actor, Patient, "change")
    errors = supplement_errors(data, patient)
    if diagnosis is not None:
        errors.update(_diagnosis_errors(diagnosis, hospital_required=False))
    _raise(errors)
    values: dict[str, Any] = {
        name: getattr(data, name) for name in (
            "household", "employment", "consent", "consent_date", "onset_date", "past_lock",
            "outpatient_history", "first_antipsychotic_date", "admissions", "latest_treatment_effect",
            "economic_status", "poverty_alleviation", "guardianship_subsidy", "disability_card",
            "disability_grade", "care_group_service", "family_doctor_contract", "community_rehab",
        )
    }
    for name in ("guardian_name", "guardian_relation", "guardian_address", "guardian_phone",
                 "village_contact_name", "village_contact_phone", "consent_signed_by", "specialist_opinion"):
        values[name] = getattr(data, name).strip()
    values["past_symptoms"] = sorted(set(data.past_symptoms))
    for code, name in BEHAVIOUR_COUNT_FIELDS.items():
        values[name] = int(data.behaviour_counts.get(code, 0) or 0)
    values["filled_on"] = data.filled_on or _today()
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        supplement = PersonalSupplement.objects.filter(patient=locked).first()
        created = supplement is None
        if supplement is None:
            supplement = PersonalSupplement(patient=locked, region_id=locked.region_id)
        changed = [n for n, v in values.items() if created or getattr(supplement, n) != v]
        for name, value in values.items():
            setattr(supplement, name, value)
        supplement.filled_by = actor if getattr(actor, "pk", None) else None
        supplement.save()
        patient_fields: list[str] = []
        if (values["trouble_count"] or values["disaster_count"]) and not locked.incident_history:
            locked.incident_history = True
            patient_fields.append("incident_history")
        if diagnosis is not None:
            new = {"diagnosis": diagnosis.diagnosis, "icd10_code": rules.normalize_icd10(diagnosis.icd10_code),
                   "co_icd10_code": rules.normalize_icd10(diagnosis.co_icd10_code),
                   "diagnosing_hospital_id": diagnosis.diagnosing_hospital_id, "diagnosed_on": diagnosis.diagnosed_on}
            for name, value in new.items():
                if getattr(locked, name) != value:
                    setattr(locked, name, value)
                    patient_fields.append(name.removesuffix("_id"))
        if patient_fields:
            locked.save(update_fields=[*patient_fields, "updated_at"])
            audit.record(AuditAction.CHANGE, obj=locked, actor=actor, detail={"fields": patient_fields,
                                                                             "via": "supplement"})
        audit.record(AuditAction.CREATE if created else AuditAction.CHANGE, obj=supplement, actor=actor,
                     detail={"fields": changed})
    patient.incident_history = locked.incident_history
    return supplement


# --- Transfers -----------------------------------------------------------------------------------------

def request_transfer(actor: Any, patient: Patient, data: TransferInput) -> Transfer:
    """Hand a patient who moved over to another township of the deployment (waits for acceptance)."""
    _require(actor, Transfer, "add")
    _require(actor, Patient, "change")
    if data.key:
        existing = Transfer.objects.filter(submission_key=data.key).first()
        if existing is not None:
            return existing
    errors: dict[str, str] = {}
    try:
        to_region = _township(data.to_region_code, "to_region")
    except ValidationError as exc:
        _raise({k: v[0] for k, v in exc.message_dict.items()})
        raise
    if to_region.code == patient.region_id:
        errors["to_region"] = _("The patient already lives in this township.")
    if data.moved_on > _today():
        errors["moved_on"] = _message("future")
    if patient.status in OFF_REGISTER_STATUSES or patient.status == PatientStatus.DEREGISTERED:
        errors["patient"] = _("Only a patient on the register can be transferred.")
    if data.to_organisation_id is not None and _clinic(to_region, data.to_organisation_id) is None:
        errors["to_organisation"] = _("Choose a community or township health centre of the receiving township.")
    _raise(errors)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if Transfer.objects.filter(patient=locked, status=TransferStatus.PENDING).exists():
            raise ValidationError({"patient": _("A transfer of this patient is already waiting for an answer.")})
        transfer = Transfer(
            patient=locked, region=to_region, from_region_id=locked.region_id,
            from_organisation_id=locked.managing_organisation_id, to_organisation_id=data.to_organisation_id,
            moved_on=data.moved_on, reason=data.reason.strip(), new_address=data.new_address.strip(),
            requested_by=actor if getattr(actor, "pk", None) else None, submission_key=data.key or None,
        )
        transfer.save()
        audit.record(AuditAction.CREATE, obj=transfer, actor=actor,
                     detail={"patient": locked.pk, "from": locked.region_id, "to": to_region.code})
        _notify_on_commit(_transfer_notices(transfer, incoming=True))
    return transfer


def _transfer_notices(transfer: Transfer, *, incoming: bool) -> list[Notice]:
    link = reverse("patients:transfer_inbox")
    number = transfer.patient.register_number
    if incoming:
        title = _("Transfer of patient %(number)s to your township: accept or decline") % {"number": number}
        targets = [o.pk for o in Organisation.objects.filter(township_code=transfer.region_id,
                                                              org_type__in=CLINIC_TYPES[:2], is_active=True)]
        centre = county_centre(transfer.county_code)
    else:
        title = _("Transfer of patient %(number)s was %(status)s") % {
            "number": number, "status": transfer.get_status_display()}
        targets = [transfer.from_organisation_id]
        centre = None
        if transfer.requested_by_id:
            return [Notice(kind="patients.transfer", title=title, link=link, recipient_id=transfer.requested_by_id,
                           subject_type="patients.transfer", subject_id=str(transfer.pk),
                           dedupe_key=f"transfer:{transfer.pk}:{transfer.status}:requester")]
    if centre is not None:
        targets.append(centre.pk)
    return [Notice(kind="patients.transfer", title=title, link=link, organisation_id=org_id,
                   subject_type="patients.transfer", subject_id=str(transfer.pk),
                   dedupe_key=f"transfer:{transfer.pk}:{transfer.status}:{org_id}") for org_id in targets]


def _locked_pending(actor: Any, transfer: Transfer) -> Transfer:
    _require(actor, Transfer, "change")
    locked = Transfer.objects.select_for_update().select_related("patient").get(pk=transfer.pk)
    if not Transfer.objects.incoming(actor).filter(pk=locked.pk).exists():
        # The sending side sees the transfer but only the receiving region may answer it.
        raise PermissionDenied
    if locked.status != TransferStatus.PENDING:
        raise ValidationError({"status": _("This transfer was already answered (%(status)s).")
                               % {"status": locked.get_status_display()}})
    return locked


def move_patient_rows(patient: Patient, region_code: str) -> dict[str, int]:
    """Move the patient and every row that carries a region and points at them to ``region_code``.

    Generic over the apps: any ``InRegion`` model with a foreign key to ``Patient`` (supplement,
    status history, case reports, follow-ups, …) is updated in one statement per relation, so that
    scope and roll-ups stay one-table (docs/development/adding-a-model.md). Transfers keep their
    two ends; a model that sets ``moves_with_patient = False`` (an emergency belongs to the
    place where it happened) stays where it is.
    """
    columns = InRegion.region_columns(region_code)
    moved: dict[str, int] = {}
    for rel in _reverse_relations(Patient):
        model = rel.related_model
        if not issubclass(model, InRegion) or model is Transfer or not getattr(model, "moves_with_patient", True):
            continue
        n = model._base_manager.filter(**{rel.field.name: patient}).update(region_id=region_code, **columns)
        moved[f"{model._meta.label_lower}.{rel.field.name}"] = n
    Patient._base_manager.filter(pk=patient.pk).update(region_id=region_code, **columns)
    return moved


def accept_transfer(actor: Any, transfer: Transfer, *, managing_organisation_id: int | None = None,
                    responsible_doctor_id: int | None = None, accepted_on: date | None = None) -> Transfer:
    """The receiving region accepts: the patient (and their records) move onto its register.

    The patient's township, managing clinic and responsible doctor change; the person's home
    township (and address, if a new one was given) too. The history gets the move; the new clinic
    is told to make a first visit within the configured days.
    """
    accepted_on = accepted_on or _today()
    with transaction.atomic():
        locked = _locked_pending(actor, transfer)
        to_region = Region.objects.get(code=locked.region_id)
        clinic, doctor = _clinic_and_doctor(to_region, managing_organisation_id or locked.to_organisation_id,
                                            responsible_doctor_id)
        patient = Patient.objects.select_for_update().get(pk=locked.patient_id)
        from_status = patient.status
        moved = move_patient_rows(patient, to_region.code)
        person = patient.person
        person.region = to_region
        person_fields = ["region", "updated_at"]
        if locked.new_address:
            person.address = locked.new_address
            person_fields.append("address")
        person.save(update_fields=person_fields)
        patient.refresh_from_db()
        patient.managing_organisation = clinic
        patient.responsible_doctor = doctor
        patient.status = PatientStatus.MANAGED
        patient.status_changed_on = accepted_on
        patient.awaiting_first_visit_since = accepted_on
        patient.next_followup_due = rules.first_visit_due(accepted_on)
        patient.failed_attempts = 0
        patient.save()
        StatusChange.objects.create(
            patient=patient, from_status=from_status, to_status=PatientStatus.MANAGED, changed_on=accepted_on,
            destination="", note="", transfer=locked, region=to_region,
            created_by=actor if getattr(actor, "pk", None) else None)
        locked.status = TransferStatus.ACCEPTED
        locked.to_organisation = clinic
        locked.decided_by = actor if getattr(actor, "pk", None) else None
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "to_organisation", "decided_by", "decided_at"])
        audit.record(AuditAction.CHANGE, obj=locked, actor=actor, detail={"status": locked.status, "moved": moved})
        audit.record(AuditAction.CHANGE, obj=patient, actor=actor,
                     detail={"fields": ["region", "managing_organisation", "responsible_doctor", "status"],
                             "transfer": locked.pk})
        _notify_on_commit(_new_patient_notices(patient) + _transfer_notices(locked, incoming=False))
    return locked


def decline_transfer(actor: Any, transfer: Transfer, reason: str) -> Transfer:
    """The receiving region declines (e.g. the patient does not live there): the patient stays where they were."""
    if len(reason.strip()) < 2:
        _raise({"decline_reason": _("Say why the transfer is declined.")})
    with transaction.atomic():
        locked = _locked_pending(actor, transfer)
        locked.status = TransferStatus.DECLINED
        locked.decline_reason = reason.strip()
        locked.decided_by = actor if getattr(actor, "pk", None) else None
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decline_reason", "decided_by", "decided_at"])
        audit.record(AuditAction.CHANGE, obj=locked, actor=actor, detail={"status": locked.status})
        _notify_on_commit(_transfer_notices(locked, incoming=False))
    return locked


# --- Viewing and revealing --------------------------------------------------------------------------------

@dataclass
class PatientView:
    """What one user may see of a patient: the patient, the person, the supplement (``present`` each)."""

    patient: dict[str, Any]
    person: dict[str, Any]
    supplement: dict[str, Any] | None
    unmasked: bool = False


def _present_all(actor: Any, patient: Patient, *, unmasked: bool) -> PatientView:
    supplement = PersonalSupplement.objects.filter(patient=patient).first()
    return PatientView(
        patient=present(actor, patient, unmasked=unmasked),
        person=present(actor, patient.person, unmasked=unmasked),
        supplement=present(actor, supplement, unmasked=unmasked) if supplement is not None else None,
        unmasked=unmasked,
    )


def view_patient(actor: Any, patient: Patient, *, via: str = "page") -> PatientView:
    """What the actor may see of a patient reached through ``restrict``; audited as one view."""
    audit.record(AuditAction.VIEW, obj=patient, actor=actor, detail={"via": via})
    return _present_all(actor, patient, unmasked=False)


def unmask_patient(actor: Any, patient: Patient, purpose: str) -> PatientView:
    """Reveal the masked fields of patient, person and supplement after a stated purpose (audited)."""
    purpose = purpose.strip()
    if len(purpose) < 4:
        raise ValidationError({"purpose": _("State the purpose of revealing this record (at least 4 characters).")})
    if not actor.has_perm("patients.unmask_patient"):
        raise PermissionDenied
    supplement = PersonalSupplement.objects.filter(patient=patient).first()
    fields = [f"person.{f}" for f in unmaskable_fields(actor, patient.person)]
    fields += [f"patient.{f}" for f in unmaskable_fields(actor, patient)]
    if supplement is not None:
        fields += [f"supplement.{f}" for f in unmaskable_fields(actor, supplement)]
    if not fields:
        raise PermissionDenied
    audit.record(AuditAction.UNMASK, obj=patient, actor=actor, purpose=purpose, detail={"fields": fields})
    return _present_all(actor, patient, unmasked=True)


# --- Duplicates and merging ------------------------------------------------------------------------------

def _reverse_relations(model: type[models.Model]) -> list[Any]:
    """Every one-to-many / one-to-one relation pointing at ``model``, hidden ones (``related_name="+"``) too."""
    return [
        f for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]


def duplicate_groups(actor: Any) -> list[list[Person]]:
    """Persons sharing an ID number within the actor's scope, grouped (blind index; one GROUP BY + one query)."""
    scoped = Person.objects.restrict(actor).exclude(id_number_index="")
    indexes = list(scoped.order_by().values("id_number_index").annotate(n=Count("id")).filter(n__gt=1)
                   .values_list("id_number_index", flat=True)[:200])
    groups: dict[str, list[Person]] = {i: [] for i in indexes}
    for person in (scoped.filter(id_number_index__in=indexes).select_related("region", "patient")
                   .order_by("id_number_index", "id")):
        groups[person.id_number_index].append(person)
    return [g for g in groups.values() if len(g) > 1]


def _repoint(model: type[models.Model], old: models.Model, new: models.Model,
             skip: set[str] | None = None) -> dict[str, int]:
    """Re-point every row referring to ``old`` at ``new`` (one UPDATE per relation)."""
    moved: dict[str, int] = {}
    for rel in _reverse_relations(model):
        label = f"{rel.related_model._meta.label_lower}.{rel.field.name}"
        if skip and label in skip:
            continue
        manager = rel.related_model._base_manager
        if rel.one_to_one and manager.filter(**{rel.field.name: new}).exists():
            if manager.filter(**{rel.field.name: old}).exists():
                raise ValidationError({"drop": _("Both records have a %(what)s; resolve that first.")
                                       % {"what": rel.related_model._meta.verbose_name}})
            continue
        n = manager.filter(**{rel.field.name: old}).update(**{rel.field.name: new})
        if n:
            moved[label] = n
    return moved


def merge_persons(actor: Any, keep: Person, drop: Person, reason: str) -> PatientMerge:
    """Merge a duplicate person (and their registration) into another; audited, transactional.

    Both must be in the actor's scope and share the ID-number blind index. When both are
    registered, the kept registration absorbs the other's records (follow-ups, history, reports,
    …: every relation, one UPDATE each); the dropped 个人信息补充表 is kept only if the kept
    registration has none. The dropped person and registration are deleted; ``PatientMerge`` and
    the audit event keep their ids and register number.
    """
    if not actor.has_perm("patients.merge_patient"):
        raise PermissionDenied
    scoped = Person.objects.restrict(actor)
    errors: dict[str, str] = {}
    if keep.pk == drop.pk:
        errors["drop"] = _("Choose two different records.")
    elif not scoped.filter(pk=keep.pk).exists():
        errors["keep"] = _("This record is outside your region.")
    elif not scoped.filter(pk=drop.pk).exists():
        errors["drop"] = _("This record is outside your region.")
    elif not keep.id_number_index or keep.id_number_index != drop.id_number_index:
        errors["drop"] = _("Only records with the same ID number can be merged.")
    if len(reason.strip()) < 4:
        errors["reason"] = _("Say why these records are merged (at least 4 characters).")
    _raise(errors)
    with transaction.atomic():
        keep = Person.objects.select_for_update().get(pk=keep.pk)
        drop = Person.objects.select_for_update().get(pk=drop.pk)
        kept_patient = Patient.objects.select_for_update().filter(person=keep).first()
        dropped_patient = Patient.objects.select_for_update().filter(person=drop).first()
        moved: dict[str, int] = {}
        dropped_number = dropped_patient.register_number if dropped_patient else ""
        dropped_patient_id = dropped_patient.pk if dropped_patient else None
        if kept_patient and dropped_patient:
            kept_supp = PersonalSupplement.objects.filter(patient=kept_patient).first()
            dropped_supp = PersonalSupplement.objects.filter(patient=dropped_patient).first()
            if kept_supp and dropped_supp:
                dropped_supp.delete()
                moved["patients.personalsupplement.deleted"] = 1
            if dropped_patient.region_id != kept_patient.region_id:
                move_patient_rows(dropped_patient, kept_patient.region_id)
            moved.update(_repoint(Patient, dropped_patient, kept_patient))
            _absorb(kept_patient, dropped_patient)
            dropped_patient.delete()
        elif dropped_patient:
            Patient.objects.filter(pk=dropped_patient.pk).update(person=keep)
            kept_patient = Patient.objects.get(pk=dropped_patient.pk)
            moved["patients.patient.person"] = 1
        moved.update(_repoint(Person, drop, keep, skip={"patients.patient.person"}))
        changed = []
        for name in ("phone", "address", "birth_date"):
            if not getattr(keep, name) and getattr(drop, name):
                setattr(keep, name, getattr(drop, name))
                changed.append(name)
        if changed:
            keep.save(update_fields=[*changed, "updated_at"])
        drop_id = drop.pk
        drop.delete()
        merge = PatientMerge.objects.create(
            kept_person=keep, kept_patient=kept_patient, dropped_person_id=drop_id,
            dropped_patient_id=dropped_patient_id, dropped_register_number=dropped_number, moved=moved,
            reason=reason.strip(), merged_by=actor if getattr(actor, "pk", None) else None)
        audit.record(AuditAction.MERGE, obj=kept_patient or keep, actor=actor, purpose=reason.strip(),
                     detail={"kept_person": keep.pk, "dropped_person": drop_id, "dropped_patient": dropped_patient_id,
                             "dropped_register_number": dropped_number, "moved": moved, "merge": merge.pk})
    return merge


def _absorb(kept: Patient, dropped: Patient) -> None:
    """Carry over what the dropped registration knew that the kept one did not (worst risk, latest visit)."""
    fields: list[str] = []
    if dropped.incident_history and not kept.incident_history:
        kept.incident_history = True
        fields.append("incident_history")
    if dropped.danger_level > kept.danger_level:
        kept.danger_level = dropped.danger_level
        fields.append("danger_level")
    if dropped.registered_on < kept.registered_on:
        kept.registered_on = dropped.registered_on
        fields.append("registered_on")
    if dropped.last_followup_date and (kept.last_followup_date is None
                                       or dropped.last_followup_date > kept.last_followup_date):
        kept.last_followup_date = dropped.last_followup_date
        kept.last_classification = dropped.last_classification
        kept.next_followup_due = dropped.next_followup_due
        fields += ["last_followup_date", "last_classification", "next_followup_due"]
    if fields:
        kept.save(update_fields=[*fields, "updated_at"])


__all__ = [
    "CaseReportInput", "DiagnosisInput", "PatientView", "RegistrationInput", "StatusInput", "SupplementInput",
    "SuspectedCaseInput", "TransferInput", "accept_transfer", "already_registered_message", "apply_status_change",
    "change_status", "close_suspected_case", "confirm_suspected_case", "county_centre", "decline_transfer",
    "duplicate_groups", "merge_persons", "move_patient_rows", "next_register_numbers", "on_register_q",
    "refer_suspected_case", "register_from_case_report", "register_patient", "registered_count",
    "report_suspected_case", "request_transfer", "resolve_person", "save_supplement", "status_counts",
    "supplement_errors", "unmask_patient", "view_patient",
]
