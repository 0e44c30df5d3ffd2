"""An emergency changes the patient's record: a higher danger level stands (audited), a lower one
does not lower it, and the emergency stays in its township when the patient moves away."""

from __future__ import annotations

import pytest

from tests.patients.factories import PatientFactory
from tests.referrals.factories import emergency
from xinqiao.core.models import AuditEvent
from xinqiao.patients import services as patient_services
from xinqiao.patients.models import Patient
from xinqiao.referrals.models import EmergencyRecord

pytestmark = pytest.mark.django_db


def test_an_emergency_raises_the_patients_danger_level(cast, towns) -> None:  # type: ignore[no-untyped-def]
    patient = PatientFactory(region=towns[0], danger_level=1)
    record = emergency(cast["mhc_staff_a"], towns[0], patient=patient, danger_level=4)
    assert Patient.objects.get(pk=patient.pk).danger_level == 4
    assert AuditEvent.objects.filter(object_id=str(patient.pk), detail__source=f"emergency:{record.pk}").exists()


def test_a_lower_level_at_an_emergency_does_not_lower_it(cast, towns) -> None:  # type: ignore[no-untyped-def]
    patient = PatientFactory(region=towns[0], danger_level=4)
    emergency(cast["mhc_staff_a"], towns[0], patient=patient, danger_level=2)
    assert Patient.objects.get(pk=patient.pk).danger_level == 4
    assert patient_services.raise_danger_level(None, patient, 3, source="test") is False


def test_the_emergency_stays_where_it_happened_when_the_patient_moves(cast, towns) -> None:  # type: ignore[no-untyped-def]
    patient = PatientFactory(region=towns[0], danger_level=3)
    record = emergency(cast["mhc_staff_a"], towns[0], patient=patient)
    patient_services.move_patient_rows(patient, towns[1].code)
    assert Patient.objects.get(pk=patient.pk).township_code == towns[1].code
    assert EmergencyRecord.objects.get(pk=record.pk).township_code == towns[0].code
