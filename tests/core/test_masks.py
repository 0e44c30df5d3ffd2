"""Tests for xinqiao.core.masks: the role field-mask policy (data/field_masks.json) and ``present``."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from tests.factories import PersonFactory, UserFactory
from xinqiao.core import masks
from xinqiao.core.masking import MASKERS
from xinqiao.core.masks import Visibility, present, role_visibility, unmaskable_fields, visibility
from xinqiao.core.models import Person
from xinqiao.core.roles import all_roles

POLICY = masks.policy()
CATEGORIES = set(POLICY["categories"])
CLINICAL = sorted(c for c in CATEGORIES if c.startswith("clinical."))


def _person(towns) -> Person:  # type: ignore[no-untyped-def]
    return PersonFactory(
        region=towns[0], name="张三丰", id_number="440106199001011234", birth_date=date(1990, 1, 1),
        phone="13812345678", address="广东省广州市天河区五山路1号",
    )


# --------------------------------------------------------------------------- the policy file


def test_every_role_has_a_mask_entry_and_no_unknown_roles() -> None:
    assert set(POLICY["roles"]) == set(all_roles())


def test_every_pii_category_is_declared() -> None:
    used = set(Person.PII_FIELDS.values())
    assert used <= CATEGORIES, used - CATEGORIES
    assert set(MASKERS) <= CATEGORIES


def test_clinical_categories_exist() -> None:
    assert {"clinical.diagnosis", "clinical.medication", "clinical.followup"} <= set(CLINICAL)


def test_police_see_identity_address_danger_and_doctor_not_clinical() -> None:
    # DOMAIN.md §7: "police see identity, address, danger level and the responsible doctor, not diagnoses
    # or medication".
    assert role_visibility("police", "risk.danger_level") == Visibility.FULL
    assert role_visibility("police", "care.responsible_doctor") >= Visibility.MASKED
    for category in ("identity.name", "identity.id_number", "contact.address"):
        assert role_visibility("police", category) >= Visibility.MASKED, category
    assert role_visibility("police", "clinical.diagnosis") == Visibility.HIDDEN
    assert role_visibility("police", "clinical.medication") == Visibility.HIDDEN
    for category in CLINICAL:
        assert role_visibility("police", category) == Visibility.HIDDEN, category


def test_civil_affairs_see_poverty_and_subsidy_not_clinical() -> None:
    # DOMAIN.md §7: "civil affairs see poverty and subsidy status".
    assert role_visibility("civil_affairs", "welfare.poverty") >= Visibility.MASKED
    assert role_visibility("civil_affairs", "welfare.subsidy") >= Visibility.MASKED
    for category in CLINICAL:
        assert role_visibility("civil_affairs", category) == Visibility.HIDDEN, category


def test_unknown_role_or_category_is_hidden() -> None:
    assert role_visibility("no_such_role", "identity.name") == Visibility.HIDDEN
    assert role_visibility("community_doctor", "no.such.category") == Visibility.HIDDEN


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"police": {"clinical.nonsense": "full"}}, "unknown category"),
        ({"police": {"identity.name": "hidden"}}, "is not full/masked"),
    ],
)
def test_policy_rejects_bad_files(tmp_path, monkeypatch, rules, message) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "field_masks.json"
    bad.write_text(json.dumps({"categories": POLICY["categories"], "roles": rules}), encoding="utf-8")
    monkeypatch.setattr(masks, "MASKS_FILE", bad)
    masks.policy.cache_clear()
    try:
        with pytest.raises(ValueError, match=message):
            masks.policy()
    finally:
        masks.policy.cache_clear()


# --------------------------------------------------------------------------- users


def test_visibility_of_anonymous_and_roleless_users(cast) -> None:
    assert visibility(AnonymousUser(), "identity.sex") == Visibility.HIDDEN
    assert visibility(cast["no_role"], "identity.sex") == Visibility.HIDDEN


def test_several_roles_get_the_most_open_setting(db) -> None:
    user = UserFactory(roles=["grid_worker", "civil_affairs"])
    assert role_visibility("grid_worker", "welfare.poverty") == Visibility.HIDDEN
    assert visibility(user, "welfare.poverty") == Visibility.FULL
    assert visibility(user, "identity.id_number") == Visibility.MASKED  # from civil_affairs
    assert visibility(user, "risk.danger_level") == Visibility.FULL  # from grid_worker


# --------------------------------------------------------------------------- present


def test_present_masks_for_community_doctor(cast, towns) -> None:
    person = _person(towns)
    shown = present(cast["community_doctor_a"], person)
    assert shown == {
        "name": "张**",
        "id_number": "4401**********1234",
        "birth_date": date(1990, 1, 1),  # full for community doctors
        "sex": person.get_sex_display(),
        "phone": "138****5678",
        "address": "广东省广州市****",
    }


def test_present_reveals_with_unmask_permission(cast, towns) -> None:
    person = _person(towns)
    doctor = cast["community_doctor_a"]
    assert doctor.has_perm("core.unmask_person")
    shown = present(doctor, person, unmasked=True)
    assert shown["name"] == "张三丰"
    assert shown["id_number"] == "440106199001011234"
    assert shown["phone"] == "13812345678"
    assert shown["address"] == "广东省广州市天河区五山路1号"
    assert sorted(unmaskable_fields(doctor, person)) == ["address", "id_number", "name", "phone"]


def test_present_hides_fields_the_role_may_not_see(cast, towns) -> None:
    person = _person(towns)
    grid = present(cast["grid_worker_a"], person)
    assert set(grid) == {"name", "sex", "address"}
    hotline = present(cast["hotline_counsellor"], person)
    assert hotline == {"name": "张**", "phone": "138****5678"}
    assert present(cast["no_role"], person) == {}
    assert present(AnonymousUser(), person) == {}


def test_unmasked_without_permission_stays_masked(cast, towns) -> None:
    person = _person(towns)
    grid_worker = cast["grid_worker_a"]
    assert not grid_worker.has_perm("core.unmask_person")
    shown = present(grid_worker, person, unmasked=True)
    assert shown == {"name": "张**", "sex": person.get_sex_display(), "address": "广东省广州市****"}
    assert unmaskable_fields(grid_worker, person) == []
    regulator = present(cast["regulator"], person, unmasked=True)
    assert regulator["name"] == "张**"
    assert regulator["id_number"] == "4401**********1234"
    assert "phone" not in regulator


def test_unmask_never_reveals_hidden_fields(cast, towns) -> None:
    person = _person(towns)
    police = cast["police_a"]
    shown = present(police, person, unmasked=True)
    assert shown["name"] == "张三丰"
    assert shown["birth_date"] == date(1990, 1, 1)  # masked for police, revealed with unmask
    hotline_like = UserFactory(roles=["hotline_counsellor"])
    hotline_like.user_permissions.add(*Group.objects.get(name="mhc_staff").permissions.filter(codename="unmask_person"))
    hotline_like = type(hotline_like).objects.get(pk=hotline_like.pk)
    assert hotline_like.has_perm("core.unmask_person")
    shown = present(hotline_like, person, unmasked=True)
    assert shown == {"name": "张三丰", "phone": "13812345678"}


# --------------------------------------------------------------------------- cached reading (speed)


def _pii_models() -> list[type]:
    from django.apps import apps

    return [m for m in apps.get_models() if getattr(m, "PII_FIELDS", None)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_choice_labels_read_once_per_model_equal_get_foo_display(language) -> None:
    # present() reads choice fields through a label map built once per model; it must give exactly
    # what Django's get_FOO_display gives, for every choice and for a value outside the choices.
    from django.utils import translation

    checked = 0
    with translation.override(language):
        for model in _pii_models():
            for name, _category, attname, choices in masks._readers(model):
                if choices is None:
                    continue
                field = model._meta.get_field(name)
                for value in [*(v for v, _label in field.flatchoices), "no-such-code", 987654]:
                    obj = model(**{attname: value})
                    assert masks._read(obj, name, attname, choices) == getattr(obj, f"get_{name}_display")(), \
                        (model, name, value)
                    checked += 1
    assert checked > 50  # the population has choice fields (sex, danger level, classification, …)


def test_present_with_fields_is_the_same_values_narrowed(cast, towns) -> None:
    person = _person(towns)
    doctor = cast["community_doctor_a"]
    whole = present(doctor, person)
    assert present(doctor, person, fields=("name", "sex")) == {k: whole[k] for k in ("name", "sex")}
    assert present(doctor, person, fields=()) == {}
    assert present(cast["hotline_counsellor"], person, fields=("name", "sex")) == {"name": "张**"}
    with pytest.raises(KeyError):
        present(doctor, person, fields=("name", "no_such_field"))
    assert masks.present_many(doctor, [person, person], fields=("name",)) == [{"name": "张**"}] * 2


def test_visibility_follows_a_change_of_roles_on_the_same_user(db) -> None:
    user = UserFactory(roles=["grid_worker"])
    assert visibility(user, "welfare.poverty") == Visibility.HIDDEN
    user.groups.add(Group.objects.get(name="civil_affairs"))
    del user.role_codes  # the cached role set, as a fresh request would load it
    assert visibility(user, "welfare.poverty") == Visibility.FULL
    user.groups.set([])
    del user.role_codes
    assert visibility(user, "welfare.poverty") == Visibility.HIDDEN
