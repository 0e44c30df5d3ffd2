"""Reading uploaded spreadsheets: .xlsx as openpyxl writes it (inline strings) and as Excel writes it
(shared strings, rich text, dates by style, sparse rows), CSV in UTF-8 and GB18030, and refusals."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from xinqiao.paperwork.sheets import SheetError, detect_format, read_sheet

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def excel_like(sheet_data: str, shared: list[str], *, styles: str = "", worksheet_attrs: str = "") -> bytes:
    """A minimal workbook in Excel's own layout: shared strings, a styles part, ``r``/``s``/``t`` cells."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", f'<workbook {NS} xmlns:r="{RELS_NS}"><sheets>'
                                      '<sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="x" Target="worksheets/sheet1.xml"/></Relationships>')
        sst = "".join(f"<si><t>{s}</t></si>" for s in shared)
        z.writestr("xl/sharedStrings.xml", f"<sst {NS}>{sst}</sst>")
        z.writestr("xl/styles.xml", styles or f'<styleSheet {NS}><numFmts count="1"><numFmt numFmtId="164" '
                                              'formatCode="yyyy/m/d"/></numFmts><cellXfs count="3"><xf numFmtId="0"/>'
                                              '<xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>')
        z.writestr("xl/worksheets/sheet1.xml",
                   f'<worksheet {NS} {worksheet_attrs}><sheetData>{sheet_data}</sheetData></worksheet>')
    return buffer.getvalue()


def test_openpyxl_workbook_inline_strings_numbers_and_dates() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "代码", "日期", "是否"])
    ws.append(["王某", 1, date(2024, 3, 5), True])
    ws.append([])
    ws.append(["李某", 2.5, "2024-01-01", None])
    buffer = io.BytesIO()
    wb.save(buffer)
    sheet = read_sheet(buffer.getvalue(), "xlsx", max_rows=10)
    assert sheet.header == ["姓名", "代码", "日期", "是否"]
    assert sheet.header_row == 1
    # Blank rows are dropped; numbers stay as their text; date cells become dates.
    assert sheet.rows == [(2, ["王某", "1", date(2024, 3, 5), True]), (4, ["李某", "2.5", "2024-01-01"])]


def test_excel_layout_shared_strings_sparse_cells_and_date_styles() -> None:
    data = excel_like(
        '<row r="1" spans="1:4" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="D1" t="s"><v>2</v></c></row>'
        '<row r="2"><c r="A2" s="0" t="s"><v>3</v></c><c r="B2" s="1"><v>45356</v></c>'
        '<c r="D2" s="2"><v>45357</v></c></row>'
        '<row r="7"><c r="C7" t="inlineStr"><is><r><t>富</t></r><r><t>文本</t></r></is></c>'
        '<c r="D7"><f>1+1</f><v>2</v></c></row>',
        ["姓名", "建档日期", "确诊日期", "张&amp;三"],
        worksheet_attrs='xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"',
    )
    sheet = read_sheet(data, "xlsx", max_rows=10)
    assert sheet.header == ["姓名", "建档日期", "", "确诊日期"]
    assert sheet.rows == [
        (2, ["张&三", date(2024, 3, 5), None, date(2024, 3, 6)]),
        (7, [None, None, "富文本", "2"]),
    ]


def test_other_attribute_order_is_read_as_xml() -> None:
    # t before r: not the usual spelling, so the fast reader hands the chunk to the XML parser.
    data = excel_like('<row r="1"><c t="s" r="A1"><v>0</v></c></row><row r="2"><c t="s" r="B2"><v>1</v></c></row>',
                      ["列", "值"])
    sheet = read_sheet(data, "xlsx", max_rows=10)
    assert sheet.header == ["列"]
    assert sheet.rows == [(2, [None, "值"])]


def test_fractional_date_becomes_datetime() -> None:
    data = excel_like('<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" s="1"><v>45356.5</v></c></row>',
                      ["时间"])
    assert read_sheet(data, "xlsx", max_rows=10).rows == [(2, [datetime(2024, 3, 5, 12, 0)])]  # noqa: DTZ001


def test_document_type_declarations_are_refused() -> None:
    data = excel_like('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', ["x"])
    evil = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                body = b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]>' + body
            dst.writestr(item, body)
    with pytest.raises(SheetError) as exc:
        read_sheet(evil.getvalue(), "xlsx", max_rows=10)
    assert exc.value.code == "not_xlsx"


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04broken"])
def test_not_a_workbook(content: bytes) -> None:
    with pytest.raises(SheetError) as exc:
        read_sheet(content, "xlsx", max_rows=10)
    assert exc.value.code == "not_xlsx"


def test_too_many_rows() -> None:
    wb = Workbook()
    for n in range(6):
        wb.active.append([f"r{n}"])
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(SheetError) as exc:
        read_sheet(buffer.getvalue(), "xlsx", max_rows=4)
    assert exc.value.code == "too_many_rows" and exc.value.params == {"max_rows": 4}
    assert len(read_sheet(buffer.getvalue(), "xlsx", max_rows=5).rows) == 5


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_encodings(encoding: str) -> None:
    text = "姓名,证件号码,日期\r\n王某, 440106199001011235 ,2024/3/5\r\n,,\r\n李某,,\r\n"
    sheet = read_sheet(text.encode(encoding), "csv", max_rows=10)
    assert sheet.header == ["姓名", "证件号码", "日期"]
    assert sheet.rows == [(2, ["王某", "440106199001011235", "2024/3/5"]), (4, ["李某"])]


def test_csv_in_another_encoding_is_refused() -> None:
    with pytest.raises(SheetError) as exc:
        read_sheet("姓名\r\n王某\r\n".encode("utf-16"), "csv", max_rows=10)
    assert exc.value.code == "encoding"


def test_empty_file_has_no_header() -> None:
    with pytest.raises(SheetError) as exc:
        read_sheet(b"", "csv", max_rows=10)
    assert exc.value.code == "empty"


def test_format_from_content_then_name() -> None:
    assert detect_format("x.csv", b"PK\x03\x04rest") == "xlsx"
    assert detect_format("x.xlsx", b"a,b") == "xlsx"
    assert detect_format("x.csv", b"a,b") == "csv"
