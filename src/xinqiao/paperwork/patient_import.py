"""Importing existing patients: the columns, the row checks and the bulk commit.

One row is one patient as an earlier system or a paper register holds them: identity (姓名, 证件),
home township, 目前诊断, the danger level and follow-up dates the work lists need, and the
个人信息补充表 (DOMAIN.md §4) with the national-system extras. Codes are those of
``patients.codes`` (the paper form's codes).

Checks per row: required cells; codes; dates (not in the future, except the next follow-up);
the ID number per GB 11643-1999 (``core.idcard``); the township exists and lies in the importer's
region; the diagnosis and its ICD-10 code(s) (``patients.rules.icd10_errors``); the supplement's
cross-field rules (``patients.services.supplement_errors``). Across rows and the deployment: the
same ID number twice in the file is an error; a person already registered in the importer's
scope is skipped (a re-import creates nothing); one registered elsewhere is an error (the county
centre transfers or merges); a known person without a registration is reused, as
``patients.services.resolve_person`` does.

The commit mirrors ``patients.services.register_patient`` row for row (Person, Patient with a
register number from the county's ``RegisterSequence``, the registration ``StatusChange``, the
``PersonalSupplement``), but streamed with COPY on PostgreSQL (``bulk.job_stream``; ``bulk_create``
on SQLite), with one audit event for the batch and no per-patient notices (an import is not news
to the clinic that keeps these patients). ``import_stream`` checks and writes at once: chunks of
checked rows are written while later rows are still read and checked, all in the caller's one
transaction, which the caller rolls back if any row has an error.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from xinqiao.core import idcard
from xinqiao.core.models import DocumentType, InRegion, Organisation, Person, Region, RegionLevel, Sex, User
from xinqiao.core.scope import in_scope
from xinqiao.core.services import idcard_error_message
from xinqiao.paperwork.columns import BOOL, CODE, CODES, COUNT, DATE, Column, RowError
from xinqiao.patients import rules as patient_rules
from xinqiao.patients.codes import (
    Classification,
    Consent,
    DangerLevel,
    Diagnosis,
    DisabilityGrade,
    EconomicStatus,
    Employment,
    Household,
    LatestTreatmentEffect,
    LockStatus,
    OutpatientHistory,
    PatientStatus,
    RegistrationSource,
    Symptom,
)
from xinqiao.patients.models import (
    BEHAVIOUR_COUNT_FIELDS,
    Patient,
    PersonalSupplement,
    StatusChange,
)

IDENTITY = "identity"
REGISTER = "register"
SUPPLEMENT = "supplement"

COLUMNS: tuple[Column, ...] = (
    # 身份 (core.Person)
    Column("name", pgettext_lazy("spreadsheet", "Name"), required=True, max_length=64, example="王某某", width=10, group=IDENTITY),
    Column("id_type", pgettext_lazy("spreadsheet", "Document type"), CODE, choices=DocumentType, example="resident_id 居民身份证",
           hint=pgettext_lazy("spreadsheet", "Blank means resident identity card."), width=18, group=IDENTITY),
    Column("id_number", pgettext_lazy("spreadsheet", "ID number"), required=True, max_length=32, example="440106199001011235", width=22,
           hint=pgettext_lazy("spreadsheet", "18 characters, as text (a number loses its last digits)."), group=IDENTITY),
    Column("sex", pgettext_lazy("spreadsheet", "Sex"), CODE, choices=Sex, hint=pgettext_lazy("spreadsheet", "Read from a resident ID number when blank."),
           group=IDENTITY),
    Column("birth_date", pgettext_lazy("spreadsheet", "Date of birth"), DATE, hint=pgettext_lazy("spreadsheet", "Read from a resident ID number when blank."),
           group=IDENTITY),
    Column("phone", pgettext_lazy("spreadsheet", "Phone"), max_length=20, example="13800000000", group=IDENTITY),
    Column("address", pgettext_lazy("spreadsheet", "Current address"), max_length=255, example="广州市天河区某某路1号", width=24,
           group=IDENTITY),
    Column("region_code", pgettext_lazy("spreadsheet", "Township code"), required=True, max_length=9, example="440106001", width=14,
           hint=pgettext_lazy("spreadsheet", "9-digit code of the township (乡镇/街道) of the current address."), group=IDENTITY),
    # 登记与管理 (patients.Patient)
    Column("registered_on", pgettext_lazy("spreadsheet", "Registered on"), DATE, hint=pgettext_lazy("spreadsheet", "Blank means today."), example="2020-03-01",
           group=REGISTER),
    Column("diagnosis", pgettext_lazy("spreadsheet", "Current diagnosis"), CODE, required=True, choices=Diagnosis,
           example="F20 精神分裂症", width=22, group=REGISTER),
    Column("icd10_code", pgettext_lazy("spreadsheet", "ICD-10 code"), required=True, max_length=16, example="F20.0", group=REGISTER),
    Column("co_icd10_code", pgettext_lazy("spreadsheet", "Co-occurring ICD-10 code"), max_length=16,
           hint=pgettext_lazy("spreadsheet", "G40.x for F06; the co-occurring mental disorder for F70–F79."), group=REGISTER),
    Column("diagnosed_on", pgettext_lazy("spreadsheet", "Date of diagnosis"), DATE, example="2019-11-20", group=REGISTER),
    Column("diagnosing_hospital", pgettext_lazy("spreadsheet", "Confirming hospital"), max_length=120, width=20,
           hint=pgettext_lazy("spreadsheet", "The hospital's name as registered in xinqiao."), group=REGISTER),
    Column("managing_organisation", pgettext_lazy("spreadsheet", "Managing clinic"), max_length=120, width=20,
           hint=pgettext_lazy("spreadsheet", "Blank means the township's health centre."), group=REGISTER),
    Column("responsible_doctor", pgettext_lazy("spreadsheet", "Responsible doctor (user name)"), max_length=150, width=16,
           group=REGISTER),
    Column("danger_level", pgettext_lazy("spreadsheet", "Danger level"), CODE, choices=DangerLevel, example="0", width=12,
           hint=pgettext_lazy("spreadsheet", "Blank means 0."), group=REGISTER),
    Column("last_followup_date", pgettext_lazy("spreadsheet", "Last follow-up"), DATE, group=REGISTER),
    Column("last_classification", pgettext_lazy("spreadsheet", "Last classification"), CODE, choices=Classification, group=REGISTER),
    Column("next_followup_due", pgettext_lazy("spreadsheet", "Next follow-up due"), DATE,
           hint=pgettext_lazy("spreadsheet", "Blank: from the last classification, or within 2 weeks of registration."), group=REGISTER),
    # 个人信息补充表 (patients.PersonalSupplement)
    Column("guardian_name", pgettext_lazy("spreadsheet", "Guardian's name"), max_length=64, group=SUPPLEMENT),
    Column("guardian_relation", pgettext_lazy("spreadsheet", "Guardian's relation"), max_length=32, example="父子", group=SUPPLEMENT),
    Column("guardian_address", pgettext_lazy("spreadsheet", "Guardian's address"), max_length=255, width=24, group=SUPPLEMENT),
    Column("guardian_phone", pgettext_lazy("spreadsheet", "Guardian's phone"), max_length=20, group=SUPPLEMENT),
    Column("village_contact_name", pgettext_lazy("spreadsheet", "Village committee contact"), max_length=64, group=SUPPLEMENT),
    Column("village_contact_phone", pgettext_lazy("spreadsheet", "Contact's phone"), max_length=20, group=SUPPLEMENT),
    Column("household", pgettext_lazy("spreadsheet", "Household type"), CODE, choices=Household, group=SUPPLEMENT),
    Column("employment", pgettext_lazy("spreadsheet", "Employment"), CODE, choices=Employment, group=SUPPLEMENT),
    Column("consent", pgettext_lazy("spreadsheet", "Informed consent"), CODE, choices=Consent, group=SUPPLEMENT),
    Column("consent_signed_by", pgettext_lazy("spreadsheet", "Consent signed by"), max_length=64, group=SUPPLEMENT),
    Column("consent_date", pgettext_lazy("spreadsheet", "Consent signed on"), DATE, group=SUPPLEMENT),
    Column("onset_date", pgettext_lazy("spreadsheet", "First onset"), DATE, group=SUPPLEMENT),
    Column("past_symptoms", pgettext_lazy("spreadsheet", "Main past symptoms"), CODES, choices=Symptom, example="1,3,10", width=16,
           hint=pgettext_lazy("spreadsheet", "Several codes separated by commas."), group=SUPPLEMENT),
    Column("past_lock", pgettext_lazy("spreadsheet", "Past locking up"), CODE, choices=LockStatus, group=SUPPLEMENT),
    Column("outpatient_history", pgettext_lazy("spreadsheet", "Past outpatient treatment"), CODE, choices=OutpatientHistory,
           group=SUPPLEMENT),
    Column("first_antipsychotic_date", pgettext_lazy("spreadsheet", "First antipsychotic treatment"), DATE, group=SUPPLEMENT),
    Column("admissions", pgettext_lazy("spreadsheet", "Psychiatric admissions"), COUNT, group=SUPPLEMENT),
    Column("latest_treatment_effect", pgettext_lazy("spreadsheet", "Latest treatment effect"), CODE, choices=LatestTreatmentEffect,
           group=SUPPLEMENT),
    Column("minor_trouble_count", pgettext_lazy("spreadsheet", "Minor trouble-making (times)"), COUNT, group=SUPPLEMENT),
    Column("trouble_count", pgettext_lazy("spreadsheet", "Causing trouble (times)"), COUNT, group=SUPPLEMENT),
    Column("disaster_count", pgettext_lazy("spreadsheet", "Causing a disaster (times)"), COUNT, group=SUPPLEMENT),
    Column("other_harm_count", pgettext_lazy("spreadsheet", "Other harmful behaviour (times)"), COUNT, group=SUPPLEMENT),
    Column("self_harm_count", pgettext_lazy("spreadsheet", "Self-harm (times)"), COUNT, group=SUPPLEMENT),
    Column("suicide_attempt_count", pgettext_lazy("spreadsheet", "Attempted suicide (times)"), COUNT, group=SUPPLEMENT),
    Column("economic_status", pgettext_lazy("spreadsheet", "Economic status"), CODE, choices=EconomicStatus, group=SUPPLEMENT),
    Column("specialist_opinion", pgettext_lazy("spreadsheet", "Specialist's opinion"), max_length=500, width=24, group=SUPPLEMENT),
    Column("poverty_alleviation", pgettext_lazy("spreadsheet", "Targeted poverty alleviation"), BOOL, group=SUPPLEMENT),
    Column("guardianship_subsidy", pgettext_lazy("spreadsheet", "Guardianship subsidy"), BOOL, group=SUPPLEMENT),
    Column("disability_card", pgettext_lazy("spreadsheet", "Disability card"), BOOL, group=SUPPLEMENT),
    Column("disability_grade", pgettext_lazy("spreadsheet", "Mental disability grade"), CODE, choices=DisabilityGrade, group=SUPPLEMENT),
    Column("care_group_service", pgettext_lazy("spreadsheet", "Care and support group"), BOOL, group=SUPPLEMENT),
    Column("family_doctor_contract", pgettext_lazy("spreadsheet", "Family-doctor contract"), BOOL, group=SUPPLEMENT),
    Column("community_rehab", pgettext_lazy("spreadsheet", "Community rehabilitation"), BOOL, group=SUPPLEMENT),
    Column("filled_on", pgettext_lazy("spreadsheet", "Supplement filled in on"), DATE, hint=pgettext_lazy("spreadsheet", "Blank means the registration date."),
           group=SUPPLEMENT),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
SUPPLEMENT_KEYS = frozenset(c.key for c in COLUMNS if c.group == SUPPLEMENT)
#: Dates that may not lie in the future (the next follow-up may).
PAST_DATES = ("birth_date", "registered_on", "diagnosed_on", "last_followup_date", "consent_date", "onset_date",
              "first_antipsychotic_date", "filled_on")
SUPPLEMENT_TEXT = ("guardian_name", "guardian_relation", "guardian_address", "guardian_phone",
                   "village_contact_name", "village_contact_phone", "consent_signed_by", "specialist_opinion")
SUPPLEMENT_VALUES = ("household", "employment", "consent", "consent_date", "onset_date", "past_lock",
                     "outpatient_history", "first_antipsychotic_date", "admissions", "latest_treatment_effect",
                     "economic_status", "poverty_alleviation", "guardianship_subsidy", "disability_card",
                     "disability_grade", "care_group_service", "family_doctor_contract", "community_rehab")
PHONE = re.compile(r"^[0-9+\-\s()]{5,20}$")
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def header(key: str) -> str:
    """The column header of a key in the active language (what the report names)."""
    return str(COLUMN_BY_KEY[key].header)


@dataclass
class PatientRow:
    """A row that passed its own checks: the values the commit needs."""

    row: int
    values: dict[str, Any]
    township: str
    id_type: str
    id_number: str
    index: str
    sex: str
    birth_date: date | None
    clinic_id: int
    doctor_id: int | None
    hospital_id: int | None
    has_supplement: bool
    person_id: int | None = None  # an existing person without a registration (reused)
    extra: dict[str, Any] = field(default_factory=dict)


class Lookups:
    """What the row checks need from the database, loaded once per file (never once per row)."""

    def __init__(self, actor: Any) -> None:
        from xinqiao.patients.services import CLINIC_TYPES, HOSPITAL_TYPES

        self.actor = actor
        self.today = timezone.localdate()
        region = actor.region_id or ""
        towns = Region.objects.filter(level=RegionLevel.TOWNSHIP)
        if region:
            towns = towns.filter(code__startswith=region)
        elif not actor.is_superuser:
            towns = towns.none()
        self.townships: set[str] = set(towns.values_list("code", flat=True))
        self._outside: dict[str, str] = {}
        clinics: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for code, name, pk in (Organisation.objects.filter(township_code__in=self.townships, org_type__in=CLINIC_TYPES,
                                                           is_active=True)
                               .order_by("org_type", "id").values_list("township_code", "name", "id")):
            clinics[code].append((name, pk))
        self.clinics = clinics
        hospitals: dict[str, list[int]] = defaultdict(list)
        for name, pk in Organisation.objects.filter(org_type__in=HOSPITAL_TYPES).values_list("name", "id"):
            hospitals[name.strip()].append(pk)
        self.hospitals = hospitals
        self._doctors: dict[str, User | None] = {}

    def township_error(self, code: str) -> str | None:
        """Why a township code cannot be used here, or ``None``."""
        if code in self.townships:
            return None
        if code not in self._outside:
            if not code.isdigit() or len(code) != 9:
                message = _("Enter the 9-digit code of a township (乡镇/街道).")
            else:
                region = Region.objects.filter(code=code).only("level").first()
                if region is None:
                    message = _("There is no township with the code %(code)s.") % {"code": code}
                elif region.level != RegionLevel.TOWNSHIP:
                    message = _("%(code)s is not a township (乡镇/街道) code.") % {"code": code}
                else:
                    message = _("Township %(code)s is outside your region.") % {"code": code}
            self._outside[code] = message
        return self._outside[code]

    def doctor(self, username: str, township: str) -> tuple[int | None, str | None]:
        """The responsible doctor named by user name: active and working in the patient's township."""
        if username not in self._doctors:
            self._doctors[username] = (User.objects.filter(username=username, is_active=True)
                                       .only("id", "region_id", "is_superuser").first())
        user = self._doctors[username]
        if user is None or not in_scope(user, township):
            return None, _("Choose a doctor working in the patient's township (their user name).")
        return user.pk, None


