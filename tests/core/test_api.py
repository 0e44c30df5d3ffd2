"""The HTTP API v1: public region look-ups, authentication, scoped and masked persons,
idempotent registration, field-named errors in the user's language, audited unmask, CSRF."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from tests.factories import PersonFactory
from tests.helpers import fields_of, has_cjk, login_verified, verified_client
from xinqiao.core import idcard
from xinqiao.core.masking import mask_id_number, mask_name
from xinqiao.core.models import AuditAction, AuditEvent, IdempotencyKey, Person

pytestmark = pytest.mark.django_db

API = "/api/v1"


def valid_id(town, birth: date = date(1985, 3, 14), seq: int = 123) -> str:  # type: ignore[no-untyped-def]
    return idcard.generate_resident_id(town.county_code, birth, seq)


def bad_checksum(number: str) -> str:
    """The same number with a wrong check character."""
    wrong = next(c for c in idcard.CHECK_CHARACTERS if c != number[-1])
    return number[:-1] + wrong


def post_json(client: Client, path: str, body: dict, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(path, data=json.dumps(body), content_type="application/json", **extra)


def person_body(town, **overrides: object) -> dict:  # type: ignore[no-untyped-def]
    body = {"name": "李四", "id_type": "resident_id", "id_number": valid_id(town), "region_code": town.code,
            "phone": "13900001111", "address": "广东省广州市天河区五山路2号"}
    body.update(overrides)
    return body


# --- Regions (public) ----------------------------------------------------------------------------


def region_codes(client: Client, q: str, **params: str) -> list[str]:
    resp = client.get(f"{API}/regions", {"q": q, **params})
    assert resp.status_code == 200, resp.content
    return [r["code"] for r in resp.json()]


@pytest.mark.parametrize("q", ["天河", "tianhe", "TianHe", "thq", "4401"])
def test_region_typeahead_finds_tianhe(client: Client, q: str) -> None:
    assert "440106" in region_codes(client, q)


def test_region_typeahead_by_code_prefix_only_returns_matching_codes(client: Client) -> None:
    codes = region_codes(client, "440106")
    assert codes[0] == "440106"
    assert codes and all(c.startswith("440106") for c in codes)


def test_region_typeahead_chinese_puts_exact_match_first(client: Client) -> None:
    resp = client.get(f"{API}/regions", {"q": "天河区"})
    first = resp.json()[0]
    assert first == {"code": "440106", "name": "天河区", "level": 3, "kind": "county",
                     "parent_code": "4401", "pinyin": "tianhequ"}


def test_region_typeahead_level_and_within_filters(client: Client) -> None:
    codes = region_codes(client, "tianhe", level="4", within="4401")
    assert codes and all(len(c) == 9 and c.startswith("4401") for c in codes)
    assert "440106008" in codes  # 天河南街道


def test_region_typeahead_empty_query_is_empty(client: Client) -> None:
    assert region_codes(client, "") == []


def test_region_detail_with_children(client: Client) -> None:
    resp = client.get(f"{API}/regions/440106")
    assert resp.status_code == 200
    body = resp.json()
    assert body["name"] == "天河区"
    assert body["full_name"] == "广东省广州市天河区"
    children = {c["code"]: c for c in body["children"]}
    assert children["440106001"]["name"] == "五山街道"
    assert all(c["parent_code"] == "440106" and c["level"] == 4 for c in children.values())
    assert [c["code"] for c in body["children"]] == sorted(children)


def test_region_detail_unknown_is_404_json(client: Client) -> None:
    resp = client.get(f"{API}/regions/999999")
    assert resp.status_code == 404
    assert resp.json() == {"detail": resp.json()["detail"]}


# --- Authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/persons", "/persons/1", "/me", "/organisations", "/organisations/1"])
def test_anonymous_gets_401_json(client: Client, path: str) -> None:
    resp = client.get(API + path)
    assert resp.status_code == 401
    assert resp["Content-Type"].startswith("application/json")
    assert resp.json()["detail"]


def test_anonymous_post_is_401_and_writes_nothing(client: Client, towns) -> None:  # type: ignore[no-untyped-def]
    resp = post_json(client, f"{API}/persons", person_body(towns[0]), HTTP_IDEMPOTENCY_KEY="k1")
    assert resp.status_code == 401
    assert not Person.objects.exists()


def test_me(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    user = cast["police_a"]
    login_verified(client, user)
    resp = client.get(f"{API}/me")
    assert resp.status_code == 200
    assert resp.json() == {"username": "police_a", "display_name": "police_a", "roles": ["police"],
                           "region_code": user.region_id, "organisation_id": None, "two_factor_verified": True}


def test_organisations_need_auth_and_list_for_signed_in(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import OrganisationFactory

    org = OrganisationFactory(name="天河区精神卫生中心", region_id="440106")
    assert client.get(f"{API}/organisations").status_code == 401
    login_verified(client, cast["grid_worker_a"])
    resp = client.get(f"{API}/organisations", {"region": "4401"})
    assert resp.status_code == 200
    assert [o["name"] for o in resp.json()] == ["天河区精神卫生中心"]
    detail = client.get(f"{API}/organisations/{org.pk}").json()
    assert detail["region_code"] == "440106" and detail["org_type"] == org.org_type


def test_organisations_need_the_permission(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["no_role"])
    assert client.get(f"{API}/organisations").status_code == 403


# --- Persons: scope and masks --------------------------------------------------------------------


@pytest.fixture
def people(towns):  # type: ignore[no-untyped-def]
    a = PersonFactory(name="张三丰", region=towns[0])
    b = PersonFactory(name="赵六", region=towns[1])
    return a, b


def test_person_list_police_sees_own_township_masked(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    a, _b = people
    login_verified(client, cast["police_a"])
    resp = client.get(f"{API}/persons")
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 1 and body["page"] == 1 and body["pages"] == 1
    (row,) = body["results"]
    assert row["id"] == a.pk
    assert row["name"] == mask_name("张三丰") == "张**"
    assert row["id_number"] == mask_id_number(a.id_number)
    assert row["id_number"] != a.id_number and "*" in row["id_number"]
    assert row["birth_date"] == "1980-**-**"
    assert row["phone"] == "138****5678"
    assert row["unmasked"] is False
    assert "张三丰" not in resp.content.decode()


def test_person_list_grid_worker_has_id_number_hidden(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["grid_worker_a"])
    (row,) = client.get(f"{API}/persons").json()["results"]
    assert row["id_number"] is None
    assert row["phone"] is None
    assert row["birth_date"] is None
    assert row["name"] == "张**"


def test_person_list_is_audited(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["police_a"])
    client.get(f"{API}/persons")
    event = AuditEvent.objects.filter(action=AuditAction.LIST).latest("id")
    assert event.actor_username == "police_a"
    assert event.detail["ids"] == [str(people[0].pk)]


def test_person_list_role_without_view_permission_is_404(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["hotline_counsellor"])
    assert client.get(f"{API}/persons").status_code == 404


def test_person_detail_in_scope_and_out_of_scope(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    a, b = people
    login_verified(client, cast["police_a"])
    resp = client.get(f"{API}/persons/{a.pk}")
    assert resp.status_code == 200
    assert resp.json()["name"] == "张**"
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(a.pk)).exists()
    out = client.get(f"{API}/persons/{b.pk}")
    assert out.status_code == 404
    assert out.json() == {"detail": out.json()["detail"]}
    assert client.get(f"{API}/persons/{b.pk + 1000}").status_code == 404


# --- Persons: idempotent registration ------------------------------------------------------------


def test_create_person_is_idempotent(client: Client, cast, towns) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    body = person_body(towns[0])
    first = post_json(client, f"{API}/persons", body, HTTP_IDEMPOTENCY_KEY="key-123")
    assert first.status_code == 201, first.content
    created = first.json()
    person = Person.objects.get()
    assert created["id"] == person.pk
    assert created["name"] == "李*"  # the doctor's own role masks the name
    assert person.name == "李四" and person.id_number == body["id_number"]

    retry = post_json(client, f"{API}/persons", body, HTTP_IDEMPOTENCY_KEY="key-123")
    assert retry.status_code == 201
    assert retry.json() == created
    assert Person.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="core.person").count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_same_key_different_body_is_422(client: Client, cast, towns) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    assert post_json(client, f"{API}/persons", person_body(towns[0]), HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    resp = post_json(client, f"{API}/persons", person_body(towns[0], name="王五"), HTTP_IDEMPOTENCY_KEY="k")
    assert resp.status_code == 422
    assert fields_of(resp) == ["Idempotency-Key"]
    assert Person.objects.count() == 1


def test_same_key_of_another_user_is_independent(cast, towns) -> None:  # type: ignore[no-untyped-def]
    body = person_body(towns[0])
    one = post_json(verified_client(cast["community_doctor_a"]), f"{API}/persons", body, HTTP_IDEMPOTENCY_KEY="k")
    two = post_json(verified_client(cast["mhc_staff_a"]), f"{API}/persons", body, HTTP_IDEMPOTENCY_KEY="k")
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]


def test_missing_idempotency_key_is_422(client: Client, cast, towns) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    resp = post_json(client, f"{API}/persons", person_body(towns[0]))
    assert resp.status_code == 422
    assert "Idempotency-Key" in fields_of(resp)
    assert not Person.objects.exists()


def test_bad_id_number_is_422_naming_the_field_in_chinese(client: Client, cast, towns) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    body = person_body(towns[0], id_number=bad_checksum(valid_id(towns[0])))
    resp = post_json(client, f"{API}/persons", body, HTTP_IDEMPOTENCY_KEY="bad-1")
    assert resp.status_code == 422
    (error,) = resp.json()["detail"]
    assert error["field"] == "id_number"
    assert has_cjk(error["message"]), error
    assert error["message"] == idcard.ERROR_MESSAGES["checksum"][0]
    assert not Person.objects.exists()
    assert not IdempotencyKey.objects.exists()  # a failed request does not burn the key


def test_bad_id_number_message_is_english_with_accept_language(client: Client, cast, towns) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    body = person_body(towns[0], id_number=bad_checksum(valid_id(towns[0])))
    resp = post_json(client, f"{API}/persons", body, HTTP_IDEMPOTENCY_KEY="bad-2", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 422
    (error,) = resp.json()["detail"]
    assert error["field"] == "id_number"
    assert error["message"] == idcard.ERROR_MESSAGES["checksum"][1]
    assert not has_cjk(error["message"])


def test_missing_fields_are_named(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    resp = post_json(client, f"{API}/persons", {"phone": "1"}, HTTP_IDEMPOTENCY_KEY="m")
    assert resp.status_code == 422
    assert {"name", "region_code"} <= set(fields_of(resp))
    assert all(d["message"] for d in resp.json()["detail"])


def test_malformed_region_code_is_named(client: Client, cast, towns) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    resp = post_json(client, f"{API}/persons", person_body(towns[0], region_code="4401"), HTTP_IDEMPOTENCY_KEY="r")
    assert resp.status_code == 422
    assert fields_of(resp) == ["region_code"]


def test_region_outside_scope_is_422(client: Client, cast, towns) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    resp = post_json(client, f"{API}/persons", person_body(towns[1], id_number=valid_id(towns[1])),
                     HTTP_IDEMPOTENCY_KEY="scope")
    assert resp.status_code == 422
    assert fields_of(resp) == ["region_code"]
    assert not Person.objects.exists()


def test_create_without_add_permission_is_403(client: Client, cast, towns) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["police_a"])
    resp = post_json(client, f"{API}/persons", person_body(towns[0]), HTTP_IDEMPOTENCY_KEY="p")
    assert resp.status_code == 403
    assert not Person.objects.exists()


# --- Unmask --------------------------------------------------------------------------------------


def test_unmask_with_short_purpose_is_422(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["police_a"])
    resp = post_json(client, f"{API}/persons/{people[0].pk}/unmask", {"purpose": "ab"})
    assert resp.status_code == 422
    assert fields_of(resp) == ["purpose"]
    assert not AuditEvent.objects.filter(action=AuditAction.UNMASK).exists()


def test_unmask_whitespace_purpose_is_422(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["police_a"])
    resp = post_json(client, f"{API}/persons/{people[0].pk}/unmask", {"purpose": "      "})
    assert resp.status_code == 422
    assert fields_of(resp) == ["purpose"]


def test_unmask_by_police_reveals_and_audits(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    a, _b = people
    login_verified(client, cast["police_a"])
    resp = post_json(client, f"{API}/persons/{a.pk}/unmask", {"purpose": "入户走访核实身份"})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["id_number"] == a.id_number
    assert body["name"] == "张三丰"
    assert body["phone"] == "13812345678"
    assert body["unmasked"] is True
    event = AuditEvent.objects.get(action=AuditAction.UNMASK)
    assert event.purpose == "入户走访核实身份"
    assert event.actor_username == "police_a"
    assert event.object_id == str(a.pk)
    assert "id_number" in event.detail["fields"]


def test_unmask_out_of_scope_is_404(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["police_a"])
    resp = post_json(client, f"{API}/persons/{people[1].pk}/unmask", {"purpose": "入户走访核实身份"})
    assert resp.status_code == 404


def test_unmask_by_grid_worker_is_403(client: Client, cast, people) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["grid_worker_a"])
    resp = post_json(client, f"{API}/persons/{people[0].pk}/unmask", {"purpose": "入户走访核实身份"})
    assert resp.status_code == 403
    assert resp.json()["detail"]
    assert not AuditEvent.objects.filter(action=AuditAction.UNMASK).exists()


# --- CSRF ----------------------------------------------------------------------------------------


def test_session_post_without_csrf_token_is_refused(cast, people) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(cast["police_a"], enforce_csrf_checks=True)
    resp = post_json(client, f"{API}/persons/{people[0].pk}/unmask", {"purpose": "入户走访核实身份"})
    assert resp.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.UNMASK).exists()


def test_session_post_without_csrf_token_creates_nothing(cast, towns) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(cast["community_doctor_a"], enforce_csrf_checks=True)
    resp = post_json(client, f"{API}/persons", person_body(towns[0]), HTTP_IDEMPOTENCY_KEY="csrf")
    assert resp.status_code == 403
    assert not Person.objects.exists()


def test_session_post_with_csrf_token_is_accepted(cast, people) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(cast["police_a"], enforce_csrf_checks=True)
    client.get("/persons/")  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    resp = post_json(client, f"{API}/persons/{people[0].pk}/unmask", {"purpose": "入户走访核实身份"},
                     HTTP_X_CSRFTOKEN=token)
    assert resp.status_code == 200
