"""Regional figures for the indicators: 常住人口 and survey results, their import and their roll-up.

Two jobs:

1. **Reading** a figure for every region as of a year, in SQL (``figure_ctes`` / ``figure_sql`` /
   ``figures``). A region's figure is its own for the latest year ≤ the year asked; a region without
   one gets the sum of its children's, but only when *every* child (every row of the national code
   list under it) has a figure: a partial sum would understate a denominator and overstate the
   rate. The roll-up goes level by level (township → county → prefecture → province) in one
   statement of common table expressions; there is no loop over regions.
2. **Importing** figures from a CSV or an Excel workbook (``import_file``; the command
   ``xinqiao load-population`` and the upload page call it). The file has one row per region, year and
   measure: ``区划代码 (region_code), 年份 (year), 指标 (measure), 数值 (value), 来源 (source)``;
   headers may be the Chinese label, the key or "标签 (key)", measures the code or the Chinese or
   English label. Every row is checked first (region code exists and lies in the importer's region,
   year, known measure, non-negative whole number, no duplicates, a survey's "aware"/"treated" not
   above its respondents/cases); the report names row and column. If any row is wrong nothing is
   written; otherwise every row is upserted in one statement, so importing the same file again
   changes nothing (and a corrected file updates the figures it names).

The measures are ``registry.Measure`` (``registry.RegionStatistic``): population (and its urban and
rural split), villages, awareness survey respondents and those meeting the standard (urban, rural,
students), depression survey cases and those treated (baseline and current).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from xinqiao.core import audit
from xinqiao.core.models import AuditAction, Region, RegionLevel
from xinqiao.core.scope import in_scope
from xinqiao.registry.models import Measure, RegionStatistic

MAX_ROWS = 50_000
MIN_YEAR, MAX_YEAR = 1949, 2100

# (key, Chinese header, required)
COLUMNS: list[tuple[str, str, bool]] = [
    ("region_code", "区划代码", True), ("year", "年份", True), ("measure", "指标", True), ("value", "数值", True),
    ("source", "来源", False),
]
COLUMN_ZH = {key: zh for key, zh, _r in COLUMNS}

#: A survey's "meets the standard" count may not exceed its respondents (same region and year).
PAIRS: dict[str, str] = {
    Measure.AWARENESS_URBAN_AWARE: Measure.AWARENESS_URBAN_SURVEYED,
    Measure.AWARENESS_RURAL_AWARE: Measure.AWARENESS_RURAL_SURVEYED,
    Measure.AWARENESS_STUDENTS_AWARE: Measure.AWARENESS_STUDENTS_SURVEYED,
    Measure.DEPRESSION_BASELINE_TREATED: Measure.DEPRESSION_BASELINE_CASES,
    Measure.DEPRESSION_TREATED: Measure.DEPRESSION_CASES,
}


# --------------------------------------------------------------------------------------------------
# Reading figures in SQL
# --------------------------------------------------------------------------------------------------


def figure_ctes(measure: str, year: int, name: str) -> tuple[list[tuple[str, str]], list[Any]]:
    """Common table expressions ending in ``name`` (columns ``code``, ``value``): the figure of every
    region that has one (its own, latest year ≤ ``year``; else the complete sum of its children's).

    Returned as ``[(cte name, body)]`` and the parameters, so callers can put several measures into one
    ``WITH`` list (CTE names are prefixed with ``name``)."""
    stat, region = RegionStatistic._meta.db_table, Region._meta.db_table
    own = f"{name}_own"
    ctes = [(own, f"SELECT region_id AS code, value FROM (SELECT region_id, value, ROW_NUMBER() OVER "  # noqa: S608
                  f"(PARTITION BY region_id ORDER BY year DESC) AS rn FROM {stat} WHERE measure = %s AND year <= %s)"
                  f" ranked WHERE rn = 1")]
    ctes.append((f"{name}_4", f"SELECT r.code, o.value FROM {region} r JOIN {own} o ON o.code = r.code "  # noqa: S608
                              f"WHERE r.level = {int(RegionLevel.TOWNSHIP)}"))
    for level in (RegionLevel.COUNTY, RegionLevel.PREFECTURE, RegionLevel.PROVINCE):
        below = f"{name}_{int(level) + 1}"
        ctes.append((f"{name}_{int(level)}", (
            f"SELECT r.code, COALESCE(o.value, CASE WHEN c.n = c.k THEN c.total END) AS value FROM {region} r "  # noqa: S608
            f"LEFT JOIN {own} o ON o.code = r.code "
            f"LEFT JOIN (SELECT ch.parent_id AS code, COUNT(*) AS n, COUNT(b.value) AS k, "
            f"CAST(SUM(b.value) AS BIGINT) AS total FROM {region} ch LEFT JOIN {below} b ON b.code = ch.code "
            f"WHERE ch.level = {int(level) + 1} GROUP BY ch.parent_id) c ON c.code = r.code "
            f"WHERE r.level = {int(level)}")))
    union = " UNION ALL ".join(f"SELECT code, value FROM {name}_{lv} WHERE value IS NOT NULL"  # noqa: S608
                               for lv in (1, 2, 3, 4))
    ctes.append((name, union))
    return ctes, [measure, year]


def with_clause(ctes: Iterable[tuple[str, str]]) -> str:
    return "WITH " + ", ".join(f"{n} AS ({body})" for n, body in ctes)


def figure_sql(measure: str, year: int) -> tuple[str, list[Any]]:
    """One statement selecting ``code, value`` for every region with a figure (see ``figure_ctes``)."""
    ctes, params = figure_ctes(measure, year, "fig")
    return f"{with_clause(ctes)} SELECT code, value FROM fig", params  # noqa: S608


def figures(measure: str, year: int) -> dict[str, int]:
    """Region code → figure as of ``year`` (own, latest year ≤ it; else the complete sum of the children's)."""
    sql, params = figure_sql(measure, year)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {code: int(value) for code, value in cursor.fetchall()}


# --------------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: the row number as the file shows it (1 = header), the column's header, a message."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.row:
            return self.message
        if not self.column:
            return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        return _("Row %(row)s, column “%(column)s”: %(message)s") % {
            "row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    ok: bool
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Figure:
    row: int
    region_code: str
    year: int
    measure: str
    value: int
    source: str


def measure_names() -> dict[str, str]:
    """Code, English and Chinese label of every measure → code (case-insensitive)."""
    out: dict[str, str] = {}
    for code, label in Measure.choices:
        out[code.lower()] = code
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                text = str(label).lower()
            out[text] = code
            out[text.split(" (")[0].split("（")[0].strip()] = code
    # The bare Chinese names a statistics office writes.
    out.update({"常住人口": Measure.POPULATION, "城镇常住人口": Measure.POPULATION_URBAN,
                "乡村常住人口": Measure.POPULATION_RURAL, "农村常住人口": Measure.POPULATION_RURAL,
                "村（居）委会": Measure.VILLAGES, "村（居）委会数": Measure.VILLAGES})
    return out


def _header_map(header: list[Any]) -> tuple[dict[str, int], list[str]]:
    wanted: dict[str, str] = {}
    for key, zh, _req in COLUMNS:
        for text in (key, zh, f"{zh} ({key})", f"{zh}（{key}）"):
            wanted[text.lower()] = key
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        text = str(cell or "").strip().lstrip("\ufeff").lower()
        if text in wanted and wanted[text] not in found:
            found[wanted[text]] = index
    return found, [zh for key, zh, required in COLUMNS if required and key not in found]


def _table(content: bytes, file_name: str) -> list[list[Any]]:
    """The file's rows (header first): an .xlsx workbook's first sheet, or CSV text (UTF-8 or GB18030)."""
    if content[:2] == b"PK" or file_name.lower().endswith((".xlsx", ".xlsm")):
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("gb18030")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_WHOLE = re.compile(r"^\d{1,3}(?:[,，]\d{3})+$|^\d+$")


def _whole(value: Any) -> int | None:
    """A non-negative whole number (thousands separators allowed), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = _text(value)
    return int(re.sub(r"[,，]", "", text)) if _WHOLE.match(text) else None


def check(table: list[list[Any]], *, source: str = "", user: Any = None) -> tuple[list[Figure], list[RowError]]:
    """Every row checked; the figures when there is no error (see the module docstring)."""
    if not table:
        return [], [RowError(0, "", _("The file is empty."))]
    index, missing = _header_map(table[0])
    if missing:
        return [], [RowError(1, zh, _("This column is missing from the header row.")) for zh in missing]
    rows = []
    for number, values in enumerate(table[1:], start=2):
        row = {key: (values[i] if i < len(values) else None) for key, i in index.items()}
        if all(_text(v) == "" for v in row.values()):
            continue
        rows.append((number, row))
    if not rows:
        return [], [RowError(0, "", _("The file has no rows to import."))]
    if len(rows) > MAX_ROWS:
        return [], [RowError(0, "", _("At most %(n)s rows per file.") % {"n": MAX_ROWS})]
    codes = {_text(r["region_code"]) for _n, r in rows}
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    names = measure_names()
    errors: list[RowError] = []
    figures_: list[Figure] = []
    seen: dict[tuple[str, int, str], int] = {}
    for number, row in rows:
        def err(key: str, message: str, number: int = number) -> None:
            errors.append(RowError(number, COLUMN_ZH[key], message))

        code = _text(row["region_code"])
        year = _whole(row["year"])
        measure = names.get(_text(row["measure"]).lower())
        value = _whole(row["value"])
        bad = False
        if code not in known:
            err("region_code", _("“%(code)s” is not a region code of the national list.") % {"code": code})
            bad = True
        elif user is not None and not in_scope(user, code):
            err("region_code", _("Region %(code)s is outside your own region.") % {"code": code})
            bad = True
        if year is None or not MIN_YEAR <= year <= MAX_YEAR:
            err("year", _("“%(value)s” is not a year between %(min)s and %(max)s.") % {
                "value": _text(row["year"]), "min": MIN_YEAR, "max": MAX_YEAR})
            bad = True
        if measure is None:
            err("measure", _("“%(value)s” is not a known measure; use one of: %(known)s.") % {
                "value": _text(row["measure"]), "known": ", ".join(Measure.values)})
            bad = True
        if value is None:
            err("value", _("“%(value)s” is not a whole number of 0 or more.") % {"value": _text(row["value"])})
            bad = True
        if bad:
            continue
        assert year is not None and measure is not None and value is not None
        key = (code, year, measure)
        if key in seen:
            errors.append(RowError(number, "", _("Row %(other)s already gives this region, year and measure.") % {
                "other": seen[key]}))
            continue
        seen[key] = number
        figures_.append(Figure(number, code, year, measure, value, (_text(row.get("source")) or source)[:255]))
    by_key = {(f.region_code, f.year, f.measure): f for f in figures_}
    for f in figures_:
        base = PAIRS.get(f.measure)
        whole = by_key.get((f.region_code, f.year, base)) if base is not None else None
        if base is not None and whole is not None and f.value > whole.value:
            errors.append(RowError(f.row, COLUMN_ZH["value"], _(
                "%(value)s is more than the %(whole)s of row %(other)s (%(measure)s).") % {
                "value": f.value, "whole": whole.value, "other": whole.row, "measure": Measure(base).label}))
    errors.sort(key=lambda e: e.row)
    return (figures_ if not errors else []), errors


def import_file(content: bytes, file_name: str = "", *, source: str = "", user: Any = None) -> ImportResult:
    """Check the file, then upsert every figure in one transaction, or nothing (module docstring)."""
    try:
        table = _table(content, file_name)
    except Exception:  # any unreadable file is one message to the user
        return ImportResult(ok=False, errors=[RowError(0, "", _(
            "The file cannot be read: upload a CSV file (UTF-8) or an Excel workbook (.xlsx)."))])
    planned, errors = check(table, source=source, user=user)
    if errors:
        return ImportResult(ok=False, errors=errors)
    existing = {(r, y, m): (v, s) for r, y, m, v, s in RegionStatistic.objects.filter(
        region_id__in={f.region_code for f in planned}, measure__in={f.measure for f in planned}).values_list(
        "region_id", "year", "measure", "value", "source")}
    result = ImportResult(ok=True, rows=len(planned))
    for f in planned:
        before = existing.get((f.region_code, f.year, f.measure))
        if before is None:
            result.created += 1
        elif before == (f.value, f.source):
            result.unchanged += 1
        else:
            result.updated += 1
    objects = [RegionStatistic(region_id=f.region_code, year=f.year, measure=f.measure, value=f.value,
                               source=f.source, **RegionStatistic.region_columns(f.region_code)) for f in planned]
    with transaction.atomic():
        RegionStatistic.objects.bulk_create(objects, batch_size=2000, update_conflicts=True,
                                            unique_fields=["region", "year", "measure"],
                                            update_fields=["value", "source"])
        audit.record(AuditAction.CHANGE if result.updated else AuditAction.CREATE,
                     object_type=RegionStatistic._meta.label_lower, actor=user,
                     region_code=_common_prefix([f.region_code for f in planned]),
                     detail={"via": "import", "file_sha256": hashlib.sha256(content).hexdigest(),
                             "rows": result.rows, "created": result.created, "updated": result.updated,
                             "measures": sorted({f.measure for f in planned})})
    return result


def _common_prefix(codes: list[str]) -> str:
    """The most specific region containing every code (for the audit event's region)."""
    prefix = codes[0] if codes else ""
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    for length in (9, 6, 4, 2):
        if len(prefix) >= length:
            return prefix[:length]
    return ""


def template_csv() -> str:
    """The header row and an example, as a CSV for the upload page."""
    return ("区划代码 (region_code),年份 (year),指标 (measure),数值 (value),来源 (source)\r\n"
            "440106,2020,population,2241826,第七次全国人口普查\r\n")
