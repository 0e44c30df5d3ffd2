"""Demo referrals and emergencies: a few referrals in each state and three emergency records.

Called by ``xinqiao demo`` (``core.demo.build_demo``) after ``patients`` has built its demo patients;
does nothing when there are no patients in the demo townships, and nothing on a re-run (created
once). Everything goes through the services (audited, notified) and is then back-dated where the
story needs it (an overdue referral, a late record): the demo is maintenance code.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from xinqiao.core.models import Organisation, User
from xinqiao.patients.models import Patient
from xinqiao.referrals import services
from xinqiao.referrals.codes import (
    Direction,
    EmergencyEffect,
    EmergencyMeasure,
    EmergencyReason,
    ReporterRole,
    SubjectCategory,
    Urgency,
)
from xinqiao.referrals.models import EmergencyRecord, Referral

UP_REASONS = (
    "近两周拒绝服药，夜间吵闹，本次随访评估为不稳定，请上级医院调整治疗方案。",
    "幻听加重，自知力缺失，家属要求住院治疗。",
    "出现明显药物不良反应（震颤、静坐不能），请专科评估。",
)
DISCHARGE = "住院疗效：好转。用药指导：利培酮片 2mg 每日两次，按时复诊。康复措施：生活劳动能力训练，社区康复站活动。"


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).select_related("organisation").first()


def extend_demo(rng: random.Random, result: Any) -> None:
    """Referrals in each state and emergencies in the demo townships, once."""
    towns = [t.code for t in result.townships]
    patients = list(Patient.objects.filter(township_code__in=towns).order_by("township_code", "pk"))
    if not patients or Referral.objects.filter(township_code__in=towns).exists():
        return
    doctor, psychiatrist = _user("community_doctor_a"), _user("psychiatrist_a")
    hospital: Organisation | None = result.orgs.get("psych_hospital")
    if doctor is None or psychiatrist is None or hospital is None or doctor.organisation is None:
        return
    in_a = [p for p in patients if p.township_code == towns[0]]
    if len(in_a) < 2:
        return
    picks = rng.sample(in_a, min(5, len(in_a)))
    made: list[Referral] = []
    for i, patient in enumerate(picks[:3]):
        to = hospital if i != 1 or psychiatrist.organisation is None else psychiatrist.organisation
        made.append(services.send_referral(doctor, services.ReferralInput(
            patient_id=patient.pk, direction=Direction.UP, to_organisation_id=to.pk,
            urgency=Urgency.URGENT if i == 0 else Urgency.ROUTINE, reason=UP_REASONS[i], origin="demo")))
    # The second went to the demo psychiatrist's department: received, and one more completed.
    if psychiatrist.organisation is not None:
        services.act_on_referral(psychiatrist, made[1], "receive")
        down = services.send_referral(psychiatrist, services.ReferralInput(
            patient_id=picks[-1].pk, direction=Direction.DOWN, to_organisation_id=doctor.organisation.pk,
            discharge_summary=DISCHARGE, origin="demo"))
        services.act_on_referral(doctor, down, "receive")
        services.act_on_referral(doctor, down, "complete", "已建立随访计划，出院后两周内首次随访。")
        if len(picks) > 3:
            declined = services.send_referral(doctor, services.ReferralInput(
                patient_id=picks[3].pk, direction=Direction.UP, to_organisation_id=psychiatrist.organisation.pk,
                reason="家属要求转诊评估。", origin="demo"))
            services.act_on_referral(psychiatrist, declined, "decline", "本科室床位已满，请转市精神专科医院。")
    # The first (to the city hospital) has waited past its receipt deadline: back-date it.
    sent = timezone.now() - timedelta(days=9)
    Referral.objects.filter(pk=made[0].pk).update(sent_at=sent, receive_due=(sent + timedelta(days=4)).date())
    services.send_referral_reminders()
    _emergencies(rng, doctor, in_a, towns[0])
    result.notes.append("Demo referrals (community_doctor_a, psychiatrist_a) in every state, one overdue; "
                        "emergencies on the board of county A (mhc_staff_a), one recorded late.")


def _emergencies(rng: random.Random, doctor: User, patients: list[Patient], town: str) -> None:
    now = timezone.now()
    risky = max(patients, key=lambda p: (p.danger_level, p.pk))
    late = services.record_emergency(doctor, services.EmergencyInput(
        region_code=town, occurred_at=now - timedelta(hours=3), place=f"{rng.randint(1, 99)}号楼下", danger_level=3,
        subject_category=SubjectCategory.REGISTERED, patient_id=risky.pk, reporter_role=ReporterRole.FAMILY,
        reason=EmergencyReason.PUBLIC_DANGER,
        measures=[EmergencyMeasure.CRISIS_INTERVENTION, EmergencyMeasure.ADMISSION], effect=EmergencyEffect.EFFECTIVE,
        police_officers="派出所民警 2 名", prevention_doctors="社区精防医生", psychiatrists="区精神卫生中心值班医师",
        diagnosis=risky.diagnosis, narrative="患者在楼道内砸毁物品，劝说无效；民警到场后协助送医。",
    ))
    # Entered the day after: 30 hours after the event, past the 24-hour limit.
    occurred = now - timedelta(hours=30)
    EmergencyRecord.objects.filter(pk=late.pk).update(occurred_at=occurred, record_due=occurred + timedelta(hours=24),
                                                       recorded_late=True)
    services.record_emergency(doctor, services.EmergencyInput(
        region_code=town, occurred_at=now - timedelta(hours=5), place="社区卫生服务中心门诊", danger_level=1,
        subject_category=SubjectCategory.SUSPECTED, subject=services.UnregisteredSubject(name="陈某某"),
        reporter_role=ReporterRole.COMMITTEE, reason=EmergencyReason.RELAPSE,
        measures=[EmergencyMeasure.CRISIS_INTERVENTION, EmergencyMeasure.OBSERVATION],
        effect=EmergencyEffect.PARTLY, prevention_doctors="社区精防医生",
    ))
    closed = services.record_emergency(doctor, services.EmergencyInput(
        region_code=town, occurred_at=now - timedelta(days=6), danger_level=2,
        subject_category=SubjectCategory.REGISTERED, patient_id=patients[0].pk, reporter_role=ReporterRole.FAMILY,
        reason=EmergencyReason.DRUG_REACTION, measures=[EmergencyMeasure.MEDICATION], effect=EmergencyEffect.EFFECTIVE,
        prevention_doctors="社区精防医生",
    ))
    services.close_emergency(doctor, closed)
