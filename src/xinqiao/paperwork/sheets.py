"""Reading uploaded spreadsheets (.xlsx and .csv) into rows of plain values, fast and bounded.

openpyxl reads about 200,000 cells a second here, which alone would hold an import of a
50-column sheet under the 5,000 rows/s target (``bench/import_bench.py``). An .xlsx file is a zip
of XML parts, and the import needs only one sheet's cell values, so this module parses that part
with ``xml.etree.ElementTree.iterparse`` (expat, which refuses entity expansion attacks since
2.4.1) and resolves shared strings and date formats itself. openpyxl still *writes* the
template and the error report (``workbooks.py``).

Bounded: the archive must be a real .xlsx, the sheet part may not unpack beyond
``MAX_SHEET_BYTES`` (a zip bomb stops there) and a file may hold at most ``limits()["max_rows"]``
data rows. Values come back as ``str``, ``int``, ``float``, ``bool``, ``date``/``datetime`` or
``None``; blank rows are dropped; each row keeps its spreadsheet row number for the report.
"""

from __future__ import annotations

import codecs
import csv
import gc
import html
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import ParseError, fromstring, iterparse

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAX_SHEET_BYTES = 400 * 1024 * 1024

#: Built-in number formats that show a date or time (ECMA-376 Part 1, §18.8.30).
DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
                             45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58})
_DATE_CODE = re.compile(r"[ymdhs]", re.I)
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
EPOCH_1900 = datetime(1899, 12, 30)  # noqa: DTZ001 - spreadsheet serial dates have no zone
EPOCH_1904 = datetime(1904, 1, 1)  # noqa: DTZ001


class SheetError(ValueError):
    """The upload is not a readable spreadsheet; ``code`` names the reason for the report."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Sheet:
    """The header row and the data rows (``(row number, values)``) of one sheet."""

    header: list[str]
    header_row: int
    rows: list[tuple[int, list[Any]]]


# --- xlsx ---------------------------------------------------------------------------------------------


def _safe(raw: bytes) -> bytes:
    """Refuse any part with a document type declaration: entities (billion laughs, external
    entities) can only be declared there, and spreadsheet parts never have one."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise SheetError("not_xlsx")
    return raw


def _column_index(ref: str) -> int:
    """``"C12"`` → 2 (zero-based column of a cell reference)."""
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + (ord(ch) - 64)
        else:
            break
    return n - 1


def _is_date_format(code: str) -> bool:
    return bool(_DATE_CODE.search(_QUOTED.sub("", code)))


def _date_styles(archive: zipfile.ZipFile) -> frozenset[int]:
    """Indexes of the cell formats (``cellXfs``) that show a date."""
    try:
        raw = archive.read("xl/styles.xml")
    except KeyError:
        return frozenset()
    custom: dict[int, str] = {}
    dated: set[int] = set()
    in_xfs = False
    index = 0
    for event, el in iterparse(io.BytesIO(_safe(raw)), events=("start", "end")):  # noqa: S314 - _safe: no DTD
        if el.tag == f"{MAIN}numFmt" and event == "end":
            custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
        elif el.tag == f"{MAIN}cellXfs":
            in_xfs = event == "start"
        elif el.tag == f"{MAIN}xf" and event == "end" and in_xfs:
            fmt = int(el.get("numFmtId", "0"))
            if fmt in DATE_FORMAT_IDS or (fmt in custom and _is_date_format(custom[fmt])):
                dated.add(index)
            index += 1
    return frozenset(dated)


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    try:
        raw = _safe(archive.read("xl/sharedStrings.xml"))
    except KeyError:
        return []
    strings: list[str] = []
    for _event, el in iterparse(io.BytesIO(raw)):  # noqa: S314 - _safe: no DTD
        if el.tag == f"{MAIN}si":
            # Rich text: the runs' <t>; phonetic hints (<rPh>) are not part of the value.
            strings.append("".join(t.text or "" for r in [el, *el.findall(f"{MAIN}r")]
                                   for t in r.findall(f"{MAIN}t")))
            el.clear()
    return strings


