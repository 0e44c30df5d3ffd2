"""``followups.corrections``: correcting a stored follow-up — who, until when, why, and what it changes.

A correction needs ``change_followup`` and the record in scope (404 outside), the recording doctor,
the patient's or recording clinic's staff or the county centre (403 otherwise), the window of
``data/editing.json`` (the county centre may correct older records) and a stated reason. It keeps
the previous version (encrypted), re-runs the rules without counting the follow-up as its own
"previous visit", brings the patient's work-list columns in line when it is the latest visit,
audits the changed field names only, and a retry with the same key returns the same revision.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.followups.factories import make_patient, not_reached, visit
from tests.followups.test_views import visit_post
from tests.helpers import fields_of, login_verified
from tests.referrals.factories import network
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, AuditEvent, Organisation
from xinqiao.followups import corrections, rules, services
from xinqiao.followups.models import FollowUp, FollowUpRevision
from xinqiao.followups.services import MedicationInput
from xinqiao.referrals.models import Referral

pytestmark = pytest.mark.django_db

DAY1 = date(2025, 3, 3)
DAY2 = date(2025, 3, 17)
TODAY = date(2025, 3, 20)
REASON = "录入时危险性评估选错"


@pytest.fixture
def patient(towns: Any) -> Any:
    return make_patient(towns[0])


@pytest.fixture
def doctor(cast: dict[str, Any]) -> Any:
    return cast["community_doctor_a"]


def record(actor: Any, patient: Any, data: Any) -> FollowUp:
    fu, created = services.record_followup(actor, patient, data, today=TODAY)
    assert created
    return fu


def correct(actor: Any, fu: FollowUp, data: Any, reason: str = REASON, **kw: Any) -> Any:
    kw.setdefault("today", TODAY)
    return corrections.correct_followup(actor, fu, data, reason, **kw)


def as_input(fu: FollowUp, **changes: Any) -> services.FollowUpInput:
    """The stored follow-up as the form would send it back, with ``changes``."""
    return corrections.merged_input(fu, changes)


# --- The policy file ------------------------------------------------------------------------------------

def test_shipped_policy_loads_with_a_30_day_window() -> None:
    corrections.reload()
    cfg = corrections.config()
    assert cfg.window_days == 30 and "mhc_staff" in cfg.any_age_roles and cfg.export_max_rows == 5000


@pytest.mark.parametrize(("raw", "key"), [
    ({"correction": {"window_days": 0}, "export": {"max_rows": 10}}, "correction.window_days"),
    ({"correction": {"window_days": "30"}, "export": {"max_rows": 10}}, "correction.window_days"),
    ({"correction": {"window_days": 30, "any_age_roles": ["nobody"]}, "export": {"max_rows": 10}},
     "correction.any_age_roles"),
    ({"correction": {"window_days": 30}, "export": {"max_rows": 0}}, "export.max_rows"),
    ({"export": {"max_rows": 10}}, "correction"),
])
def test_invalid_policy_names_the_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(corrections.ConfigError, match=key.replace(".", r"\.")):
        corrections.config_from_dict(raw)


# --- A correction ---------------------------------------------------------------------------------------

def test_correction_keeps_the_previous_version_reruns_the_rules_and_updates_the_patient(doctor: Any,
                                                                                      patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    patient.refresh_from_db()
    assert (patient.last_classification, patient.next_followup_due) == (3, date(2025, 6, 3))
    revision, created = correct(doctor, fu, as_input(fu, danger_level=3))
    assert created and revision.number == 1
    fu.refresh_from_db()
    # The rules ran on the corrected visit: danger 3 → unstable, refer, inform the police, 2 weeks.
    assert (fu.proposed_classification, fu.classification) == (1, 1)
    assert fu.next_followup_date == DAY1 + timedelta(days=14)
    assert rules.REFER in fu.actions and fu.needs_referral and fu.police_notified
    # The previous version is kept, with the changed field names.
    assert revision.values["danger_level"] == 0 and revision.values["classification"] == 3
    assert revision.values["medications"][0]["drug_name"] == "利培酮"
    assert {"danger_level", "classification", "next_followup_date", "proposed_classification"} <= set(revision.changed)
    assert "method" not in revision.changed
    assert revision.reason == REASON and revision.created_by == doctor
    # The patient's work-list columns follow the latest visit.
    patient.refresh_from_db()
    assert (patient.last_classification, patient.danger_level) == (1, 3)
    assert patient.next_followup_due == DAY1 + timedelta(days=14)


def test_the_snapshot_and_the_reason_are_encrypted_at_rest(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    revision, _created = correct(doctor, fu, as_input(fu, sleep=2))
    with connection.cursor() as cursor:
        cursor.execute("SELECT data, reason FROM followups_followuprevision WHERE id = %s", [revision.pk])
        data, reason = cursor.fetchone()
    assert data.startswith("v1.") and reason.startswith("v1.")
    assert "利培酮" not in data and REASON not in reason


def test_audit_names_the_changed_fields_never_the_values(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    correct(doctor, fu, as_input(fu, danger_level=2, adverse_reaction_text="", physical_illness_text="高血压未控制"))
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, object_type="followups.followup", object_id=str(fu.pk))
    assert event.detail["revision"] == 1
    assert {"danger_level", "physical_illness_text"} <= set(event.detail["fields"])
    assert "last_classification" in event.detail["patient_fields"]
    assert set(event.detail) == {"revision", "fields", "patient", "patient_fields"}
    text = json.dumps(event.detail, ensure_ascii=False)
    assert "高血压" not in text and REASON not in text and event.purpose == ""


def test_a_reason_is_required_and_nothing_is_written_without_it(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    for reason in ("", "  ", "错"):
        with pytest.raises(ValidationError) as exc:
            correct(doctor, fu, as_input(fu, danger_level=3), reason=reason)
        assert "reason" in exc.value.message_dict
    fu.refresh_from_db()
    assert fu.danger_level == 0 and not FollowUpRevision.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.CHANGE).exists()


def test_an_invalid_correction_names_the_field_and_writes_nothing(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    with pytest.raises(ValidationError) as exc:
        correct(doctor, fu, as_input(fu, insight=None, followup_date=TODAY + timedelta(days=1)))
    assert {"insight", "followup_date"} <= set(exc.value.message_dict)
    # A departure from the recomputed proposal still needs its own reason (the correction's is not it).
    with pytest.raises(ValidationError) as exc:
        correct(doctor, fu, as_input(fu, classification=2))
    assert set(exc.value.message_dict) == {"override_reason"}
    assert not FollowUpRevision.objects.exists()


def test_a_correction_that_changes_nothing_is_refused(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    with pytest.raises(ValidationError) as exc:
        correct(doctor, fu, as_input(fu))
    assert "__all__" in exc.value.message_dict
    assert not FollowUpRevision.objects.exists()


def test_outcome_and_declared_loss_are_not_corrected(doctor: Any, patient: Any) -> None:
    attempt = record(doctor, patient, not_reached(followup_date=DAY1))
    with pytest.raises(ValidationError) as exc:
        correct(doctor, attempt, visit(followup_date=DAY1))
    assert "outcome" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        correct(doctor, attempt, as_input(attempt, loss_reason=1))
    assert "loss_reason" in exc.value.message_dict
    # The reason of a failed attempt may be corrected; the patient's failed attempts are not counted again.
    patient.refresh_from_db()
    attempts = patient.failed_attempts
    revision, _created = correct(doctor, attempt, as_input(attempt, not_reached_reason="家属拒绝透露去向"))
    assert revision.changed == ["not_reached_reason"]
    patient.refresh_from_db()
    assert patient.failed_attempts == attempts


def test_medication_lines_are_replaced_and_kept_in_the_revision(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    new = (MedicationInput(times=1, dose=Decimal("4"), drug_name="利培酮"),)
    revision, _created = correct(doctor, fu, as_input(fu, medications=new))
    assert revision.changed == ["medications"]
    assert [(m.drug_name, m.dose) for m in fu.medications.all()] == [("利培酮", Decimal("4.00"))]
    assert revision.values["medications"][0]["dose"] == "2.00"


# --- The rules: the follow-up is not its own "previous visit" ---------------------------------------------

def test_previous_visit_is_the_one_before_not_the_follow_up_itself(doctor: Any, patient: Any) -> None:
    basically_stable = {"symptoms": (10,), "insight": 2}
    record(doctor, patient, visit(followup_date=DAY1, **basically_stable))
    second = record(doctor, patient, visit(followup_date=DAY2, **basically_stable))
    assert second.previous_classification == 2 and second.next_followup_date == date(2025, 4, 17)
    # Corrected to stable, then back: the previous visit is still the first (class 2), not the stored class 3.
    correct(doctor, second, as_input(second, symptoms=(), insight=1))
    second.refresh_from_db()
    assert second.classification == 3 and second.previous_classification == 2
    correct(doctor, second, as_input(second, symptoms=(10,), insight=2), key="again")
    second.refresh_from_db()
    assert second.previous_classification == 2 and second.next_followup_date == date(2025, 4, 17)
    assert rules.CONSULT_PSYCHIATRIST in second.actions


def test_a_single_visit_has_no_previous_after_correction(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1, symptoms=(10,), insight=2))
    correct(doctor, fu, as_input(fu, sleep=2))
    fu.refresh_from_db()
    # Not the patient row's last class (which this very visit set).
    assert fu.previous_classification is None and fu.next_followup_date == DAY1 + timedelta(days=14)


# --- The patient's columns ----------------------------------------------------------------------------------

def test_correcting_an_older_visit_leaves_the_patient_columns(doctor: Any, patient: Any) -> None:
    first = record(doctor, patient, visit(followup_date=DAY1))
    record(doctor, patient, visit(followup_date=DAY2))
    patient.refresh_from_db()
    before = (patient.last_followup_date, patient.last_classification, patient.next_followup_due)
    correct(doctor, first, as_input(first, danger_level=4))
    patient.refresh_from_db()
    assert (patient.last_followup_date, patient.last_classification, patient.next_followup_due) == before
    assert patient.danger_level == 0


def test_moving_the_latest_visit_before_another_takes_the_columns_from_the_new_latest(doctor: Any,
                                                                                      patient: Any) -> None:
    record(doctor, patient, visit(followup_date=DAY1, symptoms=(10,), insight=2))
    latest = record(doctor, patient, visit(followup_date=DAY2))
    correct(doctor, latest, as_input(latest, followup_date=date(2025, 2, 20)))
    patient.refresh_from_db()
    assert (patient.last_followup_date, patient.last_classification) == (DAY1, 2)
    assert patient.next_followup_due == DAY1 + timedelta(days=14)


# --- Who may correct, until when -------------------------------------------------------------------------------

def test_window_then_only_the_county_centre(cast: dict[str, Any], doctor: Any, patient: Any,
                                            monkeypatch: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    entered = timezone.localdate(fu.created_at)
    late = entered + timedelta(days=31)
    with pytest.raises(corrections.CorrectionRefused, match="30"):
        correct(doctor, fu, as_input(fu, sleep=2), today=late)
    assert corrections.refusal(doctor, fu, entered + timedelta(days=30)) is None
    revision, created = correct(cast["mhc_staff_a"], fu, as_input(fu, sleep=2), today=late)
    assert created and revision.created_by == cast["mhc_staff_a"]
    # The window is the data file's.
    monkeypatch.setattr(corrections, "config", lambda: corrections.EditingConfig(window_days=60))
    assert corrections.refusal(doctor, fu, late) is None


def test_who_may_correct(cast: dict[str, Any], doctor: Any, patient: Any, towns: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    # Same township, not the author and not of the clinic: refused; of the patient's clinic: allowed.
    colleague = type(doctor).objects.create(username="colleague_a", region=towns[0])
    colleague.groups.set(doctor.groups.all())
    assert corrections.refusal(colleague, fu, TODAY) is not None
    colleague.organisation = Organisation.objects.get(pk=patient.managing_organisation_id)
    colleague.save()
    assert corrections.refusal(colleague, fu, TODAY) is None
    # A psychiatrist who did not record it: refused; the regulator: no permission at all.
    with translation.override("en"):
        assert "recording doctor" in (corrections.refusal(cast["psychiatrist_a"], fu, TODAY) or "")
    assert corrections.refusal(cast["regulator"], fu, TODAY) is not None
    # A psychiatrist's own follow-up: allowed.
    own = record(cast["psychiatrist_a"], patient, visit(followup_date=DAY2))
    assert corrections.refusal(cast["psychiatrist_a"], own, TODAY) is None
    # A doctor of another township is out of scope.
    assert corrections.refusal(cast["community_doctor_b"], fu, TODAY) is not None


# --- Idempotency ----------------------------------------------------------------------------------------------

def test_retry_with_the_same_key_returns_the_same_revision(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    first, created = correct(doctor, fu, as_input(fu, danger_level=1), key="u1:abc")
    again, created_again = correct(doctor, fu, as_input(fu, danger_level=1), key="u1:abc")
    assert created and not created_again and again.pk == first.pk
    assert FollowUpRevision.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CHANGE).count() == 1
    other = record(doctor, patient, visit(followup_date=DAY2))
    with pytest.raises(ValidationError) as exc:
        correct(doctor, other, as_input(other, danger_level=1), key="u1:abc")
    assert "Idempotency-Key" in exc.value.message_dict


# --- Pages ------------------------------------------------------------------------------------------------------

def _recorded(client: Any, patient: Any) -> FollowUp:
    today = timezone.localdate()
    response = client.post(f"/followups/patients/{patient.pk}/new/",
                           visit_post(today, **{"med-0-drug_name": "利培酮", "med-0-times": "2", "med-0-dose": "2"}))
    assert response.status_code == 302
    return FollowUp.objects.latest("id")


def _corrected_post(fu: FollowUp, **changes: Any) -> dict[str, Any]:
    data = visit_post(fu.followup_date, form_key="corr-1", reason=REASON,
                      **{"med-0-drug_name": "利培酮", "med-0-times": "2", "med-0-dose": "2"})
    data.update(changes)
    return data


def test_the_form_is_the_phone_form_prefilled_with_a_reason(client: Any, doctor: Any, patient: Any) -> None:
    login_verified(client, doctor)
    fu = _recorded(client, patient)
    response = client.get(f"/followups/{fu.pk}/correct/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html and 'name="reason"' in html
    assert f'hx-post="/followups/{fu.pk}/correct/propose/"' in html
    checked = re.findall(r'<input type="radio" name="(\w+)" value="(\d+)"[^>]*checked>', html)
    assert ("danger_level", "0") in checked and ("work", "9") in checked and ("insight", "1") in checked
    assert 'name="med-0-drug_name" value="利培酮"' in html and 'name="med-INITIAL_FORMS" value="1"' in html
    assert 'data-class="3"' in html  # the proposal for the stored values
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="followups.followup",
                                     object_id=str(fu.pk)).exists()


def test_posting_a_correction_and_the_history_on_the_follow_up(client: Any, doctor: Any, patient: Any) -> None:
    login_verified(client, doctor)
    fu = _recorded(client, patient)
    url = f"/followups/{fu.pk}/correct/"
    missing = client.post(url, _corrected_post(fu, danger_level="3", reason=""))
    assert missing.status_code == 400 and 'id="id_reason-error"' in missing.content.decode()
    response = client.post(url, _corrected_post(fu, danger_level="3", **{"med-0-dose": "4"}))
    assert response.status_code == 302 and response["Location"] == f"/followups/{fu.pk}/"
    again = client.post(url, _corrected_post(fu, danger_level="3", **{"med-0-dose": "4"}))
    assert again.status_code == 302 and FollowUpRevision.objects.count() == 1
    fu.refresh_from_db()
    assert fu.classification == 1 and fu.medications.get().dose == Decimal("4.00")
    html = client.get(f"/followups/{fu.pk}/").content.decode()
    assert 'id="revision-history"' in html and REASON in html and 'data-revision="1"' in html
    assert "利培酮 2×" in html  # the previous medication line, for a role that sees medication


def test_history_is_masked_as_the_follow_up(client: Any, doctor: Any, cast: dict[str, Any], patient: Any) -> None:
    login_verified(client, doctor)
    fu = _recorded(client, patient)
    assert client.post(f"/followups/{fu.pk}/correct/",
                       _corrected_post(fu, danger_level="3", adherence="2", **{"med-0-dose": "4"})).status_code == 302
    login_verified(client, cast["regulator"])
    response = client.get(f"/followups/{fu.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-revision="1"' in html
    assert "危险性" in html  # the previous danger level: the regulator sees it
    assert "利培酮" not in html and "服药依从性" not in html  # medication: hidden from regulators, before and after
    assert 'id="correct-followup"' not in html
    # Partner roles never reach the follow-up or its history.
    patient.danger_level = 3
    patient.save()
    login_verified(client, cast["police_a"])
    assert client.get(f"/followups/{fu.pk}/").status_code == 404


def test_api_detail_lists_the_history_masked_as_the_page(client: Any, doctor: Any, cast: dict[str, Any],
                                                         patient: Any) -> None:
    login_verified(client, doctor)
    fu = _recorded(client, patient)
    assert client.get(f"/api/v1/followups/{fu.pk}").json()["revisions"] == []
    assert client.post(f"/followups/{fu.pk}/correct/",
                       _corrected_post(fu, danger_level="3", adherence="2", **{"med-0-dose": "4"})).status_code == 302
    [mine] = client.get(f"/api/v1/followups/{fu.pk}").json()["revisions"]
    assert (mine["number"], mine["by_id"], mine["reason"]) == (1, doctor.pk, REASON)
    assert any("利培酮 2×" in change["previous"] for change in mine["changes"])
    login_verified(client, cast["regulator"])
    [theirs] = client.get(f"/api/v1/followups/{fu.pk}").json()["revisions"]
    shown = " ".join(f"{c['label']} {c['previous']}" for c in theirs["changes"])
    assert "危险性" in shown and "利培酮" not in shown and "服药依从性" not in shown
    listed = client.get(f"/api/v1/followups/?patient_id={patient.pk}").json()["results"]
    assert [row["revisions"] for row in listed] == [None]


def test_page_answers_403_for_roles_and_outside_the_window_404_outside_scope(client: Any, doctor: Any,
                                                                             cast: dict[str, Any],
                                                                             patient: Any) -> None:
    login_verified(client, doctor)
    fu = _recorded(client, patient)
    assert 'id="correct-followup"' in client.get(f"/followups/{fu.pk}/").content.decode()
    login_verified(client, cast["regulator"])
    assert client.get(f"/followups/{fu.pk}/correct/").status_code == 403
    login_verified(client, cast["psychiatrist_a"])
    assert client.post(f"/followups/{fu.pk}/correct/", _corrected_post(fu, danger_level="3")).status_code == 403
    login_verified(client, cast["community_doctor_b"])
    assert client.get(f"/followups/{fu.pk}/correct/").status_code == 404
    FollowUp.objects.filter(pk=fu.pk).update(created_at=timezone.now() - timedelta(days=40))
    login_verified(client, doctor)
    refused = client.get(f"/followups/{fu.pk}/correct/")
    assert refused.status_code == 403 and "30" in refused.content.decode()
    assert not FollowUpRevision.objects.exists()


# --- API -----------------------------------------------------------------------------------------------------------

def _api(client: Any, fu: FollowUp, body: dict[str, Any], key: str = "c1", method: str = "patch") -> Any:
    call = getattr(client, method)
    return call(f"/api/v1/followups/{fu.pk}/correction", body, content_type="application/json",
                headers={"Idempotency-Key": key})


def test_api_partial_correction_is_idempotent(client: Any, doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    login_verified(client, doctor)
    response = _api(client, fu, {"reason": REASON, "danger_level": 3})
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["revision"] == 1 and out["fields"]["classification"] == 1 and out["fields"]["danger_level"] == 3
    assert out["replayed"] is False
    again = _api(client, fu, {"reason": REASON, "danger_level": 3})
    assert again.status_code == 200 and again.json()["revision"] == 1 and again.json()["replayed"] is True
    assert FollowUpRevision.objects.count() == 1
    conflict = _api(client, fu, {"reason": REASON, "danger_level": 4})
    assert conflict.status_code == 422 and fields_of(conflict) == ["Idempotency-Key"]
    posted = _api(client, fu, {"reason": REASON, "sleep": 3}, key="c2", method="post")
    assert posted.status_code == 200 and posted.json()["revision"] == 2


def test_api_errors_and_refusals(client: Any, doctor: Any, cast: dict[str, Any], patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1))
    login_verified(client, doctor)
    assert _api(client, fu, {"danger_level": 3}).status_code == 422  # no reason
    bad = _api(client, fu, {"reason": REASON, "insight": 7}, key="c3")
    assert bad.status_code == 422 and fields_of(bad) == ["insight"]
    login_verified(client, cast["regulator"])
    assert _api(client, fu, {"reason": REASON, "danger_level": 3}, key="c4").status_code == 403
    login_verified(client, cast["community_doctor_b"])
    assert _api(client, fu, {"reason": REASON, "danger_level": 3}, key="c5").status_code == 404
    assert not FollowUpRevision.objects.exists()


# --- Properties ----------------------------------------------------------------------------------------------------

def test_the_snapshot_reads_back_as_the_follow_up_for_every_role(cast: dict[str, Any], doctor: Any,
                                                                  patient: Any) -> None:
    fu = record(doctor, patient, visit(followup_date=DAY1, symptoms=(10, 12), symptoms_other="自言自语",
                                       insight=2, adverse_reaction=2, adverse_reaction_text="手抖"))
    previous = corrections.as_followup(corrections.snapshot(fu))
    for role in ("community_doctor_a", "regulator", "psychiatrist_a", "mhc_staff_a"):
        assert present(cast[role], previous) == present(cast[role], fu), role


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(danger=st.integers(0, 5), insight=st.sampled_from([1, 2, 3]),
       symptoms=st.lists(st.integers(1, 11), max_size=3, unique=True), marked=st.booleans())
def test_the_corrected_class_is_the_rules_class_after_the_previous_visit(
        doctor: Any, towns: Any, danger: int, insight: int, symptoms: list[int], marked: bool) -> None:
    patient = make_patient(towns[0])
    record(doctor, patient, visit(followup_date=DAY1, symptoms=(10,), insight=2))  # previous: class 2
    fu = record(doctor, patient, visit(followup_date=DAY2))
    changes = {"danger_level": danger, "insight": insight, "symptoms": tuple(symptoms), "symptoms_marked": marked}
    data = as_input(fu, **changes)
    try:
        correct(doctor, fu, data)
    except ValidationError as exc:  # the same values as stored: nothing to correct
        assert list(exc.message_dict) == ["__all__"]
        assert (danger, insight, symptoms, marked) == (0, 1, [], False)
        return
    fu.refresh_from_db()
    expected = rules.propose(services.rule_input(data, 2))
    assert (fu.previous_classification, fu.classification, fu.next_followup_date) == (
        2, expected.classification, expected.next_followup_date)
    assert fu.needs_referral == (rules.REFER in expected.actions)
    patient.refresh_from_db()
    assert (patient.last_classification, patient.danger_level) == (expected.classification, danger)


def test_a_correction_to_unstable_opens_the_referral_once(cast: dict[str, Any], towns: Any,
                                                          django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    network(cast, towns)
    doctor, patient = cast["community_doctor_a"], make_patient(towns[0])
    fu = record(doctor, patient, visit(followup_date=DAY1))
    assert not Referral.objects.exists()
    with capture(execute=True):
        correct(doctor, fu, as_input(fu, symptoms_marked=True, symptoms=(1, 3)))
    ref = Referral.objects.get(patient=patient)
    assert ref.followup_id == fu.pk and ref.origin == f"followup:{fu.pk}" and ref.direction == "up"
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, object_id=str(fu.pk))
    assert event.detail["referral"] == ref.pk and event.detail["referral_created"] is True
    with capture(execute=True):
        correct(doctor, fu, as_input(fu, sleep=2), key="second")
    assert Referral.objects.count() == 1
