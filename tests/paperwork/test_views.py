"""The import pages: template download, upload of a real .xlsx with bad rows, the report page and its
.xlsx download, in Chinese, on the routes a browser uses."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from tests.helpers import verified_client
from tests.paperwork.factories import new_id_number, patient_row, sheet_bytes, wrong_check_digit
from tests.patients.factories import clinic_of
from xinqiao.core.models import AuditEvent, Region
from xinqiao.paperwork.followup_import import COLUMNS as FOLLOWUP_COLUMNS
from xinqiao.paperwork.models import ImportBatch
from xinqiao.paperwork.patient_import import COLUMNS
from xinqiao.patients.models import Patient


@pytest.fixture(autouse=True)
def _setup(towns: list[Region]) -> None:
    translation.activate("zh-hans")
    clinic_of(towns[0])


def upload(client: Any, kind: str, name: str, content: bytes, action: str = "import") -> Any:
    return client.post(reverse("paperwork:import_upload", kwargs={"kind": kind}),
                       {"file": SimpleUploadedFile(name, content), "action": action},
                       HTTP_ACCEPT_LANGUAGE="zh-hans")


@pytest.mark.parametrize(("kind", "columns"), [("patients", COLUMNS), ("followups", FOLLOWUP_COLUMNS)])
def test_template(cast: dict[str, Any], kind: str, columns: Any) -> None:
    client = verified_client(cast["community_doctor_a"])
    response = client.get(reverse("paperwork:import_template", kwargs={"kind": kind}), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    data, legend, lists = wb.worksheets
    assert data.title == "数据" and legend.title == "代码说明" and lists.sheet_state == "hidden"
    headers = [c.value for c in data[1]]
    assert len(headers) == len(columns)
    required = [c for c in columns if c.required]
    assert all(f"{c.header}*" in headers for c in required)
    coded = [c for c in columns if c.kind == "code"]
    validations = data.data_validations.dataValidation
    assert len([v for v in validations if v.formula1.startswith("lists!")]) == len(coded)
    assert data["C1"].comment is not None or data["A1"].comment is not None
    legend_rows = [tuple(r) for r in legend.iter_rows(min_row=3, values_only=True)]
    if kind == "patients":
        assert ("户别", "1", "城镇") in legend_rows and ("户别", "2", "农村") in legend_rows
        assert data["A2"].value == "王某某" and data.column_dimensions["C"].number_format == "@"
        assert data["J2"].value.startswith("F20 ")
    else:
        assert ("随访方式", "1", "门诊") in legend_rows


def test_upload_a_file_with_bad_rows_shows_and_downloads_the_report(cast: dict[str, Any], towns: list[Region]) -> None:
    client = verified_client(cast["community_doctor_a"])
    page = client.get(reverse("paperwork:import_upload", kwargs={"kind": "patients"}))
    assert page.status_code == 200 and "下载模板" in page.content.decode()
    rows = [patient_row(towns[0].code), patient_row(towns[0].code, id_number=wrong_check_digit(new_id_number()))]
    response = upload(client, "patients", "患者名单.xlsx", sheet_bytes(COLUMNS, rows))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("paperwork:batch_detail",
                                                                            kwargs={"pk": batch.pk})
    report = client.get(response["Location"]).content.decode()
    assert "未导入任何数据：发现 1 处错误。请改正后重新上传。" in report
    assert "第 3 行" in report and "证件号码" in report and "证件号码校验位不正确" in report
    assert not Patient.objects.exists()

    download = client.get(reverse("paperwork:batch_report", kwargs={"pk": batch.pk}))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    cells = [tuple(r) for r in load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True)]
    assert ("文件", "患者名单.xlsx", None) in cells and (3, "证件号码", "证件号码校验位不正确") in cells
    assert AuditEvent.objects.filter(action="export", object_type="paperwork.importbatch").count() == 1


def test_upload_a_valid_file(cast: dict[str, Any], towns: list[Region]) -> None:
    client = verified_client(cast["mhc_staff_a"])
    response = upload(client, "patients", "好.xlsx", sheet_bytes(COLUMNS, [patient_row(towns[0].code)]))
    page = client.get(response["Location"]).content.decode()
    assert "已导入 1 行。" in page and Patient.objects.count() == 1
    home = client.get(reverse("paperwork:import_home")).content.decode()
    assert f"#{ImportBatch.objects.get().pk}" in home and "已导入" in home


def test_only_spreadsheets_are_accepted(cast: dict[str, Any]) -> None:
    client = verified_client(cast["community_doctor_a"])
    response = upload(client, "patients", "照片.jpg", b"\xff\xd8\xff")
    assert response.status_code == 400
    assert "请上传 Excel 工作簿（.xlsx）或 CSV 文件。" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_unknown_kind_is_404(cast: dict[str, Any]) -> None:
    client = verified_client(cast["community_doctor_a"])
    assert client.get(reverse("paperwork:import_upload", kwargs={"kind": "persons"})).status_code == 404
    assert client.get(reverse("paperwork:import_template", kwargs={"kind": "x"})).status_code == 404


def test_a_batch_of_another_township_is_not_found(cast: dict[str, Any], towns: list[Region]) -> None:
    other = verified_client(cast["community_doctor_b"])
    clinic_of(towns[1])
    upload(other, "patients", "b.xlsx", sheet_bytes(COLUMNS, [patient_row(towns[1].code)]))
    batch = ImportBatch.objects.get()
    mine = verified_client(cast["community_doctor_a"])
    assert mine.get(reverse("paperwork:batch_detail", kwargs={"pk": batch.pk})).status_code == 404
    assert mine.get(reverse("paperwork:batch_report", kwargs={"pk": batch.pk})).status_code == 404
    assert other.get(reverse("paperwork:batch_detail", kwargs={"pk": batch.pk})).status_code == 200
