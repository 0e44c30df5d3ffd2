"""Registration workflow: apply → review → approve/reject; return and resubmit; versioned changes.

Every transition that workflow.json allows is taken once here, and the refusals (wrong state,
wrong person, missing reason, missing permission, out of region) are each shown to change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.registry.factories import BAIYUN, TIANHE, institution_input, make_institution
from xinqiao.core.audit import verify_chain
from xinqiao.core.models import AuditEvent, Organisation, OrgType, Region
from xinqiao.registry import services
from xinqiao.registry.models import (
    ApplicationStatus,
    Institution,
    InstitutionVersion,
    RegistrationApplication,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def school(cast: dict[str, Any]) -> Organisation:
    """A school in county A; psychologist_a works there."""
    org = Organisation.objects.create(name="天河区测试中学", org_type=OrgType.SCHOOL, region_id=TIANHE)
    cast["psychologist_a"].organisation = org
    cast["psychologist_a"].save(update_fields=["organisation"])
    return org


def room_input(**overrides: Any) -> services.InstitutionInput:
    values: dict[str, Any] = {"name": "天河区测试中学心理辅导室", "kind": "school_room", "students": 1800,
                              "counsellors": 2, "services": ["counselling", "child_adolescent"],
                              "populations": ["students"], "business_licence_number": "",
                              "licensing_status": "", "hours": "1-5 08:00-17:00"}
    values.update(overrides)
    return institution_input(**values)


def events_for(obj: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("id"))


def test_apply_review_approve_registers_the_institution(cast: dict[str, Any], school: Organisation) -> None:
    app, created = services.submit_application(cast["psychologist_a"], room_input(), form_key="k1")
    assert created and app.status == ApplicationStatus.SUBMITTED
    assert app.applicant_organisation == school and app.region_id == TIANHE
    assert not Institution.objects.exists()  # nothing is registered before approval

    services.transition_application(cast["mhc_staff_a"], app, "review", recommendation="approve")
    app = services.transition_application(cast["regulator"], app, "approve")

    assert app.status == ApplicationStatus.APPROVED
    institution = app.institution
    assert institution is not None and institution.status == "active" and institution.kind == "school_room"
    assert institution.organisation.parent == school  # a unit of the applying school
    assert institution.organisation.org_type == OrgType.COUNSELLING_ROOM
    assert institution.registration_number == f"{TIANHE}-{institution.pk:06d}"
    assert institution.approved_by == cast["regulator"]
    point = institution.points.get()
    assert point.public is False  # school rooms serve their own students, not the public finder
    assert sorted(point.services.values_list("code", flat=True)) == ["child_adolescent", "counselling"]
    assert point.hours.count() == 5
    version = institution.versions.get()
    assert version.number == 1 and version.application == app and version.data["students"] == 1800
    assert [e.action for e in app.events.order_by("id")] == ["submit", "review", "approve"]
    assert [e.detail.get("transition") for e in events_for(app)] == [None, "review", "approve"]
    assert events_for(institution)[0].detail["source"] == "application"
    assert verify_chain().ok


def test_a_resent_form_stores_one_application(cast: dict[str, Any], school: Organisation) -> None:
    first, created = services.submit_application(cast["psychologist_a"], room_input(), form_key="same")
    again, created_again = services.submit_application(cast["psychologist_a"], room_input(), form_key="same")
    assert created and not created_again and first.pk == again.pk
    assert RegistrationApplication.objects.count() == 1


def test_return_then_resubmit_by_a_colleague_then_reject(cast: dict[str, Any], school: Organisation) -> None:
    from tests.registry.factories import staff_of

    app, _created = services.submit_application(cast["psychologist_a"], room_input())
    services.transition_application(cast["mhc_staff_a"], app, "return", reason="请补充开放时间")
    colleague = staff_of(school, "psychologist", username="colleague", region=cast["psychologist_a"].region)
    app = services.transition_application(colleague, app, "resubmit")
    assert app.status == ApplicationStatus.SUBMITTED
    app = services.transition_application(cast["regulator"], app, "reject", reason="场所不符合要求")
    assert app.status == ApplicationStatus.REJECTED and app.reason == "场所不符合要求"
    assert app.decided_by == cast["regulator"]
    assert not Institution.objects.exists()


@pytest.mark.parametrize(("actor", "action", "kwargs", "field"), [
    ("regulator", "approve", {}, "action"),  # the county review comes first
    ("regulator", "reject", {}, "reason"),  # a rejection gives a reason
    ("mhc_staff_a", "review", {}, "recommendation"),  # a review recommends
    ("mhc_staff_a", "return", {"reason": " "}, "reason"),
    ("psychologist_a", "resubmit", {}, "action"),  # not returned
])
def test_refused_transitions_change_nothing(cast: dict[str, Any], school: Organisation, actor: str, action: str,
                                            kwargs: dict[str, str], field: str) -> None:
    app, _created = services.submit_application(cast["psychologist_a"], room_input())
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.transition_application(cast[actor], app, action, **kwargs)
    assert field in exc.value.message_dict
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED and AuditEvent.objects.count() == before


@pytest.mark.parametrize(("actor", "action"), [
    ("psychologist_a", "approve"), ("psychologist_a", "review"), ("community_doctor_a", "review"),
    ("mhc_staff_a", "approve"), ("regulator", "review"), ("no_role", "withdraw"),
])
def test_transitions_without_the_permission_are_forbidden(cast: dict[str, Any], school: Organisation, actor: str,
                                                          action: str) -> None:
    app, _created = services.submit_application(cast["psychologist_a"], room_input())
    with pytest.raises(PermissionDenied):
        services.transition_application(cast[actor], app, action, reason="x y", recommendation="approve")


def test_nobody_reviews_an_application_they_entered(cast: dict[str, Any]) -> None:
    # The county centre enters a paper application on an agency's behalf: another colleague reviews it.
    app, _created = services.submit_application(cast["mhc_staff_a"], institution_input())
    assert app.applicant_organisation is None
    with pytest.raises(ValidationError) as exc:
        services.transition_application(cast["mhc_staff_a"], app, "review", recommendation="approve")
    assert "colleague" in exc.value.message_dict["action"][0] or "同事" in exc.value.message_dict["action"][0]


def test_the_other_county_cannot_act(cast: dict[str, Any], school: Organisation) -> None:
    app, _created = services.submit_application(cast["psychologist_a"], room_input())
    assert not RegistrationApplication.objects.restrict(cast["mhc_staff_b"]).filter(pk=app.pk).exists()
    with pytest.raises(PermissionDenied):
        services.transition_application(cast["mhc_staff_b"], app, "review", recommendation="approve")


def test_withdraw_by_the_applicant(cast: dict[str, Any], school: Organisation) -> None:
    app, _created = services.submit_application(cast["psychologist_a"], room_input())
    app = services.transition_application(cast["psychologist_a"], app, "withdraw")
    assert app.status == ApplicationStatus.WITHDRAWN
    with pytest.raises(ValidationError):
        services.transition_application(cast["mhc_staff_a"], app, "review", recommendation="approve")


def test_applications_outside_the_applicants_region_are_refused(cast: dict[str, Any], school: Organisation) -> None:
    with pytest.raises(ValidationError) as exc:
        services.submit_application(cast["psychologist_a"], room_input(region_code=BAIYUN))
    assert "region_code" in exc.value.message_dict


def test_details_are_checked_field_by_field(cast: dict[str, Any], school: Organisation) -> None:
    bad = room_input(name="", hours="1-5 9点", latitude=23.1, longitude=None, services=["magic"], students=None,
                     kind="university_centre", email="not-an-email")
    with pytest.raises(ValidationError) as exc:
        services.submit_application(cast["psychologist_a"], bad)
    assert {"name", "hours", "latitude", "services", "students", "email"} <= set(exc.value.message_dict)


def test_staff_without_an_organisation_cannot_apply(cast: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as exc:
        services.submit_application(cast["psychologist_a"], room_input())
    assert "organisation" in exc.value.message_dict


def test_change_after_approval_is_a_new_version(cast: dict[str, Any]) -> None:
    agency = make_institution(cast["regulator"], name="天河心语咨询中心")
    psychologist = cast["psychologist_a"]
    psychologist.organisation = agency.organisation
    psychologist.save(update_fields=["organisation"])
    proposed = services.InstitutionInput.from_data({**services.snapshot(agency), "name": "天河心语心理咨询中心",
                                                    "hours": "1-6 09:00-20:00", "phone": "020-66666666"})
    app, _created = services.submit_application(psychologist, proposed, institution=agency)
    assert app.kind == "change"
    changed = {f for f, _old, _new in services.proposed_changes(app)}
    assert changed == {"name", "hours", "phone"}
    with pytest.raises(ValidationError):  # one open application at a time
        services.submit_application(psychologist, proposed, institution=agency)

    services.transition_application(cast["mhc_staff_a"], app, "review", recommendation="approve")
    services.transition_application(cast["regulator"], app, "approve")
    agency.refresh_from_db()
    assert agency.version == 2 and agency.organisation.name == "天河心语心理咨询中心"
    latest = agency.versions.order_by("-number").first()
    assert latest is not None and latest.number == 2 and set(latest.changed) == {"name", "hours", "phone"}
    assert latest.source == InstitutionVersion.Source.APPLICATION
    change_events = [e for e in events_for(agency) if e.action == "change"]
    assert change_events and set(change_events[-1].detail["fields"]) == {"name", "hours", "phone"}
    assert agency.points.get().hours.filter(weekday=6).exists()


def test_the_kind_of_a_registered_institution_does_not_change(cast: dict[str, Any]) -> None:
    agency = make_institution(cast["regulator"])
    proposed = services.InstitutionInput.from_data({**services.snapshot(agency), "kind": "psychiatric_hospital"})
    with pytest.raises(ValidationError) as exc:
        services.submit_application(cast["mhc_staff_a"], proposed, institution=agency)
    assert "kind" in exc.value.message_dict


def test_an_approval_that_fails_rolls_back_with_its_audit_event(cast: dict[str, Any], school: Organisation) -> None:
    app, _created = services.submit_application(cast["psychologist_a"], room_input())
    services.transition_application(cast["mhc_staff_a"], app, "review", recommendation="approve")
    # Meanwhile an organisation of that name appeared in the region.
    Organisation.objects.create(name="天河区测试中学心理辅导室", org_type=OrgType.COUNSELLING_ROOM,
                                region=Region.objects.get(code=TIANHE))
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.transition_application(cast["regulator"], app, "approve")
    assert "name" in exc.value.message_dict
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REVIEWED and AuditEvent.objects.count() == before
    assert not Institution.objects.exists()
    assert verify_chain().ok


def test_register_own_organisation(cast: dict[str, Any]) -> None:
    hotline = Organisation.objects.create(name="广州市测试心理援助热线", org_type=OrgType.HOTLINE_CENTRE,
                                          region_id="4401")
    counsellor = cast["hotline_counsellor"]
    counsellor.organisation = hotline
    counsellor.save(update_fields=["organisation"])
    data = institution_input(name=hotline.name, kind="hotline", region_code="4401", own_organisation=True,
                             open_24h=True, hours="", languages=["普通话", "粤语"], services=["hotline"],
                             latitude=None, longitude=None, business_licence_number="", licensing_status="")
    app, _created = services.submit_application(counsellor, data)
    from tests.registry.factories import staff_of

    centre = Organisation.objects.create(name="广州市测试精神卫生中心", org_type=OrgType.MHC_CITY, region_id="4401")
    city_centre = staff_of(centre, "mhc_staff", username="city_mhc")
    services.transition_application(city_centre, app, "review", recommendation="approve")
    app = services.transition_application(cast["regulator"], app, "approve")
    assert app.institution is not None and app.institution.organisation == hotline
    assert app.institution.points.get().languages == ["普通话", "粤语"]
    with pytest.raises(ValidationError):
        services.submit_application(counsellor, data)  # already registered


def test_demonstration_designation_is_versioned(cast: dict[str, Any]) -> None:
    agency = make_institution(cast["regulator"])
    with pytest.raises(PermissionDenied):
        services.designate_demonstration(cast["mhc_staff_a"], agency, year=2025)
    services.designate_demonstration(cast["regulator"], agency, year=2025)
    agency.refresh_from_db()
    assert agency.demonstration and agency.demonstration_year == 2025 and agency.version == 2
    assert agency.versions.order_by("-number").first().changed == ["demonstration", "demonstration_year"]  # type: ignore[union-attr]
