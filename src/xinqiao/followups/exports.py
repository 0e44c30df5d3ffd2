"""Excel export of the follow-ups a user may see: scoped with the ``export`` action, masked as on screen, audited.

Follows ``core/exports.py`` and ``patients/exports.py``: an export never carries revealed values
(unmasking is per record, with a purpose), hidden categories are left out of the file, and the
download is one ``export`` audit event with the row count and the filters. The rows come from one
query (follow-up, patient, person and township joined); a selection larger than
``export.max_rows`` (``data/editing.json``) is refused with a message asking to narrow it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from io import BytesIO
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from xinqiao.core import audit
from xinqiao.core.exports import XLSX
from xinqiao.core.forms import StyledForm
from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.core.models import AuditAction, Person, Region, RegionLevel
from xinqiao.followups import corrections, labels
from xinqiao.followups.models import FollowUp
from xinqiao.patients.codes import Classification

#: Follow-up fields whose stored value is a list of codes, shown as their labels (as on the page).
LIST_LABELS: dict[str, Callable[[Any], list[str]]] = {
    "symptoms": labels.symptom_labels, "rehab_measures": labels.rehab_labels,
    "actions": labels.action_labels, "proposed_actions": labels.action_labels,
}
#: The follow-up's category that the filters (date, class) would reveal.
FILTER_CATEGORY = "clinical.followup"


class ExportTooLarge(Exception):
    """More rows match than one export may hold."""

    def __init__(self, count: int, limit: int) -> None:
        self.count, self.limit = count, limit
        super().__init__(_("%(count)s follow-ups match; one export holds at most %(limit)s. Narrow the dates or "
                           "choose a township.") % {"count": count, "limit": limit})


def townships_of(user: Any) -> list[tuple[str, str]]:
    """The townships a user may filter by: those of their region (none offered above city level)."""
    code = getattr(user, "region_id", None) or ""
    if len(code) < 4:
        return []
    return list(Region.objects.filter(level=RegionLevel.TOWNSHIP, code__startswith=code)
                .order_by("code").values_list("code", "name"))


class FollowUpExportForm(StyledForm):
    """The filters of the export: follow-up dates, township, classification (all optional)."""

    date_from = forms.DateField(label=gettext_lazy("from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=gettext_lazy("to"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    township = forms.ChoiceField(label=gettext_lazy("township"), required=False)
    classification = forms.TypedChoiceField(label=gettext_lazy("classification"), required=False, coerce=int,
                                            empty_value=None, choices=[("", "—"), *Classification.choices])

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        township: Any = self.fields["township"]
        township.choices = [("", "—"), *townships_of(user)]
        if visibility(user, FILTER_CATEGORY) == Visibility.HIDDEN:  # filtering would reveal the hidden value
            for name in ("date_from", "date_to", "classification"):
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        start, end = d.get("date_from"), d.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must be on or after the start date."))
        return d

    def applied(self) -> dict[str, Any]:
        """The filters in force (for the audit event): plain values, no personal data."""
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.cleaned_data.items()
                if v not in (None, "")}


def filter_followups(qs: QuerySet[FollowUp], form: FollowUpExportForm) -> QuerySet[FollowUp]:
    d = form.cleaned_data
    if d.get("date_from"):
        qs = qs.filter(followup_date__gte=d["date_from"])
    if d.get("date_to"):
        qs = qs.filter(followup_date__lte=d["date_to"])
    if d.get("township"):
        qs = qs.filter(township_code=d["township"])
    if d.get("classification"):
        qs = qs.filter(classification=d["classification"])
    return qs


def columns(user: Any) -> list[tuple[str, str]]:
    """(field, header) of the follow-up's personal-data columns this user may see, in model order."""
    return [(name, str(FollowUp._meta.get_field(name).verbose_name))  # type: ignore[union-attr]
            for name, category in FollowUp.PII_FIELDS.items() if visibility(user, category) != Visibility.HIDDEN]


def _cell(name: str, value: Any) -> Any:
    if value is None or value == "":
        return ""
    if name in LIST_LABELS and isinstance(value, list):
        return "、".join(LIST_LABELS[name](value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, date | int | float):
        return value
    return str(value)


def build_followups_workbook(user: Any, qs: QuerySet[FollowUp]) -> tuple[bytes, int]:
    """The workbook bytes and the number of rows written (one query, streamed 2,000 rows per fetch)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("follow-ups"))
    cols = columns(user)
    show_name = visibility(user, Person.PII_FIELDS["name"]) != Visibility.HIDDEN
    header = [_("register number"), _("township code"), _("township")]
    if show_name:
        header.append(str(Person._meta.get_field("name").verbose_name))
    ws.append([*header, *[h for _f, h in cols]])
    wanted = [f for f, _h in cols]
    count = 0
    rows = qs.select_related("patient__person", "region").order_by("followup_date", "id")
    for fu in rows.iterator(chunk_size=2000):
        shown = present(user, fu, fields=wanted)
        line: list[Any] = [fu.patient.register_number, fu.township_code, fu.region.name]
        if show_name:
            line.append(_cell("name", present(user, fu.patient.person, fields=["name"]).get("name")))
        line += [_cell(f, shown.get(f)) for f in wanted]
        ws.append(line)
        count += 1
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


def export_followups_xlsx(user: Any, qs: QuerySet[FollowUp], filters: dict[str, Any]) -> HttpResponse:
    """An HTTP download of the scoped, filtered follow-ups; audited as one export event.

    Raises ``ExportTooLarge`` (nothing exported, nothing audited) above ``export.max_rows``.
    """
    limit = corrections.config().export_max_rows
    total = qs.count()
    if total > limit:
        raise ExportTooLarge(total, limit)
    content, count = build_followups_workbook(user, qs)
    audit.record(AuditAction.EXPORT, object_type="followups.followup", region_code=getattr(user, "region_id", "") or "",
                 detail={"count": count, "format": "xlsx", "masked": True, "filters": filters})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="followups-{stamp}.xlsx"'
    return response
