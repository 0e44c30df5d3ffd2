"""Accounts: a user has roles (auth groups named by role code), one organisation and one region."""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .organisation import Organisation
from .region import Region


class User(AbstractUser):
    """A staff account. The public needs none.

    ``region`` bounds what the user may see (their scope); ``organisation`` is where they work.
    Roles are auth groups whose names are role codes from ``core/data/roles.json``.
    """

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="staff",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name or self.username

    @cached_property
    def role_codes(self) -> frozenset[str]:
        """The role codes of this user (one query, cached on the instance)."""
        return frozenset(self.groups.values_list("name", flat=True))
