"""The work-list queries: the SQL matches the rules, the scope, and a fixed number of queries."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.worklists.factories import PatientFactory, clinic
from xinqiao.patients.models import Patient
from xinqiao.worklists import queries, rules

TODAY = date(2025, 3, 10)
pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor(cast: dict[str, Any], towns: list) -> Any:
    user = cast["community_doctor_a"]
    user.organisation = clinic(towns[0])
    user.save(update_fields=["organisation"])
    return user


def ids(qs: Any) -> list[int]:
    return [p.pk for p in qs]


def random_population(rng: random.Random, n: int, **kwargs: Any) -> list[Patient]:
    statuses = ["managed"] * 6 + ["in_hospital", "lost", "dead", "moved_out", "deregistered"]
    out = []
    for _ in range(n):
        due = rng.choice([None, TODAY + timedelta(days=rng.randint(-40, 40)), TODAY,
                          TODAY + timedelta(days=6), TODAY + timedelta(days=7), TODAY - timedelta(days=1)])
        since = rng.choice([None, None, TODAY - timedelta(days=rng.randint(0, 30))])
        out.append(PatientFactory(
            status=rng.choice(statuses), next_followup_due=due, last_classification=rng.choice([None, 1, 2, 3]),
            awaiting_first_visit_since=since, failed_attempts=rng.choice([0, 0, 1, 2, 3, 4]),
            danger_level=rng.randint(0, 5), **kwargs))
    return out


def test_each_list_is_exactly_what_the_rules_say(doctor: Any) -> None:
    patients = random_population(random.Random(3), 70, managing_organisation=doctor.organisation)
    counts = queries.worklist_counts(doctor, today=TODAY)
    for code in rules.LIST_CODES:
        expected = {p.pk for p in patients if rules.on_list(
            code, status=p.status, due=p.next_followup_due, classification=p.last_classification,
            awaiting_since=p.awaiting_first_visit_since, failed_attempts=p.failed_attempts, today=TODAY,
            due_soon_days=7)}
        got = ids(queries.worklist(doctor, code, today=TODAY))
        assert set(got) == expected, code
        assert len(got) == len(expected) == counts[code], code
    assert counts["overdue"] and counts["first_visit"] and counts["unstable"]  # the sample covers each list


def test_days_overdue_and_waiting_are_computed_in_sql(doctor: Any) -> None:
    a = PatientFactory(next_followup_due=TODAY - timedelta(days=30))
    b = PatientFactory(next_followup_due=TODAY - timedelta(days=1))
    PatientFactory(next_followup_due=TODAY)  # due today: not overdue
    rows = queries.worklist_page(doctor, "overdue", today=TODAY).rows
    assert [(r.patient.pk, r.days) for r in rows] == [(a.pk, 30), (b.pk, 1)]  # longest overdue first

    on_time = PatientFactory(awaiting_first_visit_since=TODAY - timedelta(days=14))
    late = PatientFactory(awaiting_first_visit_since=TODAY - timedelta(days=15))
    rows = queries.worklist_page(doctor, "first_visit", today=TODAY).rows
    assert [(r.patient.pk, r.days, r.late) for r in rows] == [(late.pk, 15, True), (on_time.pk, 14, False)]


def test_third_failed_attempt_prompts_lost_to_follow_up(doctor: Any) -> None:
    two = PatientFactory(failed_attempts=2)
    three = PatientFactory(failed_attempts=3)
    one = PatientFactory(failed_attempts=1)
    rows = queries.worklist_page(doctor, "failed_attempts", today=TODAY).rows
    assert [(r.patient.pk, r.prompt_lost) for r in rows] == [(three.pk, True), (two.pk, False), (one.pk, False)]


def test_unstable_includes_patients_in_hospital_longest_due_first(doctor: Any) -> None:
    home = PatientFactory(last_classification=1, next_followup_due=TODAY + timedelta(days=3))
    ward = PatientFactory(last_classification=1, status="in_hospital", next_followup_due=None)
    early = PatientFactory(last_classification=1, next_followup_due=TODAY - timedelta(days=2))
    PatientFactory(last_classification=2, next_followup_due=TODAY)
    assert ids(queries.worklist(doctor, "unstable", today=TODAY)) == [early.pk, home.pk, ward.pk]


# --------------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------------


def test_community_doctor_sees_their_clinic_and_their_own_patients(doctor: Any, cast: dict, towns: list) -> None:
    town_a, town_b = towns
    overdue = {"next_followup_due": TODAY - timedelta(days=3)}
    mine_here = PatientFactory(responsible_doctor=doctor, **overdue)
    clinic_colleague = PatientFactory(responsible_doctor=UserFactory(region=town_a), **overdue)
    other_clinic = clinic(town_a, "另一社区卫生服务站（测试）")
    elsewhere = PatientFactory(managing_organisation=other_clinic, **overdue)
    mine_elsewhere = PatientFactory(managing_organisation=other_clinic, responsible_doctor=doctor, **overdue)
    PatientFactory(region=town_b, **overdue)  # township B: never

    assert set(ids(queries.worklist(doctor, "overdue", today=TODAY))) == {mine_here.pk, clinic_colleague.pk,
                                                                         mine_elsewhere.pk}
    assert set(ids(queries.worklist(doctor, "overdue", today=TODAY, mine=True))) == {mine_here.pk, mine_elsewhere.pk}
    assert queries.worklist_counts(doctor, today=TODAY, mine=True)["overdue"] == 2
    assert elsewhere.pk not in ids(queries.worklist(doctor, "overdue", today=TODAY))

    # Without an organisation, a community doctor's list is the patients they are responsible for.
    doctor.organisation = None
    assert set(ids(queries.worklist(doctor, "overdue", today=TODAY))) == {mine_here.pk, mine_elsewhere.pk}


def test_county_centre_sees_its_county_and_nothing_beyond(cast: dict, towns: list) -> None:
    town_a, town_b = towns
    overdue = {"next_followup_due": TODAY - timedelta(days=3)}
    a1 = PatientFactory(**overdue)
    a2 = PatientFactory(managing_organisation=clinic(town_a, "另一社区卫生服务站（测试）"), **overdue)
    PatientFactory(region=town_b, **overdue)
    staff = cast["mhc_staff_a"]
    assert not queries.is_caseload_user(staff)
    assert set(ids(queries.worklist(staff, "overdue", today=TODAY))) == {a1.pk, a2.pk}
    assert queries.worklist_counts(cast["mhc_staff_b"], today=TODAY)["overdue"] == 1


@pytest.mark.parametrize("role", ["police_a", "regulator", "psychiatrist_a", "grid_worker_a", "no_role"])
def test_roles_without_the_work_lists_see_nothing(cast: dict, role: str) -> None:
    PatientFactory(next_followup_due=TODAY - timedelta(days=3), danger_level=4)
    assert queries.worklist_counts(cast[role], today=TODAY) == dict.fromkeys(rules.LIST_CODES, 0)
    assert ids(queries.worklist(cast[role], "overdue", today=TODAY)) == []


def test_rows_are_masked_per_role(doctor: Any) -> None:
    p = PatientFactory(next_followup_due=TODAY - timedelta(days=2), danger_level=3)
    row = queries.worklist_page(doctor, "overdue", today=TODAY).rows[0]
    assert row.name != p.person.name and row.name.startswith(p.person.name[0]) and "*" in row.name
    assert row.danger_level == 3  # the community doctor sees danger and follow-up dates in full
    assert row.shown["next_followup_due"] == TODAY - timedelta(days=2)


def test_unknown_list_is_refused(doctor: Any) -> None:
    with pytest.raises(queries.UnknownListError):
        queries.worklist(doctor, "everyone")


# --------------------------------------------------------------------------------------------------
# A fixed, small number of queries, whatever the size
# --------------------------------------------------------------------------------------------------


def _count_queries(fn: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("code", rules.LIST_CODES)
def test_counts_are_one_query_and_a_page_one_more(doctor: Any, code: str, django_assert_num_queries: Any) -> None:
    random_population(random.Random(5), 40, managing_organisation=doctor.organisation,
                      responsible_doctor=doctor)
    queries.worklist_counts(doctor, today=TODAY)  # the user's roles and permissions load once, then are cached
    with django_assert_num_queries(1):
        counts = queries.worklist_counts(doctor, today=TODAY)
    with django_assert_num_queries(2):
        page = queries.worklist_page(doctor, code, today=TODAY, per_page=5)
    with django_assert_num_queries(1):
        queries.worklist_page(doctor, code, today=TODAY, per_page=5, counts=counts)
    assert page.page.paginator.count == counts[code]
    assert len(page.rows) == min(5, counts[code])


def test_query_count_does_not_grow_with_the_list(doctor: Any) -> None:
    random_population(random.Random(8), 3, managing_organisation=doctor.organisation)
    queries.worklist_counts(doctor, today=TODAY)
    small = _count_queries(lambda: queries.worklist_page(doctor, "overdue", today=TODAY))
    for p in random_population(random.Random(9), 60, managing_organisation=doctor.organisation):
        Patient.objects.filter(pk=p.pk).update(status="managed", next_followup_due=TODAY - timedelta(days=5),
                                               responsible_doctor=doctor)
    big_page = queries.worklist_page(doctor, "overdue", today=TODAY)
    assert len(big_page.rows) == rules.settings().page_size
    big = _count_queries(lambda: queries.worklist_page(doctor, "overdue", today=TODAY, page=2))
    assert small == big == 2
