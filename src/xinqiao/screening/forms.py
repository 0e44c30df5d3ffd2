"""Forms of screening campaigns: a new campaign, a participant's scale, a follow-up action.

Every error names its field in the user's language (the service's field errors are attached to the
matching form field with :meth:`CampaignForm.add_service_errors`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from xinqiao.core.forms import StyledForm
from xinqiao.screening import rules
from xinqiao.screening.instruments import INSTRUMENT_IDS, Instrument, load
from xinqiao.screening.models import FollowUpAction
from xinqiao.screening.services import CampaignInput

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MAX_GROUPS = 200


def lang() -> str:
    """``en`` or ``zh``: which text of an instrument to show."""
    return "en" if (get_language() or "").startswith("en") else "zh"


def instrument_choices() -> list[tuple[str, str]]:
    """The scale library, in the order pages list it."""
    return [(iid, gettext("%(name)s (%(n)d questions)") % {"name": load(iid).name.get(lang()), "n": len(load(iid).items)})
            for iid in INSTRUMENT_IDS]


def _check_boxes(form: forms.Form, *names: str) -> None:
    for name in names:
        widget = form.fields[name].widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            widget.attrs.pop("class", None)  # Django puts it on the list's wrapper too; campaigns.css styles it
        else:
            widget.attrs["class"] = "form-check-input"


class CampaignForm(StyledForm):
    """A new campaign: its scales, the classes or departments taking part, when, and how."""

    name = forms.CharField(label=pgettext_lazy("title of a thing", "name"), max_length=128)
    instrument_ids = forms.MultipleChoiceField(
        label=_("scales"), widget=forms.CheckboxSelectMultiple,
        help_text=_("Participants answer the chosen scales in this order, one page each."),
    )
    groups = forms.CharField(
        label=_("classes, grades or departments"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line; each gets its own access code and QR code."),
    )
    opens_at = forms.DateTimeField(label=_("opens"),
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL))
    closes_at = forms.DateTimeField(label=_("closes"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL))
    identified = forms.BooleanField(
        label=_("identified"), required=False,
        help_text=_("Participants give their name and school or work number, so that you can follow up "
                        "positive results. Leave unticked for an anonymous survey."),
    )
    consent_text = forms.CharField(
        label=_("consent text"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to participants before the first scale; they tick a box to agree."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument_ids"].choices = instrument_choices()  # type: ignore[attr-defined]
        _check_boxes(self, "instrument_ids", "identified")

    def group_names(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("groups", "").splitlines() if line.strip()]

    def clean_groups(self) -> str:
        value: str = self.cleaned_data["groups"]
        names = [line.strip() for line in value.splitlines() if line.strip()]
        if len(names) > MAX_GROUPS:
            raise ValidationError(gettext("At most %(n)d classes or departments per campaign.") % {"n": MAX_GROUPS})
        if any(len(n) > 64 for n in names):
            raise ValidationError(gettext("Each class or department name may have at most 64 characters."))
        return value

    def to_input(self) -> CampaignInput:
        data: dict[str, Any] = self.cleaned_data
        return CampaignInput(
            name=data["name"], instrument_ids=list(data["instrument_ids"]), opens_at=data["opens_at"],
            closes_at=data["closes_at"], identified=bool(data.get("identified")), groups=self.group_names(),
            consent_text=data.get("consent_text") or "",
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        """Attach a service's field errors to the matching form fields (others to the form)."""
        for field, messages in exc.message_dict.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class ScaleForm(forms.Form):
    """One scale of a campaign as a participant answers it: all items on one page.

    The first scale also asks for consent and, in an identified campaign, the participant's name
    and school or work number. Items are ``q1``…``qN`` (option index), like the public form, so that
    the same skip-logic script works. ``answers()`` gives the list the scoring engine takes.
    """

    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)
    instrument = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, instrument: Instrument, first: bool, identified: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scale = instrument
        self.asks_identity = first and identified
        if first:
            self.fields["consent"] = forms.BooleanField(
                label=_("I have read this and agree to take part."),
                error_messages={"required": _("Consent: please tick the box to show that you agree to take part.")},
            )
        if self.asks_identity:
            self.fields["participant_name"] = forms.CharField(
                label=_("your name"), max_length=64,
                error_messages={"required": _("Your name: please enter your name.")})
            self.fields["participant_number"] = forms.CharField(
                label=_("school or work number"), max_length=32,
                error_messages={"required": _("School or work number: please enter your number.")})
        for item in instrument.items:
            self.fields[f"q{item.number}"] = forms.CharField(required=False)

    def clean_submission_key(self) -> str:
        raw = self.cleaned_data.get("submission_key") or ""
        try:
            return str(uuid.UUID(raw, version=4))
        except ValueError:
            return str(uuid.uuid4())  # an old or hand-made form: still stored once from here on

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        answers: list[int | None] = []
        invalid: set[int] = set()
        for item in self.scale.items:
            raw = (self.data.get(f"q{item.number}") or "").strip()
            if raw.isdigit() and int(raw) < len(item.options):
                answers.append(int(raw))
            else:
                answers.append(None)
                if raw:
                    invalid.add(item.number)
        for item in self.scale.items:
            field = f"q{item.number}"
            if not rules.is_enabled(item, answers):
                answers[item.number - 1] = None  # skipped by skip logic: an answer sent anyway is dropped
            elif item.number in invalid:
                self.add_error(field, gettext("Question %(label)s: that answer is not one of the choices.")
                               % {"label": item.label})
            elif answers[item.number - 1] is None and item.required:
                self.add_error(field, gettext("Question %(label)s: please choose an answer.") % {"label": item.label})
        data["answers"] = answers
        return data

    def answers(self) -> list[int | None]:
        answers: list[int | None] = self.cleaned_data["answers"]
        return answers

    def add_service_errors(self, exc: ValidationError) -> None:
        """Map the engine's ``answers.N`` errors onto question ``qN``."""
        for field, messages in getattr(exc, "message_dict", {"": exc.messages}).items():
            target = f"q{field.split('.', 1)[1]}" if field.startswith("answers.") else None
            for message in messages:
                self.add_error(target if target in self.fields else None, message)


class ActionForm(StyledForm):
    """What was done about a positive or alerted response."""

    action = forms.ChoiceField(label=_("action"), choices=FollowUpAction.Action.choices)
    note = forms.CharField(label=_("note"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
