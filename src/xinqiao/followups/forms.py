"""Forms of the follow-up pages: the 随访服务记录表 on a phone, health check, discharge.

Field names equal the service inputs (``services.FollowUpInput`` …) and the model fields, so a
service error lands on its field. Coded items are radio buttons drawn as large touch targets;
medication lines and joint-visit participants are small formsets (prefixes ``med`` and ``part``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from xinqiao.core.forms import KeyedForm as CoreKeyedForm
from xinqiao.core.forms import StyledForm
from xinqiao.core.models import Organisation
from xinqiao.followups import services
from xinqiao.followups.codes import (
    DoseUnit,
    EcgResult,
    FrequencyPeriod,
    Outcome,
    ParticipantRole,
    Presence,
    YesNo,
)
from xinqiao.followups.models import BEHAVIOUR_COUNT_FIELDS, MedicationCatalogue
from xinqiao.patients.codes import (
    NOT_APPLICABLE,
    Adherence,
    Classification,
    DangerLevel,
    DeathCause,
    Diagnosis,
    FollowUpMethod,
    HospitalStatus,
    Insight,
    LatestTreatmentEffect,
    LockStatus,
    LossReason,
    PhysicalDeathCause,
    Rating,
    RehabMeasure,
    Symptom,
    TreatmentEffect,
)

DATE = {"type": "date"}


def _radio(label: Any, choices: Any, *, required: bool = False, help_text: Any = "") -> forms.TypedChoiceField:
    """A coded item as radio buttons (``btn-check``: large touch targets); empty → ``None``."""
    return forms.TypedChoiceField(
        label=label, choices=list(choices), coerce=int, empty_value=None, required=required, help_text=help_text,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )


def _multi(label: Any, choices: Any) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(label=label, choices=list(choices), coerce=int, required=False,
                                          widget=forms.CheckboxSelectMultiple(attrs={"class": "btn-check"}))


def _text(label: Any, *, rows: int = 2, max_length: int = 500) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=max_length,
                           widget=forms.Textarea(attrs={"rows": rows}))


def _count(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=services.MAX_COUNT, initial=0, required=False,
                              widget=forms.NumberInput(attrs={"inputmode": "numeric"}))


class KeyedForm(CoreKeyedForm):
    """The core keyed form, with check boxes styled as such (StyledForm's default is for text inputs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"


# --------------------------------------------------------------------------------------------------
# 随访服务记录表
# --------------------------------------------------------------------------------------------------

SOCIAL_CHOICES = list(Rating.choices)
WORK_CHOICES = [*Rating.choices, (NOT_APPLICABLE, _("not applicable"))]


class FollowUpForm(KeyedForm):
    """The follow-up form. Which sections count depends on ``outcome``; the service checks them."""

    followup_date = forms.DateField(label=_("follow-up date"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    outcome = forms.ChoiceField(label=_("outcome"), choices=Outcome.choices, initial=Outcome.VISITED,
                                widget=forms.RadioSelect(attrs={"class": "btn-check"}))
    method = _radio(_("follow-up method"), FollowUpMethod.choices)
    # Not reached / lost
    not_reached_reason = _text(_("why the patient was not reached"))
    loss_reason = _radio(_("reason lost to follow-up"), LossReason.choices,
                         help_text=_("Only when declaring the patient lost to follow-up (失访)."))
    # Death
    death_date = forms.DateField(label=_("date of death"), required=False,
                                 widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    death_cause = _radio(_("cause of death"), DeathCause.choices)
    physical_death_cause = _radio(_("physical illness"), PhysicalDeathCause.choices)
    # Assessment
    danger_level = _radio(_("danger level"), DangerLevel.choices)
    symptoms = _multi(_("current symptoms"), Symptom.choices)
    symptoms_marked = forms.BooleanField(label=_("marked psychotic symptoms"), required=False)
    symptoms_other = forms.CharField(label=_("other symptoms"), required=False, max_length=200)
    insight = _radio(_("insight"), Insight.choices)
    sleep = _radio(_("sleep"), Rating.choices)
    diet = _radio(_("diet"), Rating.choices)
    self_care = _radio(_("personal self-care"), SOCIAL_CHOICES)
    housework = _radio(_("housework"), SOCIAL_CHOICES)
    work = _radio(_("productive work"), WORK_CHOICES)
    study = _radio(_("learning ability"), SOCIAL_CHOICES)
    social = _radio(_("social contact"), SOCIAL_CHOICES)
    minor_trouble_count = _count(_("minor trouble-making (轻度滋事)"))
    trouble_count = _count(_("causing trouble (肇事)"))
    disaster_count = _count(_("causing a disaster (肇祸)"))
    other_harm_count = _count(_("other harmful behaviour"))
    self_harm_count = _count(_("self-harm"))
    suicide_attempt_count = _count(_("attempted suicide"))
    lock_status = _radio(_("locked up"), LockStatus.choices)
    hospital_status = _radio(_("hospitalisation"), HospitalStatus.choices)
    last_discharge_date = forms.DateField(label=_("last discharge"), required=False,
                                          widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    lab_tests = _radio(_("laboratory tests"), Presence.choices)
    lab_tests_text = _text(_("laboratory results"))
    # Treatment
    adherence = _radio(_("medication adherence"), Adherence.choices)
    adverse_reaction = _radio(_("adverse drug reaction"), Presence.choices)
    adverse_reaction_text = _text(_("adverse reaction"))
    adverse_reaction_serious = forms.BooleanField(label=_("serious adverse drug reaction"), required=False)
    physical_illness_serious = forms.BooleanField(label=_("serious physical illness"), required=False)
    physical_illness_text = _text(_("physical illness"))
    treatment_effect = _radio(_("treatment effect"), TreatmentEffect.choices)
    referral = _radio(_("referred"), YesNo.choices)
    referral_reason = _text(_("reason for referral"))
    referral_institution = forms.CharField(label=_("referred to (institution)"), required=False, max_length=128)
    referral_department = forms.CharField(label=_("referred to (department)"), required=False, max_length=64)
    rehab_measures = _multi(_("rehabilitation measures"), RehabMeasure.choices)
    rehab_other = forms.CharField(label=_("other rehabilitation measure"), required=False, max_length=200)
    # Decision
    classification = _radio(_("classification"), Classification.choices,
                            help_text=_("Leave empty to accept the proposal."))
    next_followup_date = forms.DateField(label=_("next follow-up"), required=False,
                                         widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
                                         help_text=_("Leave empty to accept the proposal."))
    override_reason = _text(_("reason for departing from the proposal"))

    SECTIONS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
        ("visit", _("Visit"), ("followup_date", "outcome", "method")),
        ("not-reached", _("Not reached or lost"), ("not_reached_reason", "loss_reason")),
        ("death", _("Death"), ("death_date", "death_cause", "physical_death_cause")),
        ("risk", _("Danger and mental state"), (
            "danger_level", "symptoms", "symptoms_marked", "symptoms_other", "insight", "sleep", "diet")),
        ("social", _("Social function"), ("self_care", "housework", "work", "study", "social")),
        ("behaviour", _("Dangerous behaviour since the last visit"), BEHAVIOUR_COUNT_FIELDS),
        ("status", _("Locking up, hospital, laboratory"), (
            "lock_status", "hospital_status", "last_discharge_date", "lab_tests", "lab_tests_text")),
        ("treatment", _("Treatment"), (
            "adherence", "adverse_reaction", "adverse_reaction_text", "adverse_reaction_serious",
            "physical_illness_serious", "physical_illness_text", "treatment_effect")),
        ("referral", _("Referral and rehabilitation"), (
            "referral", "referral_reason", "referral_institution", "referral_department", "rehab_measures",
            "rehab_other")),
    )
    DECISION_FIELDS: tuple[str, ...] = ("classification", "next_followup_date", "override_reason")

    def sections(self) -> list[dict[str, Any]]:
        """The form's sections for the template, each with its bound fields and whether it has errors."""
        out = []
        for slug, title, names in self.SECTIONS:
            fields = [self[name] for name in names]
            out.append({"slug": slug, "title": title, "fields": fields, "errors": any(f.errors for f in fields)})
        return out

    def decision_fields(self) -> list[Any]:
        return [self[name] for name in self.DECISION_FIELDS]

    def to_input(self, medications: list[services.MedicationInput],
                 participants: list[services.ParticipantInput]) -> services.FollowUpInput:
        d: dict[str, Any] = self.cleaned_data
        values: dict[str, Any] = {name: d.get(name) for name in (
            "followup_date", "method", "loss_reason", "death_date", "death_cause", "physical_death_cause",
            "danger_level", "insight", "sleep", "diet", "self_care", "housework", "work", "study", "social",
            "lock_status", "hospital_status", "last_discharge_date", "lab_tests", "adherence", "adverse_reaction",
            "treatment_effect", "referral", "classification", "next_followup_date")}
        texts: dict[str, Any] = {name: d.get(name) or "" for name in (
            "not_reached_reason", "symptoms_other", "lab_tests_text", "adverse_reaction_text",
            "physical_illness_text", "referral_reason", "referral_institution", "referral_department",
            "rehab_other", "override_reason")}
        counts: dict[str, Any] = {name: d.get(name) or 0 for name in BEHAVIOUR_COUNT_FIELDS}
        return services.FollowUpInput(
            outcome=d.get("outcome") or Outcome.VISITED, symptoms=tuple(d.get("symptoms") or ()),
            symptoms_marked=bool(d.get("symptoms_marked")), adverse_reaction_serious=bool(d.get("adverse_reaction_serious")),
            physical_illness_serious=bool(d.get("physical_illness_serious")),
            rehab_measures=tuple(d.get("rehab_measures") or ()), medications=tuple(medications),
            participants=tuple(participants), **values, **texts, **counts,
        )


class MedicationForm(StyledForm):
    """One line of 用药情况 / 用药指导; an empty line is skipped."""

    drug = forms.ModelChoiceField(label=_("drug"), queryset=MedicationCatalogue.objects.none(), required=False)
    drug_name = forms.CharField(label=_("or drug name"), required=False, max_length=64)
    times = forms.IntegerField(label=_("times"), min_value=1, max_value=31, required=False,
                               widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    period = forms.ChoiceField(label=_("per"), choices=FrequencyPeriod.choices, initial=FrequencyPeriod.DAY)
    dose = forms.DecimalField(label=_("dose"), min_value=Decimal("0.01"), max_digits=8, decimal_places=2,
                              required=False, widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}))
    unit = forms.ChoiceField(label=_("unit"), choices=DoseUnit.choices, initial=DoseUnit.MG)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        drug: Any = self.fields["drug"]
        drug.queryset = MedicationCatalogue.objects.filter(active=True)
        drug.label_from_instance = lambda d: f"{d.generic_name_zh}{' ★' if d.long_acting else ''}"

    def is_blank(self) -> bool:
        d = self.cleaned_data
        return not d.get("drug") and not d.get("drug_name") and not d.get("times") and not d.get("dose")

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if self.is_blank():
            return d
        if not d.get("drug") and not d.get("drug_name"):
            self.add_error("drug", _("Choose a drug or write its name."))
        if not d.get("times"):
            self.add_error("times", _("This field is required."))
        if not d.get("dose"):
            self.add_error("dose", _("This field is required."))
        return d

    def to_input(self) -> services.MedicationInput:
        d = self.cleaned_data
        drug = d.get("drug")
        return services.MedicationInput(times=d["times"], dose=d["dose"], drug_id=drug.pk if drug else None,
                                        drug_name=d.get("drug_name") or "", period=d["period"], unit=d["unit"])


class ParticipantForm(StyledForm):
    """One participant of a joint follow-up; an empty line is skipped."""

    role = forms.ChoiceField(label=_("role"), choices=[("", "—"), *ParticipantRole.choices], required=False)
    name = forms.CharField(label=_("name"), required=False, max_length=64)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("name") and not d.get("role"):
            self.add_error("role", _("This field is required."))
        return d

    def to_input(self) -> services.ParticipantInput | None:
        d = self.cleaned_data
        if not d.get("role"):
            return None
        return services.ParticipantInput(role=d["role"], name=d.get("name") or "")


MedicationFormSet = forms.formset_factory(MedicationForm, extra=2, max_num=10, validate_max=True)
ParticipantFormSet = forms.formset_factory(ParticipantForm, extra=3, max_num=10, validate_max=True)


def medication_lines(formset: Any) -> list[services.MedicationInput]:
    return [f.to_input() for f in formset.forms if f.has_changed() and not f.is_blank()]


def participant_lines(formset: Any) -> list[services.ParticipantInput]:
    return [p for p in (f.to_input() for f in formset.forms if f.has_changed()) if p is not None]


def attach_line_errors(exc: ValidationError, formsets: dict[str, Any], lines: dict[str, list[int]]) -> ValidationError:
    """Put ``medications.<n>.<field>`` errors on the formset form of line n; return the rest."""
    rest: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] in formsets and parts[1].isdigit():
            index = lines[parts[0]][int(parts[1])]
            form = formsets[parts[0]].forms[index]
            name = {"drug_id": "drug", "user_id": "name"}.get(parts[2], parts[2])
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
        else:
            rest[key] = messages
    return ValidationError(rest) if rest else ValidationError({})


# --------------------------------------------------------------------------------------------------
# Health check, discharge
# --------------------------------------------------------------------------------------------------

class HealthCheckForm(KeyedForm):
    """The annual health check (consent first)."""

    check_date = forms.DateField(label=_("date of the check"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    consent = forms.TypedChoiceField(
        label=_("consent"), choices=[(1, _("consented")), (0, _("declined"))], coerce=lambda v: v in (1, "1"),
        initial=1, widget=forms.RadioSelect(attrs={"class": "btn-check"}))
    general_exam = _text(_("general examination"))
    systolic_bp = forms.IntegerField(label=_("systolic blood pressure (mmHg)"), required=False,
                                     widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    diastolic_bp = forms.IntegerField(label=_("diastolic blood pressure (mmHg)"), required=False,
                                      widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    weight_kg = forms.DecimalField(label=_("weight (kg)"), required=False, max_digits=5, decimal_places=1,
                                   widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}))
    height_cm = forms.DecimalField(label=_("height (cm)"), required=False, max_digits=4, decimal_places=1,
                                   widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}))
    blood_count = _text(_("blood count"))
    alt = forms.DecimalField(label=_("ALT (U/L)"), required=False, max_digits=6, decimal_places=1,
                             widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}))
    glucose = forms.DecimalField(label=_("fasting glucose (mmol/L)"), required=False, max_digits=4, decimal_places=1,
                                 widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}))
    ecg = _radio(_("ECG"), EcgResult.choices)
    ecg_text = _text(_("ECG findings"))
    note = _text(_("note"))

    def to_input(self) -> services.HealthCheckInput:
        d = self.cleaned_data
        return services.HealthCheckInput(
            check_date=d["check_date"], consent=bool(d.get("consent")), general_exam=d.get("general_exam") or "",
            systolic_bp=d.get("systolic_bp"), diastolic_bp=d.get("diastolic_bp"), weight_kg=d.get("weight_kg"),
            height_cm=d.get("height_cm"), blood_count=d.get("blood_count") or "", alt=d.get("alt"),
            glucose=d.get("glucose"), ecg=d.get("ecg"), ecg_text=d.get("ecg_text") or "", note=d.get("note") or "",
        )


