"""The spreadsheets the app hands out: the import templates and the validation reports (openpyxl).

A template is three sheets. The first holds the data: one header per column (required ones marked
``*`` and shaded, a comment with the hint), an example row in grey that the import skips, text
format on the columns Excel would otherwise turn into numbers (ID numbers lose their last digits),
date format on date columns, and a drop-down on every coded column. The second is the legend (each
coded column's codes and labels, as on the paper form); a hidden third holds the drop-down lists.
Headers and labels are in the user's language; the import recognises Chinese and English ones.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from xinqiao.paperwork.columns import BOOL, CODE, CODES, DATE, Column, header_key
from xinqiao.paperwork.models import ImportBatch

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLE_FONT = Font(italic=True, color="808080")
#: Keys whose cells must stay text (Excel drops leading zeros and digits past the 15th of numbers).
TEXT_KEYS = frozenset({"id_number", "phone", "region_code", "guardian_phone", "village_contact_phone",
                       "icd10_code", "co_icd10_code"})


def _header_text(column: Column) -> str:
    return f"{column.header}*" if column.required else str(column.header)


def example_values(columns: tuple[Column, ...]) -> list[Any]:
    """The example row: each column's example, for coded columns in the drop-down's spelling."""
    out: list[Any] = []
    for column in columns:
        value = column.example
        if column.kind == CODE and value != "":
            code = column.lookup_code(str(value))
            texts = dict(zip([v for v, _l in column.options()], column.option_texts(), strict=True))
            value = texts.get(code, value)
        elif column.kind == DATE and isinstance(value, str) and value:
            value = date.fromisoformat(value)
        out.append(value)
    return out


def is_example_row(columns: tuple[Column, ...], positions: dict[str, int], cells: list[Any]) -> bool:
    """Whether a data row is the template's example row left in place (the import skips it)."""
    example = example_values(columns)
    keys = [c.key for c in columns]
    compared = 0
    for key in ("name", "id_number", "followup_date"):
        if key in positions and key in keys:
            wanted = example[keys.index(key)]
            cell = cells[positions[key]] if positions[key] < len(cells) else None
            if wanted in ("", None) or cell is None or header_key(str(cell)) != header_key(str(wanted)):
                return False
            compared += 1
    return compared > 0


def build_template(columns: tuple[Column, ...], *, rows: int) -> bytes:
    """The import template for ``columns`` with drop-downs on the first ``rows`` data rows."""
    wb = Workbook()
    data = wb.active
    data.title = _("data")
    legend = wb.create_sheet(_("codes"))
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"
    data.append([_header_text(c) for c in columns])
    data.append(example_values(columns))
    data.freeze_panes = "B2"
    last_row = rows + 1
    legend.append([_("Column"), _("Code"), _("Meaning")])
    for cell in legend[1]:
        cell.font = Font(bold=True)
    legend.append([_("Row 2 of the data sheet is an example: the import skips it, you may delete it."), "", ""])
    list_col = 0
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        head = data.cell(row=1, column=index)
        head.font = Font(bold=True)
        head.fill = REQUIRED_FILL if column.required else HEADER_FILL
        head.alignment = Alignment(wrap_text=True, vertical="center")
        if column.hint:
            head.comment = Comment(str(column.hint), "xinqiao")
        data.column_dimensions[letter].width = column.width
        example = data.cell(row=2, column=index)
        example.font = EXAMPLE_FONT
        if column.key in TEXT_KEYS:
            data.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
        elif column.kind == DATE:
            data.column_dimensions[letter].number_format = "yyyy-mm-dd"
            example.number_format = "yyyy-mm-dd"
        if column.kind in (CODE, CODES):
            for value, label in column.options():
                legend.append([str(column.header), str(value), label])
        if column.kind == CODE:
            list_col += 1
            list_letter = get_column_letter(list_col)
            for n, text in enumerate(column.option_texts(), start=1):
                lists.cell(row=n, column=list_col, value=text)
            validation = DataValidation(
                type="list", formula1=f"lists!${list_letter}$1:${list_letter}${len(column.options())}",
                allow_blank=not column.required, showErrorMessage=True,
                errorTitle=str(column.header), error=_("Choose a value from the list."))
            validation.add(f"{letter}2:{letter}{last_row}")
            data.add_data_validation(validation)
        elif column.kind == BOOL:
            yes_no = f'"{pgettext("spreadsheet", "yes")},{pgettext("spreadsheet", "no")}"'
            validation = DataValidation(type="list", formula1=yes_no, allow_blank=True, showErrorMessage=True,
                                        errorTitle=str(column.header), error=_("Choose a value from the list."))
            validation.add(f"{letter}2:{letter}{last_row}")
            data.add_data_validation(validation)
        elif column.kind == CODES:
            head.comment = Comment(" ".join(filter(None, [str(column.hint), _("Codes: %(codes)s") % {
                "codes": column.allowed()}])), "xinqiao")
    data.row_dimensions[1].height = 32
    legend.column_dimensions["A"].width = 26
    legend.column_dimensions["C"].width = 60
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def build_report(batch: ImportBatch) -> bytes:
    """A batch's validation report: a summary, then one line per problem (row, column, message)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("report"))
    ws.append([_("File"), batch.file_name])
    ws.append([_("Status"), batch.get_status_display()])
    ws.append([_("Rows"), batch.rows_total])
    ws.append([_("Rows with errors"), batch.rows_invalid])
    ws.append([_("Rows imported"), batch.rows_created])
    ws.append([_("Rows already present (skipped)"), batch.rows_skipped])
    ws.append([_("Errors"), batch.error_count])
    if batch.error_count > len(batch.errors):
        ws.append([_("Only the first %(count)s errors are listed.") % {"count": len(batch.errors)}])
    ws.append([])
    ws.append([_("Row"), _("Column"), _("Problem")])
    for row, column, message in batch.errors:
        ws.append([row or "", column, message])
    if batch.notes:
        ws.append([])
        ws.append([_("Row"), "", _("Note")])
        for row, message in batch.notes:
            ws.append([row or "", "", message])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
