"""Excel exports of referral and emergency lists: scoped by the caller (``restrict(user, "export")``),
masked per role (``masks.present``; hidden categories are left out of the file), one audited export
event with the row count (the pattern of ``core/exports.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from xinqiao.core import audit
from xinqiao.core.exports import XLSX
from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.core.models import AuditAction
from xinqiao.referrals import rules
from xinqiao.referrals.models import EmergencyRecord, Referral
from xinqiao.referrals.services import emergency_shown

Column = tuple[str, Callable[[Any, dict[str, Any]], Any]]


def pii_columns(user: Any, model: type[Model]) -> list[tuple[str, str]]:
    """(field, header) of the model's personal-data columns this user may see, in declaration order."""
    fields: dict[str, str] = getattr(model, "PII_FIELDS", {})
    return [(f, str(model._meta.get_field(f).verbose_name)) for f, category in fields.items()  # type: ignore[union-attr]
            if visibility(user, category) != Visibility.HIDDEN]


def build_workbook(user: Any, title: str, rows: Iterable[Model], columns: list[Column], model: type[Model],
                   shown_of: Callable[[Any, Any], dict[str, Any]] = present) -> tuple[bytes, int]:
    """A workbook with the fixed ``columns`` then the visible personal-data columns (masked);
    ``shown_of(user, obj)`` gives the masked values (``present``, or a wrapper that labels codes)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    personal = pii_columns(user, model)
    ws.append([header for header, _get in columns] + [header for _f, header in personal])
    count = 0
    for obj in rows:
        shown = shown_of(user, obj)
        values = [get(obj, shown) for _h, get in columns]
        values += [_cell(shown.get(f)) for f, _h in personal]
        ws.append([_cell(v) for v in values])
        count += 1
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, int | float):
        return value
    return str(value)


def download(content: bytes, stem: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.xlsx"'
    return response


def export_referrals(user: Any, qs: QuerySet[Referral]) -> HttpResponse:
    """The referrals the user may export; audited as one export event."""
    today = timezone.localdate()
    columns: list[Column] = [
        (_("record id"), lambda r, s: r.pk),
        (_("register number"), lambda r, s: r.patient.register_number),
        (_("direction"), lambda r, s: r.get_direction_display()),
        (_("referred from"), lambda r, s: r.from_organisation.name),
        (_("referred to"), lambda r, s: r.to_organisation.name),
        (_("urgency"), lambda r, s: r.get_urgency_display()),
        (_("state"), lambda r, s: r.get_state_display()),
        (_("time sent"), lambda r, s: timezone.localtime(r.sent_at).strftime("%Y-%m-%d %H:%M")),
        (_("to be received by"), lambda r, s: r.receive_due.isoformat()),
        (_("to be completed by"), lambda r, s: r.complete_due.isoformat() if r.complete_due else ""),
        (_("days overdue"), lambda r, s: rules.days_overdue(r.state, r.receive_due, r.complete_due, today)),
    ]
    rows = qs.select_related("patient", "from_organisation", "to_organisation").order_by("-sent_at", "-id")
    content, count = build_workbook(user, _("referrals"), rows.iterator(chunk_size=2000), columns, Referral)
    audit.record(AuditAction.EXPORT, object_type="referrals.referral", region_code=user.region_id or "",
                 detail={"count": count, "format": "xlsx", "masked": True})
    return download(content, "referrals")


def export_emergencies(user: Any, qs: QuerySet[EmergencyRecord]) -> HttpResponse:
    """The emergency records the user may export; audited as one export event."""
    columns: list[Column] = [
        (_("record id"), lambda e, s: e.pk),
        (_("township code"), lambda e, s: e.township_code),
        (_("register number"), lambda e, s: e.patient.register_number if e.patient else ""),
        (_("subject category"), lambda e, s: e.get_subject_category_display()),
        (_("time of the event"), lambda e, s: timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M")),
        (_("recorded"), lambda e, s: timezone.localtime(e.recorded_at).strftime("%Y-%m-%d %H:%M")),
        (_("recorded late"), lambda e, s: _("yes") if e.recorded_late else _("no")),
        (_("reported by"), lambda e, s: e.get_reporter_role_display()),
        (_("police informed"), lambda e, s: _("yes") if e.police_notified_at else _("no")),
        (_("status"), lambda e, s: e.get_status_display()),
    ]
    rows = qs.select_related("patient").order_by("-occurred_at", "-id")

    content, count = build_workbook(user, _("emergencies"), rows.iterator(chunk_size=2000), columns,
                                    EmergencyRecord, emergency_shown)
    audit.record(AuditAction.EXPORT, object_type="referrals.emergencyrecord", region_code=user.region_id or "",
                 detail={"count": count, "format": "xlsx", "masked": True})
    return download(content, "emergencies")
