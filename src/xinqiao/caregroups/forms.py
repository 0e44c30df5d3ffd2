"""Forms of the management groups: a group, a member, a meeting, a joint visit. Errors name their
field in the user's language; each carries a one-time key (a double tap stores once)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinqiao.caregroups import services
from xinqiao.caregroups.models import GroupKind, ManagementGroup, VisitOutcome
from xinqiao.core.forms import KeyedForm
from xinqiao.core.models import User
from xinqiao.referrals.forms import PatientByNumberField, check_boxes


class GroupForm(KeyedForm):
    """A new group of a township."""

    region_code = forms.RegexField(label=_("township code"), regex=r"^\d{9}$",
                                   error_messages={"invalid": _("Enter the 9-digit township code.")})
    kind = forms.ChoiceField(label=_("kind"), choices=GroupKind.choices)
    name = forms.CharField(label=pgettext_lazy("title of a thing", "name"), max_length=128)
    established_on = forms.DateField(label=_("established on"), widget=forms.DateInput(attrs={"type": "date"}))

    def to_input(self) -> services.GroupInput:
        d = self.cleaned_data
        return services.GroupInput(region_code=d["region_code"], kind=d["kind"], name=d["name"],
                                   established_on=d["established_on"])


class MemberForm(KeyedForm):
    """A seat for a platform account or a named outsider."""

    role = forms.ChoiceField(label=_("seat"))
    user: forms.ModelChoiceField[User] = forms.ModelChoiceField(label=_("platform account"), queryset=User.objects.none(),
                                                                required=False)
    outsider_name = forms.CharField(label=_("name (member without an account)"), max_length=64, required=False)
    outsider_phone = forms.RegexField(label=_("phone (member without an account)"), regex=r"^[0-9+\-\s]{5,20}$",
                                      required=False,
                                      error_messages={"invalid": _("Enter a phone number of digits only.")})
    unit = forms.CharField(label=_("unit"), max_length=128, required=False)

    def __init__(self, *args: Any, group: ManagementGroup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = services.seat_choices(group.kind)  # type: ignore[attr-defined]
        field: Any = self.fields["user"]
        field.queryset = services.eligible_users(group)
        field.label_from_instance = lambda u: f"{u}（{u.username}）"

    def to_input(self) -> services.MemberInput:
        d = self.cleaned_data
        return services.MemberInput(role=d["role"], user_id=d["user"].pk if d.get("user") else None,
                                    outsider_name=d.get("outsider_name") or "",
                                    outsider_phone=d.get("outsider_phone") or "", unit=d.get("unit") or "")

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        data["user"] = data["user"].pk if data.get("user") else None
        return data


def _members_field(label: Any) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(label=label, coerce=int, widget=forms.CheckboxSelectMultiple)


def member_choices(group: ManagementGroup, user: Any) -> list[tuple[int, str]]:
    """(member id, "seat · name") of the active members, names masked as the user may see them."""
    return [(row["member"].pk, f"{row['seat']} · {row['name'] or '—'}") for row in services.member_rows(user, group)]


class MeetingForm(KeyedForm):
    """A meeting: date, attendees, topics and decisions (register numbers only, no names)."""

    held_on = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=_("place"), max_length=128, required=False)
    attendees = _members_field(_("attendees"))
    topics = forms.CharField(label=_("topics"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text=_("Name patients by register number only: no names, ID or phone numbers."))
    decisions = forms.CharField(label=_("decisions"), max_length=4000, required=False,
                                widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, group: ManagementGroup, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = member_choices(group, user)  # type: ignore[attr-defined]
        self.fields["held_on"].initial = timezone.localdate()
        check_boxes(self, "attendees")

    def to_input(self) -> services.MeetingInput:
        d = self.cleaned_data
        return services.MeetingInput(held_on=d["held_on"], place=d.get("place") or "", topics=d["topics"],
                                     decisions=d.get("decisions") or "", attendee_ids=tuple(d["attendees"]))


class VisitForm(KeyedForm):
    """A joint visit to a patient of the township."""

    patient = PatientByNumberField(label=_("register number of the patient"))
    visited_on = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    participants = _members_field(_("participants"))
    outcome = forms.TypedChoiceField(label=_("outcome"), coerce=int, choices=VisitOutcome.choices)
    note = forms.CharField(label=_("note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    followup = forms.IntegerField(label=_("follow-up record number"), required=False, min_value=1,
                                      help_text=_("If a follow-up record was entered for this visit."))

    def __init__(self, *args: Any, group: ManagementGroup, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].user = user  # type: ignore[attr-defined]
        self.fields["participants"].choices = member_choices(group, user)  # type: ignore[attr-defined]
        self.fields["visited_on"].initial = timezone.localdate()
        check_boxes(self, "participants")

    def to_input(self) -> services.VisitInput:
        d = self.cleaned_data
        return services.VisitInput(patient_id=d["patient"].pk, visited_on=d["visited_on"], outcome=d["outcome"],
                                   participant_ids=tuple(d["participants"]), note=d.get("note") or "",
                                   followup_id=d.get("followup"))

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        data["patient"] = data["patient"].pk if data.get("patient") else None
        return data
