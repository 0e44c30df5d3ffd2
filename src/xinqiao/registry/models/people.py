"""Practitioners, where they practise, their credentials and their training.

意见 17-19: psychiatrists, psychotherapists, counsellors and social workers are registered with
their qualifications; counsellor certificates are registered online and "向社会提供查询服务". A
practitioner's name and certificate numbers are personal data of a professional kind: encrypted at
rest, with blind indexes for the public look-up (name + number), shown in full to the roles that
keep the register (mask categories ``practitioner.*`` in core/data/field_masks.json).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinqiao.core import crypto
from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.models import InRegion
from xinqiao.core.scope import ScopedManager
from xinqiao.registry import rules

from .institutions import Institution, own_organisation_only

NAME_INDEX_PURPOSE = "registry.practitioner_name"
NUMBER_INDEX_PURPOSE = "registry.credential_number"


def name_index(name: str) -> str:
    """Blind index of a practitioner's name as the look-up compares it."""
    return crypto.blind_index(NAME_INDEX_PURPOSE, rules.normalise_name(name))


def number_index(type_code: str, number: str) -> str:
    """Blind index of a certificate number (any type: the public does not say which)."""
    del type_code  # numbers are looked up across types; the type is checked after the match
    return crypto.blind_index(NUMBER_INDEX_PURPOSE, rules.normalise_number(number))


class Profession(models.TextChoices):
    """Professions of the registry (意见 17; 规划 目标3)."""

    PSYCHIATRIST = "psychiatrist", _("psychiatrist")
    NURSE = "nurse", _("psychiatric nurse")
    PSYCHOTHERAPIST = "psychotherapist", _("psychotherapist")
    COUNSELLOR = "counsellor", _("psychological counsellor")
    SOCIAL_WORKER = "social_worker", _("social worker")
    JINGFANG_STAFF = "jingfang_staff", _("severe-mental-disorder management staff (精防人员)")


class PractitionerStatus(models.TextChoices):
    ACTIVE = "active", _("practising")
    SUSPENDED = "suspended", _("suspended")
    REMOVED = "removed", _("removed from the register")
    LEFT = "left", _("no longer practising")


class Practitioner(InRegion):
    """A practitioner of the service network; ``region`` is that of their main workplace."""

    PII_FIELDS: ClassVar[dict[str, str]] = {"name": "practitioner.name"}

    name = EncryptedTextField(_("name"))
    name_index = models.CharField(max_length=64, db_index=True, editable=False)
    profession = models.CharField(_("profession"), max_length=16, choices=Profession.choices, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=PractitionerStatus.choices,
                              default=PractitionerStatus.ACTIVE, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")
        ordering: ClassVar = ["region_id", "id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_index = name_index(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_index"}
        super().save(*args, **kwargs)

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        if own_organisation_only(user):
            return qs.filter(practices__institution__organisation_id=user.organisation_id,
                             practices__ended_on__isnull=True).distinct()
        return qs


class Practice(models.Model):
    """A practitioner works at an institution (several at once are allowed: 多点执业)."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="practices")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="practices")
    post = models.CharField(_("post"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("main workplace"), default=True)
    started_on = models.DateField(_("since"), null=True, blank=True)
    ended_on = models.DateField(_("until"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("workplace")
        verbose_name_plural = _("workplaces")
        ordering: ClassVar = ["practitioner_id", "-is_primary", "id"]

    def __str__(self) -> str:
        return f"{self.practitioner_id} @ {self.institution_id}"


class Credential(models.Model):
    """A qualification (type from credential_types.json, number, issuer, issue and expiry dates).

    Valid, expired or revoked (``rules.credential_status``). The number is encrypted with a blind
    index; a number is unique within its type.
    """

    PII_FIELDS: ClassVar[dict[str, str]] = {"number": "practitioner.credential_number"}

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="credentials")
    type_code = models.CharField(_("credential type"), max_length=32, db_index=True)
    number = EncryptedTextField(_("certificate number"))
    number_index = models.CharField(max_length=64, db_index=True, editable=False)
    issuer = models.CharField(_("issuer"), max_length=128, blank=True)
    scope = models.CharField(_("scope of practice"), max_length=128, blank=True)
    issue_date = models.DateField(_("issued"), null=True, blank=True)
    expiry_date = models.DateField(_("expires"), null=True, blank=True, db_index=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, db_index=True)
    revoke_reason = models.TextField(_("reason for revocation"), blank=True)
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        ordering: ClassVar = ["practitioner_id", "type_code", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["type_code", "number_index"], name="registry_credential_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.number_index = number_index(self.type_code, self.number)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "number" in update_fields:
            kwargs["update_fields"] = {*update_fields, "number_index"}
        super().save(*args, **kwargs)

    def status_on(self, today: Any) -> str:
        return rules.credential_status(revoked=self.revoked_at is not None, expiry_date=self.expiry_date,
                                       today=today)

    @property
    def type(self) -> rules.CredentialType | None:
        return rules.credential_types().get(self.type_code)


class TrainingRecord(models.Model):
    """Training or continuing education a practitioner completed, in hours."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("training")
        CONTINUING = "continuing", _("continuing education")
        SUPERVISION = "supervision", _("supervision")

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="training")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CONTINUING)
    title = models.CharField(_("course"), max_length=128)
    provider = models.CharField(_("provider"), max_length=128, blank=True)
    completed_on = models.DateField(_("completed"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1)

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering: ClassVar = ["practitioner_id", "-completed_on"]

    def __str__(self) -> str:
        return f"{self.practitioner_id}: {self.title}"
