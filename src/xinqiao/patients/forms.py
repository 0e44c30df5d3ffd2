"""Forms of the register: the three ways in, the 个人信息补充表, status changes, transfers, merges.

Each submitting form carries a hidden ``form_key`` (a UUID made when the page is shown) so that a
double tap or a retry is stored once (``views._once`` → ``core.idempotency.run_once``). Errors name
their field in the user's language; service errors are attached to the matching field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xinqiao.core.forms import KeyedForm, PersonForm, StyledForm
from xinqiao.core.models import Organisation
from xinqiao.core.scope import region_filter
from xinqiao.core.services import PersonInput
from xinqiao.patients.codes import (
    BroughtBy,
    Consent,
    DangerBehaviour,
    DangerLevel,
    DeathCause,
    Diagnosis,
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
    ReportEntry,
    ReportType,
    SuspectedSource,
    Symptom,
)
from xinqiao.patients.models import BEHAVIOUR_COUNT_FIELDS
from xinqiao.patients.services import (
    CLINIC_TYPES,
    HOSPITAL_TYPES,
    CaseReportInput,
    DiagnosisInput,
    StatusInput,
    SupplementInput,
    SuspectedCaseInput,
    TransferInput,
)

EMPTY = [("", "—")]


def _date(**attrs: Any) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs})


def _coded(choices: Any, label: Any, *, required: bool = False) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=[*([] if required else EMPTY), *choices], coerce=int,
                                  empty_value=None, required=required)


def hospitals(user: Any) -> QuerySet[Organisation]:
    """Institutions that diagnose, in the user's province (all of them for a user without a region)."""
    qs = Organisation.objects.filter(org_type__in=HOSPITAL_TYPES, is_active=True).order_by("region_id", "name")
    region = getattr(user, "region_id", None)
    return qs.filter(province_code=region[:2]) if region else qs


def clinics(user: Any) -> QuerySet[Organisation]:
    """Community and township health centres (and village clinics) in the user's region."""
    qs = Organisation.objects.filter(org_type__in=CLINIC_TYPES, is_active=True).order_by("region_id", "name")
    where = region_filter(user) if getattr(user, "region_id", None) else None
    return qs.filter(**where) if where else qs


class PersonFieldsForm(KeyedForm, PersonForm):
    """Identity and home of the person being registered (``core.PersonForm``'s fields)."""

    def person_input(self) -> PersonInput:
        return self.to_input()


class DiagnosisFieldsMixin(forms.Form):
    """目前诊断: diagnosis, ICD-10 code(s), confirming hospital and date."""

    diagnosis = forms.ChoiceField(label=_("diagnosis"), choices=[*EMPTY, *Diagnosis.choices])
    icd10_code = forms.CharField(label=_("ICD-10 code"), max_length=16,
                                 widget=forms.TextInput(attrs={"placeholder": "F20.0", "autocapitalize": "characters"}))
    co_icd10_code = forms.CharField(label=_("co-occurring ICD-10 code"), max_length=16, required=False,
                                    help_text=_("G40 epilepsy for F06; the co-occurring mental disorder for F70–F79."))
    diagnosing_hospital = forms.ModelChoiceField(label=_("confirming hospital"), queryset=Organisation.objects.none())
    diagnosed_on = forms.DateField(label=_("date of diagnosis"), widget=_date())

    def set_user(self, user: Any) -> None:
        self.fields["diagnosing_hospital"].queryset = hospitals(user)  # type: ignore[attr-defined]

    def diagnosis_input(self) -> DiagnosisInput:
        d: dict[str, Any] = self.cleaned_data
        hospital = d.get("diagnosing_hospital")
        return DiagnosisInput(diagnosis=d["diagnosis"], icd10_code=d["icd10_code"],
                              co_icd10_code=d.get("co_icd10_code") or "",
                              diagnosing_hospital_id=hospital.pk if hospital else None,
                              diagnosed_on=d.get("diagnosed_on"))


