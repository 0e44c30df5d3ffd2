"""Campaign results: band counts per group and scale (one GROUP BY), the Excel export (masked per
role) and the PDF summary (counts only, never a name).

The caller passes a queryset it has already scoped (``ScreeningResponse.objects.restrict``) and
audits the download; nothing here reads rows the caller did not reach.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import Workbook

from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.screening.instruments import Instrument, UnknownInstrumentError, load
from xinqiao.screening.models import AlertTask, Campaign, FollowUpAction, ScreeningResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_FONT = "STSong-Light"  # Adobe's CID font built into every PDF reader: Chinese without font files

# Cool colours for bands that are not positive, warm ones for positive bands (lowest first).
NEGATIVE_COLOURS = ("#2e7d32", "#7cb342", "#c0ca33", "#9e9d24")
POSITIVE_COLOURS = ("#f9a825", "#ef6c00", "#d84315", "#b71c1c", "#880e4f")


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _instrument(instrument_id: str) -> Instrument | None:
    try:
        return load(instrument_id)
    except UnknownInstrumentError:
        return None


def scale_name(instrument_id: str) -> str:
    inst = _instrument(instrument_id)
    return inst.name.get(_lang()) if inst else instrument_id


def band_label(instrument_id: str, code: str) -> str:
    inst = _instrument(instrument_id)
    try:
        return inst.band(code).label.get(_lang()) if inst else code
    except KeyError:  # scored by an older version whose band is gone
        return code


def alert_label(instrument_id: str, code: str) -> str:
    inst = _instrument(instrument_id)
    try:
        return inst.alert(code).label.get(_lang()) if inst else code
    except KeyError:
        return code


# --------------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------------


@dataclass
class BandColumn:
    code: str
    label: str
    positive: bool
    colour: str


@dataclass
class GroupRow:
    group_id: int | None
    name: str
    counts: list[int]
    total: int = 0
    positives: int = 0
    alerts: int = 0


@dataclass
class ScaleStats:
    """One scale of a campaign: a row per group, a column per band."""

    instrument_id: str
    name: str
    abbreviation: str
    bands: list[BandColumn]
    rows: list[GroupRow]
    totals: list[int] = field(default_factory=list)
    total: int = 0
    positives: int = 0
    alerts: int = 0


def _band_columns(instrument_id: str, seen: Iterable[str]) -> list[BandColumn]:
    inst = _instrument(instrument_id)
    lang = _lang()
    columns: list[BandColumn] = []
    neg = pos = 0
    for band in inst.bands if inst else ():
        if band.positive:
            colour, pos = POSITIVE_COLOURS[min(pos, len(POSITIVE_COLOURS) - 1)], pos + 1
        else:
            colour, neg = NEGATIVE_COLOURS[min(neg, len(NEGATIVE_COLOURS) - 1)], neg + 1
        columns.append(BandColumn(band.code, band.label.get(lang), band.positive, colour))
    known = {c.code for c in columns}
    for code in sorted(set(seen) - known):  # bands of an older scale version
        columns.append(BandColumn(code, code, False, "#9e9e9e"))
    return columns


def campaign_stats(campaign: Campaign, responses: QuerySet[ScreeningResponse]) -> list[ScaleStats]:
    """Counts by band, positives and alerts per group for each scale of the campaign (two queries)."""
    groups = list(campaign.groups.order_by("name").values_list("id", "name"))
    counts: dict[tuple[str, int | None, str], tuple[int, int]] = {}
    for row in (responses.filter(campaign=campaign).order_by().values("instrument", "group_id", "band")
                .annotate(n=Count("id"), pos=Count("id", filter=Q(positive=True)))):
        counts[(row["instrument"], row["group_id"], row["band"])] = (row["n"], row["pos"])
    alerted: dict[tuple[str, int | None], int] = {
        (row["instrument"], row["group_id"]): row["n"]
        for row in (responses.filter(campaign=campaign).exclude(alerts=[]).order_by()
                    .values("instrument", "group_id").annotate(n=Count("id")))
    }
    instruments = list(campaign.instrument_ids) + sorted({k[0] for k in counts} - set(campaign.instrument_ids))
    out: list[ScaleStats] = []
    for iid in instruments:
        inst = _instrument(iid)
        bands = _band_columns(iid, (k[2] for k in counts if k[0] == iid))
        rows: list[GroupRow] = []
        extra = sorted({k[1] for k in counts if k[0] == iid} - {g for g, _n in groups}, key=lambda v: v or 0)
        for gid, gname in [*groups, *[(g, _("other")) for g in extra]]:
            cells = [counts.get((iid, gid, b.code), (0, 0)) for b in bands]
            rows.append(GroupRow(gid, gname, [c[0] for c in cells], total=sum(c[0] for c in cells),
                                 positives=sum(c[1] for c in cells), alerts=alerted.get((iid, gid), 0)))
        stats = ScaleStats(iid, inst.name.get(_lang()) if inst else iid, inst.abbreviation if inst else iid,
                           bands, rows)
        stats.totals = [sum(r.counts[i] for r in rows) for i in range(len(bands))]
        stats.total = sum(r.total for r in rows)
        stats.positives = sum(r.positives for r in rows)
        stats.alerts = sum(r.alerts for r in rows)
        out.append(stats)
    return out


def chart_payload(stats: list[ScaleStats]) -> dict[str, Any]:
    """What ``results.js`` draws: per scale, the groups and one stacked series per band."""
    return {"scales": [{
        "id": s.instrument_id, "name": s.name, "groups": [r.name for r in s.rows],
        "series": [{"name": b.label, "colour": b.colour, "positive": b.positive,
                    "data": [r.counts[i] for r in s.rows]} for i, b in enumerate(s.bands)],
    } for s in stats], "yAxis": _("participants")}


def alert_summary(campaign: Campaign, tasks: QuerySet[AlertTask]) -> list[dict[str, Any]]:
    """Alert tasks of the campaign by kind: how many open, acknowledged, closed, escalated."""
    rows = (tasks.filter(response__campaign=campaign).order_by().values("alert", "response__instrument")
            .annotate(total=Count("id"), open=Count("id", filter=Q(status=AlertTask.Status.OPEN)),
                      acknowledged=Count("id", filter=Q(status=AlertTask.Status.ACKNOWLEDGED)),
                      closed=Count("id", filter=Q(status=AlertTask.Status.CLOSED)),
                      escalated=Count("id", filter=Q(level__gte=2))))
    return [{**r, "label": alert_label(r["response__instrument"], r["alert"]),
             "scale": scale_name(r["response__instrument"])} for r in rows]


# --------------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def identity_columns(user: Any) -> list[tuple[str, str]]:
    """(field, header) of the participant fields this user may see (masked), in model order."""
    return [(f, str(getattr(ScreeningResponse._meta.get_field(f), "verbose_name", f)))
            for f, category in ScreeningResponse.PII_FIELDS.items() if visibility(user, category) != Visibility.HIDDEN]


def build_campaign_workbook(user: Any, campaign: Campaign, responses: QuerySet[ScreeningResponse]) -> tuple[bytes, int]:
    """The workbook (responses, masked per role; then the counts) and the number of responses written."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("responses"))
    columns = identity_columns(user) if campaign.identified else []
    ws.append([_("record id"), _("class or department"), _("scale"), _("scale version"), _("submitted"),
               _("total"), _("standard score"), _("band"), _("positive"), _("alerts"), _("risk"),
               _("latest action"), *[h for _f, h in columns]])
    qs = responses.filter(campaign=campaign).select_related("group").order_by("id")
    latest: dict[int, str] = {}  # one query: the last action on each response
    for action in FollowUpAction.objects.filter(response__in=qs.values("id")).order_by("response_id", "at", "id"):
        latest[action.response_id] = action.get_action_display()
    count = 0
    for r in qs.iterator(chunk_size=2000):
        shown = present(user, r) if columns else {}
        ws.append([
            r.pk, _cell(r.group.name if r.group else ""), r.instrument, r.instrument_version,
            timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M"), r.total, r.standard_score,
            _cell(band_label(r.instrument, r.band)), _("yes") if r.positive else _("no"),
            "; ".join(alert_label(r.instrument, a) for a in r.alerts), r.risk, latest.get(r.pk, ""),
            *[_cell("" if shown.get(f) is None else str(shown[f])) for f, _h in columns],
        ])
        count += 1
    summary = wb.create_sheet(title=_("summary"))
    summary.append([_cell(campaign.name)])
    for s in campaign_stats(campaign, responses):
        summary.append([])
        summary.append([s.name])
        summary.append([_("class or department"), *[b.label for b in s.bands], _("total"), _("positive"), _("alerts")])
        for row in s.rows:
            summary.append([_cell(row.name), *row.counts, row.total, row.positives, row.alerts])
        summary.append([_("all"), *s.totals, s.total, s.positives, s.alerts])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


