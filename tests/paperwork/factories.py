"""Spreadsheets for the import tests: real .xlsx (and CSV) files built with openpyxl, row by row.

``sheet_bytes(columns, rows)`` writes a workbook whose first sheet has the columns' Chinese headers
and one row per dict (``key → cell``); ``patient_row()`` is a valid patient of township A with a
fresh, valid ID number, to be overridden cell by cell.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from typing import Any

from django.utils import translation
from openpyxl import Workbook

from xinqiao.core import idcard
from xinqiao.paperwork.columns import Column

_rng = random.Random(20260501)


def new_id_number(county: str = "440106", birth: date | None = None) -> str:
    """A valid resident ID number not used before in this test run."""
    birth = birth or date(1960, 1, 1).fromordinal(date(1960, 1, 1).toordinal() + _rng.randint(0, 15000))
    return idcard.generate_resident_id(county, birth, _rng.randint(0, 999))


def wrong_check_digit(number: str) -> str:
    """The same number with a wrong check character."""
    right = number[-1]
    return number[:-1] + ("0" if right != "0" else "1")


def headers(columns: tuple[Column, ...], language: str = "zh-hans") -> list[str]:
    with translation.override(language):
        return [f"{c.header}*" if c.required else str(c.header) for c in columns]


def sheet_bytes(columns: tuple[Column, ...], rows: list[dict[str, Any]], *, language: str = "zh-hans",
                text_ids: bool = True) -> bytes:
    """An .xlsx whose first sheet has the headers and the rows (cells by column key)."""
    wb = Workbook()
    ws = wb.active
    ws.append(headers(columns, language))
    keys = [c.key for c in columns]
    for row in rows:
        ws.append([row.get(k) for k in keys])
    if text_ids:
        for cell in ws[f"C2:C{len(rows) + 1}"]:
            cell[0].number_format = "@"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(columns: tuple[Column, ...], rows: list[dict[str, Any]], *, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers(columns))
    keys = [c.key for c in columns]
    for row in rows:
        writer.writerow(["" if row.get(k) is None else row.get(k) for k in keys])
    return buffer.getvalue().encode(encoding)


def patient_row(town_code: str, **overrides: Any) -> dict[str, Any]:
    """A valid patient row of ``town_code`` (a fresh ID number of the township's county)."""
    row: dict[str, Any] = {
        "name": "测试患者", "id_number": new_id_number(town_code[:6]), "phone": "13800001111",
        "address": "测试路1号", "region_code": town_code, "registered_on": "2024-03-01",
        "diagnosis": "F20 精神分裂症", "icd10_code": "F20.0", "diagnosed_on": date(2023, 12, 1),
        "danger_level": "1", "guardian_name": "测试监护人", "guardian_relation": "母子",
        "guardian_phone": "13900002222", "household": "1", "employment": "4 下岗或无业", "consent": "1",
        "consent_signed_by": "测试监护人", "consent_date": "2024-03-01", "past_symptoms": "1,3、10",
        "trouble_count": 0, "economic_status": "2", "poverty_alleviation": "否", "community_rehab": "是",
    }
    row.update(overrides)
    return row
