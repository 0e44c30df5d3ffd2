"""Forms of the registry: every error names its field, in the user's language (core ``StyledForm``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from xinqiao.core.forms import StyledForm
from xinqiao.registry import rules
from xinqiao.registry.models import (
    ComplaintCategory,
    EvaluationKind,
    Finding,
    HospitalLevel,
    InstitutionKind,
    LicensingStatus,
    Population,
    Profession,
    SanctionKind,
    ServiceCode,
    TrainingRecord,
)
from xinqiao.registry.services import InstitutionInput, new_form_key


class RegistryForm(StyledForm):
    """``StyledForm`` with proper classes on check boxes, and service errors attached to fields."""

    #: service field name → form field name, where they differ
    SERVICE_FIELDS: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                field.widget.attrs["class"] = "form-check-input"

    def add_service_errors(self, exc: ValidationError) -> None:
        """Attach a service's ``{field: message}`` errors to the matching fields (else the form)."""
        for name, messages in exc.message_dict.items():
            target = self.SERVICE_FIELDS.get(name, name)
            for message in messages:
                self.add_error(target if target in self.fields else None, message)


class KeyedForm(RegistryForm):
    """Carries a random key so that a resent form is stored once."""

    form_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("form_key", new_form_key())

    def clean_form_key(self) -> str:
        key = str(self.cleaned_data.get("form_key") or "")
        return key if re.fullmatch(r"[0-9a-f]{32}", key) else new_form_key()


def _list(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"[、,，;；]+", text or "") if x.strip()]


