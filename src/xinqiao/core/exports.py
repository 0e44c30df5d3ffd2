"""Exports of personal data: scoped by the caller, masked per role, audited with their size.

Exports are always masked (an export cannot carry revealed fields: unmasking is per record,
with a purpose); hidden categories are left out of the file altogether.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from xinqiao.core import audit
from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.core.models import AuditAction, Person

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def person_export_columns(user: Any) -> list[tuple[str, str]]:
    """(field, header) of the personal-data columns this user may see, in model order."""
    return [
        (field, str(Person._meta.get_field(field).verbose_name))  # type: ignore[union-attr]
        for field, category in Person.PII_FIELDS.items()
        if visibility(user, category) != Visibility.HIDDEN
    ]


def build_persons_workbook(user: Any, qs: QuerySet[Person]) -> tuple[bytes, int]:
    """The workbook bytes and the number of rows written."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("persons"))
    columns = person_export_columns(user)
    ws.append([_("record id"), _("township code"), _("township"), *[h for _f, h in columns]])
    count = 0
    for person in qs.order_by("id").iterator(chunk_size=2000):
        shown = present(user, person)
        ws.append([person.pk, person.township_code, person.region.name,
                   *["" if shown.get(f) is None else str(shown[f]) for f, _h in columns]])
        count += 1
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


def export_persons_xlsx(user: Any, qs: QuerySet[Person]) -> HttpResponse:
    """An HTTP download of the scoped persons; audited as one export event."""
    content, count = build_persons_workbook(user, qs)
    audit.record(AuditAction.EXPORT, object_type="core.person", region_code=user.region_id or "",
                 detail={"count": count, "format": "xlsx", "masked": True})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="persons-{stamp}.xlsx"'
    return response
