from tests.paperwork.factories import patient_row, sheet_bytes, wrong_check_digit
from tests.patients.factories import clinic_of
from xinqiao.paperwork.patient_import import COLUMNS
from xinqiao.paperwork.services import import_spreadsheet
from xinqiao.patients.models import Patient, PersonalSupplement
from django.utils import translation

def test_smoke(cast, towns):
    clinic_of(towns[0])
    doc = cast["community_doctor_a"]
    rows = [patient_row(towns[0].code) for _ in range(3)]
    rows.append(patient_row(towns[0].code, id_number=wrong_check_digit(rows[0]["id_number"])))
    rows.append(patient_row(towns[1].code))
    rows.append(patient_row(towns[0].code, diagnosis="F99"))
    rows.append(dict(rows[1]))
    with translation.override("zh-hans"):
        batch = import_spreadsheet(doc, "patients", "t.xlsx", sheet_bytes(COLUMNS, rows))
    print(batch.status, batch.errors, batch.notes)
    with translation.override("zh-hans"):
        batch = import_spreadsheet(doc, "patients", "t.xlsx", sheet_bytes(COLUMNS, rows[:3]))
    print(batch.status, batch.errors, batch.notes, batch.rows_created, batch.validate_ms, batch.commit_ms)
    print(Patient.objects.count(), PersonalSupplement.objects.count())
    with translation.override("zh-hans"):
        batch = import_spreadsheet(doc, "patients", "t2.xlsx", sheet_bytes(COLUMNS, rows[:3] + [patient_row(towns[0].code)]))
    print(batch.status, batch.errors, batch.notes, batch.rows_created)
    assert 0