class DischargeForm(KeyedForm):
    """出院单: dates, 住院疗效, diagnosis, 康复措施 (and 用药指导 in the medication formset)."""

    admission_date = forms.DateField(label=_("admitted on"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    discharge_date = forms.DateField(label=_("discharged on"), widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    diagnosis = forms.ChoiceField(label=_("diagnosis"), choices=Diagnosis.choices)
    icd10_code = forms.CharField(label=_("ICD-10 code"), required=False, max_length=16)
    effect = _radio(_("effect of the admission"), LatestTreatmentEffect.choices, required=True)
    rehab_measures = _multi(_("rehabilitation measures"), RehabMeasure.choices)
    rehab_advice = _text(_("rehabilitation advice"), rows=3, max_length=2000)
    summary = _text(_("discharge summary"), rows=4, max_length=4000)
    hospital = forms.ModelChoiceField(label=_("hospital"), queryset=Organisation.objects.none(), required=False,
                                      help_text=_("Your own hospital when empty."))

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province = (getattr(user, "region_id", None) or "")[:2]
        hospital: Any = self.fields["hospital"]
        hospital.queryset = Organisation.objects.filter(
            org_type__in=services.HOSPITAL_TYPES, is_active=True, region__code__startswith=province).order_by("name")
        hospital.initial = getattr(user, "organisation_id", None)

    def to_input(self, medications: list[services.MedicationInput]) -> services.DischargeInput:
        d = self.cleaned_data
        hospital = d.get("hospital")
        return services.DischargeInput(
            hospital_id=hospital.pk if hospital else None,
            admission_date=d["admission_date"], discharge_date=d["discharge_date"], diagnosis=d["diagnosis"],
            effect=d["effect"], icd10_code=d.get("icd10_code") or "", rehab_measures=tuple(d.get("rehab_measures") or ()),
            rehab_advice=d.get("rehab_advice") or "", summary=d.get("summary") or "", medications=tuple(medications),
        )


# --------------------------------------------------------------------------------------------------
# Correcting a stored follow-up
# --------------------------------------------------------------------------------------------------

class CorrectionForm(FollowUpForm):
    """The same phone form, prefilled with the stored follow-up, plus the reason for the correction."""

    reason = _text(_("reason for the correction"), rows=2, max_length=500)
    DECISION_FIELDS: tuple[str, ...] = ("classification", "next_followup_date", "override_reason", "reason")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = True
        self.fields["reason"].help_text = _("Required. It is kept with the previous version.")


def correction_initial(data: services.FollowUpInput) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                              list[dict[str, Any]]]:
    """Initial values of the correction form, its medication lines and its (named) participants."""
    names = [f for f in CorrectionForm.base_fields if f not in ("form_key", "reason")]
    initial = {name: getattr(data, name) for name in names}
    initial["symptoms"] = list(data.symptoms)
    initial["rehab_measures"] = list(data.rehab_measures)
    meds = [{"drug": m.drug_id, "drug_name": m.drug_name, "times": m.times, "period": m.period, "dose": m.dose,
             "unit": m.unit} for m in data.medications]
    parts = [{"role": p.role, "name": p.name} for p in data.participants if p.user_id is None]
    return initial, meds, parts


def kept_lines(formset: Any) -> list[int]:
    """Indices of the formset's non-empty lines (prefilled lines count even when unchanged)."""
    out = []
    for index, form in enumerate(formset.forms):
        blank = form.is_blank() if hasattr(form, "is_blank") else form.to_input() is None
        if not blank:
            out.append(index)
    return out
