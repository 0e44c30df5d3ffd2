"""Permission-matrix declarations of the referral and emergency routes (loaded by ``test_permission_matrix``).

Record routes use one referral and one emergency per scope: ``in`` a patient of township A referred from
township A's clinic to county A's hospital, ``sibling`` the same in township B / county B, ``out`` in
Beijing. The matrix's psychiatrist_a works at county A's hospital (the receiving organisation of the
``in`` referral), community_doctor_a at township A's clinic, mhc_staff_a at county A's centre. Each
emergency is at danger level 3, so the township's police see it (partners see emergencies from the
sharing threshold).

Who holds what (roles.json), written out:

* ``referrals.view_referral``: regulators, the county centre, psychiatrists, community doctors;
  add and change: the three clinical roles; export: the county centre and community doctors. Only the
  receiving organisation's staff take a step (receive/decline/complete); other viewers get 403.
* ``referrals.view_emergencyrecord``: the same viewers plus police; add: the three clinical roles;
  change (close) and export: the county centre and community doctors.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.security.test_permission_matrix import CITY_OR_ABOVE, Route, by_role, record

REFERRAL_VIEWERS = frozenset({"regulator", "regulator_province", "mhc_staff_a", "psychiatrist_a",
                              "community_doctor_a"})
CLINICIANS = frozenset({"mhc_staff_a", "psychiatrist_a", "community_doctor_a"})
EXPORTERS = frozenset({"mhc_staff_a", "community_doctor_a"})
RECEIVER = frozenset({"psychiatrist_a"})
EMERGENCY_VIEWERS = REFERRAL_VIEWERS | {"police_a"}
CLOSERS = EXPORTERS

assert {"regulator", "regulator_province"} <= REFERRAL_VIEWERS and "sysadmin" not in REFERRAL_VIEWERS
assert CITY_OR_ABOVE - {"sysadmin"} <= EMERGENCY_VIEWERS


def referral_objects(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per scope: a danger-3 patient, a referral clinic → county hospital, an emergency; made once per ctx."""
    if "referral_objects" not in ctx:
        from django.utils import timezone

        from tests.patients.factories import PatientFactory, clinic_of, hospital_of
        from tests.referrals.factories import network
        from xinqiao.core.demo import demo_townships
        from xinqiao.core.models import Region
        from xinqiao.referrals.models import EmergencyRecord, Referral

        network(ctx["cast"], demo_townships())
        now = timezone.now()
        objects: dict[str, dict[str, Any]] = {}
        for scope in ("in", "sibling", "out"):
            town = Region.objects.get(code=ctx["persons"][scope].region_id)
            county = Region.objects.get(code=town.county_code)
            patient = PatientFactory(region=town, danger_level=3)
            referral = Referral.objects.create(
                patient=patient, direction="up", from_organisation=clinic_of(town), to_organisation=hospital_of(county),
                reason="矩阵测试：病情不稳定", sent_at=now, receive_due=(now + timedelta(days=5)).date(), region=town)
            emergency = EmergencyRecord.objects.create(
                region=town, patient=patient, person=patient.person, subject_category=1,
                occurred_at=now - timedelta(hours=1), danger_level=3, reporter_role=2, reason=2, measures=[1],
                effect=1, recorded_at=now, record_due=now + timedelta(hours=23))
            objects[scope] = {"patient": patient, "referral": referral, "emergency": emergency, "town": town}
        ctx["referral_objects"] = objects
    out: dict[str, dict[str, Any]] = ctx["referral_objects"]
    return out


def _pk(kind: str, name: str = "pk") -> Any:
    return lambda ctx, scope: {name: referral_objects(ctx)[scope][kind].pk}


def _send_payload(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    """A referral each clinical role may send: up from the clinic, down from the hospital or centre."""
    from tests.patients.factories import clinic_of, hospital_of
    from xinqiao.core.models import Region

    objs = referral_objects(ctx)["in"]
    town = objs["town"]
    if user == "community_doctor_a":
        to, direction = hospital_of(Region.objects.get(code=town.county_code)), "up"
    else:
        to, direction = clinic_of(town), "down"
    return {"patient_id": objs["patient"].pk, "direction": direction, "to_organisation_id": to.pk,
            "reason": "矩阵测试", "discharge_summary": "矩阵测试：好转" if direction == "down" else ""}


def _emergency_payload(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    from django.utils import timezone

    objs = referral_objects(ctx)["in"]
    return {"region_code": objs["town"].code, "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "danger_level": 2, "subject_category": 1, "patient_id": objs["patient"].pk, "reporter_role": 2,
            "reason": 3, "measures": [1], "effect": 1}


ROUTES: dict[str, Route] = {
    "referrals:referral_list": Route(by_role(REFERRAL_VIEWERS, 200, 403), anon=302),
    "referrals:referral_create": Route(by_role(CLINICIANS, 200, 403), anon=302),
    "referrals:referral_export": Route(by_role(EXPORTERS, 200, 403), anon=302),
    "referrals:referral_detail": Route(record(REFERRAL_VIEWERS), anon=302, kwargs=_pk("referral"), per_scope=True),
    "referrals:referral_act": Route(record(REFERRAL_VIEWERS, ok=302, capable=RECEIVER), anon=302, method="post",
                                    kwargs=_pk("referral"), per_scope=True,
                                    data=lambda ctx, u, s: {"action": "receive"}),
    "referrals:emergency_list": Route(by_role(EMERGENCY_VIEWERS, 200, 403), anon=302),
    "referrals:emergency_create": Route(by_role(CLINICIANS, 200, 403), anon=302),
    "referrals:emergency_export": Route(by_role(EXPORTERS, 200, 403), anon=302),
    "referrals:emergency_detail": Route(record(EMERGENCY_VIEWERS), anon=302, kwargs=_pk("emergency"),
                                        per_scope=True),
    "referrals:emergency_close": Route(record(EMERGENCY_VIEWERS, ok=302, capable=CLOSERS), anon=302, method="post",
                                       kwargs=_pk("emergency"), per_scope=True),
    "api-1:referral_list": Route(by_role(REFERRAL_VIEWERS, 200, 403), anon=401),
    "api-1:referral_create": Route(by_role(CLINICIANS, 201, 403), anon=401, method="post", json=True,
                                   data=_send_payload),
    "api-1:referral_detail": Route(record(REFERRAL_VIEWERS), anon=401, kwargs=_pk("referral", "referral_id"),
                                   per_scope=True),
    "api-1:referral_action": Route(record(REFERRAL_VIEWERS, capable=RECEIVER), anon=401, method="post", json=True,
                                   kwargs=_pk("referral", "referral_id"), per_scope=True,
                                   data=lambda ctx, u, s: {"action": "receive"}),
    "api-1:emergency_list": Route(by_role(EMERGENCY_VIEWERS, 200, 403), anon=401),
    "api-1:emergency_create": Route(by_role(CLINICIANS, 201, 403), anon=401, method="post", json=True,
                                    data=_emergency_payload),
    "api-1:emergency_detail": Route(record(EMERGENCY_VIEWERS), anon=401, kwargs=_pk("emergency", "record_id"),
                                    per_scope=True),
    "api-1:emergency_close": Route(record(EMERGENCY_VIEWERS, capable=CLOSERS), anon=401, method="post", json=True,
                                   kwargs=_pk("emergency", "record_id"), per_scope=True),
}
