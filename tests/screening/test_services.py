"""Screening writes: a response is scored and stored once per Idempotency-Key, answer errors name the
item, campaign alerts open tasks with the configured deadline, and overdue tasks escalate in one UPDATE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import school_campaign_group
from xinqiao.core.models import Region
from xinqiao.screening import services
from xinqiao.screening.models import AlertTask, CampaignGroup, ScreeningResponse, Source
from xinqiao.screening.services import Submission, escalate_overdue_alerts, submit_response

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(cast: dict[str, Any], towns: list[Any]) -> CampaignGroup:
    """A class of psychologist_a's campaign at a school in county A."""
    return school_campaign_group(cast["psychologist_a"], Region.objects.get(code=towns[0].county_code),
                                 instruments=("phq9", "epds"), identified=False)


def _public(town: Any, answers: Sequence[int | None], instrument: str = "phq9", key: str = "") -> Submission:
    return Submission(
        instrument=instrument, answers=list(answers), source=Source.PUBLIC, region_code=town.code, key=key
    )


def _campaign(
    group: CampaignGroup, town: Any, answers: Sequence[int | None], instrument: str = "phq9"
) -> Submission:
    return Submission(
        instrument=instrument,
        answers=list(answers),
        source=Source.CAMPAIGN,
        region_code=town.code,
        group=group,
    )


# --- Stored once per key --------------------------------------------------------------------------


def test_same_key_and_content_replays_the_stored_response(towns: list[Any]) -> None:
    first, created = submit_response(_public(towns[0], [1] * 9, key="anon:abc"))
    again, created_again = submit_response(_public(towns[0], [1] * 9, key="anon:abc"))
    assert created and not created_again
    assert again.pk == first.pk
    assert ScreeningResponse.objects.count() == 1


def test_same_key_with_other_content_is_refused(towns: list[Any]) -> None:
    submit_response(_public(towns[0], [1] * 9, key="anon:abc"))
    with pytest.raises(ValidationError) as info:
        submit_response(_public(towns[0], [2] * 9, key="anon:abc"))
    assert "Idempotency-Key" in info.value.message_dict
    assert ScreeningResponse.objects.count() == 1


def test_without_a_key_every_submission_is_new(towns: list[Any]) -> None:
    submit_response(_public(towns[0], [0] * 9))
    submit_response(_public(towns[0], [0] * 9))
    assert ScreeningResponse.objects.count() == 2


# --- One statement for one-row submissions ----------------------------------------------------------

_SKIP_COMPARE = {"id", "submission_key", "submitted_at"}


def _row(pk: int) -> dict[str, Any]:
    return {k: v for k, v in ScreeningResponse.objects.filter(pk=pk).values().get().items() if k not in _SKIP_COMPARE}


@pytest.mark.parametrize(("instrument", "answers"), [
    ("phq9", [2, 2, 2, 2, 2, 2, 2, 2, 1]), ("scl90", [1] * 45 + [3] * 45), ("cssrs", [1, 1, 1, 1, 1, 1, 1]),
    ("sds", [0, 3] * 10),
])
def test_direct_insert_stores_what_the_orm_stores(towns: list[Any], cast: dict[str, Any], instrument: str,
                                                  answers: list[int]) -> None:
    """The one-statement INSERT writes every column as ``save()`` does (region codes, JSON, score)."""
    actor = cast["mhc_staff_a"]
    direct, created = submit_response(_public(towns[0], answers, instrument, key="anon:direct"), actor=actor)
    with mock.patch.object(services, "_direct_insert_supported", return_value=False):
        orm, orm_created = submit_response(_public(towns[0], answers, instrument, key="anon:orm"), actor=actor)
    assert created and orm_created
    assert _row(direct.pk) == _row(orm.pk)
    assert _row(direct.pk)["submitted_by_id"] == actor.pk
    stored = ScreeningResponse.objects.get(pk=direct.pk)
    assert model_to_dict(direct) == model_to_dict(stored)  # the returned object is the stored row
    assert direct.submitted_at == stored.submitted_at and not direct._state.adding
    assert direct.result_dict() == stored.result_dict()


