"""Model fields for personal data: ``EncryptedTextField`` stores AES-GCM ciphertext.

The attribute holds plain text in Python; the column holds ``v1.<key id>.<ciphertext>``. Equality
look-ups on ciphertext can never match (each encryption uses a fresh nonce), so only ``isnull``
is allowed: exact look-up goes through a blind-index column instead.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models

from xinqiao.core import crypto


class EncryptedTextField(models.TextField):
    """A text field encrypted at rest. Declare a ``mask`` category in the model's ``PII_FIELDS``."""

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        self.aad = f"{cls._meta.app_label}.{cls._meta.model_name}.{name}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value, self.aad)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), self.aad)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted: look it up through its blind index, "
                f"not with __{lookup_name}"
            )
        return super().get_lookup(lookup_name)
