"""Import batches: one row per uploaded spreadsheet, with its validation report and what it committed.

A batch holds no identity: the report names rows and columns and says what is wrong (a check
digit, an unknown code, a township outside the region), never a name or an ID number. It sits in
the importer's region (``InRegion``), so the county centre sees the batches of its townships'
doctors through the same ``restrict`` as everything else.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinqiao.core.models import InRegion
from xinqiao.core.scope import ScopedManager


class ImportKind(models.TextChoices):
    """What a spreadsheet holds."""

    PATIENTS = "patients", _("existing patients")
    FOLLOWUPS = "followups", _("follow-up records")


class ImportStatus(models.TextChoices):
    """Where a batch ended."""

    REJECTED = "rejected", _("rejected: errors found")
    CHECKED = "checked", _("checked: no errors (not imported)")
    COMMITTED = "committed", _("imported")
    DUPLICATE = "duplicate", _("not imported: this file was imported before")


class ImportBatch(InRegion):
    """One uploaded file of patients or follow-ups, validated row by row; committed all or nothing.

    ``status=committed`` is unique per ``(kind, sha256)``: the same file can never be committed
    twice, even by two uploads racing each other. ``errors`` is a list of
    ``[row, column header, message]`` (at most ``MAX_STORED_MESSAGES``), ``notes`` the rows that
    were valid but already present (``[row, message]``: skipped, not duplicated).
    """

    MAX_STORED_MESSAGES: ClassVar[int] = 5000

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_format = models.CharField(_("format"), max_length=8)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_invalid = models.PositiveIntegerField(_("rows with errors"), default=0)
    rows_created = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows already present (skipped)"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    validate_ms = models.PositiveIntegerField(default=0)
    commit_ms = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering: ClassVar = ["-created_at", "-id"]
        permissions: ClassVar = [
            # Printing is not about import batches, but a permission needs a model: this app's one.
            ("print_forms", "Can print the national forms of records they can see (audited)"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["kind", "sha256"], condition=Q(status="committed"),
                                    name="importbatch_file_once"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"