def test_direct_insert_is_one_statement_and_a_retry_two(towns: list[Any], django_assert_num_queries: Any) -> None:
    services.region_exists(towns[0].code)  # cached per process: not part of the submission
    with django_assert_num_queries(1):
        first, _ = submit_response(_public(towns[0], [1] * 9, key="anon:one"))
    with django_assert_num_queries(2):  # the INSERT that finds the key taken, then the stored row
        again, created = submit_response(_public(towns[0], [1] * 9, key="anon:one"))
    assert again.pk == first.pk and not created


def test_campaign_submissions_keep_their_transaction(towns: list[Any], group: CampaignGroup) -> None:
    """A campaign response and its alert task are written together or not at all."""
    with mock.patch.object(services, "_open_alert_tasks", side_effect=RuntimeError("no tasks today")), \
            pytest.raises(RuntimeError):
        submit_response(_campaign(group, towns[0], [0] * 8 + [3]))
    assert not ScreeningResponse.objects.exists()


# --- Errors ---------------------------------------------------------------------------------------


def test_answer_error_names_the_item(towns: list[Any]) -> None:
    with pytest.raises(ValidationError) as info:
        submit_response(_public(towns[0], [0, 0, 0, 0, 0, 0, 0, 0, 4]))
    assert list(info.value.message_dict) == ["answers.9"]
    with pytest.raises(ValidationError) as info:
        submit_response(_public(towns[0], [0, None, 0, 0, 0, 0, 0, 0, 0]))
    assert list(info.value.message_dict) == ["answers.2"]
    with pytest.raises(ValidationError) as info:
        submit_response(_public(towns[0], [0, 0]))
    assert list(info.value.message_dict) == ["answers"]  # the count, not an item
    with pytest.raises(ValidationError) as info:  # C-SSRS: q3 must be skipped when q2 is no
        submit_response(_public(towns[0], [1, 0, 1, None, None, 0, None], instrument="cssrs"))
    assert list(info.value.message_dict) == ["answers.3"]
    assert ScreeningResponse.objects.count() == 0


def test_unknown_instrument_and_region_are_refused(towns: list[Any]) -> None:
    with pytest.raises(ValidationError) as info:
        submit_response(_public(towns[0], [0], instrument="nope"))
    assert list(info.value.message_dict) == ["instrument"]
    with pytest.raises(ValidationError) as info:
        submit_response(
            Submission(instrument="phq2", answers=[0, 0], source=Source.PUBLIC, region_code="999999")
        )
    assert list(info.value.message_dict) == ["region_code"]


# --- Alert tasks ----------------------------------------------------------------------------------


def test_public_responses_open_no_alert_tasks(towns: list[Any]) -> None:
    response, _ = submit_response(_public(towns[0], [0] * 8 + [2]))
    assert response.alerts == ["suicide_risk"]
    assert not AlertTask.objects.exists()  # anonymous: nobody to follow up


@pytest.mark.parametrize(
    ("instrument", "answers", "alert"),
    [
        ("phq9", [0] * 8 + [1], "suicide_risk"),
        ("epds", [0] * 9 + [0], "self_harm"),  # EPDS item 10 is reverse: option 0 scores 3
    ],
)
def test_campaign_alerts_open_tasks_due_per_alerting_json(
    group: CampaignGroup, towns: list[Any], instrument: str, answers: list[int], alert: str
) -> None:
    before = timezone.now()
    response, _ = submit_response(_campaign(group, towns[0], answers, instrument))
    after = timezone.now()
    [task] = AlertTask.objects.filter(response=response)
    hours = services.alerting()["hours_by_alert"].get(alert, services.alerting()["default_hours"])
    assert (task.alert, task.status, task.level) == (alert, AlertTask.Status.OPEN, 1)
    assert task.assignee == group.campaign.owner
    assert task.region_id == towns[0].code and task.county_code == towns[0].county_code
    assert before + timedelta(hours=hours) <= task.due_at <= after + timedelta(hours=hours)


def test_escalation_hours_come_from_alerting_json() -> None:
    assert services.escalation_hours("suicide_risk") == 1
    assert services.escalation_hours("self_harm") == 1  # treated like suicide risk (alerting.json)
    assert services.escalation_hours("anything_else") == services.alerting()["default_hours"] == 24


def test_campaign_response_without_alerts_opens_no_task(group: CampaignGroup, towns: list[Any]) -> None:
    response, _ = submit_response(_campaign(group, towns[0], [3] * 8 + [0]))
    assert response.alerts == [] and response.positive
    assert not AlertTask.objects.exists()


