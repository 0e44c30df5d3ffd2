"""医院等级 (``Institution.hospital_level``): the fact behind "二级以上综合医院 with a psychological clinic"
(indicators ``general_hospital_psych_clinic``): validated, imported from Excel (1/2/3, 二级, 三甲 …),
kept in the version snapshot, shown in the API."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from tests.registry.factories import institution_input, make_institution
from xinqiao.registry import imports
from xinqiao.registry.api import institution_out
from xinqiao.registry.forms import InstitutionForm
from xinqiao.registry.models import HospitalLevel, Institution
from xinqiao.registry.services import snapshot, validate_details

pytestmark = pytest.mark.django_db


def general(**kw: Any) -> dict[str, Any]:
    return {"kind": "general_hospital_clinic", "business_licence_number": "", "licensing_status": "",
            "services": ["psychology_outpatient"], **kw}


def test_validation_and_snapshot() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_details(institution_input(name="四级医院", hospital_level=4, **general()))
    assert "hospital_level" in caught.value.message_dict
    hospital = make_institution(None, name="二级综合医院", hospital_level=HospitalLevel.SECONDARY, **general())
    assert snapshot(hospital)["hospital_level"] == 2
    assert institution_out(hospital)["hospital_level"] == 2


def test_form_field() -> None:
    form = InstitutionForm(data={"name": "三级医院", "kind": "general_hospital_clinic", "region_code": "440106",
                                 "hospital_level": "3", "services": ["psychology_outpatient"]})
    form.is_valid()
    assert "hospital_level" not in form.errors
    assert form.cleaned_data["hospital_level"] == 3
    assert form.to_input().hospital_level == 3


def _book(levels: list[Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = imports.INSTITUTION_SHEET
    sheet.append(["名称", "类型", "区划代码", "服务项目", "医院等级"])
    for n, level in enumerate(levels):
        sheet.append([f"导入综合医院{n}", "general_hospital_clinic", "440106", "心理门诊", level])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import(cast: dict[str, Any]) -> None:
    bad = imports.import_workbook(cast["regulator"], _book(["三甲", "四级"]), form_key="h" * 32)
    assert not bad.ok
    assert [(e.row, e.column) for e in bad.errors] == [(3, "医院等级")]
    good = imports.import_workbook(cast["regulator"], _book(["三甲", "二级", 1, None]), form_key="g" * 32)
    assert good.ok, good.errors
    levels = dict(Institution.objects.filter(organisation__name__startswith="导入综合医院")
                  .values_list("organisation__name", "hospital_level"))
    assert levels == {"导入综合医院0": 3, "导入综合医院1": 2, "导入综合医院2": 1, "导入综合医院3": None}
