"""The supervision report (督导评估) of a region and period, as PDF (WeasyPrint) and Excel (openpyxl).

规划 五 (督导评估) and 三(五) ("定期形成报告，为相关部门决策提供依据"): for one region and one period the
report states each indicator with its value, target and status; ranks the sub-regions on each
indicator; names the sub-regions most behind their targets; summarises data quality; and cites the
clause behind every indicator and target.

Everything comes from the stored ``IndicatorResult`` rows the engine wrote (counts, no personal
data), in three statements whatever the number of sub-regions:

1. the region's own rows for the period;
2. the sub-regions' rows, each ranked within its indicator by a window function
   (``RANK() OVER (PARTITION BY indicator ORDER BY directed value DESC)``: the value for
   "higher is better", minus the value for "lower is better"; rows without a value last) and with
   its relative shortfall from the target computed in SQL (a ``CASE`` over the indicator codes with
   the targets in force that year);
3. the sub-regions most behind: one ``GROUP BY`` region counting the indicators whose target they
   have not reached, ordered by that count and then by the summed relative shortfall.

The data-quality summary comes from ``quality.panel``. Rendering: ``render_pdf`` through the
paperwork forms' WeasyPrint helper (Noto CJK fonts), ``render_xlsx`` a summary sheet, a sheet of the
most-behind sub-regions, a data-quality sheet and one ranking sheet per indicator, each with a
frozen header and number formats. The view checks the permission and the scope and audits the
download; this module only reads and renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from django.db.models import Case, Count, ExpressionWrapper, F, FloatField, Max, Q, Sum, Value, When, Window
from django.db.models.functions import Rank
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from xinqiao.core.models import Region
from xinqiao.core.models.region import RegionLevel
from xinqiao.indicators import definitions, quality
from xinqiao.indicators.definitions import Indicator, Target
from xinqiao.indicators.models import IndicatorResult
from xinqiao.indicators.periods import Period
from xinqiao.indicators.quality import QualityPanel, QualityRule

#: How many sub-regions the "most behind" table names.
BEHIND_COUNT = 5

UNIT_SUFFIX = {"percent": "%", "permille": "‰", "per_100k": "/10万", "ratio": "", "count": ""}
#: Excel number formats per unit (the stored value is already scaled: 83.3 means 83.3 %).
UNIT_FORMAT = {"percent": '0.0"%"', "permille": '0.00"‰"', "per_100k": "0.00", "ratio": "0.00", "count": "0"}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def indicator_name(ind: Indicator) -> str:
    return ind.name_en if _english() else ind.name_zh


def format_value(ind: Indicator, value: float | None) -> str:
    """A value as the report prints it: 83.3%, 4.52‰, 3.10/10万, 2."""
    if value is None:
        return "—"
    if ind.unit == "count":
        return f"{value:.0f}"
    digits = 2 if ind.unit in ("permille", "per_100k", "ratio") else 1
    return f"{value:.{digits}f}{UNIT_SUFFIX[ind.unit]}"


def format_target(ind: Indicator, target: Target | None) -> str:
    if target is None:
        return "—"
    return f"{'≥' if target.comparator == '>=' else '≤'}{format_value(ind, target.value)} ({target.year})"


def status_label(status: str, *, has_value: bool = True) -> str:
    """The status as printed; a missing value reads "no data" rather than "no target"."""
    if not has_value:
        return _("no data")
    return {"met": _("met"), "near": _("near target"), "missed": _("missed"), "none": _("no target")}.get(
        status, status)


# --------------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator of the report's region."""

    indicator: Indicator
    numerator: int | None
    denominator: int | None
    value: float | None
    target: Target | None
    status: str

    @property
    def name(self) -> str:
        return indicator_name(self.indicator)

    @property
    def shown_value(self) -> str:
        return format_value(self.indicator, self.value)

    @property
    def shown_target(self) -> str:
        return format_target(self.indicator, self.target)

    @property
    def shown_status(self) -> str:
        return status_label(self.status, has_value=self.value is not None)


@dataclass(frozen=True)
class RankEntry:
    """One sub-region on one indicator: its rank (1 = best; ``None`` without a value)."""

    rank: int | None
    region_code: str
    region_name: str
    numerator: int
    denominator: int | None
    value: float | None
    status: str
    shortfall: float | None  # relative distance from the target, positive when behind
    shown_value: str = ""
    shown_status: str = ""


@dataclass(frozen=True)
class Ranking:
    indicator: Indicator
    target: Target | None
    entries: list[RankEntry]

    @property
    def name(self) -> str:
        return indicator_name(self.indicator)

    @property
    def shown_target(self) -> str:
        return format_target(self.indicator, self.target)