def icd10_message(code: str) -> str:
    """The message of an error code of ``patients.rules.icd10_errors``."""
    messages = {
        "required": _("This column must not be empty."),
        "format": _("Enter an ICD-10 code such as F20.0."),
        "not_six": _("Choose one of the six severe mental disorders."),
        "mismatch": _("This ICD-10 code does not belong to the chosen diagnosis."),
        "needs_g40": _("Mental disorder due to epilepsy (F06) needs the co-occurring epilepsy code G40.x."),
        "needs_co_disorder": _("Mental retardation (F70–F79) needs the code of the co-occurring mental "
                               "disorder (an F code outside F70–F79)."),
    }
    return messages.get(code, _("This value is not valid."))


def supplement_rule_errors(values: dict[str, Any]) -> dict[str, str]:
    """The cross-field rules of the 个人信息补充表, as ``patients.services.supplement_errors`` has them.

    The rest of that function (codes, counts 0–999, dates not in the future) is what every cell's
    parser and ``PAST_DATES`` already check; calling it per row cost ~100 µs (it rebuilds each
    option class's value list), a third of the whole import. ``tests/paperwork/test_patient_import``
    holds the two equal on generated supplements.
    """
    errors: dict[str, str] = {}
    if values.get("consent") is not None:
        if not values.get("consent_signed_by"):
            errors["consent_signed_by"] = _("Who signed the consent form? (the patient or the guardian)")
        if values.get("consent_date") is None:
            errors["consent_date"] = _("Give the date the consent form was signed.")
    if values.get("disability_grade") is not None and not values.get("disability_card"):
        errors["disability_grade"] = _("A disability grade needs a disability card.")
    first, onset = values.get("first_antipsychotic_date"), values.get("onset_date")
    if first and onset and first < onset:
        errors["first_antipsychotic_date"] = _("Treatment cannot start before the first onset.")
    return errors


