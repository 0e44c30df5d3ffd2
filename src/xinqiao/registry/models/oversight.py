"""Supervision: evaluations and inspections, their findings, complaints and sanctions.

意见 19: "定期开展评估 … 优胜劣汰"; 意见 24 and 规划 五: supervision and inspection by the health
authorities. Evaluations are scored against a configurable checklist (evaluation_checklist.json);
findings carry a rectification deadline and follow-up; complaints come from the public with a
handling status; sanctions (warning, suspension, removal 退出) are proposed and then decided by a
different person (workflow.json).
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.models import InRegion
from xinqiao.core.scope import ScopedManager

from .institutions import Institution, own_organisation_only
from .people import Practitioner


class EvaluationKind(models.TextChoices):
    EVALUATION = "evaluation", _("periodic evaluation")
    INSPECTION = "inspection", _("inspection")
    FOLLOW_UP = "follow_up", _("follow-up inspection")


class Evaluation(InRegion):
    """A scored visit to an institution. Final evaluations set the institution's public grade."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        FINAL = "final", _("final")

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="evaluations")
    kind = models.CharField(_("kind"), max_length=16, choices=EvaluationKind.choices, default=EvaluationKind.EVALUATION)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    checklist_id = models.CharField(_("checklist"), max_length=64)
    checklist_version = models.CharField(_("checklist version"), max_length=16)
    scores = models.JSONField(_("scores"), default=dict)
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=1, null=True, blank=True)
    max_total = models.PositiveIntegerField(_("maximum"), null=True, blank=True)
    percent = models.DecimalField(_("percent"), max_digits=4, decimal_places=1, null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=4, blank=True)
    visited_on = models.DateField(_("visited on"))
    summary = models.TextField(_("summary"), blank=True)
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    finalised_at = models.DateTimeField(_("finalised"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering: ClassVar = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        if own_organisation_only(user):
            return qs.filter(institution__organisation_id=user.organisation_id, status="final")
        return qs


class Finding(models.Model):
    """Something to put right, with a deadline; the institution reports, the inspector verifies."""

    class Severity(models.TextChoices):
        MINOR = "minor", _("minor")
        MAJOR = "major", _("major")
        CRITICAL = "critical", _("critical")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        REPORTED = "reported", _("rectification reported")
        CLOSED = "closed", _("closed")

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="findings")
    item_code = models.CharField(_("checklist item"), max_length=64, blank=True)
    description = models.TextField(_("finding"))
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.MINOR)
    rectify_by = models.DateField(_("rectify by"), null=True, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    rectification = models.TextField(_("rectification report"), blank=True)
    reported_at = models.DateTimeField(_("reported"), null=True, blank=True)
    follow_up_note = models.TextField(_("follow-up note"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering: ClassVar = ["evaluation_id", "id"]
        permissions: ClassVar = [("rectify_finding", "Can report the rectification of a finding (institution)")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


def new_reference() -> str:
    """A complaint reference the complainant keeps (10 characters, unambiguous when read aloud)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class ComplaintCategory(models.TextChoices):
    QUALITY = "quality", _("quality of service")
    ETHICS = "ethics", _("professional ethics")
    QUALIFICATION = "qualification", _("qualification or scope of practice")
    PRIVACY = "privacy", _("privacy and confidentiality")
    FEES = "fees", _("fees")
    OTHER = "other", _("other")


class ComplaintStatus(models.TextChoices):
    """States of ``workflow.json`` ``complaint``."""

    RECEIVED = "received", _("received")
    INVESTIGATING = "investigating", _("being investigated")
    RESOLVED = "resolved", _("resolved")
    DISMISSED = "dismissed", _("dismissed")


class Complaint(InRegion):
    """A complaint from the public about an institution or practitioner.

    The complainant may stay anonymous; a name and phone, if given, are encrypted and masked per
    role (categories ``identity.name`` and ``contact.phone``), the text is encrypted. The
    complainant follows the handling status with the reference alone.
    """

    PII_FIELDS: ClassVar[dict[str, str]] = {
        "complainant_name": "identity.name",
        "complainant_phone": "contact.phone",
    }

    reference = models.CharField(_("reference"), max_length=12, unique=True, default=new_reference)
    institution = models.ForeignKey(Institution, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="complaints")
    practitioner = models.ForeignKey(Practitioner, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="complaints")
    subject = models.CharField(_("about"), max_length=128, blank=True,
                               help_text=_("The institution or person complained about, as the complainant named it."))
    category = models.CharField(_("category"), max_length=16, choices=ComplaintCategory.choices)
    description = EncryptedTextField(_("what happened"))
    complainant_name = EncryptedTextField(_("name"), blank=True)
    complainant_phone = EncryptedTextField(_("phone"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.RECEIVED, db_index=True)
    outcome = models.TextField(_("outcome"), blank=True)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    submission_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering: ClassVar = ["-received_at", "-id"]
        permissions: ClassVar = [("unmask_complaint", "Can reveal a complainant's name and phone (audited)")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class SanctionKind(models.TextChoices):
    """意见 19: 优胜劣汰; removal is 退出 (the institution or practitioner leaves the register)."""

    WARNING = "warning", _("warning")
    SUSPENSION = "suspension", _("suspension")
    REMOVAL = "removal", _("removal from the register (退出)")


class SanctionStatus(models.TextChoices):
    """States of ``workflow.json`` ``sanction``."""

    PROPOSED = "proposed", _("proposed")
    IN_FORCE = "in_force", _("in force")
    REJECTED = "rejected", _("not imposed")
    LIFTED = "lifted", _("lifted")


class Sanction(InRegion):
    """A sanction against an institution or a practitioner: proposed, then decided by another person."""

    institution = models.ForeignKey(Institution, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="sanctions")
    practitioner = models.ForeignKey(Practitioner, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="sanctions")
    kind = models.CharField(_("kind"), max_length=16, choices=SanctionKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=SanctionStatus.choices,
                              default=SanctionStatus.PROPOSED, db_index=True)
    grounds = models.TextField(_("grounds"))
    public = models.BooleanField(_("disclose publicly"), default=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    complaint = models.ForeignKey(Complaint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evaluation = models.ForeignKey(Evaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        ordering: ClassVar = ["-proposed_at", "-id"]
        permissions: ClassVar = [("decide_sanction", "Can impose, refuse or lift sanctions")]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(Q(institution__isnull=False, practitioner__isnull=True)
                           | Q(institution__isnull=True, practitioner__isnull=False)),
                name="registry_sanction_one_target"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"