def _first_sheet_part(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """The part name of the workbook's first sheet, and whether dates count from 1904."""
    workbook = _safe(archive.read("xl/workbook.xml"))
    rels = _safe(archive.read("xl/_rels/workbook.xml.rels"))
    targets: dict[str, str] = {}
    for _event, el in iterparse(io.BytesIO(rels)):  # noqa: S314 - _safe: no DTD
        if el.tag == f"{PKG_REL}Relationship":
            targets[el.get("Id", "")] = el.get("Target", "")
    first = ""
    date1904 = False
    for _event, el in iterparse(io.BytesIO(workbook)):  # noqa: S314 - _safe: no DTD
        if el.tag == f"{MAIN}workbookPr":
            date1904 = el.get("date1904", "0").lower() in ("1", "true")
        elif el.tag == f"{MAIN}sheet" and not first:
            first = targets.get(el.get(f"{REL}id", ""), "")
    if not first:
        raise SheetError("no_sheet")
    part = first.lstrip("/") if first.startswith("/") else f"xl/{first}"
    return part, date1904


def _from_serial(value: float, date1904: bool) -> date | datetime:
    moment = (EPOCH_1904 if date1904 else EPOCH_1900) + timedelta(days=value)
    if value == int(value):
        return moment.date()
    return moment


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Column letters → zero-based index for the first 702 columns (A … ZZ), a dict look-up per cell.
_COLUMNS: dict[str, int] = {
    name: i for i, name in enumerate([*_LETTERS, *(a + b for a in _LETTERS for b in _LETTERS)])
}
_COLUMNS_BYTES: dict[bytes, int] = {name.encode("ascii"): i for name, i in _COLUMNS.items()}
_DIGITS = "0123456789"
_WORKSHEET = re.compile(rb"<(?:\w+:)?worksheet\b[^>]*>")
_SHEETDATA = re.compile(rb"<(?:\w+:)?sheetData\b[^>]*?(/?)>")
_SHEETDATA_END = re.compile(rb"</(?:\w+:)?sheetData>")
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
CHUNK_BYTES = 1 << 20


def _chunks(raw: bytes) -> Iterator[tuple[bytes, Callable[[], Iterator[Any]]]]:
    """``<sheetData>`` a megabyte of whole rows at a time: the bytes, and a function that parses
    them as XML (wrapped in the sheet's own ``<worksheet …>`` start tag, so its namespace
    declarations, ``x14ac:`` attributes on rows and the like, stay bound)."""
    root = _WORKSHEET.search(raw)
    data = _SHEETDATA.search(raw)
    if root is None or data is None:
        raise SheetError("not_xlsx")
    if data.group(1):  # <sheetData/>: no rows
        return
    end_match = _SHEETDATA_END.search(raw, data.end())
    if end_match is None:
        raise SheetError("not_xlsx")
    prefix = raw[data.start() + 1: data.start() + 1 + raw[data.start() + 1:].find(b"sheetData")]
    head = root.group(0) + b"<" + prefix + b"sheetData>"
    tail = b"</" + prefix + b"sheetData></" + prefix + b"worksheet>"
    pos, end = data.end(), end_match.start()
    while pos < end:
        cut_match = _ROW_END.search(raw, min(pos + CHUNK_BYTES, end), end)
        cut = cut_match.end() if cut_match else end
        chunk = raw[pos:cut]

        def parse(chunk: bytes = chunk) -> Iterator[Any]:
            try:
                tree = fromstring(head + chunk + tail)  # noqa: S314 - _safe: no DTD
            except ParseError:
                raise SheetError("not_xlsx") from None
            return iter(tree[0])

        yield chunk, parse
        pos = cut


#: One cell the way Excel, WPS and openpyxl write it (attributes r, s, t in that order): column,
#: row, style, type, then a plain value, an inline string, or anything else (formula, rich text).
_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})(\d+)"(?: s="(\d+)")?(?: t="([a-zA-Z]+)")?'
    rb'\s*(?:/>|><v>([^<]*)</v></c>|><is><t(?: [^>]*)?>([^<]*)</t></is></c>|>(.*?)</c>)', re.S)