def _get(values: dict[str, Any], key: str, default: Any = None) -> Any:
    value = values.get(key)
    return default if value is None else value


class PatientImport:
    """Validate and commit a sheet of existing patients."""

    columns = COLUMNS

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.lookups = Lookups(actor)

    # --- one row ----------------------------------------------------------------------------------

    def check_row(self, number: int, values: dict[str, Any], errors: list[RowError]) -> PatientRow | None:
        """Cross-field checks of one parsed row; appends errors and returns the row if it is clean."""
        lookups = self.lookups
        start = len(errors)

        def error(key: str, message: str) -> None:
            errors.append(RowError(number, header(key) if key else "", message))

        today = lookups.today
        for key in PAST_DATES:
            value = values.get(key)
            if value is not None and value > today:
                error(key, _("The date is later than today."))
        # Identity
        id_type = _get(values, "id_type", DocumentType.RESIDENT_ID)
        raw_id = values.get("id_number") or ""
        checked = None
        if SCIENTIFIC.match(raw_id):
            error("id_number", _("The ID number was stored as a number and lost its last digits: format the "
                                 "column as text and enter it again."))
        elif raw_id:
            checked = idcard.validate_document(id_type, raw_id)
            if not checked.valid:
                error("id_number", idcard_error_message(checked.error))
                checked = None
        for key in ("phone", "guardian_phone", "village_contact_phone"):
            value = values.get(key)
            if value and not PHONE.match(value):
                error(key, _("Enter a phone number of digits only."))
        township = values.get("region_code") or ""
        if township:
            problem = lookups.township_error(township)
            if problem:
                error("region_code", problem)
        # Diagnosis
        diagnosis = values.get("diagnosis")
        if diagnosis is not None:
            for key, code in patient_rules.icd10_errors(diagnosis, values.get("icd10_code") or "",
                                                        values.get("co_icd10_code") or ""):
                if key == "icd10_code" and code == "required":
                    continue  # already reported as a missing required cell
                error(key, icd10_message(code))
        hospital_id = None
        hospital = values.get("diagnosing_hospital")
        if hospital:
            ids = lookups.hospitals.get(hospital, [])
            if len(ids) != 1:
                error("diagnosing_hospital", _("No psychiatric hospital, general hospital psychiatry department or "
                                               "mental-health centre has this name.") if not ids else
                      _("Several hospitals have this name: ask the county centre which one to use."))
            else:
                hospital_id = ids[0]
        clinic_id = 0
        if township in lookups.townships:
            clinics = lookups.clinics.get(township, [])
            wanted = values.get("managing_organisation")
            if wanted:
                matches = [pk for name, pk in clinics if name == wanted]
                if not matches:
                    error("managing_organisation", _("No community or township health centre of this township has "
                                                     "this name."))
                else:
                    clinic_id = matches[0]
            elif not clinics:
                error("region_code", _("This township has no community or township health centre to manage the "
                                       "patient: add one first."))
            else:
                clinic_id = clinics[0][1]
        doctor_id = None
        username = values.get("responsible_doctor")
        if username and township in lookups.townships:
            doctor_id, problem = lookups.doctor(username, township)
            if problem:
                error("responsible_doctor", problem)
        if values.get("last_classification") is not None and values.get("last_followup_date") is None:
            error("last_followup_date", _("Give the date of the last follow-up with its classification."))
        # 个人信息补充表
        has_supplement = any(values.get(key) not in (None, "", []) for key in SUPPLEMENT_KEYS)
        if has_supplement:
            for key, message in supplement_rule_errors(values).items():
                error(key, message)
        if len(errors) > start or checked is None:
            return None
        return PatientRow(
            row=number, values=values, township=township, id_type=id_type, id_number=checked.normalized,
            index=Person.id_index_for(id_type, checked.normalized),
            sex=(checked.sex if checked.sex else _get(values, "sex", Sex.UNKNOWN)),
            birth_date=checked.birth_date or values.get("birth_date"),
            clinic_id=clinic_id, doctor_id=doctor_id, hospital_id=hospital_id, has_supplement=has_supplement,
        )

    # --- the file ---------------------------------------------------------------------------------

    def _existing_query(self, indexes: list[str]) -> Any:
        """Persons with these ID blind indexes: id, index, patient id, register number, visible to the actor."""
        visible = Patient.objects.restrict(self.actor).filter(pk=OuterRef("patient__id"))
        return (Person.objects.filter(id_number_index__in=indexes).order_by("id")
                .annotate(visible=Exists(visible))
                .values_list("id", "id_number_index", "patient__id", "patient__register_number", "visible"))

    @staticmethod
    def _existing(found: Iterable[tuple[Any, ...]]) -> dict[str, tuple[int, int | None, str, bool]]:
        """Per blind index, the person to use: the registered one if any, else the oldest."""
        existing: dict[str, tuple[int, int | None, str, bool]] = {}
        for person_id, index, patient_id, number, visible in found:
            if index not in existing or (existing[index][1] is None and patient_id is not None):
                existing[index] = (person_id, patient_id, number or "", bool(visible))
        return existing

    def _classify(self, rows: list[PatientRow], existing: dict[str, tuple[int, int | None, str, bool]],
                  errors: list[RowError], notes: list[list[Any]], first: dict[str, int]) -> list[PatientRow]:
        """Same person twice in the file (error), or already in the deployment (skip or error).

        ``first`` maps the blind indexes seen so far in the file to their row (kept across chunks).
        """
        id_header = header("id_number")
        keep: list[PatientRow] = []
        for row in rows:
            seen = first.get(row.index)
            if seen is not None:
                errors.append(RowError(row.row, id_header, _("Same ID number as row %(row)s of this file.") % {
                    "row": seen}))
                continue
            first[row.index] = row.row
            found = existing.get(row.index)
            if found is None:
                keep.append(row)
                continue
            person_id, patient_id, number, visible = found
            if patient_id is None:
                row.person_id = person_id
                keep.append(row)
            elif visible:
                notes.append([row.row, _("Already registered (register number %(number)s): skipped.") % {
                    "number": number}])
            else:
                errors.append(RowError(row.row, id_header, _(
                    "This person is already on a register of another region or agency. Contact the county "
                    "mental-health centre to transfer or merge the record.")))
        return keep

    def check_duplicates(self, rows: list[PatientRow], errors: list[RowError],
                         notes: list[list[Any]]) -> list[PatientRow]:
        """Same person twice in the file (error), or already in the deployment (skip or error)."""
        indexes = list(dict.fromkeys(row.index for row in rows))
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(indexes), 2000):
            found.extend(self._existing_query(indexes[start:start + 2000]))
        return self._classify(rows, self._existing(found), errors, notes, {})

    # --- commit -----------------------------------------------------------------------------------

    def import_stream(self, checker: Any, rows: Iterator[tuple[int, list[Any]]], chunk_size: int, *,
                      on_checked: Callable[[], None] | None = None) -> dict[str, int]:
        """Check ``rows`` with ``checker`` and write the clean ones, chunk by chunk (caller's transaction).

        A pipeline on one connection (``bulk.job_stream``): while this thread checks chunk k, the
        writer looks up chunk k's ID numbers in the deployment, allocates ids and register numbers
        for chunk k−1 and COPYs chunk k−2. Once any row has an error nothing more is written, but
        every row is still checked so that the report is complete; the caller then rolls back.
        ``on_checked`` is called when the last row has been checked.
        """
        from collections import deque

        from xinqiao.paperwork import bulk

        result = checker.result
        first: dict[str, int] = {}
        writes = _Writes(self)
        lookups: deque[tuple[list[PatientRow], Future[Any]]] = deque()
        allocations: deque[tuple[list[PatientRow], Future[Any]]] = deque()
        with bulk.job_stream() as stream:

            def classify(chunk: list[PatientRow], future: Future[Any]) -> None:
                errors_before, notes_before = len(result.errors), len(result.notes)
                keep = self._classify(chunk, self._existing(future.result()), result.errors, result.notes, first)
                checker.classified(errors_before, notes_before)
                if keep and not result.errors:
                    allocations.append((keep, writes.allocate(stream, keep)))

            def write(keep: list[PatientRow], future: Future[Any]) -> None:
                if not result.errors:
                    writes.write(stream, keep, future.result())

            for chunk in checker.chunks(rows, chunk_size):
                if chunk:
                    sql, params = self._existing_query(list({row.index: None for row in chunk})).query.sql_with_params()
                    lookups.append((chunk, stream.submit(_fetch_all(sql, params))))
                while len(lookups) > 1:
                    classify(*lookups.popleft())
                while len(allocations) > 1:
                    write(*allocations.popleft())
            while lookups:
                classify(*lookups.popleft())
            if on_checked is not None:
                on_checked()
            while allocations:
                write(*allocations.popleft())
        if not result.errors:
            self._fill_blanks(writes.reused)
        return writes.counts

    def commit(self, rows: list[PatientRow], batch_size: int) -> dict[str, int]:
        """Create the persons, patients, registration history and supplements of checked rows (caller's transaction)."""
        from xinqiao.paperwork import bulk

        writes = _Writes(self)
        with bulk.job_stream() as stream:
            for start in range(0, len(rows), batch_size):
                keep = rows[start:start + batch_size]
                writes.write(stream, keep, writes.allocate(stream, keep).result())
        self._fill_blanks(writes.reused)
        return writes.counts

    def _fill_blanks(self, rows: Iterable[PatientRow]) -> None:
        """A reused person's empty phone and address are completed, never overwritten (as ``resolve_person``)."""
        rows = list(rows)
        if not rows:
            return
        people = Person.objects.in_bulk([row.person_id for row in rows])
        for row in rows:
            person = people[row.person_id]
            changed = [name for name in ("phone", "address") if row.values.get(name) and not getattr(person, name)]
            for name in changed:
                setattr(person, name, row.values[name])
            if changed:
                person.save(update_fields=[*changed, "updated_at"])