# --------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))


def build_campaign_pdf(campaign: Campaign, stats: list[ScaleStats], alerts: list[dict[str, Any]], *,
                       compress: bool = True) -> bytes:
    """A printable summary: the campaign, its window, counts by band per group and scale, positives and
    alerts. Counts only: no participant's name or number is ever written."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    body = ParagraphStyle("body", fontName=PDF_FONT, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#555555"))
    h1 = ParagraphStyle("h1", parent=body, fontSize=16, leading=21, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text), style)

    def table(rows: list[list[Any]]) -> Table:
        t = Table(rows, repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), PDF_FONT, 8.5),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]))
        return t

    local = timezone.localtime
    fmt = "%Y-%m-%d %H:%M"
    story: list[Any] = [
        p(campaign.name, h1),
        p(f"{_('organisation')}: {campaign.organisation.name}"),
        p(f"{_('window')}: {local(campaign.opens_at).strftime(fmt)} – {local(campaign.closes_at).strftime(fmt)}"),
        p(f"{_('mode')}: {_('identified') if campaign.identified else _('anonymous')}"),
        p(f"{_('scales')}: {', '.join(scale_name(i) for i in campaign.instrument_ids)}"),
        p(f"{_('generated')}: {local().strftime(fmt)}", small),
        Spacer(1, 4 * mm),
    ]
    for s in stats:
        story.append(p(f"{s.name} ({_('responses')}: {s.total}, {_('positive')}: {s.positives}, "
                       f"{_('alerts')}: {s.alerts})", h2))
        header = [p(_("class or department"), small), *[p(b.label, small) for b in s.bands],
                  p(_("total"), small), p(_("positive"), small), p(_("alerts"), small)]
        rows: list[list[Any]] = [header]
        rows += [[p(r.name), *r.counts, r.total, r.positives, r.alerts] for r in s.rows]
        rows.append([p(_("all")), *s.totals, s.total, s.positives, s.alerts])
        story.append(table(rows))
    story.append(p(_("Alerts"), h2))
    if alerts:
        rows = [[p(_("scale"), small), p(_("alert"), small), _("total"), _("open"), _("acknowledged"),
                 _("closed"), _("escalated")]]
        rows += [[p(a["scale"]), p(a["label"]), a["total"], a["open"], a["acknowledged"], a["closed"],
                  a["escalated"]] for a in alerts]
        story.append(table(rows))
    else:
        story.append(p(_("No alerts.")))
    story += [Spacer(1, 6 * mm), p(_("Counts only: this summary holds no participant's name or number. "
                                     "A screening result is not a diagnosis."), small)]
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=campaign.name, author="xinqiao",
                            pageCompression=1 if compress else 0)
    doc.build(story)
    return buffer.getvalue()

