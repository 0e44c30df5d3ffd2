"""A natural person whose personal data the platform holds (patient, caller, participant).

Identity and contact fields are encrypted (``EncryptedTextField``); the ID number also has an
HMAC blind index for exact look-up and de-duplication across the whole deployment. Domain apps
(patients, hotline, screening) link to a ``Person`` rather than copying identity fields.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinqiao.core import crypto, idcard
from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.scope import ScopedManager

from .region import InRegion, RegionLevel


class DocumentType(models.TextChoices):
    """Identity document types (GB 11643-1999 for the resident ID; permits for others)."""

    RESIDENT_ID = "resident_id", _("resident identity card")
    PASSPORT = "passport", _("passport")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Hong Kong/Macao resident permit")
    TAIWAN_PERMIT = "taiwan_permit", _("Taiwan resident permit")
    FOREIGN_PERMANENT = "foreign_permanent", _("foreign permanent residence card")
    OTHER = "other", _("other document")


class Sex(models.TextChoices):
    """Sex as recorded on the identity document."""

    MALE = "M", _("male")
    FEMALE = "F", _("female")
    UNKNOWN = "U", _("unknown")


class Person(InRegion):
    """A person with encrypted identity and contact data, placed in their home township."""

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    #: Field → mask category (``core/data/field_masks.json``). Anything personal must be listed.
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "name": "identity.name",
        "id_number": "identity.id_number",
        "birth_date": "identity.birth_date",
        "sex": "identity.sex",
        "phone": "contact.phone",
        "address": "contact.address",
    }
    BLIND_INDEX_PURPOSE = "person.id_number"

    name = EncryptedTextField(_("name"))
    id_type = models.CharField(
        _("document type"), max_length=24, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering: ClassVar = ["-created_at", "-id"]
        permissions: ClassVar = [
            ("unmask_person", "Can reveal unmasked identity and contact data (audited)"),
            ("export_person", "Can export personal data (audited)"),
        ]

    def __str__(self) -> str:
        # Never the name: str() ends up in logs, admin messages and audit lines.
        return f"{self._meta.verbose_name} #{self.pk}"

    @classmethod
    def id_index_for(cls, id_type: str, normalized_number: str) -> str:
        """Blind index of a normalised document number (type-qualified)."""
        return crypto.blind_index(cls.BLIND_INDEX_PURPOSE, f"{id_type}:{normalized_number}")

    def save(self, *args: object, **kwargs: object) -> None:
        if self.id_number:
            # Every write path indexes the same normalised form (upper-case X, 15→18 digits, no spaces).
            checked = idcard.validate_document(self.id_type, self.id_number)
            if checked.valid:
                self.id_number = checked.normalized
        self.id_number_index = self.id_index_for(self.id_type, self.id_number) if self.id_number else ""
        super().save(*args, **kwargs)