class CaseCardFields(forms.Form):
    """The 发病报告卡's own items, shared by the full card and the entry of a draft."""

    report_type = _coded(ReportType.choices, _("report type"), required=True)
    onset_date = forms.DateField(label=_("first onset"), required=False, widget=_date())
    prior_danger = forms.MultipleChoiceField(label=_("prior dangerous behaviour"), choices=DangerBehaviour.choices,
                                             required=False, widget=forms.CheckboxSelectMultiple,
                                             help_text=_("Leave empty for none."))
    brought_by = _coded(BroughtBy.choices, _("brought to hospital by"), required=True)
    danger_level = _coded(DangerLevel.choices, _("danger level"), required=True)
    entry = forms.ChoiceField(label=_("entry"), choices=ReportEntry.choices, initial=ReportEntry.ONLINE)
    received_on = forms.DateField(label=_("written report received on"), required=False, widget=_date(),
                                  help_text=_("Only for a written report entered by the county centre."))
    managing_organisation = forms.ModelChoiceField(label=_("managing clinic"), queryset=Organisation.objects.none(),
                                                   required=False,
                                                   help_text=_("Leave empty: the health centre of the township."))

    def _set_up_card(self, user: Any) -> None:
        self.fields["managing_organisation"].queryset = clinics(user)  # type: ignore[attr-defined]
        self.fields["prior_danger"].widget.attrs.pop("class", None)