@dataclass(frozen=True)
class BehindEntry:
    """A sub-region behind target: on how many indicators, by how much, and which."""

    region_code: str
    region_name: str
    behind: int
    with_target: int
    shortfall: float           # summed relative shortfall over the indicators behind
    indicators: tuple[str, ...]  # names of the indicators behind, worst first


@dataclass(frozen=True)
class SupervisionReport:
    region: Region
    region_name: str
    period: Period
    generated_at: datetime
    computed_at: datetime | None
    lines: list[IndicatorLine]
    rankings: list[Ranking]
    behind: list[BehindEntry]
    quality: QualityPanel
    sources: list[str]
    child_level: int | None

    @property
    def quality_items(self) -> list[tuple[QualityRule, int]]:
        """Each data-quality rule with its count for the whole region."""
        return [(rule, self.quality.total.counts[rule.code]) for rule in self.quality.rules]

    @property
    def has_results(self) -> bool:
        return any(line.value is not None or line.numerator is not None for line in self.lines)


def _targets(year: int, region_code: str) -> dict[str, Target]:
    out = {}
    for ind in definitions.all_indicators():
        target = definitions.target_for(ind, year, region_code)
        if target is not None:
            out[ind.code] = target
    return out


def directed_value() -> Case:
    """The value to rank on, bigger is better: ``value``, or ``-value`` where lower is better."""
    lower = [i.code for i in definitions.all_indicators() if i.direction == "lower"]
    return Case(When(indicator__in=lower, then=-F("value")), default=F("value"), output_field=FloatField())


def shortfall_expression(targets: dict[str, Target]) -> Case:
    """Relative shortfall from the target, in SQL: (target − value) / target for "≥" targets,
    (value − target) / target for "≤" ones (the plain difference for a zero target); positive when
    behind, NULL without a target or a value."""
    whens = []
    for code, target in targets.items():
        t = Value(float(target.value), output_field=FloatField())
        gap = (t - F("value")) if target.comparator == ">=" else (F("value") - t)
        expr = ExpressionWrapper(gap / t if target.value else gap, output_field=FloatField())
        whens.append(When(indicator=code, value__isnull=False, then=expr))
    return Case(*whens, default=Value(None, output_field=FloatField()), output_field=FloatField())


def _children_rows(region: Region, period: Period, targets: dict[str, Target]) -> Any:
    child = int(region.level) + 1
    return (IndicatorResult.objects.filter(period=period.key, level=child, **{region.scope_column: region.code})
            .annotate(shortfall=shortfall_expression(targets)))


def rankings(region: Region, period: Period, targets: dict[str, Target]) -> list[Ranking]:
    """Every indicator's sub-regions, ranked in SQL (one statement for all indicators)."""
    if region.level >= RegionLevel.TOWNSHIP:
        return []
    rows = (
        _children_rows(region, period, targets)
        .annotate(directed=directed_value())
        .annotate(rank=Window(Rank(), partition_by=[F("indicator")],
                              order_by=[F("directed").desc(nulls_last=True)]))
        .select_related("region")
        .order_by("indicator", F("directed").desc(nulls_last=True), "region_id")
    )
    by_code: dict[str, list[RankEntry]] = {}
    known = {ind.code: ind for ind in definitions.all_indicators()}
    for r in rows:
        ind = known.get(r.indicator)
        if ind is None:  # a stored code no longer defined
            continue
        status = definitions.status(ind, r.value, period.year, region.code)
        by_code.setdefault(r.indicator, []).append(RankEntry(
            rank=r.rank if r.value is not None else None, region_code=r.region_id, region_name=r.region.name,
            numerator=r.numerator, denominator=r.denominator, value=r.value, status=status, shortfall=r.shortfall,
            shown_value=format_value(ind, r.value), shown_status=status_label(status, has_value=r.value is not None)))
    out = []
    for ind in known.values():
        if ind.code in by_code:
            out.append(Ranking(indicator=ind, target=targets.get(ind.code), entries=by_code[ind.code]))
    return out


