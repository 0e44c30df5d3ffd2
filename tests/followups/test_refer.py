"""A follow-up whose decision says ``refer`` opens the two-way referral (规范: 不稳定 → 建议转诊到上级医院,
2周内随访转诊情况), in the same transaction, to the county's psychiatric institution.

Idempotent: a retried submission opens nothing more; a patient with an open up referral gets no
second one (the follow-up links to it). The doctor's override that drops ``refer`` opens nothing.
Without a receiving institution, or from an account that cannot send referrals, the follow-up is
still recorded, the county centre is told to send it by hand, and the doctor sees why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from tests.followups.factories import make_patient, visit
from tests.helpers import login_verified
from tests.referrals.factories import network, referral
from xinqiao.core.models import AuditAction, AuditEvent, Notification, Organisation, OrgType
from xinqiao.followups import services
from xinqiao.followups.models import FollowUp
from xinqiao.patients.codes import Classification
from xinqiao.referrals import services as referral_services
from xinqiao.referrals.codes import ReferralState, Urgency
from xinqiao.referrals.models import Referral

TODAY = date(2025, 3, 10)
UNSTABLE: dict[str, Any] = {"symptoms_marked": True, "symptoms": (1, 3)}

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(cast: dict[str, Any], towns: list[Any]) -> dict[str, Organisation]:
    return network(cast, towns)


@pytest.fixture
def doctor(cast: dict[str, Any], net: dict[str, Organisation]) -> Any:
    return cast["community_doctor_a"]


@pytest.fixture
def patient(towns: list[Any], net: dict[str, Organisation]) -> Any:
    return make_patient(towns[0])


def record(actor: Any, patient: Any, capture: Any, key: str = "", **changes: Any) -> FollowUp:
    with capture(execute=True):
        fu, _created = services.record_followup(actor, patient, visit(**changes), key=key, today=TODAY)
    return fu


def test_unstable_visit_opens_an_up_referral_to_the_county_psychiatric_hospital(
        doctor: Any, patient: Any, net: dict[str, Organisation], django_capture_on_commit_callbacks: Any) -> None:
    fu = record(doctor, patient, django_capture_on_commit_callbacks, **UNSTABLE)
    assert fu.classification == Classification.UNSTABLE and "refer" in fu.actions
    ref = Referral.objects.get(patient=patient)
    assert ref.followup_id == fu.pk and ref.origin == f"followup:{fu.pk}"
    assert (ref.direction, ref.state, ref.urgency) == ("up", ReferralState.SENT, Urgency.ROUTINE)
    assert ref.from_organisation == net["clinic_a"] and ref.to_organisation == net["hospital_a"]
    assert ref.sent_by == doctor and ref.region_id == patient.region_id
    # The reason comes from the follow-up: class, danger level, symptoms; never an identity.
    assert "不稳定" in ref.reason and "危险性" in ref.reason and "幻觉" in ref.reason and "猜疑" in ref.reason
    assert patient.person.id_number not in ref.reason and patient.person.name not in ref.reason
    # The receiver is told on commit; the follow-up's audit event names the referral.
    assert Notification.objects.filter(kind="referral_sent", recipient_organisation=net["hospital_a"],
                                       subject_id=str(ref.pk)).count() == 1
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="followups.followup", object_id=str(fu.pk))
    assert event.detail["referral"] == ref.pk and event.detail["referral_created"] is True
    shown = services.referral_of(doctor, fu)
    assert shown is not None and shown["id"] == ref.pk and shown["opened"] and not shown["message"]
    assert shown["url"].endswith(f"/{ref.pk}/") and shown["to_organisation"] == net["hospital_a"].name


def test_danger_at_the_police_threshold_makes_the_referral_urgent(
        doctor: Any, patient: Any, django_capture_on_commit_callbacks: Any) -> None:
    fu = record(doctor, patient, django_capture_on_commit_callbacks, danger_level=3)
    assert fu.police_notified
    assert Referral.objects.get(followup=fu).urgency == Urgency.URGENT


def test_a_stable_visit_opens_nothing(doctor: Any, patient: Any, django_capture_on_commit_callbacks: Any) -> None:
    fu = record(doctor, patient, django_capture_on_commit_callbacks)
    assert not fu.needs_referral
    assert not Referral.objects.exists()
    assert services.referral_of(doctor, fu) is None


def test_the_doctors_override_dropping_refer_opens_nothing(
        doctor: Any, patient: Any, django_capture_on_commit_callbacks: Any) -> None:
    fu = record(doctor, patient, django_capture_on_commit_callbacks, **UNSTABLE,
                classification=Classification.BASICALLY_STABLE, override_reason="家属已陪同就诊，症状已控制")
    assert fu.proposed_classification == Classification.UNSTABLE and "refer" in fu.proposed_actions
    assert "refer" not in fu.actions and not fu.needs_referral
    assert not Referral.objects.exists()
    assert not Notification.objects.filter(kind__startswith="referral").exists()


def test_a_retried_submission_opens_no_second_referral(
        doctor: Any, patient: Any, django_capture_on_commit_callbacks: Any) -> None:
    first = record(doctor, patient, django_capture_on_commit_callbacks, key="k-refer-1", **UNSTABLE)
    again, created = services.record_followup(doctor, patient, visit(**UNSTABLE), key="k-refer-1", today=TODAY)
    assert again.pk == first.pk and not created
    assert Referral.objects.filter(patient=patient).count() == 1
    shown = services.referral_of(doctor, again)
    assert shown is not None and shown["opened"]


def test_a_patient_with_an_open_referral_gets_no_second_one(
        doctor: Any, patient: Any, net: dict[str, Organisation], django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        earlier = referral(doctor, patient, net["centre_a"])
    fu = record(doctor, patient, django_capture_on_commit_callbacks, **UNSTABLE)
    assert list(Referral.objects.filter(patient=patient)) == [earlier]
    assert earlier.followup_id is None
    shown = services.referral_of(doctor, fu)
    assert shown is not None and shown["id"] == earlier.pk and not shown["opened"]
    assert shown["message"]  # "already has an open referral"


def test_a_received_referral_is_open_too_but_a_completed_one_is_not(
        doctor: Any, patient: Any, cast: dict[str, Any], net: dict[str, Organisation],
        django_capture_on_commit_callbacks: Any) -> None:
    psychiatrist = cast["psychiatrist_a"]
    with django_capture_on_commit_callbacks(execute=True):
        earlier = referral(doctor, patient, net["hospital_a"])
        referral_services.act_on_referral(psychiatrist, earlier, "receive")
    record(doctor, patient, django_capture_on_commit_callbacks, **UNSTABLE)
    assert Referral.objects.filter(patient=patient).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.act_on_referral(psychiatrist, earlier, "complete", "住院治疗两周后好转")
    fu = record(doctor, patient, django_capture_on_commit_callbacks, **UNSTABLE, followup_date=date(2025, 3, 8))
    assert Referral.objects.filter(patient=patient).count() == 2
    assert Referral.objects.get(followup=fu).state == ReferralState.SENT


def test_receiver_order_hospital_then_general_psychiatry_then_county_centre(
        patient: Any, net: dict[str, Organisation]) -> None:
    assert referral_services.auto_receiver(patient) == net["hospital_a"]
    Organisation.objects.filter(pk=net["hospital_a"].pk).update(is_active=False)
    assert referral_services.auto_receiver(patient) == net["centre_a"]
    general = Organisation.objects.create(name="县人民医院精神科(测试)", org_type=OrgType.GENERAL_HOSPITAL_PSYCH,
                                          region=net["hospital_a"].region)
    assert referral_services.auto_receiver(patient) == general
    # Never an institution of another county.
    Organisation.objects.filter(pk__in=[general.pk, net["centre_a"].pk]).update(is_active=False)
    assert net["hospital_b"].is_active and referral_services.auto_receiver(patient) is None


def test_without_a_receiver_the_followup_is_kept_and_the_coordinating_centre_is_told(
        doctor: Any, patient: Any, net: dict[str, Organisation], django_capture_on_commit_callbacks: Any) -> None:
    # No institution in the county (nor a county centre): the city centre is told.
    Organisation.objects.filter(org_type__in=referral_services.AUTO_RECEIVER_TYPES,
                                county_code=patient.county_code).update(is_active=False)
    city = Organisation.objects.create(name="市精神卫生中心(测试)", org_type=OrgType.MHC_CITY,
                                       region_id=patient.city_code)
    fu = record(doctor, patient, django_capture_on_commit_callbacks, **UNSTABLE)
    assert FollowUp.objects.filter(pk=fu.pk).exists() and fu.needs_referral
    assert not Referral.objects.exists()
    notice = Notification.objects.get(kind="referral_manual")
    assert notice.recipient_organisation_id == city.pk and patient.register_number in notice.title
    assert patient.person.name not in notice.title + notice.body
    shown = services.referral_of(doctor, fu)
    assert shown is not None and shown["id"] is None and shown["message"]
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="followups.followup", object_id=str(fu.pk))
    assert event.detail["referral_problem"] == "no_receiver"


def test_an_account_that_cannot_send_referrals_still_records_and_the_county_centre_is_told(
        cast: dict[str, Any], patient: Any, net: dict[str, Organisation],
        django_capture_on_commit_callbacks: Any) -> None:
    staff = cast["mhc_staff_a"]  # works at the county centre: not a primary-care sender
    fu = record(staff, patient, django_capture_on_commit_callbacks, **UNSTABLE)
    assert not Referral.objects.exists()
    notice = Notification.objects.get(kind="referral_manual")
    assert notice.recipient_organisation_id == net["centre_a"].pk and notice.subject_id == str(fu.pk)
    assert services.referral_of(staff, fu)["message"]  # type: ignore[index]


def test_a_rolled_back_followup_opens_no_referral(doctor: Any, patient: Any) -> None:
    with pytest.raises(ValidationError):
        services.record_followup(doctor, patient, visit(**UNSTABLE, classification=Classification.STABLE),
                                 today=TODAY)  # an override without a reason
    assert not FollowUp.objects.exists() and not Referral.objects.exists()


def test_the_referral_link_is_shown_only_to_who_reaches_the_referral(
        doctor: Any, patient: Any, cast: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    fu = record(doctor, patient, django_capture_on_commit_callbacks, **UNSTABLE)
    other = services.referral_of(cast["community_doctor_b"], fu)
    assert other is not None and other["id"] is None and other["url"] == "" and other["to_organisation"] == ""


def test_the_follow_up_page_and_api_show_the_referral_but_the_list_does_not(
        client: Any, doctor: Any, patient: Any, django_capture_on_commit_callbacks: Any) -> None:
    fu = record(doctor, patient, django_capture_on_commit_callbacks, **UNSTABLE)
    ref = Referral.objects.get(followup=fu)
    login_verified(client, doctor)
    page = client.get(f"/followups/{fu.pk}/")
    assert page.status_code == 200
    assert f'href="/referrals/{ref.pk}/"' in page.content.decode() and 'id="followup-referral"' in page.content.decode()
    detail = client.get(f"/api/v1/followups/{fu.pk}").json()
    assert detail["referral"]["id"] == ref.pk and detail["referral"]["opened"] is True
    listed = client.get(f"/api/v1/followups/?patient_id={patient.pk}").json()["results"]
    assert [row["referral"] for row in listed] == [None]


def test_a_follow_up_that_did_not_refer_shows_no_referral(
        client: Any, doctor: Any, patient: Any, django_capture_on_commit_callbacks: Any) -> None:
    fu = record(doctor, patient, django_capture_on_commit_callbacks)
    login_verified(client, doctor)
    assert 'id="followup-referral"' not in client.get(f"/followups/{fu.pk}/").content.decode()
    assert client.get(f"/api/v1/followups/{fu.pk}").json()["referral"] is None
