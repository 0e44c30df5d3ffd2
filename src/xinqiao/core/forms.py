"""Forms of the foundation: every error names its field, in the user's language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from xinqiao.core.models import AuditAction, DocumentType, Sex
from xinqiao.core.services import PersonInput


class StyledForm(forms.Form):
    """Adds Bootstrap classes and ``aria-describedby`` to every widget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("aria-describedby", f"id_{name}-error")


class TokenForm(StyledForm):
    """A 6-digit TOTP code."""

    token = forms.RegexField(
        label=_("6-digit code"), regex=r"^\d{6}$", max_length=6,
        error_messages={"invalid": _("Enter the 6 digits shown in your authenticator app.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class PersonForm(StyledForm):
    """Register a person: identity, home township, contact."""

    name = forms.CharField(label=_("name"), max_length=64)
    id_type = forms.ChoiceField(label=_("document type"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=32, required=False)
    region_code = forms.RegexField(
        label=_("township code"), regex=r"^\d{9}$",
        error_messages={"invalid": _("Enter the 9-digit township code.")},
    )
    sex = forms.ChoiceField(label=_("sex"), choices=Sex.choices, initial=Sex.UNKNOWN, required=False)
    birth_date = forms.DateField(label=_("date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    phone = forms.RegexField(
        label=_("phone"), regex=r"^[0-9+\-\s]{5,20}$", required=False,
        error_messages={"invalid": _("Enter a phone number of digits only.")},
    )
    address = forms.CharField(label=_("address"), max_length=255, required=False)

    def to_input(self) -> PersonInput:
        data: dict[str, Any] = self.cleaned_data
        return PersonInput(
            name=data["name"], id_type=data["id_type"], id_number=data.get("id_number") or "",
            region_code=data["region_code"], phone=data.get("phone") or "", address=data.get("address") or "",
            sex=data.get("sex") or "", birth_date=data.get("birth_date"),
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        """Attach a service's field errors to the matching form fields."""
        for field, messages in exc.message_dict.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class UnmaskForm(StyledForm):
    """Why the record is being revealed; recorded in the audit log."""

    purpose = forms.CharField(label=_("purpose"), min_length=4, max_length=500,
                              widget=forms.TextInput(attrs={"placeholder": _("e.g. home visit today")}))


class AuditFilterForm(StyledForm):
    """Filters of the audit page."""

    action = forms.ChoiceField(label=_("action"), choices=[("", "—"), *AuditAction.choices], required=False)
    actor = forms.CharField(label=_("actor"), max_length=150, required=False)
    object_type = forms.CharField(label=_("record type"), max_length=64, required=False)
    object_id = forms.CharField(label=_("record id"), max_length=64, required=False)
    date_from = forms.DateField(label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