def most_behind(region: Region, period: Period, targets: dict[str, Target], *,
                count: int = BEHIND_COUNT, rankings_: list[Ranking] | None = None) -> list[BehindEntry]:
    """The sub-regions behind target on the most indicators (then by summed shortfall): one GROUP BY."""
    if region.level >= RegionLevel.TOWNSHIP or not targets:
        return []
    behind = Q(shortfall__gt=0)
    rows = list(
        _children_rows(region, period, targets).order_by()
        .values("region_id", "region__name")
        .annotate(behind=Count("pk", filter=behind), shortfall_sum=Sum("shortfall", filter=behind),
                  with_target=Count("shortfall"))
        .filter(behind__gt=0)
        .order_by("-behind", "-shortfall_sum", "region_id")[:count]
    )
    # Which indicators each is behind on, worst first: from the rankings already read (no query).
    worst: dict[str, list[tuple[float, str]]] = {}
    for ranking in rankings_ or []:
        for entry in ranking.entries:
            if entry.shortfall is not None and entry.shortfall > 0:
                worst.setdefault(entry.region_code, []).append((entry.shortfall, ranking.name))
    return [
        BehindEntry(region_code=r["region_id"], region_name=r["region__name"], behind=int(r["behind"]),
                    with_target=int(r["with_target"]), shortfall=float(r["shortfall_sum"] or 0.0),
                    indicators=tuple(name for _s, name in sorted(worst.get(r["region_id"], []), reverse=True)))
        for r in rows
    ]


def build(region: Region, period: Period, *, today: date | None = None,
          behind_count: int = BEHIND_COUNT) -> SupervisionReport:
    """The report's content for ``region`` and ``period`` (the caller checked the scope)."""
    targets = _targets(period.year, region.code)
    own = {r.indicator: r for r in IndicatorResult.objects.filter(region=region, period=period.key)}
    lines = []
    for ind in definitions.all_indicators():
        if int(region.level) not in ind.levels and ind.code not in own:
            continue
        row = own.get(ind.code)
        value = row.value if row else None
        lines.append(IndicatorLine(
            indicator=ind, numerator=row.numerator if row else None, denominator=row.denominator if row else None,
            value=value, target=targets.get(ind.code),
            status=definitions.status(ind, value, period.year, region.code) if row else "none"))
    ranked = rankings(region, period, targets)
    computed = (IndicatorResult.objects.filter(period=period.key, **{region.scope_column: region.code})
                .aggregate(at=Max("computed_at"))["at"])
    sources: list[str] = []
    for line in lines:
        for text in (line.indicator.source, line.target.source if line.target else ""):
            if text and text not in sources:
                sources.append(text)
    for rule in quality.rules():
        if rule.source not in sources:
            sources.append(rule.source)
    return SupervisionReport(
        region=region, region_name=region.full_name(), period=period, generated_at=timezone.localtime(),
        computed_at=timezone.localtime(computed) if computed else None, lines=lines, rankings=ranked,
        behind=most_behind(region, period, targets, count=behind_count, rankings_=ranked),
        quality=quality.panel(region, period, today=today), sources=sources,
        child_level=None if region.level >= RegionLevel.TOWNSHIP else int(region.level) + 1,
    )


def latest_period_key(region: Region) -> str | None:
    """The most recent period with stored results for the region (quarters preferred), or None."""
    base = IndicatorResult.objects.filter(region=region).order_by("-period_end", "period_type")
    key = base.filter(period_type="quarter").values_list("period", flat=True).first()
    return key or base.values_list("period", flat=True).first()


def title(report: SupervisionReport) -> str:
    return _("Supervision and evaluation report: %(region)s, %(period)s") % {
        "region": report.region_name, "period": report.period.key}


# --------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------


def render_pdf(report: SupervisionReport) -> bytes:
    """A4 PDF through the paperwork helper (WeasyPrint, Noto CJK)."""
    from xinqiao.paperwork.pdf import render_pdf as render

    return render("indicators/report_pdf.html", {"report": report, "title": title(report)})


# --------------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
_STATUS_FILL = {"met": "C8E6C9", "near": "FFF3C4", "missed": "F8C9C4"}


def _header(ws: Any, row: int, labels: list[str], widths: list[int]) -> None:
    for col, (label, width) in enumerate(zip(labels, widths, strict=True), start=1):
        cell = ws.cell(row=row, column=col, value=label)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=row + 1, column=2)


def _sheet_title(index: int, name: str, used: set[str]) -> str:
    bad = set('[]:*?/\\')
    clean = "".join(c for c in name if c not in bad)
    text = f"{index:02d} {clean}"[:31]
    while text in used:
        text = f"{text[:29]}_{len(used)}"
    used.add(text)
    return text


def _meta(ws: Any, report: SupervisionReport) -> int:
    ws.cell(row=1, column=1, value=title(report)).font = Font(bold=True, size=13)
    ws.cell(row=2, column=1, value=_("Period: %(key)s (%(start)s – %(end)s)") % {
        "key": report.period.key, "start": report.period.start.isoformat(), "end": report.period.end.isoformat()})
    ws.cell(row=3, column=1, value=_("Generated: %(at)s; indicators computed: %(computed)s") % {
        "at": report.generated_at.strftime("%Y-%m-%d %H:%M"),
        "computed": report.computed_at.strftime("%Y-%m-%d %H:%M") if report.computed_at else "—"})
    return 5


