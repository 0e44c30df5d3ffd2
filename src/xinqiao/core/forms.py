"""Forms of the foundation: every error names its field, in the user's language.

``KeyedForm`` is the base of every creating form: a hidden one-time ``form_key`` that
``core.idempotency.submit_form`` turns into an idempotency key, so a double tap stores once.
"""

from __future__ import annotations

import re
import uuid
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


#: What a submitted ``form_key`` may look like (the page renders a UUID4 in hex).
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


class KeyedForm(StyledForm):
    """A form with a hidden one-time submission key: a double tap or a resubmitted page stores once.

    A missing or malformed key is replaced by a fresh one (the submission still goes through, it
    just cannot be recognised as a retry): a page always renders a key, so only a hand-made POST
    lacks one.
    """

    form_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("form_key", uuid.uuid4().hex)

    def clean_form_key(self) -> str:
        raw = str(self.cleaned_data.get("form_key") or "")
        return raw if FORM_KEY.fullmatch(raw) else uuid.uuid4().hex

    def add_service_errors(self, exc: ValidationError) -> None:
        """Attach a service's field errors to the matching fields, others to the form.

        A service names ``subject.name`` (also the API's spelling) or ``clinic_id``; the form's
        fields are ``subject_name`` and ``clinic``.
        """
        for field, messages in exc.message_dict.items():
            name = field.replace(".", "_")
            if name not in self.fields:
                name = name.removesuffix("_id")
            for message in messages:
                self.add_error(name if name in self.fields else None, message)

    def payload(self) -> dict[str, Any]:
        """What was submitted, without the key: the idempotency fingerprint."""
        return {k: v for k, v in self.cleaned_data.items() if k != "form_key"}


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