class CaseReportForm(CaseCardFields, DiagnosisFieldsMixin, PersonFieldsForm):
    """严重精神障碍发病报告卡."""

    field_order = ["form_key", "name", "id_type", "id_number", "sex", "birth_date", "region_code", "phone",
                   "address", "report_type", "diagnosis", "icd10_code", "co_icd10_code", "diagnosing_hospital",
                   "diagnosed_on", "onset_date", "prior_danger", "brought_by", "danger_level", "entry",
                   "received_on", "managing_organisation"]

    def __init__(self, *args: Any, user: Any, draft: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_user(user)
        self._set_up_card(user)
        if draft:  # a draft may be saved before the report type and who brought the patient are known
            for name in ("report_type", "brought_by"):
                self.fields[name].required = False

    def to_case_report(self) -> CaseReportInput:
        d: dict[str, Any] = self.cleaned_data
        clinic = d.get("managing_organisation")
        return CaseReportInput(
            person=self.person_input(), report_type=d.get("report_type") or 0, diagnosis=self.diagnosis_input(),
            brought_by=d.get("brought_by") or 0, prior_danger=tuple(d.get("prior_danger") or ()),
            onset_date=d.get("onset_date"), danger_level=d["danger_level"], entry=d["entry"],
            received_on=d.get("received_on"), managing_organisation_id=clinic.pk if clinic else None,
        )


class CaseReportCompleteForm(CaseCardFields, KeyedForm):
    """Enter a draft case report: what the card still needs (person and diagnosis are the draft's)."""

    field_order = ["form_key", "report_type", "onset_date", "prior_danger", "brought_by", "danger_level", "entry",
                   "received_on", "managing_organisation"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_up_card(user)

    def to_case_report(self, base: CaseReportInput) -> CaseReportInput:
        """``base`` (``services.draft_input``) completed with the form."""
        d: dict[str, Any] = self.cleaned_data
        clinic = d.get("managing_organisation")
        return replace(base, report_type=d["report_type"], brought_by=d["brought_by"],
                       prior_danger=tuple(d.get("prior_danger") or ()), onset_date=d.get("onset_date"),
                       danger_level=d["danger_level"], entry=d["entry"], received_on=d.get("received_on"),
                       managing_organisation_id=clinic.pk if clinic else None)


class SuspectedCaseForm(PersonFieldsForm):
    """A suspected case found in the community."""

    found_by = forms.ChoiceField(label=_("found by"), choices=SuspectedSource.choices)
    reporter_name = forms.CharField(label=_("reporter (name, committee)"), max_length=100, required=False)
    discovered_on = forms.DateField(label=_("found on"), widget=_date())
    symptoms = forms.TypedMultipleChoiceField(label=_("symptoms noticed"), choices=Symptom.choices, coerce=int,
                                              required=False, widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(label=_("what was noticed"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["symptoms"].widget.attrs.pop("class", None)

    def to_suspected(self) -> SuspectedCaseInput:
        d: dict[str, Any] = self.cleaned_data
        return SuspectedCaseInput(person=self.person_input(), found_by=d["found_by"], discovered_on=d["discovered_on"],
                                  reporter_name=d.get("reporter_name") or "", symptoms=tuple(d.get("symptoms") or ()),
                                  description=d.get("description") or "")


class ReferForm(KeyedForm):
    """Refer a suspected case for diagnosis."""

    referred_to = forms.ModelChoiceField(label=_("referred to"), queryset=Organisation.objects.none())
    referred_on = forms.DateField(label=_("referred on"), widget=_date())
    note = forms.CharField(label=_("note"), required=False, max_length=500)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referred_to"].queryset = hospitals(user)  # type: ignore[attr-defined]


class ConfirmForm(DiagnosisFieldsMixin, KeyedForm):
    """A psychiatric institution confirmed the diagnosis: register."""

    danger_level = _coded(DangerLevel.choices, _("danger level"), required=True)
    managing_organisation = forms.ModelChoiceField(label=_("managing clinic"), queryset=Organisation.objects.none(),
                                                   required=False,
                                                   help_text=_("Leave empty: the health centre of the township."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_user(user)
        self.fields["managing_organisation"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            org_type__in=CLINIC_TYPES, is_active=True)


class CloseForm(KeyedForm):
    """Close a suspected case as not a case."""

    closing_reason = forms.CharField(label=_("why it was closed"), max_length=500,
                                     widget=forms.Textarea(attrs={"rows": 2}))


class StatusForm(KeyedForm):
    """A status change with the facts its target needs (失访原因, 死亡日期/原因, 迁往, 销案原因)."""

    to_status = forms.ChoiceField(label=_("new status"), choices=PatientStatus.choices)
    changed_on = forms.DateField(label=_("date of change"), widget=_date())
    loss_reason = _coded(LossReason.choices, _("reason lost to follow-up"))
    death_date = forms.DateField(label=_("date of death"), required=False, widget=_date())
    death_cause = _coded(DeathCause.choices, _("cause of death"))
    physical_death_cause = _coded(PhysicalDeathCause.choices, _("physical illness"))
    destination = forms.CharField(label=_("moved to"), max_length=200, required=False)
    note = forms.CharField(label=_("note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def to_status_input(self) -> StatusInput:
        d: dict[str, Any] = self.cleaned_data
        return StatusInput(to_status=d["to_status"], changed_on=d["changed_on"], loss_reason=d.get("loss_reason"),
                           death_date=d.get("death_date"), death_cause=d.get("death_cause"),
                           physical_death_cause=d.get("physical_death_cause"),
                           destination=d.get("destination") or "", note=d.get("note") or "")


#: The supplement's plain fields, in the paper form's order (section, [field, …]).
SUPPLEMENT_SECTIONS: list[tuple[Any, list[str]]] = [
    (_("Guardian"), ["guardian_name", "guardian_relation", "guardian_address", "guardian_phone"]),
    (_("Village (residents') committee and household"),
     ["village_contact_name", "village_contact_phone", "household", "employment"]),
    (_("Informed consent"), ["consent", "consent_signed_by", "consent_date"]),
    (_("History"), ["onset_date", "past_symptoms", "past_lock", "outpatient_history", "first_antipsychotic_date",
                    "admissions"]),
    (_("Current diagnosis"), ["diagnosis", "icd10_code", "co_icd10_code", "diagnosing_hospital", "diagnosed_on",
                              "latest_treatment_effect"]),
    (_("Dangerous behaviour (number of times)"), list(BEHAVIOUR_COUNT_FIELDS.values())),
    (_("Economic status and support"), ["economic_status", "poverty_alleviation", "guardianship_subsidy",
                                        "disability_card", "disability_grade", "care_group_service",
                                        "family_doctor_contract", "community_rehab"]),
    (_("Specialist's opinion"), ["specialist_opinion", "filled_on"]),
]


class SupplementForm(DiagnosisFieldsMixin, KeyedForm):
    """个人信息补充表 (《国家基本公共卫生服务规范（第三版）》), with the national-system extras."""

    guardian_name = forms.CharField(label=_("guardian's name"), max_length=64, required=False)
    guardian_relation = forms.CharField(label=_("guardian's relation to the patient"), max_length=32, required=False)
    guardian_address = forms.CharField(label=_("guardian's address"), max_length=200, required=False)
    guardian_phone = forms.RegexField(label=_("guardian's phone"), regex=r"^[0-9+\-\s]{5,20}$", required=False,
                                      error_messages={"invalid": _("Enter a phone number of digits only.")})
    village_contact_name = forms.CharField(label=_("village (residents') committee contact"), max_length=64,
                                           required=False)
    village_contact_phone = forms.RegexField(label=_("committee contact's phone"), regex=r"^[0-9+\-\s]{5,20}$",
                                             required=False,
                                             error_messages={"invalid": _("Enter a phone number of digits only.")})
    household = _coded(Household.choices, _("household type"))
    employment = _coded(Employment.choices, _("employment"))
    consent = _coded(Consent.choices, _("informed consent"))
    consent_signed_by = forms.CharField(label=_("consent signed by"), max_length=64, required=False)
    consent_date = forms.DateField(label=_("consent date"), required=False, widget=_date())
    onset_date = forms.DateField(label=_("first onset"), required=False, widget=_date())
    past_symptoms = forms.TypedMultipleChoiceField(label=_("main past symptoms"), choices=Symptom.choices, coerce=int,
                                                   required=False, widget=forms.CheckboxSelectMultiple)
    past_lock = _coded(LockStatus.choices, _("past locking up"))
    outpatient_history = _coded(OutpatientHistory.choices, _("past outpatient treatment"))
    first_antipsychotic_date = forms.DateField(label=_("first antipsychotic treatment"), required=False,
                                               widget=_date())
    admissions = forms.IntegerField(label=_("psychiatric admissions"), min_value=0, max_value=999, required=False)
    latest_treatment_effect = _coded(LatestTreatmentEffect.choices, _("latest treatment effect"))
    economic_status = _coded(EconomicStatus.choices, _("economic status"))
    poverty_alleviation = forms.BooleanField(label=_("targeted poverty alleviation (精准扶贫对象)"), required=False)
    guardianship_subsidy = forms.BooleanField(label=_("receives the guardianship subsidy (监护补助对象)"),
                                              required=False)
    disability_card = forms.BooleanField(label=_("holds a disability card (残疾人证)"), required=False)
    disability_grade = _coded(DisabilityGrade.choices, _("mental disability grade"))
    care_group_service = forms.BooleanField(label=_("served by a care and support group (关爱帮扶小组)"),
                                            required=False)
    family_doctor_contract = forms.BooleanField(label=_("family-doctor contract (家庭医师签约)"), required=False)
    community_rehab = forms.BooleanField(label=_("in community rehabilitation (社区康复服务)"), required=False)
    specialist_opinion = forms.CharField(label=_("specialist's opinion"), max_length=2000, required=False,
                                         widget=forms.Textarea(attrs={"rows": 3}))
    filled_on = forms.DateField(label=_("filled in on"), required=False, widget=_date())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(DangerBehaviour.choices)
        for code, name in BEHAVIOUR_COUNT_FIELDS.items():
            self.fields[name] = forms.IntegerField(label=labels[code], min_value=0, max_value=999, initial=0,
                                                   required=False, widget=forms.NumberInput(attrs={
                                                       "class": "form-control", "inputmode": "numeric"}))
        self.set_user(user)
        self.fields["diagnosing_hospital"].required = False
        self.fields["diagnosed_on"].required = False
        self.fields["past_symptoms"].widget.attrs.pop("class", None)
        for field in self.fields.values():
            if isinstance(field, forms.BooleanField):
                field.widget.attrs["class"] = "form-check-input"

    def sections(self) -> list[tuple[Any, list[Any]]]:
        """Bound fields grouped like the paper form."""
        return [(title, [self[name] for name in names if name in self.fields]) for title, names in SUPPLEMENT_SECTIONS]

    def to_supplement(self) -> SupplementInput:
        d: dict[str, Any] = self.cleaned_data
        text = ("guardian_name", "guardian_relation", "guardian_address", "guardian_phone", "village_contact_name",
                "village_contact_phone", "consent_signed_by", "specialist_opinion")
        coded = ("household", "employment", "consent", "past_lock", "outpatient_history", "latest_treatment_effect",
                 "economic_status", "disability_grade", "admissions")
        flags = ("poverty_alleviation", "guardianship_subsidy", "disability_card", "care_group_service",
                 "family_doctor_contract", "community_rehab")
        dates = ("consent_date", "onset_date", "first_antipsychotic_date", "filled_on")
        values: dict[str, Any] = {n: d.get(n) or "" for n in text}
        values.update({n: d.get(n) for n in (*coded, *dates)})
        values.update({n: bool(d.get(n)) for n in flags})
        values["past_symptoms"] = list(d.get("past_symptoms") or [])
        values["behaviour_counts"] = {code: d.get(name) or 0 for code, name in BEHAVIOUR_COUNT_FIELDS.items()}
        return SupplementInput(**values)


class TransferForm(KeyedForm):
    """Hand a patient over to the township they moved to."""

    to_region = forms.RegexField(label=_("receiving township code"), regex=r"^\d{9}$",
                                 error_messages={"invalid": _("Enter the 9-digit township code.")})
    moved_on = forms.DateField(label=_("moved on"), widget=_date())
    reason = forms.CharField(label=_("reason"), max_length=500, required=False)
    new_address = forms.CharField(label=_("new address"), max_length=255, required=False)

    def to_transfer(self) -> TransferInput:
        d: dict[str, Any] = self.cleaned_data
        return TransferInput(to_region_code=d["to_region"], moved_on=d["moved_on"], reason=d.get("reason") or "",
                             new_address=d.get("new_address") or "")


class DecideTransferForm(KeyedForm):
    """Accept or decline a transfer to the user's region."""

    decision = forms.ChoiceField(label=_("decision"), choices=[("accept", _("accept")), ("decline", _("decline"))])
    managing_organisation = forms.ModelChoiceField(label=_("managing clinic"), queryset=Organisation.objects.none(),
                                                   required=False,
                                                   help_text=_("Leave empty: the health centre of the township."))
    decline_reason = forms.CharField(label=_("why it was declined"), max_length=500, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["managing_organisation"].queryset = clinics(user)  # type: ignore[attr-defined]


class MergeForm(StyledForm):
    """Merge one duplicate person (and registration) into another."""

    keep = forms.IntegerField(label=_("record to keep"), widget=forms.HiddenInput)
    drop = forms.IntegerField(label=_("record to merge into it"), widget=forms.HiddenInput)
    reason = forms.CharField(label=_("reason"), min_length=4, max_length=500)


class UnmaskPatientForm(StyledForm):
    """Why the record is being revealed; recorded in the audit log."""

    purpose = forms.CharField(label=_("purpose"), min_length=4, max_length=500,
                              widget=forms.TextInput(attrs={"placeholder": _("e.g. home visit today")}))


DUE_CHOICES = [("", "—"), ("overdue", _("overdue")), ("today", _("due today")), ("week", _("due within 7 days")),
               ("awaiting", _("awaiting a first visit"))]


class PatientFilterForm(forms.Form):
    """Filters of the patient list; a filter on a category the user may not see is not offered."""

    status = forms.ChoiceField(label=_("status"), choices=[("", "—"), ("on_register", _("on the register")),
                                                           *PatientStatus.choices], required=False)
    danger = forms.TypedChoiceField(label=_("danger level"), choices=[("", "—"), ("3", _("3 or above")),
                                                                       *DangerLevel.choices],
                                    coerce=str, required=False)
    diagnosis = forms.ChoiceField(label=_("diagnosis"), choices=[("", "—"), *Diagnosis.choices], required=False)
    due = forms.ChoiceField(label=_("follow-up"), choices=DUE_CHOICES, required=False)
    q = forms.CharField(label=_("register number"), max_length=32, required=False)

    def __init__(self, *args: Any, allowed: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("danger", "diagnosis", "due"):
            if name not in allowed:
                del self.fields[name]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm" if isinstance(
                field.widget, forms.Select) else "form-control form-control-sm"
