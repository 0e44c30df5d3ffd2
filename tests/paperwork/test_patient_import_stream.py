"""The streamed patient import (``PatientImport.import_stream``): rows are written chunk by chunk
while later rows are still checked, so these tests use chunks of two rows and put the trouble in a
late chunk. What must hold: an error anywhere leaves nothing written (not even the register numbers
taken), the report is the one a check-only run gives, and a clean file's rows are all there with
consecutive register numbers continuing the county's counter."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from tests.paperwork.factories import patient_row, sheet_bytes
from tests.patients.factories import PatientFactory, clinic_of
from xinqiao.core.models import Person, Region
from xinqiao.paperwork import services
from xinqiao.paperwork.models import ImportBatch
from xinqiao.paperwork.patient_import import COLUMNS
from xinqiao.paperwork.services import import_spreadsheet
from xinqiao.patients.models import Patient, PersonalSupplement, RegisterSequence, StatusChange
from xinqiao.patients.services import next_register_numbers


@pytest.fixture(autouse=True)
def _setup(towns: list[Region], monkeypatch: pytest.MonkeyPatch) -> None:
    translation.activate("zh-hans")
    clinic_of(towns[0])
    clinic_of(towns[1])
    small = {**services.limits(), "stream_chunk": 2}
    monkeypatch.setattr(services, "limits", lambda: small)


def run(actor: Any, rows: list[dict[str, Any]], *, commit: bool = True) -> ImportBatch:
    return import_spreadsheet(actor, "patients", "患者.xlsx", sheet_bytes(COLUMNS, rows), commit=commit)


def seven_rows(towns: list[Region]) -> list[dict[str, Any]]:
    return [patient_row(towns[0].code, name=f"分块患者{n}") for n in range(7)]


def test_a_clean_file_is_written_in_chunks_with_consecutive_register_numbers(cast: dict[str, Any],
                                                                               towns: list[Region]) -> None:
    county = towns[0].code[:6]
    [before] = next_register_numbers(county, 2024)  # the counter a single registration uses
    rows = seven_rows(towns)
    batch = run(cast["mhc_staff_a"], rows)
    assert (batch.status, batch.rows_total, batch.rows_created, batch.errors) == ("committed", 7, 7, [])
    imported = list(Patient.objects.select_related("person").order_by("register_number"))
    first = int(before[-6:]) + 1  # the import continues the county's counter, without gaps
    assert [p.register_number for p in imported] == [f"{county}2024{n:06d}" for n in range(first, first + 7)]
    assert all(p.source == "import" for p in imported)
    assert sorted(p.person.name for p in imported) == sorted(r["name"] for r in rows)
    assert StatusChange.objects.filter(patient__in=imported, to_status="managed").count() == 7
    assert PersonalSupplement.objects.filter(patient__in=imported).count() == 7
    # The two timings are stored with the batch (``commit_ms`` after COMMIT, by a second write).
    stored = ImportBatch.objects.get(pk=batch.pk)
    assert (stored.validate_ms, stored.commit_ms) == (batch.validate_ms, batch.commit_ms)


def test_a_duplicate_in_the_last_chunk_leaves_nothing_written(cast: dict[str, Any], towns: list[Region]) -> None:
    rows = seven_rows(towns)
    rows.append({**rows[0], "name": "重复的人"})  # row 9 of the sheet repeats row 2 (header is row 1)
    batch = run(cast["mhc_staff_a"], rows)
    assert batch.status == "rejected"
    assert batch.errors == [[9, "证件号码", "与本文件第 2 行的证件号码重复。"]]
    assert not Person.objects.exists() and not Patient.objects.exists() and not StatusChange.objects.exists()
    assert not RegisterSequence.objects.filter(last__gt=0).exists()  # numbers taken were given back
    assert not ImportBatch.objects.filter(status="committed").exists()


def test_a_bad_township_late_in_the_file_rolls_back_the_chunks_already_written(cast: dict[str, Any],
                                                                                towns: list[Region]) -> None:
    rows = seven_rows(towns)
    rows[6]["region_code"] = "110101001"  # Beijing: outside the importer's region
    batch = run(cast["mhc_staff_a"], rows)
    assert batch.status == "rejected" and batch.rows_invalid == 1
    assert [(e[0], e[1]) for e in batch.errors] == [(8, "乡镇（街道）代码")]
    assert not Person.objects.exists() and not Patient.objects.exists()


def test_the_streamed_report_is_the_check_only_report(cast: dict[str, Any], towns: list[Region]) -> None:
    registered = PatientFactory(region=towns[0])
    rows = seven_rows(towns)
    rows[1]["id_number"] = registered.person.id_number  # already registered here: skipped
    rows[3]["icd10_code"] = "F99"
    rows[5] = {**rows[4]}  # the same person twice, in the next chunk
    checked = run(cast["mhc_staff_a"], rows, commit=False)
    streamed = run(cast["mhc_staff_a"], rows)
    assert streamed.status == "rejected" and checked.status == "rejected"
    fields = ("rows_total", "rows_invalid", "rows_skipped", "error_count", "errors", "notes")
    assert {f: getattr(streamed, f) for f in fields} == {f: getattr(checked, f) for f in fields}
    assert streamed.rows_skipped == 1 and streamed.rows_invalid == 2
    assert Patient.objects.count() == 1


def test_a_known_person_without_a_registration_is_reused_across_chunks(cast: dict[str, Any],
                                                                        towns: list[Region]) -> None:
    rows = seven_rows(towns)
    person = Person.objects.create(name="旧记录", id_type="resident_id", id_number=rows[5]["id_number"],
                                   id_number_index=Person.id_index_for("resident_id", rows[5]["id_number"]),
                                   region_id=towns[0].code, **Person.region_columns(towns[0].code))
    batch = run(cast["mhc_staff_a"], rows)
    assert (batch.status, batch.rows_created) == ("committed", 7)
    assert Patient.objects.get(person=person).source == "import"
    assert Person.objects.count() == 7
