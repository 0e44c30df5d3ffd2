"""The work lists' permission holder. Work lists are queries on ``patients.Patient``; no table here.

Django grants permissions per model, so ``WorkList`` exists only to carry ``worklists.view_worklist``
(granted in ``core/data/roles.json`` to the community doctor and the county centre). It is not
managed: it has no table and is never queried.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkList(models.Model):
    """Permission holder for the follow-up work lists (no table)."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("work list")
        verbose_name_plural = _("work lists")
        permissions: ClassVar = [
            ("view_worklist", "Can see the follow-up work lists of their clinic or county"),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