_INNER_V = re.compile(rb"<v>([^<]*)</v>")
_INNER_T = re.compile(rb"<t(?: [^>]*)?>([^<]*)</t>")


def _fast_rows(chunk: bytes, shared: list[str], dated: frozenset[bytes], date1904: bool) -> list[tuple[int, list[Any]]] | None:
    """Rows of a chunk of ``<sheetData>`` read with one regular expression over the whole chunk
    (C speed, no element objects; each cell's row comes from its reference ``r="B12"``); ``None``
    when the chunk is written some other way (another attribute order, a namespace prefix, a cell
    without a reference), and the caller parses it as XML instead. Same values as ``_element_rows``."""
    out: list[tuple[int, list[Any]]] = []
    columns = _COLUMNS_BYTES
    cells = _CELL.findall(chunk)
    if len(cells) != chunk.count(b"<c ") + chunk.count(b"<c>") + chunk.count(b"<c/>"):
        return None
    current = b""
    values: list[Any] = []
    size = 0
    moments: dict[bytes, Any] = {}  # serial → date: a register repeats its dates
    for letters, number, style, kind, plain, inline, other in cells:
        if number != current:
            if values:
                out.append((int(current), values))
            current, values, size = number, [], 0
        if plain:
            raw = plain
        elif inline:
            raw = inline
        elif other:
            if kind == b"inlineStr":
                raw = b"".join(_INNER_T.findall(other))
            else:
                found = _INNER_V.search(other)
                raw = found.group(1) if found else b""
            if not raw:
                continue
        else:
            continue
        if kind == b"s":
            value: Any = shared[int(raw)]
            if not value:
                continue
        elif kind == b"inlineStr" or kind == b"str" or kind == b"d":
            value = raw.decode("utf-8")
            if "&" in value:
                value = html.unescape(value)
        elif not kind or kind == b"n":
            if style and style in dated:
                value = moments.get(raw)
                if value is None:
                    value = moments[raw] = _from_serial(float(raw.decode("ascii", "replace")), date1904)
            else:
                value = raw.decode("ascii", "replace")
        elif kind == b"b":
            value = raw == b"1"
        else:
            continue  # "e": #N/A, #REF! stay empty
        col = columns.get(letters, -1)
        if col < 0:
            col = _column_index(letters.decode("ascii"))
        if col >= size:
            values.extend([None] * (col + 1 - size))
            size = col + 1
        values[col] = value
    if values:
        out.append((int(current), values))
    return out


def _element_rows(tree_rows: Iterator[Any], shared: list[str], dated_styles: frozenset[str],
                  date1904: bool) -> Iterator[tuple[int, list[Any]]]:
    """Rows of parsed ``<row>`` elements (any valid spelling of the XML)."""
    columns, digits = _COLUMNS, _DIGITS
    v_tag = f"{MAIN}v"
    row_number = 0
    for row in tree_rows:
        row_number = int(row.get("r") or row_number + 1)
        values: list[Any] = []
        size = 0
        for cell in row:
            get = cell.get
            ref = get("r")
            if ref is None:
                col = size
            else:
                col = columns.get(ref.rstrip(digits), -1)
                if col < 0:
                    col = _column_index(ref)
            kind = get("t")
            if kind is None or kind == "n":
                first = cell[0] if len(cell) else None
                value: Any = first.text if first is not None and first.tag == v_tag else cell.findtext(v_tag)
                if value is not None and get("s") in dated_styles:
                    value = _from_serial(float(value), date1904)
            elif kind == "s":
                index = cell.findtext(v_tag)
                value = shared[int(index)] if index else None
            elif kind == "inlineStr":
                value = "".join(cell.itertext())
            elif kind == "b":
                value = cell.findtext(v_tag) == "1"
            elif kind == "str" or kind == "d":
                value = cell.findtext(v_tag)
            else:
                value = None  # "e" (#N/A, #REF!) stays empty for the validation
            if value is not None and value != "":
                if col >= size:
                    values.extend([None] * (col + 1 - size))
                    size = col + 1
                values[col] = value
        if values:
            yield row_number, values


