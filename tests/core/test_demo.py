"""``xinqiao demo``: deterministic for a seed, idempotent, one account per role placed like the
design says (township roles in two townships of two counties), printed passwords that work."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory, override_settings

from xinqiao.core.demo import DEMO_COUNTIES, ROLE_PLACEMENT, demo_townships
from xinqiao.core.models import Organisation, Person, Region, RegionLevel, User
from xinqiao.core.roles import all_roles

pytestmark = pytest.mark.django_db


def run_demo(seed: int = 1) -> tuple[str, dict[str, tuple[str, str, str]]]:
    """Run the command; return its output and {username: (password, role label, region code)}."""
    out = StringIO()
    call_command("demo", seed=seed, stdout=out)
    text = out.getvalue()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Demo accounts")) + 1
    accounts: dict[str, tuple[str, str, str]] = {}
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        username, password, label, region = line.split()
        accounts[username] = (password, label, region)
    return text, accounts


def counts() -> tuple[int, int, int]:
    return Organisation.objects.count(), Person.objects.count(), User.objects.count()


@pytest.fixture
def demo_twice():  # type: ignore[no-untyped-def]
    first_text, first = run_demo(seed=1)
    after_first = counts()
    second_text, second = run_demo(seed=1)
    return first, second, after_first, counts(), first_text, second_text


def test_demo_is_deterministic(demo_twice) -> None:  # type: ignore[no-untyped-def]
    first, second, *_rest = demo_twice
    assert first and first == second
    assert len({password for password, _label, _region in first.values()}) == len(first)


def test_demo_rerun_adds_no_duplicates(demo_twice) -> None:  # type: ignore[no-untyped-def]
    first, _second, after_first, after_second, first_text, second_text = demo_twice
    assert after_first == after_second
    n_orgs, n_persons, n_users = after_second
    assert n_persons > 0 and n_orgs > 0
    names = list(Organisation.objects.values_list("region_id", "name"))
    assert len(names) == len(set(names))
    assert "new persons" in first_text and " 0 new persons" in second_text
    assert n_users == len(first)


def test_demo_persons_are_valid_and_in_the_demo_townships(demo_twice) -> None:  # type: ignore[no-untyped-def]
    towns = {t.code for t in demo_townships()}
    persons = list(Person.objects.all())
    assert {p.township_code for p in persons} == towns
    # An emergency's subject may be a person not yet identified (no document number); everyone
    # with a number has a valid, unique index.
    identified = [p for p in persons if p.id_number]
    assert len(identified) >= len(persons) - 5
    indexes = [p.id_number_index for p in identified]
    assert all(indexes) and len(set(indexes)) == len(indexes)
    assert all(p.id_number[:6] == p.county_code for p in identified)
    assert all(p.id_number_index == "" for p in persons if not p.id_number)


def test_every_role_has_an_account(demo_twice) -> None:  # type: ignore[no-untyped-def]
    first, *_rest = demo_twice
    roles = all_roles()
    printed_labels = {label for _password, label, _region in first.values()}
    for code, role in roles.items():
        assert User.objects.filter(groups__name=code).exists(), code
        assert role.zh in printed_labels, code


def test_township_roles_sit_in_two_townships_of_two_counties(demo_twice) -> None:  # type: ignore[no-untyped-def]
    first, *_rest = demo_twice
    township_roles = [role for role, level in ROLE_PLACEMENT if level == "township"]
    assert township_roles
    for role in township_roles:
        regions = [Region.objects.get(code=first[f"{role}_{s}"][2]) for s in "ab"]
        assert all(r.level == RegionLevel.TOWNSHIP for r in regions), role
        assert regions[0].code != regions[1].code
        assert regions[0].county_code != regions[1].county_code
        assert {r.county_code for r in regions} == set(DEMO_COUNTIES)
        for s, region in zip("ab", regions, strict=True):
            user = User.objects.get(username=f"{role}_{s}")
            assert user.region_id == region.code
            assert user.organisation is not None and user.organisation.township_code == region.code


def test_county_and_city_roles_are_placed(demo_twice) -> None:  # type: ignore[no-untyped-def]
    first, *_rest = demo_twice
    for role, level in ROLE_PLACEMENT:
        if level == "county":
            assert {first[f"{role}_{s}"][2] for s in "ab"} == set(DEMO_COUNTIES), role
        elif level == "city":
            assert first[role][2] == "4401", role


def test_printed_passwords_work(demo_twice) -> None:  # type: ignore[no-untyped-def]
    first, *_rest = demo_twice
    request = RequestFactory().post("/accounts/login/")
    for username, (password, _label, _region) in first.items():
        user = authenticate(request, username=username, password=password)
        assert user is not None and user.username == username
    assert authenticate(request, username="police_a", password="not-the-password") is None


def test_another_seed_gives_other_passwords(demo_twice) -> None:  # type: ignore[no-untyped-def]
    first, *_rest = demo_twice
    _text, other = run_demo(seed=2)
    assert set(other) == set(first)
    assert all(other[u][0] != first[u][0] for u in first)


@override_settings(PRODUCTION=True)
def test_demo_refuses_production() -> None:
    with pytest.raises(CommandError):
        call_command("demo", seed=1, stdout=StringIO())
    assert not User.objects.exists()
