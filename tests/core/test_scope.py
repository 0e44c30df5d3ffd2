"""Tests for xinqiao.core.scope: which persons each user may reach (``restrict``, ``get_scoped_or_404``)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from tests.factories import PersonFactory, UserFactory
from xinqiao.core.models import Person, Region, RegionLevel, User
from xinqiao.core.scope import get_scoped_or_404, in_scope

TOWNSHIP_ROLES_WITH_VIEW = ("community_doctor", "police", "civil_affairs", "zongzhi", "grid_worker")
COUNTY_ROLES_WITH_VIEW = ("disabled_federation", "psychiatrist", "mhc_staff")


@pytest.fixture
def places(towns):  # type: ignore[no-untyped-def]
    """Township A and B, another township of county A, and a township in another city of the province."""
    a, b = towns
    a2 = (Region.objects.filter(level=RegionLevel.TOWNSHIP, county_code=a.county_code)
          .exclude(code=a.code).order_by("code").first())
    other_city = (Region.objects.filter(level=RegionLevel.TOWNSHIP, province_code="44")
                  .exclude(city_code=a.city_code).order_by("code").first())
    assert a2 is not None and other_city is not None
    return {"a": a, "b": b, "a2": a2, "other_city": other_city}


@pytest.fixture
def persons(places):  # type: ignore[no-untyped-def]
    """Two persons in each place, keyed by place."""
    return {key: {PersonFactory(region=region).pk for _ in range(2)} for key, region in places.items()}


def _visible(user: object) -> set[int]:
    return set(Person.objects.restrict(user).values_list("pk", flat=True))


@pytest.mark.parametrize("role", TOWNSHIP_ROLES_WITH_VIEW)
def test_township_users_see_their_township_only(cast, persons, role: str) -> None:
    assert _visible(cast[f"{role}_a"]) == persons["a"]
    assert _visible(cast[f"{role}_b"]) == persons["b"]


@pytest.mark.parametrize("role", COUNTY_ROLES_WITH_VIEW)
def test_county_users_see_their_county(cast, persons, role: str) -> None:
    assert _visible(cast[f"{role}_a"]) == persons["a"] | persons["a2"]
    assert _visible(cast[f"{role}_b"]) == persons["b"]


@pytest.mark.parametrize("user", ["regulator", "sysadmin"])
def test_city_users_see_the_whole_city(cast, persons, user: str) -> None:
    assert _visible(cast[user]) == persons["a"] | persons["a2"] | persons["b"]


def test_province_regulator_sees_the_province(cast, persons) -> None:
    assert _visible(cast["regulator_province"]) == set().union(*persons.values())


@pytest.mark.parametrize("user", ["hotline_counsellor", "crisis_lead", "psychologist_a", "no_role"])
def test_users_without_view_person_see_nothing(cast, persons, user: str) -> None:
    assert not cast[user].has_perm("core.view_person")
    assert _visible(cast[user]) == set()


def test_anonymous_sees_nothing(persons) -> None:
    assert _visible(AnonymousUser()) == set()


def test_inactive_user_sees_nothing(cast, persons) -> None:
    user = cast["regulator"]
    user.is_active = False
    user.save()
    assert _visible(User.objects.get(pk=user.pk)) == set()


def test_user_without_region_sees_nothing(persons) -> None:
    user = UserFactory(region=None, roles=["regulator"])
    assert user.has_perm("core.view_person")
    assert _visible(user) == set()


def test_staff_without_region_sees_nothing(persons) -> None:
    assert _visible(UserFactory(region=None, roles=["sysadmin"], is_staff=True)) == set()


def test_superuser_without_region_sees_all(persons) -> None:
    assert _visible(UserFactory(region=None, is_superuser=True)) == set().union(*persons.values())


def test_superuser_with_region_is_bounded_by_it(places, persons) -> None:
    assert _visible(UserFactory(region=places["b"], is_superuser=True)) == persons["b"]


def test_other_actions_need_their_permission(cast, persons) -> None:
    doctor, police = cast["community_doctor_a"], cast["police_a"]
    assert set(Person.objects.restrict(doctor, "change").values_list("pk", flat=True)) == persons["a"]
    assert set(Person.objects.restrict(doctor, "export").values_list("pk", flat=True)) == persons["a"]
    assert not Person.objects.restrict(police, "change").exists()
    assert not Person.objects.restrict(police, "export").exists()
    assert not Person.objects.restrict(doctor, "delete").exists()


def test_get_scoped_or_404(cast, places, persons) -> None:
    doctor = cast["community_doctor_a"]
    mine, theirs = next(iter(persons["a"])), next(iter(persons["b"]))
    assert get_scoped_or_404(Person, doctor, pk=mine).pk == mine
    with pytest.raises(Http404):
        get_scoped_or_404(Person, doctor, pk=theirs)
    with pytest.raises(Http404):
        get_scoped_or_404(Person, doctor, pk=max(persons["other_city"]) + 1000)  # missing looks the same
    with pytest.raises(Http404):
        get_scoped_or_404(Person, cast["hotline_counsellor"], pk=mine)
    with pytest.raises(Http404):
        get_scoped_or_404(Person, cast["police_a"], "change", pk=mine)
    assert get_scoped_or_404(Person, cast["regulator"], pk=theirs).pk == theirs


def test_in_scope(cast, places) -> None:
    assert in_scope(cast["community_doctor_a"], places["a"].code)
    assert not in_scope(cast["community_doctor_a"], places["a2"].code)
    assert in_scope(cast["mhc_staff_a"], places["a2"].code)
    assert not in_scope(cast["mhc_staff_a"], places["b"].code)
    assert in_scope(cast["regulator"], places["b"].code)
    assert not in_scope(cast["regulator"], places["other_city"].code)
    assert not in_scope(UserFactory(region=None), places["a"].code)
    assert in_scope(UserFactory(region=None, is_superuser=True), places["a"].code)


@pytest.mark.parametrize("n", [5, 50])
def test_restrict_and_list_is_a_fixed_number_of_queries(towns, cast, django_assert_num_queries, n: int) -> None:
    for _ in range(n):
        PersonFactory(region=towns[0])
    user = User.objects.get(pk=cast["community_doctor_a"].pk)  # fresh: no cached permissions
    # Two permission queries (user, groups) and one SELECT, whatever the number of rows.
    with django_assert_num_queries(3):
        rows = list(Person.objects.restrict(user).select_related("region")[:50])
        shown = [(p.name, p.region.name) for p in rows]  # decrypting and the township need no more queries
    assert len(rows) == len(shown) == n
    with django_assert_num_queries(1):  # permissions are cached on the user now
        assert len(list(Person.objects.restrict(user)[:50])) == n
