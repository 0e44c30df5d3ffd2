"""Forms of referrals and emergencies. Every error names its field in the user's language; each
submitting form carries a hidden one-time key so that a double tap or a retry on a poor connection
stores once (``core.idempotency.run_once``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinqiao.core.forms import KeyedForm, StyledForm
from xinqiao.core.models import Organisation
from xinqiao.patients.codes import DangerLevel, Diagnosis
from xinqiao.patients.models import Patient
from xinqiao.referrals import services
from xinqiao.referrals.codes import (
    Direction,
    EmergencyEffect,
    EmergencyMeasure,
    EmergencyReason,
    ReporterRole,
    SubjectCategory,
    Urgency,
)

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def check_boxes(form: forms.Form, *names: str) -> None:
    """Checkbox lists take no ``form-control`` class (Bootstrap styles the inputs)."""
    for name in names:
        form.fields[name].widget.attrs.pop("class", None)


class PatientByNumberField(forms.CharField):
    """A patient typed by register number, resolved within what the user may see."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(*args, **kwargs)
        self.user: Any = None

    def clean(self, value: Any) -> Patient | None:
        number = super().clean(value)
        if not number:
            return None
        patient = Patient.objects.restrict(self.user, "view").filter(register_number=number.strip()).first()
        if patient is None:
            raise ValidationError(_("No registered patient with this number in your region."))
        return patient


class ReferralForm(KeyedForm):
    """Send a referral: patient, direction, receiving organisation, reason or discharge summary."""

    patient = PatientByNumberField(label=_("register number of the patient"))
    direction = forms.ChoiceField(label=_("direction"), choices=Direction.choices)
    to_organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
        label=_("referred to"), queryset=Organisation.objects.none())
    urgency = forms.ChoiceField(label=_("urgency"), choices=Urgency.choices, initial=Urgency.ROUTINE)
    reason = forms.CharField(label=_("reason for referral"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Required when referring up: symptoms, danger level, what was tried."))
    discharge_summary = forms.CharField(
        label=_("discharge summary"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when referring down: outcome of the stay, medication guidance, rehabilitation."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].user = user  # type: ignore[attr-defined]
        up = services.receiving_organisations(user, Direction.UP)
        down = services.receiving_organisations(user, Direction.DOWN)
        field: Any = self.fields["to_organisation"]
        field.queryset = (up | down).select_related("region")
        field.label_from_instance = lambda org: f"{org.name}（{org.get_org_type_display()}）"

    def to_input(self) -> services.ReferralInput:
        data = self.cleaned_data
        return services.ReferralInput(
            patient_id=data["patient"].pk, direction=data["direction"], to_organisation_id=data["to_organisation"].pk,
            urgency=data["urgency"], reason=data.get("reason") or "", discharge_summary=data.get("discharge_summary") or "",
        )

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        data["patient"] = data["patient"].pk if data.get("patient") else None
        data["to_organisation"] = data["to_organisation"].pk if data.get("to_organisation") else None
        return data


class ReferralActionForm(StyledForm):
    """Receive, decline (reason required) or complete a referral."""

    action = forms.ChoiceField(label=_("step"), choices=[("receive", _("receive")), ("decline", _("decline")),
                                                         ("complete", _("complete"))])
    note = forms.CharField(label=_("note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("The reason when declining; the outcome when completing."))


class EmergencyForm(KeyedForm):
    """The 应急处置记录单, in form order."""

    occurred_at = forms.DateTimeField(label=_("time of the event"),
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                 format=DATETIME_LOCAL))
    region_code = forms.RegexField(label=_("township where it happened (code)"), regex=r"^\d{9}$",
                                   error_messages={"invalid": _("Enter the 9-digit township code.")})
    place = forms.CharField(label=_("place"), max_length=255, required=False)
    subject_category = forms.TypedChoiceField(label=_("subject category"), coerce=int, choices=SubjectCategory.choices)
    patient = PatientByNumberField(label=_("register number (patients on the register)"), required=False)
    subject_name = forms.CharField(label=_("name (person not on the register)"), max_length=64, required=False)
    subject_id_number = forms.CharField(label=_("ID number (person not on the register)"), max_length=32,
                                        required=False)
    danger_level = forms.TypedChoiceField(label=_("danger level"), coerce=int, choices=DangerLevel.choices)
    reporter_role = forms.TypedChoiceField(label=_("reported by"), coerce=int, choices=ReporterRole.choices)
    reason = forms.TypedChoiceField(label=_("reason for handling"), coerce=int, choices=EmergencyReason.choices)
    measures = forms.TypedMultipleChoiceField(label=_("main measures"), coerce=int, choices=EmergencyMeasure.choices,
                                              widget=forms.CheckboxSelectMultiple)
    police_officers = forms.CharField(label=_("police officers"), max_length=500, required=False,
                                      help_text=_("Names and units of the officers who took part."))
    prevention_doctors = forms.CharField(label=_("community mental-health doctors"), max_length=500, required=False)
    psychiatrists = forms.CharField(label=_("psychiatrists"), max_length=500, required=False)
    diagnosis = forms.ChoiceField(label=_("diagnosis"), choices=[("", "—"), *Diagnosis.choices], required=False)
    diagnosis_note = forms.CharField(label=_("diagnosis (other or details)"), max_length=500, required=False)
    effect = forms.TypedChoiceField(label=_("effect of the handling"), coerce=int, choices=EmergencyEffect.choices)
    narrative = forms.CharField(label=_("course of events"), max_length=4000, required=False,
                                widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].user = user  # type: ignore[attr-defined]
        check_boxes(self, "measures")

    def clean_occurred_at(self) -> Any:
        value = self.cleaned_data["occurred_at"]
        return timezone.make_aware(value) if timezone.is_naive(value) else value

    def to_input(self) -> services.EmergencyInput:
        data = self.cleaned_data
        subject = None
        if data.get("subject_name"):
            subject = services.UnregisteredSubject(name=data["subject_name"], id_number=data.get("subject_id_number") or "")
        return services.EmergencyInput(
            region_code=data["region_code"], occurred_at=data["occurred_at"], place=data.get("place") or "",
            danger_level=data["danger_level"], subject_category=data["subject_category"],
            reporter_role=data["reporter_role"], reason=data["reason"], measures=list(data["measures"]),
            effect=data["effect"], patient_id=data["patient"].pk if data.get("patient") else None, subject=subject,
            police_officers=data.get("police_officers") or "", prevention_doctors=data.get("prevention_doctors") or "",
            psychiatrists=data.get("psychiatrists") or "", diagnosis=data.get("diagnosis") or "",
            diagnosis_note=data.get("diagnosis_note") or "", narrative=data.get("narrative") or "",
        )

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        data["patient"] = data["patient"].pk if data.get("patient") else None
        return data
