"""Re-encrypt every encrypted column under the active key (``xinqiao rotate-keys``).

Rows still under an older key are found with one SQL filter on the key id prefix, then
re-encrypted in batches, each batch in its own transaction (a stopped rotation can resume).
The blind indexes use their own key and do not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q

from xinqiao.core import audit, crypto
from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.models import AuditAction


def encrypted_columns() -> Iterator[tuple[type[models.Model], list[str]]]:
    """Each model with encrypted fields, and the names of those fields."""
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            yield model, names


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


def stale_filter(model: type[models.Model], names: list[str], active: str) -> Q:
    """Rows with any encrypted column not under the active key (raw column, no decryption)."""
    prefix = f"{crypto.VERSION}.{active}."
    cond = Q()
    for name in names:
        column = _column(model, name)
        cond |= Q(**{f"{column}_raw__gt": ""}) & ~Q(**{f"{column}_raw__startswith": prefix})
    return cond


def rotate(batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt stale rows of every model; returns rows re-encrypted per model label."""
    from django.db.models.functions import Cast

    active = crypto.active_key_id()
    done: dict[str, int] = {}
    for model, names in encrypted_columns():
        manager: Any = model._base_manager
        raw = {f"{_column(model, n)}_raw": Cast(n, models.CharField()) for n in names}
        stale_ids = list(manager.alias(**raw).filter(stale_filter(model, names, active)).values_list("pk", flat=True))
        count = 0
        for start in range(0, len(stale_ids), batch_size):
            with transaction.atomic():
                batch = list(manager.select_for_update().filter(pk__in=stale_ids[start : start + batch_size]))
                # Loading decrypted under the old key; saving encrypts under the active one.
                manager.bulk_update(batch, names)
                count += len(batch)
        done[model._meta.label] = count
    audit.record(AuditAction.KEY_ROTATION, detail={"active_key": active, "rows": done})
    return done
