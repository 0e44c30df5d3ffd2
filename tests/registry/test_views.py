"""Staff pages and the staff API: the application flow through the pages, field-named errors in both
languages, idempotent API creates, 404 outside scope, names per role, fixed query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.helpers import fields_of, has_cjk, login_verified
from tests.registry.factories import BAIYUN, make_institution, make_practitioner
from xinqiao.core.models import AuditEvent, Organisation, OrgType
from xinqiao.registry.models import Institution, RegistrationApplication

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre(cast: dict[str, Any]) -> Organisation:
    """The community health centre of township A; community_doctor_a works there."""
    org = Organisation.objects.create(name="测试社区卫生服务中心", org_type=OrgType.COMMUNITY_HEALTH_CENTRE,
                                      region_id=cast["community_doctor_a"].region_id)
    cast["community_doctor_a"].organisation = org
    cast["community_doctor_a"].save(update_fields=["organisation"])
    return org


def form_data(town: str, **overrides: Any) -> dict[str, Any]:
    data = {"name": "测试社区社会工作室", "kind": "counselling_room", "region_code": town, "address": "测试路1号",
            "phone": "020-12345678", "latitude": "23.12", "longitude": "113.36", "hours": "1-5 09:00-17:00",
            "services": ["counselling", "social_work"], "populations": ["everyone"], "village_code": f"{town}001",
            "village_name": "第一社区"}
    data.update(overrides)
    return data


def test_apply_review_approve_through_the_pages(cast: dict[str, Any], centre: Organisation, client: Client) -> None:
    town = cast["community_doctor_a"].region_id
    login_verified(client, cast["community_doctor_a"])
    page = client.get(reverse("registry:application_create"))
    assert page.status_code == 200 and page.context["form"].initial["name"] == centre.name  # own organisation offered
    key = page.context["form"].initial["form_key"]
    sent = client.post(reverse("registry:application_create"), {**form_data(town), "form_key": key})
    assert sent.status_code == 302
    again = client.post(reverse("registry:application_create"), {**form_data(town), "form_key": key})
    assert again.status_code == 302 and RegistrationApplication.objects.count() == 1  # a resent form
    app = RegistrationApplication.objects.get()
    login_verified(client, cast["mhc_staff_a"])
    detail = client.get(reverse("registry:application_detail", kwargs={"pk": app.pk}))
    assert [a["action"] for a in detail.context["actions"]] == ["review", "return"]
    client.post(reverse("registry:application_transition", kwargs={"pk": app.pk}),
                {"action": "review", "recommendation": "approve"})
    login_verified(client, cast["regulator"])
    client.post(reverse("registry:application_transition", kwargs={"pk": app.pk}), {"action": "approve"})
    app.refresh_from_db()
    assert app.status == "approved"
    institution = Institution.objects.get()
    assert institution.organisation.parent == centre
    page = client.get(reverse("registry:institution_detail", kwargs={"pk": institution.pk})).content.decode()
    assert "测试社区社会工作室" in page and 'id="versions"' in page


def test_form_errors_name_the_field_in_both_languages(cast: dict[str, Any], centre: Organisation,
                                                      client: Client) -> None:
    town = cast["community_doctor_a"].region_id
    login_verified(client, cast["community_doctor_a"])
    bad = form_data(town, hours="工作日白天", region_code=BAIYUN)
    zh = client.post(reverse("registry:application_create"), bad)
    assert zh.status_code == 400
    errors = zh.context["form"].errors
    assert "hours" in errors and has_cjk(errors["hours"][0]) and errors["hours"][0].startswith("开放时间")
    client.cookies["django_language"] = "en"
    en = client.post(reverse("registry:application_create"), bad, HTTP_ACCEPT_LANGUAGE="en")
    assert en.context["form"].errors["hours"][0].startswith("Opening hours")
    ok_hours = client.post(reverse("registry:application_create"), form_data(town, region_code=BAIYUN))
    assert "region_code" in ok_hours.context["form"].errors  # outside the applicant's region


def test_records_outside_scope_are_404(cast: dict[str, Any], client: Client) -> None:
    theirs = make_institution(None, name="白云测试中心", region_code=BAIYUN)
    login_verified(client, cast["mhc_staff_a"])
    for name in ("registry:institution_detail", "registry:institution_change", "registry:evaluation_create"):
        assert client.get(reverse(name, kwargs={"pk": theirs.pk})).status_code == 404
    assert client.get(reverse("api-1:registry_institution_detail", kwargs={"institution_id": theirs.pk})
                      ).status_code == 404
    assert client.get(reverse("registry:sanction_create") + f"?institution={theirs.pk}").status_code == 404


def test_practitioner_pages_show_names_per_role_and_audit_views(cast: dict[str, Any], client: Client) -> None:
    agency = make_institution(None, name="天河测试机构")
    practitioner = make_practitioner(agency, name="黄测试", profession="counsellor",
                                     credential=("counsellor_skill_level", "S-1"))
    login_verified(client, cast["mhc_staff_a"])
    page = client.get(reverse("registry:practitioner_detail", kwargs={"pk": practitioner.pk})).content.decode()
    assert "黄测试" in page and "S-1" in page
    assert AuditEvent.objects.filter(action="view", object_type="registry.practitioner",
                                     object_id=str(practitioner.pk)).exists()
    listing = client.get(reverse("registry:practitioner_list")).content.decode()
    assert "黄测试" in listing
    assert AuditEvent.objects.filter(action="list", object_type="registry.practitioner").exists()
    api = client.get(reverse("api-1:registry_practitioner_list")).json()
    assert api[0]["name"] == "黄测试" and api[0]["credential_statuses"] == ["valid"]


def test_lists_run_a_fixed_number_of_queries(cast: dict[str, Any], client: Client) -> None:
    login_verified(client, cast["regulator"])

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    agency = make_institution(None, name="首个机构")
    make_practitioner(agency, name="首个医生", credential=("physician_licence", "Q0"))
    urls = [reverse(n) for n in ("registry:institution_list", "registry:practitioner_list",
                                 "registry:application_list", "registry:home")]
    first = [count(u) for u in urls]
    for i in range(8):
        other = make_institution(None, name=f"机构{i}")
        make_practitioner(other, name=f"医生{i}", credential=("physician_licence", f"Q{i + 1}"))
    assert [count(u) for u in urls] == first


def test_api_create_is_idempotent_and_names_fields(cast: dict[str, Any], centre: Organisation, client: Client) -> None:
    town = cast["community_doctor_a"].region_id
    login_verified(client, cast["community_doctor_a"])
    url = reverse("api-1:registry_application_create")
    body = {"details": {"name": "API测试社会工作室", "kind": "counselling_room", "region_code": town,
                        "hours": "1-5 09:00-17:00", "services": ["counselling"]}}
    first = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "abc"})
    again = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "abc"})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert RegistrationApplication.objects.count() == 1
    other = {"details": {**body["details"], "name": "另一个名字"}}
    conflict = client.post(url, other, content_type="application/json", headers={"Idempotency-Key": "abc"})
    assert conflict.status_code == 422
    bad = {"details": {**body["details"], "hours": "daytime", "kind": "nope"}}
    zh = client.post(url, bad, content_type="application/json", headers={"Idempotency-Key": "b2"})
    assert zh.status_code == 422 and set(fields_of(zh)) >= {"kind"}
    assert all(has_cjk(d["message"]) for d in zh.json()["detail"])
    en = client.post(url, bad, content_type="application/json", headers={"Idempotency-Key": "b3"},
                     HTTP_ACCEPT_LANGUAGE="en")
    assert not any(has_cjk(d["message"]) for d in en.json()["detail"])
    missing = client.post(url, {"details": {"kind": "counselling_room"}}, content_type="application/json",
                          headers={"Idempotency-Key": "b4"})
    assert missing.status_code == 422 and set(fields_of(missing)) == {"details.name", "details.region_code"}
    app_id = first.json()["id"]
    login_verified(client, cast["mhc_staff_a"])
    step = client.post(reverse("api-1:registry_application_transition", kwargs={"application_id": app_id}),
                       {"action": "approve"}, content_type="application/json", headers={"Idempotency-Key": "t1"})
    assert step.status_code == 403  # the county centre reviews; it does not approve
    step = client.post(reverse("api-1:registry_application_transition", kwargs={"application_id": app_id}),
                       {"action": "review", "recommendation": "approve"}, content_type="application/json",
                       headers={"Idempotency-Key": "t2"})
    assert step.status_code == 200 and step.json()["status"] == "reviewed"