class InstitutionForm(KeyedForm):
    """The details an institution registers (a new registration, or a change after approval)."""

    name = forms.CharField(label=_("name"), max_length=128)
    kind = forms.ChoiceField(label=_("kind"), choices=InstitutionKind.choices)
    region_code = forms.RegexField(label=_("region code"), regex=r"^\d{2}(\d{2}(\d{2}(\d{3})?)?)?$",
                                   help_text=_("The statistical division code: 6 digits for a county, 9 for a "
                                               "township (look it up under Regions)."),
                                   error_messages={"invalid": _("Enter a division code of 2, 4, 6 or 9 digits.")})
    own_organisation = forms.BooleanField(label=_("This is my own organisation (register it, rather than a new "
                                                  "unit under it)"), required=False)
    address = forms.CharField(label=_("address"), max_length=255, required=False)
    phone = forms.CharField(label=_("phone"), max_length=32, required=False)
    email = forms.EmailField(label=_("email"), required=False)
    unified_credit_code = forms.CharField(label=_("unified social credit code"), max_length=18, required=False)
    latitude = forms.FloatField(label=_("latitude"), required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("longitude"), required=False, min_value=-180, max_value=180)
    open_24h = forms.BooleanField(label=_("open 24 hours"), required=False)
    hours = forms.CharField(label=_("opening hours"), max_length=255, required=False,
                            help_text=_("e.g. “1-5 08:00-12:00,14:00-17:30; 6 09:00-12:00” (1 = Monday … 7 = Sunday)."))
    hours_note = forms.CharField(label=_("note on opening hours"), max_length=255, required=False)
    services = forms.MultipleChoiceField(label=_("services offered"), choices=ServiceCode.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    populations = forms.MultipleChoiceField(label=_("populations served"), choices=Population.choices,
                                            required=False, widget=forms.CheckboxSelectMultiple)
    languages = forms.CharField(label=_("languages (hotlines)"), max_length=128, required=False,
                                help_text=_("Separated by commas, e.g. 普通话, 粤语, English."))
    beds = forms.IntegerField(label=_("beds"), required=False, min_value=0)
    hospital_level = forms.TypedChoiceField(label=_("hospital level"), required=False, coerce=int, empty_value=None,
                                            choices=[("", "—"), *HospitalLevel.choices])
    students = forms.IntegerField(label=_("students"), required=False, min_value=0)
    counsellors = forms.IntegerField(label=_("full-time counselling staff"), required=False, min_value=0)
    business_licence_number = forms.CharField(label=_("business licence number"), max_length=32, required=False)
    licence_scope = forms.CharField(label=_("licensed business scope"), max_length=255, required=False)
    licensing_status = forms.ChoiceField(label=_("licensing status"),
                                         choices=[("", "—"), *LicensingStatus.choices], required=False)
    village_code = forms.RegexField(label=_("village or community code"), regex=r"^\d{12}$", required=False,
                                    error_messages={"invalid": _("Enter the 12-digit code of the village or "
                                                                 "community.")})
    village_name = forms.CharField(label=_("village or community"), max_length=64, required=False)

    def __init__(self, *args: Any, own_organisation: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not own_organisation:
            del self.fields["own_organisation"]

    @classmethod
    def initial_from(cls, data: dict[str, Any]) -> dict[str, Any]:
        initial = dict(data)
        initial["languages"] = ", ".join(data.get("languages") or [])
        return initial

    def to_input(self) -> InstitutionInput:
        d = self.cleaned_data
        return InstitutionInput(
            name=d["name"], kind=d["kind"], region_code=d["region_code"], address=d.get("address") or "",
            phone=d.get("phone") or "", email=d.get("email") or "",
            unified_credit_code=d.get("unified_credit_code") or "", latitude=d.get("latitude"),
            longitude=d.get("longitude"), open_24h=bool(d.get("open_24h")), hours=d.get("hours") or "",
            hours_note=d.get("hours_note") or "", services=list(d.get("services") or []),
            populations=list(d.get("populations") or []), languages=_list(d.get("languages") or ""),
            beds=d.get("beds"), hospital_level=d.get("hospital_level"), students=d.get("students"),
            counsellors=d.get("counsellors"), business_licence_number=d.get("business_licence_number") or "",
            licence_scope=d.get("licence_scope") or "", licensing_status=d.get("licensing_status") or "",
            village_code=d.get("village_code") or "", village_name=d.get("village_name") or "",
            own_organisation=bool(d.get("own_organisation")),
        )


class TransitionForm(RegistryForm):
    """One step of a workflow: the action, and a reason where the step needs one."""

    action = forms.CharField(max_length=16, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    recommendation = forms.ChoiceField(label=_("recommendation"), required=False,
                                       choices=[("", "—"), ("approve", _("recommend approval")),
                                                ("reject", _("recommend rejection"))])


class PractitionerForm(RegistryForm):
    """Register a practitioner at a workplace in the user's region."""

    name = forms.CharField(label=_("name"), max_length=64)
    profession = forms.ChoiceField(label=_("profession"), choices=Profession.choices)
    institution = forms.TypedChoiceField(label=_("main workplace"), coerce=int, choices=())
    post = forms.CharField(label=_("post"), max_length=64, required=False)
    started_on = forms.DateField(label=_("since"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, institutions: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = list(institutions)  # type: ignore[attr-defined]


def credential_type_choices(lang: str) -> list[tuple[str, str]]:
    return [(t.code, t.label(lang)) for t in rules.credential_types().values()]


class CredentialForm(RegistryForm):
    """A qualification of the practitioner."""

    SERVICE_FIELDS = {"type_code": "type_code"}

    type_code = forms.ChoiceField(label=_("credential type"), choices=())
    number = forms.CharField(label=_("certificate number"), max_length=64)
    issuer = forms.CharField(label=_("issuer"), max_length=128, required=False)
    scope = forms.CharField(label=_("scope of practice"), max_length=128, required=False)
    issue_date = forms.DateField(label=_("issued"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    expiry_date = forms.DateField(label=_("expires"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text=_("Leave empty to use the type's usual period, if it has one."))

    def __init__(self, *args: Any, lang: str = "zh", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type_code"].choices = credential_type_choices(lang)  # type: ignore[attr-defined]


class RevokeForm(RegistryForm):
    reason = forms.CharField(label=_("reason for revocation"), max_length=1000)


class TrainingForm(RegistryForm):
    kind = forms.ChoiceField(label=_("kind"), choices=TrainingRecord.Kind.choices)
    title = forms.CharField(label=_("course"), max_length=128)
    provider = forms.CharField(label=_("provider"), max_length=128, required=False)
    completed_on = forms.DateField(label=_("completed"), widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.DecimalField(label=_("hours"), max_digits=6, decimal_places=1, min_value=0)


class EvaluationForm(RegistryForm):
    kind = forms.ChoiceField(label=_("kind"), choices=EvaluationKind.choices)
    visited_on = forms.DateField(label=_("visited on"), initial=date.today,
                                 widget=forms.DateInput(attrs={"type": "date"}))


class ScoresForm(RegistryForm):
    """One number field per checklist item, plus the summary; "finalise" grades it."""

    summary = forms.CharField(label=_("summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    finalise = forms.BooleanField(label=_("Finalise and grade (cannot be changed afterwards)"), required=False)

    def __init__(self, *args: Any, lang: str = "zh", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in rules.checklist().items:
            self.fields[f"score.{item.code}"] = forms.DecimalField(
                label=f"{item.label(lang)} (0–{item.points})", required=False, min_value=0, max_value=item.points,
                decimal_places=1, widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}))
            self.fields[f"score.{item.code}"].widget.attrs["class"] = "form-control"

    def scores(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for item in rules.checklist().items:
            value = self.cleaned_data.get(f"score.{item.code}")
            out[item.code] = float(value) if value is not None else None
        return out


class FindingForm(RegistryForm):
    description = forms.CharField(label=_("finding"), widget=forms.Textarea(attrs={"rows": 2}))
    severity = forms.ChoiceField(label=_("severity"), choices=Finding.Severity.choices)
    rectify_by = forms.DateField(label=_("rectify by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    item_code = forms.ChoiceField(label=_("checklist item"), required=False, choices=())

    def __init__(self, *args: Any, lang: str = "zh", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item_code"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (i.code, i.label(lang)) for i in rules.checklist().items]


class SanctionForm(RegistryForm):
    SERVICE_FIELDS = {"target": "kind"}

    kind = forms.ChoiceField(label=_("kind"), choices=SanctionKind.choices)
    grounds = forms.CharField(label=_("grounds"), widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(label=_("disclose publicly"), required=False, initial=True)
    effective_from = forms.DateField(label=_("effective from"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ImportForm(KeyedForm):
    file = forms.FileField(label=_("Excel workbook (.xlsx)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 10 * 1024 * 1024:
            raise ValidationError(_("The file is larger than 10 MB."))
        return upload


class CoverageForm(RegistryForm):
    region = forms.RegexField(label=_("region code"), regex=r"^\d{2}(\d{2}(\d{2}(\d{3})?)?)?$", required=False,
                              error_messages={"invalid": _("Enter a division code of 2, 4, 6 or 9 digits.")})
    year = forms.IntegerField(label=_("year"), required=False, min_value=2000, max_value=2100)


# --- public forms ---------------------------------------------------------------------------------


class LookupForm(RegistryForm):
    """Name and certificate number (sent by POST, never in the URL)."""

    name = forms.CharField(label=_("practitioner's name"), max_length=64,
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))
    number = forms.CharField(label=_("certificate number"), max_length=64,
                             widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}))


class ComplaintForm(KeyedForm):
    """A complaint from the public; name and phone are optional."""

    institution = forms.TypedChoiceField(label=_("institution"), coerce=int, required=False, empty_value=None,
                                         choices=())
    subject = forms.CharField(label=_("about (if not in the list)"), max_length=128, required=False)
    region_code = forms.CharField(label=_("where"), required=False, widget=forms.Select(choices=()))
    category = forms.ChoiceField(label=_("category"), choices=ComplaintCategory.choices)
    description = forms.CharField(label=_("what happened"), min_length=10, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 5}),
                                  error_messages={"min_length": _("Please describe it in a few sentences.")})
    complainant_name = forms.CharField(label=_("your name (optional)"), max_length=64, required=False)
    complainant_phone = forms.CharField(label=_("your phone (optional)"), max_length=32, required=False,
                                        widget=forms.TextInput(attrs={"inputmode": "tel"}))

    def __init__(self, *args: Any, institutions: Sequence[tuple[int, str]] = (),
                 regions: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = [("", "—"), *institutions]  # type: ignore[attr-defined]
        self.fields["region_code"].widget.choices = [("", "—"), *regions]


class ComplaintStatusForm(RegistryForm):
    reference = forms.RegexField(label=_("reference"), regex=r"^[2-9A-Za-z]{10}$",
                                 error_messages={"invalid": _("Enter the 10-character reference you were given.")})
