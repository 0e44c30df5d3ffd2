"""Screening records: campaigns and their groups, responses (public, campaign, API), alert tasks,
follow-up actions. 意见 4, 5, 7, 8, 9, 15.

Responses store the answers and the engine's result (with the instrument version that scored
them). Public self-screening responses carry no identity at all; identified campaign responses
hold the participant's name and school/work number encrypted, masked per role.
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.models import InRegion, Organisation
from xinqiao.core.scope import ScopedManager

ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud in a classroom


def new_access_code() -> str:
    """An 8-character code a class types on a phone (or scans as a QR code)."""
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(8))


class Campaign(InRegion):
    """A screening campaign of a school, university or employer, run by its psychologist."""

    name = models.CharField(pgettext_lazy("title of a thing", "name"), max_length=128)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="screening_campaigns")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("psychologist"), on_delete=models.PROTECT,
                              related_name="screening_campaigns")
    instrument_ids = models.JSONField(_("scales"), default=list)
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    identified = models.BooleanField(_("identified"), default=False,
                                     help_text=_("Participants give their name and school or work number."))
    consent_text = models.TextField(_("consent text"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("screening campaign")
        verbose_name_plural = _("screening campaigns")
        ordering: ClassVar = ["-opens_at", "-id"]
        permissions: ClassVar = [("export_campaign", "Can export campaign results (audited)")]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        return _campaign_scope_on(qs, user, "organisation_id")


def _campaign_scope_on(qs: Any, user: Any, path: str) -> Any:
    roles = user.role_codes
    if "psychologist" in roles and not roles & {"regulator", "sysadmin", "mhc_staff"}:
        return qs.filter(**{path: user.organisation_id})
    return qs


class CampaignGroup(models.Model):
    """A class, grade or department of a campaign, with its own access code."""

    class Kind(models.TextChoices):
        CLASS = "class", _("class")
        GRADE = "grade", _("grade")
        DEPARTMENT = "department", _("department")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(pgettext_lazy("title of a thing", "name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CLASS)
    access_code = models.CharField(_("access code"), max_length=12, unique=True, default=new_access_code)
    expected_size = models.PositiveIntegerField(_("expected participants"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign group")
        verbose_name_plural = _("campaign groups")
        ordering: ClassVar = ["campaign_id", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["campaign", "name"], name="campaigngroup_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.name}"


class Source(models.TextChoices):
    """Where a response came from."""

    PUBLIC = "public", _("public self-screening")
    CAMPAIGN = "campaign", _("campaign")
    API = "api", _("API")


class ScreeningResponse(InRegion):
    """One completed scale with its score. Identity only for identified campaigns (encrypted)."""

    PII_FIELDS: ClassVar[dict[str, str]] = {
        "participant_name": "identity.name",
        "participant_number": "identity.member_number",
    }

    source = models.CharField(_("source"), max_length=16, choices=Source.choices, db_index=True)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="responses")
    group = models.ForeignKey(CampaignGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="responses")
    instrument = models.CharField(_("scale"), max_length=16, db_index=True)
    instrument_version = models.CharField(_("scale version"), max_length=16)
    answers = models.JSONField(_("answers"))
    total = models.IntegerField(_("total"), null=True, blank=True)
    standard_score = models.IntegerField(_("standard score"), null=True, blank=True)
    band = models.CharField(_("band"), max_length=32, db_index=True)
    positive = models.BooleanField(_("positive"), default=False, db_index=True)
    subscales = models.JSONField(_("subscales"), default=dict, blank=True)
    alerts = models.JSONField(_("alerts"), default=list, blank=True)
    risk = models.CharField(_("risk"), max_length=16, blank=True)
    participant_name = EncryptedTextField(_("name"), blank=True)
    participant_number = EncryptedTextField(_("school or work number"), blank=True)
    submission_key = models.CharField(max_length=128, null=True, blank=True, unique=True, editable=False)
    submission_fingerprint = models.CharField(max_length=16, blank=True, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True, db_index=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("screening response")
        verbose_name_plural = _("screening responses")
        ordering: ClassVar = ["-submitted_at", "-id"]
        permissions: ClassVar = [
            ("unmask_screeningresponse", "Can reveal a participant's identity (audited)"),
            ("export_screeningresponse", "Can export screening results (audited)"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} #{self.pk}"

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        # Public responses are anonymous statistics: only regulators and centres read them.
        roles = user.role_codes
        if roles & {"regulator", "sysadmin", "mhc_staff"}:
            return qs
        return _campaign_scope_on(qs.exclude(campaign=None), user, "campaign__organisation_id")

    def result_dict(self) -> dict[str, Any]:
        """The stored result in the engine's JSON contract."""
        return {"instrument": self.instrument, "version": self.instrument_version, "total": self.total,
                "standard_score": self.standard_score, "band": self.band, "positive": self.positive,
                "subscales": self.subscales, "alerts": self.alerts, "risk": self.risk or None}


class AlertTask(InRegion):
    """An alert to act on: first the campaign's psychologist; escalated to the county centre if
    nobody acknowledges it in time (24 h, 1 h for suicide risk; configurable)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CLOSED = "closed", _("closed")

    response = models.ForeignKey(ScreeningResponse, on_delete=models.CASCADE, related_name="alert_tasks")
    alert = models.CharField(_("alert"), max_length=32)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    level = models.PositiveSmallIntegerField(_("level"), default=1, help_text=_("1 psychologist, 2 county centre"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="screening_alert_tasks")
    due_at = models.DateTimeField(_("acknowledge by"), db_index=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("alert task")
        verbose_name_plural = _("alert tasks")
        ordering: ClassVar = ["status", "due_at"]

    def __str__(self) -> str:
        return f"{self.alert} #{self.pk}"

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        roles = user.role_codes
        if roles & {"regulator", "sysadmin"}:
            return qs
        if "mhc_staff" in roles:
            return qs.filter(level__gte=2)
        return _campaign_scope_on(qs, user, "response__campaign__organisation_id")


class FollowUpAction(models.Model):
    """What the psychologist did about a positive or alerted response."""

    class Action(models.TextChoices):
        INTERVIEW_DONE = "interview_done", _("interview done")
        REFERRED_HOSPITAL = "referred_hospital", _("referred to a hospital")
        REFERRED_HOTLINE = "referred_hotline", _("referred to the hotline")
        CLOSED = "closed", _("closed")

    response = models.ForeignKey(ScreeningResponse, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")
        ordering: ClassVar = ["-at"]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk}"
