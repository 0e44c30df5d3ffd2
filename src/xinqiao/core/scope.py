"""Data scope: the one place that decides which rows of personal data a user may reach.

Every queryset of personal data passes through ``restrict(user, action)`` (NetBox's
``RestrictedQuerySet`` pattern): views, the API, exports, the admin and FHIR all call it, and a
record outside the result answers 404, never 403, so its existence is not revealed.

The rule: the user must hold the model permission for the action (through a role), and the row's
denormalised region column for the user's level must equal the user's region code (one indexed
equality). A model may narrow further for some roles with ``scope_for_roles(qs, user)`` (e.g.
police see only patients at danger level 3 or above, a later rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from xinqiao.core.models import User

M = TypeVar("M", bound=models.Model)


def permission_for(model: type[models.Model], action: str) -> str:
    """``app_label.action_modelname``, the permission a role needs for ``action``."""
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def region_filter(user: User) -> dict[str, str] | None:
    """The filter on ``InRegion`` columns for the user's region; ``None`` means unrestricted.

    Only a superuser without a region is unrestricted; a user without a region (and not a
    superuser) sees nothing, which ``restrict`` enforces.
    """
    if user.region_id is None:
        return None
    from xinqiao.core.models.region import SCOPE_COLUMN
    from xinqiao.core.regions_data import level_of

    code: str = user.region_id
    return {SCOPE_COLUMN[level_of(code)]: code}


class ScopedQuerySet(models.QuerySet[M]):
    """A queryset that can restrict itself to what a user may see."""

    def restrict(self, user: User | AnonymousUser, action: str = "view") -> ScopedQuerySet[M]:
        """Rows of this model that ``user`` may ``action`` (view/change/delete/export/unmask)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if not user.has_perm(permission_for(self.model, action)):
            return self.none()
        where = region_filter(user)
        if where is None:
            if not user.is_superuser:
                return self.none()
            qs = self
        else:
            qs = self.filter(**where)
        narrow = getattr(self.model, "scope_for_roles", None)
        if narrow is not None:
            qs = narrow(qs, user)
        return qs


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    """Manager exposing ``restrict``; the default manager of every personal-data model."""


def get_scoped_or_404(model: type[M], user: Any, action: str = "view", **lookup: Any) -> M:
    """One row that ``user`` may ``action``, or 404 (out of scope and missing look the same)."""
    manager: Any = model._default_manager
    try:
        obj: M = manager.restrict(user, action).get(**lookup)
    except model.DoesNotExist:  # type: ignore[attr-defined]
        raise Http404 from None
    return obj


def in_scope(user: Any, region_code: str) -> bool:
    """Whether a region code (any level) lies inside the user's region (for writes)."""
    if user.region_id is None:
        return bool(user.is_superuser)
    return str(region_code).startswith(user.region_id)
