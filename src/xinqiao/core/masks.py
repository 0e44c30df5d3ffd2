"""Role field-masks: what each role may see of each category of personal data.

The policy is data (``data/field_masks.json``). ``visibility(user, category)`` answers
``full``/``masked``/``hidden``; ``present(user, obj)`` turns a record into the values this user
may see, masking or dropping the rest. Every path that shows personal data (views, API,
exports, admin, FHIR) goes through ``present``.

``present`` runs once per row of every list, so what does not change between rows is worked out
once: the user's visibility of every category (kept on the user object for its lifetime: one
request), and per model how each field is read (its choice labels looked up in a map built once,
where Django's ``get_FOO_display`` rebuilds it at every call). ``fields=`` narrows a call to the
fields a page actually shows.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from enum import IntEnum
from functools import cache, partialmethod
from pathlib import Path
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

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


_LEVELS = {"full": Visibility.FULL, "masked": Visibility.MASKED}


def role_visibility(role_code: str, category: str) -> Visibility:
    """The visibility one role grants to one category."""
    level = policy()["roles"].get(role_code, {}).get(category)
    return _LEVELS.get(level, Visibility.HIDDEN)


def _roles_levels(data: dict[str, Any], role_codes: frozenset[str]) -> dict[str, Visibility]:
    """Category → the most open visibility any of ``role_codes`` grants (categories some role grants)."""
    levels: dict[str, Visibility] = {}
    for code in role_codes:
        for category, level in data["roles"].get(code, {}).items():
            value = _LEVELS.get(level, Visibility.HIDDEN)
            if value > levels.get(category, Visibility.HIDDEN):
                levels[category] = value
    return levels


_USER_CACHE = "_xinqiao_mask_levels"


def user_levels(user: Any) -> dict[str, Visibility]:
    """The user's visibility of every category a role grants them (absent: hidden).

    Worked out once per user object and kept on it, keyed by the policy and the role set it was
    computed from (a changed policy or a fresh ``role_codes`` recomputes it).
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    data = policy()
    roles = frozenset(user.role_codes)
    cached = getattr(user, "__dict__", {}).get(_USER_CACHE)
    if cached is not None and cached[0] is data and cached[1] == roles:
        levels: dict[str, Visibility] = cached[2]
        return levels
    levels = _roles_levels(data, roles)
    try:
        user.__dict__[_USER_CACHE] = (data, roles, levels)
    except (AttributeError, TypeError):  # an object without a writable __dict__: no cache
        pass
    return levels


def visibility(user: Any, category: str) -> Visibility:
    """The most open visibility any of the user's roles grants."""
    return user_levels(user).get(category, Visibility.HIDDEN)


def pii_fields(model: type[models.Model] | models.Model) -> dict[str, str]:
    """Field → category for a model's personal data."""
    fields: dict[str, str] = getattr(model, "PII_FIELDS", {})
    return fields


def can_unmask(user: Any, obj: models.Model) -> bool:
    """Whether the user's roles carry the unmask permission for this model."""
    meta = obj._meta
    return bool(user.has_perm(f"{meta.app_label}.unmask_{meta.model_name}"))


# How ``present`` reads one field of a model: ``(field, category, attname, choices)``. ``choices`` is
# the label map of a choice field whose ``get_FOO_display`` is Django's own (then ``attname`` is the
# raw column); ``None`` means "read the attribute, then its ``get_FOO_display()`` if it has one".
_Reader = tuple[str, str, str, dict[Any, Any] | None]


def _choice_map(cls: type[models.Model], name: str) -> tuple[str, dict[Any, Any]] | None:
    """``(attname, label map)`` when ``get_<name>_display`` is Django's generated method over fixed choices."""
    try:
        field = cls._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    method = inspect.getattr_static(cls, f"get_{name}_display", None)
    if not (isinstance(method, partialmethod) and method.func is _DJANGO_DISPLAY
            and method.keywords.get("field") is field):
        return None
    if not isinstance(field.choices, list | tuple):  # callable choices: evaluated at each call
        return None
    return str(field.attname), dict(make_hashable(field.flatchoices))


#: Django's implementation behind every generated ``get_FOO_display``.
_DJANGO_DISPLAY = models.Model._get_FIELD_display  # type: ignore[attr-defined]


@cache
def _readers(cls: type[models.Model]) -> tuple[_Reader, ...]:
    """How ``present`` reads each personal-data field of ``cls`` (worked out once per model)."""
    out: list[_Reader] = []
    for name, category in pii_fields(cls).items():
        choice = _choice_map(cls, name)
        out.append((name, category, choice[0], choice[1]) if choice else (name, category, name, None))
    return tuple(out)


_MISSING = object()


def _read(obj: models.Model, name: str, attname: str, choices: dict[Any, Any] | None) -> Any:
    """The field's value as shown: its choice label when it has choices (as ``get_FOO_display``)."""
    if choices is None:
        value = getattr(obj, name)
        display = getattr(obj, f"get_{name}_display", None)
        if display is not None and callable(display):
            value = display()
        return value
    value = getattr(obj, attname)
    try:
        label = choices.get(value, _MISSING)
    except TypeError:  # unhashable (a list): as Django does
        label = choices.get(make_hashable(value), _MISSING)
    return force_str(value if label is _MISSING else label, strings_only=True)


def present(user: Any, obj: models.Model, *, unmasked: bool = False,
            fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The personal-data fields of ``obj`` as this user may see them.

    Hidden fields are absent from the result. Masked fields are masked unless ``unmasked`` is
    true and the user may unmask (the caller must have audited the unmask with a purpose).
    ``fields`` limits the result to those personal-data fields (the ones a page shows; a name
    that is not one of the model's personal-data fields is a ``KeyError``).
    """
    levels = user_levels(user)
    if not levels:
        return {}
    readers = _readers(type(obj))
    if fields is not None:
        wanted = set(fields)
        unknown = wanted - {r[0] for r in readers}
        if unknown:
            raise KeyError(f"not personal-data fields of {obj._meta.label}: {sorted(unknown)}")
        readers = tuple(r for r in readers if r[0] in wanted)
    reveal = unmasked and can_unmask(user, obj)
    shown: dict[str, Any] = {}
    for name, category, attname, choices in readers:
        level = levels.get(category, Visibility.HIDDEN)
        if level == Visibility.HIDDEN:
            continue
        value = _read(obj, name, attname, choices)
        if level == Visibility.MASKED and not reveal:
            value = mask(category, value)
        shown[name] = value
    return shown


def present_many(user: Any, objs: Iterable[models.Model], *,
                 fields: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """``present(user, obj, fields=fields)`` for each of ``objs`` (a page of rows), in order."""
    wanted = None if fields is None else tuple(fields)
    return [present(user, obj, fields=wanted) for obj in objs]


def unmaskable_fields(user: Any, obj: models.Model) -> list[str]:
    """Fields this user could reveal on ``obj`` (masked for them, and they hold unmask)."""
    if not can_unmask(user, obj):
        return []
    levels = user_levels(user)
    return [f for f, c in pii_fields(obj).items() if levels.get(c, Visibility.HIDDEN) == Visibility.MASKED]