# --- Escalation -----------------------------------------------------------------------------------


def _task(
    response: ScreeningResponse, *, due_in: timedelta, status: str = AlertTask.Status.OPEN, level: int = 1
) -> AlertTask:
    return AlertTask.objects.create(
        response=response,
        alert="suicide_risk",
        status=status,
        level=level,
        assignee=response.campaign.owner if response.campaign else None,
        due_at=timezone.now() + due_in,
        region_id=response.region_id,
    )


def test_escalate_overdue_alerts_is_one_update_of_open_level_one_tasks_past_due(
    group: CampaignGroup,
    towns: list[Any],
    django_assert_num_queries: Any,
) -> None:
    response, _ = submit_response(_campaign(group, towns[0], [0] * 9))
    overdue = _task(response, due_in=-timedelta(minutes=5))
    not_yet = _task(response, due_in=timedelta(minutes=30))
    acknowledged = _task(response, due_in=-timedelta(hours=2), status=AlertTask.Status.ACKNOWLEDGED)
    closed = _task(response, due_in=-timedelta(hours=2), status=AlertTask.Status.CLOSED)
    already = _task(response, due_in=-timedelta(hours=3), level=2)
    now = timezone.now()
    with django_assert_num_queries(1):
        assert escalate_overdue_alerts(now) == 1
    overdue.refresh_from_db()
    assert (overdue.level, overdue.escalated_at, overdue.assignee) == (2, now, None)
    for task in (not_yet, acknowledged, closed):
        before = (task.level, task.assignee_id, task.escalated_at)
        task.refresh_from_db()
        assert (task.level, task.assignee_id, task.escalated_at) == before
        assert task.level == 1 and task.escalated_at is None
    already.refresh_from_db()
    assert already.escalated_at is None
    with django_assert_num_queries(1):
        assert escalate_overdue_alerts(now) == 0  # nothing left to do


def test_celery_task_escalates_eagerly(group: CampaignGroup, towns: list[Any]) -> None:
    from xinqiao.celery import app
    from xinqiao.screening.tasks import escalate_overdue_alerts as task

    response, _ = submit_response(_campaign(group, towns[0], [0] * 9))
    _task(response, due_in=-timedelta(minutes=1))
    _task(response, due_in=timedelta(minutes=1))
    assert task.name == "screening.escalate_overdue_alerts"
    assert "screening.escalate_overdue_alerts" in app.tasks
    assert task.delay().get() == 1
    assert AlertTask.objects.filter(level=2).count() == 1


def test_escalation_is_scheduled_every_five_minutes() -> None:
    from django.conf import settings as django_settings

    [entry] = [
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "screening.escalate_overdue_alerts"
    ]
    assert entry["schedule"] == 5 * 60


# --- Property -------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9))
def test_phq9_total_is_the_sum_and_suicide_alert_follows_item_nine(
    group: CampaignGroup,
    towns: list[Any],
    answers: list[int],
) -> None:
    response, created = submit_response(_campaign(group, towns[0], answers))
    assert created
    response.refresh_from_db()
    assert response.answers == answers
    assert response.total == sum(answers)
    assert response.instrument_version == "1.0.0"
    assert ("suicide_risk" in response.alerts) == (answers[8] > 0)
    tasks = list(AlertTask.objects.filter(response=response).values_list("alert", flat=True))
    assert tasks == (["suicide_risk"] if answers[8] > 0 else [])


@pytest.mark.django_db
def test_anonymous_api_submissions_share_the_public_rate_limit(client: Any, settings: Any) -> None:
    """The API cannot be used to get round the self-screening form's per-address limit."""
    from django.core.cache import cache

    cache.clear()
    settings.XINQIAO_PUBLIC_RATE = "2/600"
    body = {"instrument": "phq2", "answers": [0, 1], "region_code": "440106"}
    codes = [client.post("/api/v1/screening/responses", body, content_type="application/json",
                         headers={"Idempotency-Key": f"rl-{i}"}).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    last = client.post("/api/v1/screening/responses", body, content_type="application/json",
                       headers={"Idempotency-Key": "rl-9"})
    assert last.status_code == 429 and int(last["Retry-After"]) > 0
    assert "12356" in last.json()["detail"][0]["message"]
    cache.clear()
