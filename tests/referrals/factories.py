"""Factories of the referral and emergency tests: the care network of the two test townships, the
cast placed in it, referrals and emergency records made through the services.

Patients come from the register's own factory (``tests.patients.factories.PatientFactory``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from tests.patients.factories import PatientFactory, clinic_of, county_centre_of, hospital_of
from xinqiao.core.models import Organisation, OrgType, Region
from xinqiao.referrals import services
from xinqiao.referrals.codes import (
    EmergencyEffect,
    EmergencyMeasure,
    EmergencyReason,
    ReporterRole,
    SubjectCategory,
)
from xinqiao.referrals.models import EmergencyRecord, Referral

__all__ = ["PatientFactory", "emergency", "network", "referral"]


def police_station_of(town: Region) -> Organisation:
    """The township's police station (made once)."""
    org, _created = Organisation.objects.get_or_create(
        region=town, name=f"{town.name}派出所(测试)", defaults={"org_type": OrgType.POLICE_STATION})
    return org


def network(cast: dict[str, Any], towns: list[Region]) -> dict[str, Organisation]:
    """Clinics, county hospitals, county centres and police stations of townships A and B; the cast's
    doctors, psychiatrists and centre staff placed in them (the test cast has no organisations)."""
    orgs: dict[str, Organisation] = {}
    for suffix, town in zip("ab", towns, strict=True):
        county = Region.objects.get(code=town.county_code)
        orgs[f"clinic_{suffix}"] = clinic_of(town)
        orgs[f"hospital_{suffix}"] = hospital_of(county)
        orgs[f"centre_{suffix}"] = county_centre_of(town)
        orgs[f"police_{suffix}"] = police_station_of(town)
        for role, org in (("community_doctor", "clinic"), ("psychiatrist", "hospital"), ("mhc_staff", "centre"),
                          ("police", "police")):
            user = cast[f"{role}_{suffix}"]
            user.organisation = orgs[f"{org}_{suffix}"]
            user.save(update_fields=["organisation"])
    return orgs


def referral(sender: Any, patient: Any, to: Organisation, *, direction: str = "up", reason: str = "病情不稳定，请专科评估。",
             discharge_summary: str = "", urgency: str = "routine") -> Referral:
    """A referral sent through the service."""
    return services.send_referral(sender, services.ReferralInput(
        patient_id=patient.pk, direction=direction, to_organisation_id=to.pk, reason=reason,
        discharge_summary=discharge_summary, urgency=urgency))


def emergency(actor: Any, town: Region, *, patient: Any = None, danger_level: int = 3,
              occurred_at: datetime | None = None, **kw: Any) -> EmergencyRecord:
    """An emergency recorded through the service (a registered patient unless ``patient`` is None)."""
    values: dict[str, Any] = {
        "region_code": town.code, "occurred_at": occurred_at or timezone.now() - timedelta(hours=2),
        "danger_level": danger_level,
        "subject_category": SubjectCategory.REGISTERED if patient else SubjectCategory.OTHER,
        "patient_id": patient.pk if patient else None, "reporter_role": ReporterRole.FAMILY,
        "reason": EmergencyReason.PUBLIC_DANGER, "measures": [EmergencyMeasure.CRISIS_INTERVENTION],
        "effect": EmergencyEffect.EFFECTIVE, "place": "幸福路8号楼下", "diagnosis": "F20",
        "narrative": "砸毁物品，劝说无效。",
    }
    values.update(kw)
    return services.record_emergency(actor, services.EmergencyInput(**values))
