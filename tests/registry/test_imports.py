"""Excel import of institutions and practitioners: real .xlsx files, a row-level error report, and
all-or-nothing: a file with one bad cell writes nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests.helpers import login_verified
from xinqiao.core.models import AuditEvent, Organisation, OrgType
from xinqiao.registry import imports
from xinqiao.registry.models import Credential, ImportBatch, Institution, Practitioner

pytestmark = pytest.mark.django_db

INST_HEADER = ["名称 (name)", "类型 (kind)", "区划代码 (region_code)", "地址 (address)", "电话 (phone)",
               "纬度 (latitude)", "经度 (longitude)", "24小时开放 (open_24h)", "开放时间 (hours)", "服务项目 (services)",
               "学生数 (students)", "专职心理人员数 (counsellors)", "营业执照号 (business_licence_number)",
               "村（居）代码 (village_code)", "示范单位年份 (demonstration_year)"]
PRAC_HEADER = ["姓名", "职业", "执业机构", "执业机构区划代码", "岗位", "证书类型", "证书编号", "发证日期", "有效期至"]


def institution_rows(town: str) -> list[list[Any]]:
    return [
        ["天河示范精神专科医院", "psychiatric_hospital", "440106", "天河路1号", "020-12345678", 23.13, 113.33, "是", "",
         "精神科急诊、精神科门诊", None, None, None, None, None],
        ["天河示范社区心理咨询室", "村（社区）心理咨询室/社会工作室", town, "某社区", "", 23.12,
         113.35, "否", "1-5 09:00-17:00", "心理咨询", None, None, None, f"{town}001", 2025],
        ["天河示范大学心理中心", "university_centre", "440106", "", "", None, None, "否", "1-5 08:00-17:00",
         "counselling", 20000, 6, None, None, None],
        ["天河示范咨询公司", "social counselling agency", "440106", "", "", 23.14, 113.36, "", "1-6 09:00-21:00",
         "心理咨询", None, None, "91440106MA5IMPORT1", None, None],
    ]


def practitioner_rows() -> list[list[Any]]:
    return [
        ["郑医生", "psychiatrist", "天河示范精神专科医院", "440106", "主治医师", "physician_licence", "110440106000001",
         "2012-07-01", None],
        ["王咨询", "counsellor", "天河示范咨询公司", "440106", "", "counsellor_national", "1511000000000777",
         "2016-06-01", None],
        ["王咨询", "counsellor", "天河示范咨询公司", "440106", "", "中国心理学会临床与咨询心理学注册心理师/督导师",
         "X-2024-77", "2024-01-01", "2027-12-31"],  # the same person, a second credential
        ["赵社工", "social_worker", "天河示范社区心理咨询室", "{town}", "", None, None, None, None],
    ]


def workbook(inst: list[list[Any]], prac: list[list[Any]], *, inst_header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = imports.INSTITUTION_SHEET
    sheet.append(inst_header or INST_HEADER)
    for row in inst:
        sheet.append(row)
    people = book.create_sheet(imports.PRACTITIONER_SHEET)
    people.append(PRAC_HEADER)
    for row in prac:
        people.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def good_file(cast: dict[str, Any], tmp_path: Path) -> bytes:
    town = cast["community_doctor_a"].region_id
    prac = [[c.replace("{town}", town) if isinstance(c, str) else c for c in row] for row in practitioner_rows()]
    path = tmp_path / "network.xlsx"
    path.write_bytes(workbook(institution_rows(town), prac))
    load_workbook(path)  # a real workbook on disk
    return path.read_bytes()


def test_a_good_file_imports_everything(cast: dict[str, Any], good_file: bytes) -> None:
    result = imports.import_workbook(cast["regulator"], good_file, form_key="k" * 32, file_name="network.xlsx")
    assert result.ok, result.errors
    assert (result.institutions, result.practitioners, result.credentials) == (4, 3, 3)
    hospital = Institution.objects.get(organisation__name="天河示范精神专科医院")
    assert hospital.points.get().open_24h and hospital.version == 1
    assert sorted(hospital.points.get().services.values_list("code", flat=True)) == ["emergency",
                                                                                     "psychiatric_outpatient"]
    room = Institution.objects.get(organisation__name="天河示范社区心理咨询室")
    assert room.demonstration_year == 2025 and room.village_code.endswith("001")
    assert Practitioner.objects.count() == 3
    assert Credential.objects.filter(practitioner__practices__institution__organisation__name="天河示范咨询公司").count() == 2
    assert AuditEvent.objects.filter(object_type="registry.institution", detail__source="import").count() == 4
    again = imports.import_workbook(cast["regulator"], good_file, form_key="k" * 32)
    assert again.replayed and Institution.objects.count() == 4 and ImportBatch.objects.count() == 1


def test_an_existing_organisation_is_registered_not_duplicated(cast: dict[str, Any], good_file: bytes) -> None:
    existing = Organisation.objects.create(name="天河示范精神专科医院", org_type=OrgType.PSYCHIATRIC_HOSPITAL,
                                           region_id="440106")
    assert imports.import_workbook(cast["regulator"], good_file, form_key="a" * 32).ok
    assert Institution.objects.get(organisation__name="天河示范精神专科医院").organisation == existing
    result = imports.import_workbook(cast["regulator"], good_file, form_key="b" * 32)
    assert not result.ok
    assert {(e.sheet, e.column) for e in result.errors if e.sheet == "机构"} == {("机构", "名称")}
    assert Institution.objects.count() == 4


def test_one_bad_row_writes_nothing_and_every_problem_is_reported(cast: dict[str, Any]) -> None:
    town = cast["community_doctor_a"].region_id
    inst = institution_rows(town)
    inst[1][2] = "440106"  # a village room must sit in its township
    inst[2][10] = "很多"  # not a number
    inst[3][12] = None  # an agency needs its licence number
    inst.append(inst[0][:])  # the same institution twice
    prac = [[c.replace("{town}", town) if isinstance(c, str) else c for c in row] for row in practitioner_rows()]
    prac[1][7] = "2019-06-01"  # a national counsellor certificate after 2017
    prac[0][2] = "不存在的医院"
    result = imports.import_workbook(cast["regulator"], workbook(inst, prac), form_key="c" * 32)
    assert not result.ok
    where = {(e.sheet, e.row, e.column) for e in result.errors}
    assert ("机构", 3, "区划代码") in where
    assert ("机构", 4, "床位数") in where
    assert ("机构", 5, "营业执照号") in where
    assert ("机构", 6, "名称") in where
    assert ("人员", 2, "执业机构") in where
    assert ("人员", 3, "发证日期") in where
    assert not Institution.objects.exists() and not Practitioner.objects.exists()
    assert not Organisation.objects.filter(name__startswith="天河示范").exists()
    assert not ImportBatch.objects.exists()


def test_missing_columns_and_other_files(cast: dict[str, Any]) -> None:
    result = imports.import_workbook(cast["regulator"], workbook([], [], inst_header=["名称", "地址"]),
                                     form_key="d" * 32)
    assert not result.ok and {(e.row, e.column) for e in result.errors} >= {(1, "类型"), (1, "区划代码")}
    assert not imports.import_workbook(cast["regulator"], b"not a workbook", form_key="e" * 32).ok
    assert not imports.import_workbook(cast["regulator"], workbook([], []), form_key="f" * 32).ok  # nothing in it


def test_only_regulators_import_and_only_inside_their_region(cast: dict[str, Any], good_file: bytes) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        imports.import_workbook(cast["mhc_staff_a"], good_file, form_key="g" * 32)
    beijing = [["北京某医院", "psychiatric_hospital", "110101", "", "", None, None, "否", "", "", None, None, None, None,
                None]]
    result = imports.import_workbook(cast["regulator"], workbook(beijing, []), form_key="h" * 32)
    assert not result.ok and result.errors[0].column == "区划代码"


def test_the_template_round_trips(cast: dict[str, Any]) -> None:
    book = load_workbook(io.BytesIO(imports.template_workbook()))
    assert book.sheetnames == ["机构", "人员", "说明"]
    sheet = book["机构"]
    values = {"name": "模板测试咨询中心", "kind": "counselling_agency", "region_code": "440106", "latitude": 23.1,
              "longitude": 113.3, "open_24h": "否", "services": "心理咨询",
              "business_licence_number": "91440106MA5TEMPL01", "licensing_status": "licensed"}
    sheet.append([values.get(key) for key, _zh, _required in imports.INSTITUTION_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    result = imports.import_workbook(cast["regulator"], out.getvalue(), form_key="i" * 32)
    assert result.ok, result.errors
    assert Institution.objects.get().business_licence_number == "91440106MA5TEMPL01"


def test_the_upload_page(cast: dict[str, Any], client: Client, good_file: bytes) -> None:
    login_verified(client, cast["regulator"])
    page = client.get(reverse("registry:import_upload"))
    key = page.context["form"].initial["form_key"]
    bad = client.post(reverse("registry:import_upload"), {
        "form_key": key, "file": SimpleUploadedFile("bad.xlsx", workbook([["", "counselling_room", "440106"]], []))})
    assert bad.status_code == 400 and 'id="import-errors"' in bad.content.decode()
    good = client.post(reverse("registry:import_upload"), {
        "form_key": bad.context["form"].initial["form_key"], "file": SimpleUploadedFile("good.xlsx", good_file)})
    assert good.status_code == 302 and Institution.objects.count() == 4
    template = client.get(reverse("registry:import_template"))
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
