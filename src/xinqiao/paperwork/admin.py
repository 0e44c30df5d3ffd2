"""Django admin for paper-form imports: read-only, scoped and audited.

Files are uploaded, checked and committed through the paperwork pages. The per-row messages are not
shown here: they quote cells of the uploaded sheet, which hold personal data.
"""

from __future__ import annotations

from django.contrib import admin

from xinqiao.core.admin import AuditedMaskedAdmin
from xinqiao.paperwork.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(AuditedMaskedAdmin):
    """Import batches (counts, timing, who uploaded); uploads go through the paperwork pages."""

    list_display = ("id", "kind", "status", "file_name", "rows_total", "rows_invalid", "rows_created",
                    "rows_skipped", "created_by", "created_at")
    list_select_related = ("created_by",)
    list_filter = ("kind", "status")
    hidden_fields = ("errors", "notes")
