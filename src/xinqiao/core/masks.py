"""Role field-masks: what each role may see of each category of personal data.

The policy is data (``data/field_masks.json``). ``visibility(user, category)`` answers
``full``/``masked``/``hidden``; ``present(user, obj)`` turns a record into the values this user
may see, masking or dropping the rest. Every path that shows personal data (views, API,
exports, admin, FHIR) goes through ``present``.
"""

from __future__ import annotations

import json
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

from django.db import models

from xinqiao.core.masking import mask

MASKS_FILE = Path(__file__).resolve().parent / "data" / "field_masks.json"


class Visibility(IntEnum):
    """Ordered: a user with several roles gets the highest."""

    HIDDEN = 0
    MASKED = 1
    FULL = 2


@cache
def policy() -> dict[str, Any]:
    """The parsed mask file."""
    data: dict[str, Any] = json.loads(MASKS_FILE.read_text(encoding="utf-8"))
    for role, rules in data["roles"].items():
        for category, level in rules.items():
            if category not in data["categories"]:
                raise ValueError(f"field_masks.json: role {role} names unknown category {category}")
            if level not in ("full", "masked"):
                raise ValueError(f"field_masks.json: role {role}, {category}: {level!r} is not full/masked")
    return data


def role_visibility(role_code: str, category: str) -> Visibility:
    """The visibility one role grants to one category."""
    level = policy()["roles"].get(role_code, {}).get(category)
    return {"full": Visibility.FULL, "masked": Visibility.MASKED}.get(level, Visibility.HIDDEN)


def visibility(user: Any, category: str) -> Visibility:
    """The most open visibility any of the user's roles grants."""
    if not getattr(user, "is_authenticated", False):
        return Visibility.HIDDEN
    return max((role_visibility(c, category) for c in user.role_codes), default=Visibility.HIDDEN)


def pii_fields(model: type[models.Model] | models.Model) -> dict[str, str]:
    """Field → category for a model's personal data."""
    fields: dict[str, str] = getattr(model, "PII_FIELDS", {})
    return fields


def can_unmask(user: Any, obj: models.Model) -> bool:
    """Whether the user's roles carry the unmask permission for this model."""
    meta = obj._meta
    return bool(user.has_perm(f"{meta.app_label}.unmask_{meta.model_name}"))


def present(user: Any, obj: models.Model, *, unmasked: bool = False) -> dict[str, Any]:
    """The personal-data fields of ``obj`` as this user may see them.

    Hidden fields are absent from the result. Masked fields are masked unless ``unmasked`` is
    true and the user may unmask (the caller must have audited the unmask with a purpose).
    """
    reveal = unmasked and can_unmask(user, obj)
    shown: dict[str, Any] = {}
    for field, category in pii_fields(obj).items():
        level = visibility(user, category)
        if level == Visibility.HIDDEN:
            continue
        value = getattr(obj, field)
        display = getattr(obj, f"get_{field}_display", None)
        if display is not None and callable(display):
            value = display()
        if level == Visibility.MASKED and not reveal:
            value = mask(category, value)
        shown[field] = value
    return shown


def unmaskable_fields(user: Any, obj: models.Model) -> list[str]:
    """Fields this user could reveal on ``obj`` (masked for them, and they hold unmask)."""
    if not can_unmask(user, obj):
        return []
    return [f for f, c in pii_fields(obj).items() if visibility(user, c) == Visibility.MASKED]
