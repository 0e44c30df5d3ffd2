"""The registry's rules, as plain tests plus hypothesis properties (no database)."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.registry import rules

ALL = lambda perm: True  # noqa: E731
NONE = lambda perm: False  # noqa: E731


# --- workflows --------------------------------------------------------------------------------------


def test_shipped_workflows_load_and_are_consistent() -> None:
    machines = rules.workflows()
    assert set(machines) == {"application", "sanction", "finding", "complaint"}
    for machine in machines.values():
        assert machine.initial in machine.states
        for t in machine.transitions.values():
            assert not (t.sources & machine.final), "a final state has a way out"
            assert t.target in machine.states


def test_application_happy_path_review_then_approve() -> None:
    app = rules.workflow("application")
    t = rules.check_transition(app, "submitted", "review", has_perm=ALL, parties=set())
    assert t.target == "reviewed"
    t = rules.check_transition(app, "reviewed", "approve", has_perm=ALL, parties=set())
    assert t.target == "approved"


@pytest.mark.parametrize(("state", "action", "parties", "reason", "code"), [
    ("submitted", "approve", set(), "", "wrong_state"),  # the county review comes first
    ("approved", "reject", set(), "no", "wrong_state"),  # a decision is final
    ("rejected", "resubmit", {"applicant"}, "", "wrong_state"),
    ("submitted", "review", {"applicant"}, "", "conflict"),  # nobody reviews their own application
    ("reviewed", "approve", {"reviewer"}, "", "conflict"),  # the reviewer does not decide
    ("reviewed", "approve", {"applicant"}, "", "conflict"),
    ("returned", "resubmit", set(), "", "not_party"),  # only the applicant resubmits
    ("submitted", "withdraw", set(), "", "not_party"),
    ("submitted", "reject", set(), "", "reason_required"),  # a rejection says why
    ("reviewed", "return", set(), " ", "reason_required"),
    ("submitted", "fly", set(), "", "unknown_action"),
])
def test_application_refusals(state: str, action: str, parties: set[str], reason: str, code: str) -> None:
    with pytest.raises(rules.TransitionRefused) as exc:
        rules.check_transition(rules.workflow("application"), state, action, has_perm=ALL, parties=parties,
                               reason=reason)
    assert exc.value.code == code
    assert exc.value.field == ("reason" if code == "reason_required" else "action")


def test_permission_is_checked_before_parties_and_reason() -> None:
    with pytest.raises(rules.TransitionRefused) as exc:
        rules.check_transition(rules.workflow("application"), "reviewed", "approve", has_perm=NONE)
    assert exc.value.code == "permission"


def test_only_a_suspension_can_be_lifted() -> None:
    sanction = rules.workflow("sanction")
    assert rules.check_transition(sanction, "in_force", "lift", has_perm=ALL, reason="served",
                                  kind="suspension").target == "lifted"
    for kind in ("warning", "removal"):
        with pytest.raises(rules.TransitionRefused) as exc:
            rules.check_transition(sanction, "in_force", "lift", has_perm=ALL, reason="x y", kind=kind)
        assert exc.value.code == "wrong_kind"


def test_the_proposer_does_not_impose_their_own_sanction() -> None:
    with pytest.raises(rules.TransitionRefused) as exc:
        rules.check_transition(rules.workflow("sanction"), "proposed", "impose", has_perm=ALL, parties={"proposer"})
    assert exc.value.code == "conflict"


def test_finding_is_reported_by_the_institution_and_verified_by_someone_else() -> None:
    finding = rules.workflow("finding")
    assert rules.check_transition(finding, "open", "report", has_perm=ALL, parties={"institution"},
                                  reason="已整改").target == "reported"
    with pytest.raises(rules.TransitionRefused):
        rules.check_transition(finding, "open", "report", has_perm=ALL, parties=set(), reason="已整改")
    with pytest.raises(rules.TransitionRefused):
        rules.check_transition(finding, "reported", "verify", has_perm=ALL, parties={"institution"})


@given(machine=st.sampled_from(sorted(rules.workflows())), state=st.text(max_size=12),
       action=st.text(max_size=12), parties=st.sets(st.sampled_from(["applicant", "reviewer", "proposer",
                                                                      "institution"])))
def test_any_allowed_transition_is_declared(machine: str, state: str, action: str, parties: set[str]) -> None:
    m = rules.workflow(machine)
    try:
        t = rules.check_transition(m, state, action, has_perm=ALL, parties=parties, reason="a reason",
                                   kind="suspension")
    except rules.TransitionRefused:
        return
    assert action in m.transitions and state in m.transitions[action].sources and t.target in m.states


@given(machine=st.sampled_from(sorted(rules.workflows())), data=st.data())
def test_final_states_allow_nothing(machine: str, data: st.DataObject) -> None:
    m = rules.workflow(machine)
    state = data.draw(st.sampled_from(sorted(m.final)))
    assert rules.available_actions(m, state, has_perm=ALL, parties={"applicant", "institution"},
                                   kind="suspension") == []


def test_bad_workflow_files_are_refused() -> None:
    with pytest.raises(ValueError, match="final"):
        rules._machine("x", {"initial": "a", "final": ["b"], "states": ["a", "b"], "transitions": [
            {"action": "go", "from": ["b"], "to": "a", "permission": "p"}]})
    with pytest.raises(ValueError, match="unknown states"):
        rules._machine("x", {"initial": "a", "final": [], "states": ["a"], "transitions": [
            {"action": "go", "from": ["a"], "to": "z", "permission": "p"}]})


# --- credentials ------------------------------------------------------------------------------------


def test_credential_status_order() -> None:
    today = date(2026, 5, 1)
    assert rules.credential_status(revoked=False, expiry_date=None, today=today) == "valid"
    assert rules.credential_status(revoked=False, expiry_date=today, today=today) == "valid"
    assert rules.credential_status(revoked=False, expiry_date=date(2026, 4, 30), today=today) == "expired"
    assert rules.credential_status(revoked=True, expiry_date=date(2030, 1, 1), today=today) == "revoked"
    assert rules.credential_status(revoked=True, expiry_date=date(2020, 1, 1), today=today) == "revoked"


def test_counsellor_national_qualification_ended_in_2017() -> None:
    national = rules.credential_types()["counsellor_national"]
    assert national.no_new_issues_after == date(2017, 12, 31)
    ok = rules.credential_problems(national, profession="counsellor", issue_date=date(2016, 6, 1), expiry_date=None,
                                   today=date(2026, 1, 1))
    assert ok == []
    late = rules.credential_problems(national, profession="counsellor", issue_date=date(2019, 3, 1),
                                     expiry_date=None, today=date(2026, 1, 1))
    assert ("issue_date", "discontinued") in late
    # The schemes that followed have no such end.
    newer = rules.credential_types()["counsellor_skill_level"]
    assert rules.credential_problems(newer, profession="counsellor", issue_date=date(2023, 3, 1), expiry_date=None,
                                     today=date(2026, 1, 1)) == []


def test_credential_problems() -> None:
    licence = rules.credential_types()["physician_licence"]
    problems = rules.credential_problems(licence, profession="counsellor", issue_date=date(2030, 1, 1),
                                         expiry_date=date(2029, 1, 1), today=date(2026, 1, 1))
    assert set(problems) == {("type_code", "profession_mismatch"), ("issue_date", "in_future"),
                             ("expiry_date", "before_issue")}


def test_nurse_licence_defaults_to_five_years() -> None:
    nurse = rules.credential_types()["nurse_licence"]
    assert rules.default_expiry(nurse, date(2021, 3, 15)) == date(2026, 3, 14)
    assert rules.default_expiry(nurse, date(2020, 2, 29)) == date(2025, 2, 27)
    assert rules.default_expiry(rules.credential_types()["psychotherapist"], date(2021, 3, 15)) is None


def test_every_credential_type_names_known_professions() -> None:
    from xinqiao.registry.models.people import Profession

    for ctype in rules.credential_types().values():
        assert ctype.professions <= set(Profession.values), ctype.code
        assert ctype.source


@given(st.text(max_size=20))
def test_name_normalisation_is_idempotent_and_ignores_spacing(name: str) -> None:
    once = rules.normalise_name(name)
    assert rules.normalise_name(once) == once
    assert rules.normalise_name(" ".join(name)) == once


def test_name_and_number_normalisation_examples() -> None:
    assert rules.normalise_name("张 三") == rules.normalise_name("张三") == rules.normalise_name("张三")
    assert rules.normalise_name("Ali·Yusuf") == rules.normalise_name("ali yusuf")
    assert rules.normalise_number(" ab-12 34 ") == rules.normalise_number("AB1234") == "AB1234"


# --- checklist --------------------------------------------------------------------------------------


def _full(cl: rules.Checklist) -> dict[str, float]:
    return {i.code: float(i.points) for i in cl.items}


def test_shipped_checklist_totals_100_and_grades() -> None:
    cl = rules.checklist()
    assert cl.max_total == 100
    assert rules.score_checklist(cl, _full(cl)).grade == "A"
    scores = _full(cl)
    scores["staff.training"] = 0  # −10 → 90% still A
    assert rules.score_checklist(cl, scores).grade == "A"
    scores["staff.supervision"] = 0  # 80%
    result = rules.score_checklist(cl, scores)
    assert (result.total, result.percent, result.grade) == (80.0, 80.0, "B")


def test_a_failed_critical_item_caps_the_grade() -> None:
    cl = rules.checklist()
    scores = _full(cl)
    scores["practice.referral"] = 4  # critical item, below half of 10; total 94%
    result = rules.score_checklist(cl, scores)
    assert result.percent == 94.0 and result.grade == "D" and result.capped


@pytest.mark.parametrize(("change", "code"), [
    ({"staff.qualified": 16}, "out_of_range"), ({"staff.qualified": -1}, "out_of_range"),
    ({"nope": 1}, "unknown_item"), ({"staff.qualified": None}, "missing"),
])
def test_score_errors_name_the_item(change: dict[str, float | None], code: str) -> None:
    cl = rules.checklist()
    scores: dict[str, float | None] = dict(_full(cl))
    scores.update(change)
    with pytest.raises(rules.ScoreError) as exc:
        rules.score_checklist(cl, scores)  # type: ignore[arg-type]
    assert exc.value.code == code


@given(st.data())
def test_grade_is_monotonic_in_score(data: st.DataObject) -> None:
    cl = rules.checklist()
    scores = {i.code: data.draw(st.integers(0, i.points)) for i in cl.items}
    bumped = dict(scores)
    item = data.draw(st.sampled_from(cl.items))
    bumped[item.code] = item.points
    order = [g.code for g in cl.grades]
    a, b = rules.score_checklist(cl, scores), rules.score_checklist(cl, bumped)
    assert b.total >= a.total
    assert order.index(b.grade) <= order.index(a.grade)


# --- distances --------------------------------------------------------------------------------------


def test_haversine_known_distance() -> None:
    # Guangzhou Tower to Canton Fair Complex: about 4.6 km.
    assert 4.0 < rules.haversine_km(23.1065, 113.3245, 23.0989, 113.3693) < 5.0
    assert rules.haversine_km(23.0, 113.0, 23.0, 113.0) == 0


@given(lat=st.floats(-60, 60), lon=st.floats(-170, 170), radius=st.floats(0.1, 500),
       bearing=st.floats(0, 2 * math.pi), fraction=st.floats(0, 0.999))
def test_bounding_box_contains_every_point_within_the_radius(lat: float, lon: float, radius: float, bearing: float,
                                                             fraction: float) -> None:
    # A point at distance fraction × radius in direction bearing (spherical destination formula).
    d = fraction * radius / rules.EARTH_RADIUS_KM
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    lat2, lon2 = math.degrees(p2), math.degrees(l2)
    assert rules.haversine_km(lat, lon, lat2, lon2) <= radius + 1e-6
    box = rules.bounding_box(lat, lon, radius)
    eps = 1e-9
    assert box.min_lat - eps <= lat2 <= box.max_lat + eps
    assert box.min_lon - eps <= lon2 <= box.max_lon + eps


def test_valid_coordinates() -> None:
    assert rules.valid_coordinates(23.1, 113.3)
    assert not rules.valid_coordinates(None, 113.3)
    assert not rules.valid_coordinates(91, 0)
    assert not rules.valid_coordinates(float("nan"), 0)


# --- opening hours ----------------------------------------------------------------------------------


def test_parse_and_format_hours() -> None:
    intervals = rules.parse_hours("1-5 08:00-12:00,14:00-17:30; 6 09:00-12:00")
    assert rules.Interval(1, 480, 720) in intervals and rules.Interval(6, 540, 720) in intervals
    assert len(intervals) == 11
    assert rules.format_hours(intervals) == "1-5 08:00-12:00,14:00-17:30; 6 09:00-12:00"
    assert rules.is_open(intervals, 3, 9 * 60)
    assert not rules.is_open(intervals, 3, 13 * 60)
    assert not rules.is_open(intervals, 7, 10 * 60)


def test_overnight_hours_split_at_midnight() -> None:
    intervals = rules.parse_hours("7 22:00-06:00")
    assert intervals == [rules.Interval(1, 0, 360), rules.Interval(7, 1320, 1440)]
    assert rules.is_open(intervals, 1, 5 * 60)


@pytest.mark.parametrize("text", ["8 09:00-10:00", "1-5 9-10", "1-5 09:00", "5-1 09:00-10:00", "1 25:00-26:00",
                                  "1 10:00-10:00", "monday 09:00-10:00"])
def test_unreadable_hours_name_the_fragment(text: str) -> None:
    with pytest.raises(rules.HoursError) as exc:
        rules.parse_hours(text)
    assert exc.value.fragment


@given(st.lists(st.tuples(st.integers(1, 7), st.integers(0, 1439), st.integers(1, 1440)), max_size=6))
def test_format_then_parse_round_trips(raw: list[tuple[int, int, int]]) -> None:
    intervals = sorted({rules.Interval(d, a, b) for d, a, b in raw if b > a})
    assert rules.parse_hours(rules.format_hours(intervals)) == intervals


# --- kinds and coverage data ------------------------------------------------------------------------


def test_every_kind_maps_to_a_core_org_type() -> None:
    from xinqiao.core.models import OrgType
    from xinqiao.registry.models import InstitutionKind

    assert set(rules.kinds()) == set(InstitutionKind.values)
    for kind in InstitutionKind.values:
        for level in (1, 2, 3, 4):
            assert rules.org_type_for(kind, level) in OrgType.values
    assert rules.org_type_for("mental_health_centre", 3) == "mhc_county"
    assert rules.org_type_for("mental_health_centre", 4) == "mhc_county"


def test_finder_filters_name_known_services() -> None:
    from xinqiao.registry.models import ServiceCode

    filters = rules.finder_filters()
    assert set(filters) == {"emergency", "psychiatric_outpatient", "counselling", "child_adolescent", "elderly",
                            "hotline"}
    for codes in filters.values():
        assert codes <= set(ServiceCode.values)


def test_zones_cover_every_province_once() -> None:
    zones = rules.coverage_config()["zones"]
    codes = [c for z in zones.values() for c in z]
    assert len(codes) == len(set(codes)) == 31
    assert rules.psychiatrist_target("44") == 3.8 and rules.psychiatrist_target("51") == 2.8


def test_percent_and_per_100k() -> None:
    assert rules.percent(1, 3) == 33.3
    assert rules.percent(1, 0) is None
    assert rules.per_100k(38, 1_000_000) == 3.8
    assert rules.per_100k(1, None) is None


def test_village_codes() -> None:
    assert rules.village_in_township("440106001001", "440106001")
    assert not rules.village_in_township("440106002001", "440106001")
    assert not rules.village_in_township("44010600100", "440106001")