def _fetch_all(sql: str, params: Any) -> Callable[[Any], list[tuple[Any, ...]]]:
    """A stream job: run a compiled query, return its rows."""
    def job(cursor: Any) -> list[tuple[Any, ...]]:
        cursor.execute(sql, params)
        return list(cursor.fetchall())

    return job


class _Writes:
    """The rows one chunk of checked patients becomes (Person, Patient, StatusChange, PersonalSupplement).

    Mirrors ``patients.services.register_patient`` row for row, without per-patient notices.
    """

    def __init__(self, importer: PatientImport) -> None:
        self.importer = importer
        self.actor_id = importer.actor.pk if getattr(importer.actor, "pk", None) else None
        self.today = importer.lookups.today
        self.counts = {"created": 0, "persons_created": 0, "persons_reused": 0, "supplements": 0}
        self.reused: list[PatientRow] = []
        self.tables: dict[Any, Any] = {}
        self._places: dict[str, dict[str, str]] = {}

    def place(self, code: str) -> dict[str, str]:
        if code not in self._places:
            self._places[code] = {"region_id": code, **InRegion.region_columns(code)}
        return self._places[code]

    def _year(self, row: PatientRow) -> int:
        return int((row.values.get("registered_on") or self.today).year)

    def allocate(self, stream: Any, rows: list[PatientRow]) -> Future[Any]:
        """A stream job: register numbers per county and year, and (PostgreSQL) person and patient ids."""
        from xinqiao.paperwork import bulk
        from xinqiao.patients.services import reserve_register_numbers

        wanted: dict[tuple[str, int], int] = defaultdict(int)
        for row in rows:
            wanted[(row.township[:6], self._year(row))] += 1
        new_people = sum(1 for row in rows if row.person_id is None)
        with_ids = not isinstance(stream, bulk.SyncStream)
        person_table, patient_table = Person._meta.db_table, Patient._meta.db_table

        def job(cursor: Any) -> tuple[list[int] | None, list[int] | None, dict[tuple[str, int], list[str]]]:
            numbers = {key: reserve_register_numbers(cursor, key[0], key[1], n) for key, n in sorted(wanted.items())}
            if not with_ids:
                return None, None, numbers
            ids: list[list[int]] = []
            for table, count in ((person_table, new_people), (patient_table, len(rows))):
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                               [table, count])
                ids.append([r[0] for r in cursor.fetchall()])
            return ids[0], ids[1], numbers

        return stream.submit(job)

    def write(self, stream: Any, rows: list[PatientRow], allocated: Any) -> None:
        """Queue the chunk's rows on the stream with the ids and numbers ``allocate`` gave (column by column)."""
        from xinqiao.followups import rules as followup_rules
        from xinqiao.paperwork import bulk
        from xinqiao.paperwork.bulk import Same

        person_ids, patient_ids, numbers = allocated
        numbers = {key: iter(values) for key, values in numbers.items()}
        tables, today = self.tables, self.today
        actor = Same(self.actor_id)
        new_people = [row for row in rows if row.person_id is None]
        self.reused.extend(row for row in rows if row.person_id is not None)
        created = bulk.write_columns(Person, len(new_people), {
            "name": [row.values["name"] for row in new_people],
            "id_type": [row.id_type for row in new_people], "id_number": [row.id_number for row in new_people],
            "id_number_index": [row.index for row in new_people], "sex": [row.sex for row in new_people],
            "birth_date": [row.birth_date for row in new_people],
            "phone": [row.values.get("phone") or "" for row in new_people],
            "address": [row.values.get("address") or "" for row in new_people],
            "created_by_id": actor, **self.places(new_people),
        }, stream, ids=person_ids, tables=tables) or []
        for row, person_id in zip(new_people, created, strict=True):
            row.person_id = person_id
        registered, due, last_dates, last_classes = [], [], [], []
        for row in rows:
            values = row.values
            registered_on = values.get("registered_on") or today
            last_date = values.get("last_followup_date")
            last_class = values.get("last_classification")
            next_due = values.get("next_followup_due")
            if next_due is None:
                next_due = (followup_rules.next_followup_date(last_class, last_date, None) if last_class and last_date
                            else patient_rules.first_visit_due(registered_on))
            registered.append(registered_on)
            due.append(next_due)
            last_dates.append(last_date)
            last_classes.append(last_class)
        places = self.places(rows)
        normalize = patient_rules.normalize_icd10
        ids = bulk.write_columns(Patient, len(rows), {
            "person_id": [row.person_id for row in rows],
            "register_number": [next(numbers[(row.township[:6], on.year)]) for row, on in zip(rows, registered, strict=True)],
            "status": Same(PatientStatus.MANAGED), "source": Same(RegistrationSource.IMPORT), "registered_on": registered,
            "diagnosis": [row.values["diagnosis"] for row in rows],
            "icd10_code": [normalize(row.values["icd10_code"]) for row in rows],
            "co_icd10_code": [normalize(row.values.get("co_icd10_code") or "") for row in rows],
            "diagnosed_on": [row.values.get("diagnosed_on") for row in rows],
            "diagnosing_hospital_id": [row.hospital_id for row in rows],
            "managing_organisation_id": [row.clinic_id for row in rows],
            "responsible_doctor_id": [row.doctor_id for row in rows],
            "danger_level": [_get(row.values, "danger_level", 0) for row in rows],
            "incident_history": [bool(row.values.get("trouble_count") or row.values.get("disaster_count")) for row in rows],
            "last_followup_date": last_dates, "last_classification": last_classes, "next_followup_due": due,
            "awaiting_first_visit_since": [None if last else on for last, on in zip(last_dates, registered, strict=True)],
            "status_changed_on": registered, "created_by_id": actor, **places,
        }, stream, ids=patient_ids, tables=tables) or []
        bulk.write_columns(StatusChange, len(rows), {
            "patient_id": ids, "from_status": Same(""), "to_status": Same(PatientStatus.MANAGED),
            "changed_on": registered, "created_by_id": actor, **places,
        }, stream, tables=tables)
        picked = [(row, pid, on) for row, pid, on in zip(rows, ids, registered, strict=True) if row.has_supplement]
        kept = [row for row, _pid, _on in picked]
        supplement: dict[str, Any] = {"patient_id": [pid for _row, pid, _on in picked]}
        for key in SUPPLEMENT_TEXT:
            supplement[key] = [row.values.get(key) or "" for row in kept]
        missing = bulk.MISSING
        for key in SUPPLEMENT_VALUES:
            supplement[key] = [v if (v := row.values.get(key)) is not None else missing for row in kept]
        supplement["past_symptoms"] = [list(row.values.get("past_symptoms") or []) for row in kept]
        for name in BEHAVIOUR_COUNT_FIELDS.values():
            supplement[name] = [row.values.get(name) or 0 for row in kept]
        supplement["filled_on"] = [row.values.get("filled_on") or on for row, _pid, on in picked]
        supplement["filled_by_id"] = actor
        bulk.write_columns(PersonalSupplement, len(kept), {**supplement, **self.places(kept)}, stream, tables=tables)
        counts = self.counts
        counts["created"] += len(rows)
        counts["persons_created"] += len(new_people)
        counts["persons_reused"] += len(rows) - len(new_people)
        counts["supplements"] += len(kept)

    def places(self, rows: list[PatientRow]) -> dict[str, list[str]]:
        """The region columns of ``rows`` (their townships), column by column."""
        found = [self.place(row.township) for row in rows]
        keys = found[0].keys() if found else ()
        return {key: [place[key] for place in found] for key in keys}