def _xlsx_rows(data: bytes, max_rows: int) -> Iterator[tuple[int, list[Any]]]:
    """Rows of the first sheet. Numbers stay as their text (``"1"``, ``"2.5"``): each column's
    validator parses what it needs; only cells formatted as dates are converted (to ``date``).

    Each megabyte of rows is read by ``_fast_rows`` when it is written the usual way, else as XML.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SheetError("not_xlsx") from None
    with archive:
        try:
            part, date1904 = _first_sheet_part(archive)
            info = archive.getinfo(part)
            if info.file_size > MAX_SHEET_BYTES:
                raise SheetError("too_large")
            raw = _safe(archive.read(part))
            shared = _shared_strings(archive)
            dated = _date_styles(archive)
        except (KeyError, ParseError, zipfile.BadZipFile):
            raise SheetError("not_xlsx") from None
    dated_text = frozenset(str(i) for i in dated)
    dated_bytes = frozenset(t.encode() for t in dated_text)
    seen = 0
    for chunk, parse in _chunks(raw):
        rows = _fast_rows(chunk, shared, dated_bytes, date1904)
        for row_number, values in rows if rows is not None else _element_rows(parse(), shared, dated_text, date1904):
            seen += 1
            if seen > max_rows + 1:  # the header row and max_rows data rows
                raise SheetError("too_many_rows", max_rows=max_rows)
            yield row_number, values


# --- csv ----------------------------------------------------------------------------------------------


def _decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Chinese Excel saves CSV as GB18030 (GBK) by default."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise SheetError("encoding") from None


def _csv_rows(data: bytes, max_rows: int) -> Iterator[tuple[int, list[Any]]]:
    text = _decode_csv(data)
    seen = 0
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, values in enumerate(reader, start=1):
            cells: list[Any] = [v.strip() or None for v in values]
            while cells and cells[-1] is None:
                cells.pop()
            if cells:
                seen += 1
                if seen > max_rows + 1:
                    raise SheetError("too_many_rows", max_rows=max_rows)
                yield number, cells
    except csv.Error:
        raise SheetError("not_csv") from None


# --- entry point --------------------------------------------------------------------------------------


@dataclass
class SheetStream:
    """The header row of one sheet and an iterator over its data rows, read as they are consumed."""

    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[Any]]]


def open_sheet(data: bytes, file_format: str, *, max_rows: int) -> SheetStream:
    """The first sheet of an .xlsx (``file_format="xlsx"``) or a CSV file, header read, rows to come.

    Reading errors (``SheetError``) may also be raised while the rows are consumed (too many rows).
    """
    rows_iter = _xlsx_rows(data, max_rows) if file_format == "xlsx" else _csv_rows(data, max_rows)
    for number, values in rows_iter:
        return SheetStream(header=["" if v is None else str(v).strip() for v in values], header_row=number,
                           rows=rows_iter)
    raise SheetError("empty")


def read_sheet(data: bytes, file_format: str, *, max_rows: int) -> Sheet:
    """The first sheet of an .xlsx (``file_format="xlsx"``) or a CSV file: header and data rows."""
    # A sheet is a million small objects that live until the import ends: the cyclic collector
    # would re-walk them all on every generation-2 pass (measured: reading slowed 2× per run).
    # Nothing here makes cycles, so pause it while reading.
    collecting = gc.isenabled()
    gc.disable()
    try:
        opened = open_sheet(data, file_format, max_rows=max_rows)
        rows = list(opened.rows)
    finally:
        if collecting:
            gc.enable()
    return Sheet(header=opened.header, header_row=opened.header_row, rows=rows)


def detect_format(name: str, data: bytes) -> str:
    """``xlsx`` or ``csv`` from the content (a zip starts with ``PK``), else from the file name."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if name.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"  # claims to be a workbook but is not a zip: reading reports not_xlsx
    return "csv"