def render_xlsx(report: SupervisionReport) -> bytes:
    """The workbook: summary, most behind, data quality, then one ranking sheet per indicator."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    row = _meta(ws, report)
    _header(ws, row, [_("Code"), _("Indicator"), _("Numerator"), _("Denominator"), _("Value"), _("Target"),
                      _("Target year"), _("Status"), _("Source")], [26, 30, 12, 12, 12, 10, 10, 12, 60])
    for line in report.lines:
        row += 1
        fmt = UNIT_FORMAT[line.indicator.unit]
        values: list[Any] = [line.indicator.code, line.name, line.numerator, line.denominator, line.value,
                             line.target.value if line.target else None, line.target.year if line.target else None,
                             line.shown_status, line.indicator.source]
        for col, value in enumerate(values, start=1):
            ws.cell(row=row, column=col, value=value)
        ws.cell(row=row, column=3).number_format = "#,##0"
        ws.cell(row=row, column=4).number_format = "#,##0"
        ws.cell(row=row, column=5).number_format = fmt
        ws.cell(row=row, column=6).number_format = fmt
        if line.status in _STATUS_FILL:
            ws.cell(row=row, column=8).fill = PatternFill("solid", fgColor=_STATUS_FILL[line.status])

    behind = wb.create_sheet(_("Most behind")[:31])
    row = _meta(behind, report)
    _header(behind, row, [_("Region code"), _("Region"), _("Indicators behind target"), _("Indicators with a target"),
                          _("Summed relative shortfall"), _("Behind on")], [14, 20, 14, 14, 16, 80])
    for late in report.behind:
        row += 1
        for col, value in enumerate([late.region_code, late.region_name, late.behind, late.with_target,
                                     late.shortfall, "、".join(late.indicators)], start=1):
            behind.cell(row=row, column=col, value=value)
        behind.cell(row=row, column=5).number_format = "0.0%"

    qsheet = wb.create_sheet(_("Data quality")[:31])
    row = _meta(qsheet, report)
    rules = list(report.quality.rules)
    _header(qsheet, row, [_("Region code"), _("Region"), _("Case reports entered"), *[r.label for r in rules]],
            [14, 20, 12, *[14] * len(rules)])
    for qrow in [*report.quality.rows, report.quality.total]:
        row += 1
        values = [qrow.code, qrow.name if qrow is not report.quality.total else _("Total"), qrow.case_reports,
                  *[qrow.counts[r.code] for r in rules]]
        for col, value in enumerate(values, start=1):
            cell = qsheet.cell(row=row, column=col, value=value)
            if col >= 3:
                cell.number_format = "#,##0"

    used: set[str] = {ws.title, behind.title, qsheet.title}
    for index, ranking in enumerate(report.rankings, start=1):
        sheet = wb.create_sheet(_sheet_title(index, ranking.name, used))
        sheet.cell(row=1, column=1, value=f"{ranking.name} ({ranking.indicator.code})").font = Font(bold=True, size=12)
        sheet.cell(row=2, column=1, value=_("Target: %(target)s") % {
            "target": format_target(ranking.indicator, ranking.target)})
        sheet.cell(row=3, column=1, value=f"{report.region_name} · {report.period.key}")
        row = 5
        _header(sheet, row, [_("Rank"), _("Region code"), _("Region"), _("Numerator"), _("Denominator"), _("Value"),
                             _("Status"), _("Relative shortfall")], [8, 14, 20, 12, 12, 12, 12, 14])
        fmt = UNIT_FORMAT[ranking.indicator.unit]
        for entry in ranking.entries:
            row += 1
            values = [entry.rank, entry.region_code, entry.region_name, entry.numerator, entry.denominator,
                      entry.value, entry.shown_status, entry.shortfall]
            for col, value in enumerate(values, start=1):
                sheet.cell(row=row, column=col, value=value)
            sheet.cell(row=row, column=4).number_format = "#,##0"
            sheet.cell(row=row, column=5).number_format = "#,##0"
            sheet.cell(row=row, column=6).number_format = fmt
            sheet.cell(row=row, column=8).number_format = "0.0%"
            if entry.status in _STATUS_FILL:
                sheet.cell(row=row, column=7).fill = PatternFill("solid", fgColor=_STATUS_FILL[entry.status])

    sources = wb.create_sheet(_("Sources")[:31])
    sources.cell(row=1, column=1, value=_("Sources")).font = _HEADER_FONT
    sources.column_dimensions["A"].width = 100
    for i, text in enumerate(report.sources, start=2):
        sources.cell(row=i, column=1, value=text)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

