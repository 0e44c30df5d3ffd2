"""Writes of screening: submitting responses (scored, stored once), alert tasks and their
escalation, follow-up actions, campaigns. Each action is one transaction with its audit event."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language

from xinqiao.core import audit
from xinqiao.core.models import AuditAction, Region
from xinqiao.screening import rules
from xinqiao.screening.instruments import UnknownInstrumentError, load
from xinqiao.screening.models import (
    AlertTask,
    Campaign,
    CampaignGroup,
    FollowUpAction,
    ScreeningResponse,
    Source,
)

ALERTING_FILE = Path(__file__).resolve().parent / "alerting.json"


@cache
def alerting() -> dict[str, Any]:
    """Escalation times and the national crisis line (``alerting.json``)."""
    data: dict[str, Any] = json.loads(ALERTING_FILE.read_text(encoding="utf-8"))
    return data


def escalation_hours(alert: str) -> int:
    """Hours an alert of this kind may wait for acknowledgement."""
    config = alerting()
    return int(config["hours_by_alert"].get(alert, config["default_hours"]))


def _message(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") else zh


def score_answers(instrument_id: str, answers: list[int | None]) -> rules.ScoreResult:
    """Score, turning engine errors into a ``ValidationError`` that names the item."""
    try:
        instrument = load(instrument_id)
    except UnknownInstrumentError:
        raise ValidationError({"instrument": _message("未知的量表。", "Unknown scale.")}) from None
    try:
        return rules.score(instrument, answers)
    except rules.AnswerError as exc:
        field = "answers" if exc.item_number == 0 else f"answers.{exc.item_number}"
        raise ValidationError({field: _message(exc.message_zh, exc.message_en)}) from None


@dataclass(frozen=True)
class Submission:
    """One response to store."""

    instrument: str
    answers: list[int | None]
    source: str
    region_code: str
    group: CampaignGroup | None = None
    participant_name: str = ""
    participant_number: str = ""
    key: str = ""  # idempotency key, already qualified by who sent it


def submission_fingerprint(sub: Submission) -> str:
    """Hash of what was submitted, to tell a retry from a different request with the same key."""
    body = [sub.instrument, sub.answers, sub.region_code, sub.group.pk if sub.group else None,
            sub.participant_name, sub.participant_number]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()[:16]


@lru_cache(maxsize=4096)
def region_exists(code: str) -> bool:
    """Whether a division code is known (the codes are static data: cached per process)."""
    return Region.objects.filter(code=code).exists()


def submit_response(sub: Submission, *, actor: Any = None) -> tuple[ScreeningResponse, bool]:
    """Score and store a response once; returns (response, created). A retry with the same key and
    the same content returns the stored one; the same key with other content is refused."""
    result = score_answers(sub.instrument, sub.answers)
    if not region_exists(sub.region_code):
        raise ValidationError({"region_code": _message("请选择有效的地区。", "Choose a valid region.")})
    fingerprint = submission_fingerprint(sub)
    stored_key = sub.key[:128] or None
    if stored_key:
        # Exact match on the unique index, no ORDER BY: stays one index probe however large the table.
        seen = list(ScreeningResponse.objects.filter(submission_key=stored_key).order_by()
                    .values_list("pk", "submission_fingerprint")[:1])
        if seen:
            if seen[0][1] != fingerprint:
                raise ValidationError({"Idempotency-Key": _message(
                    "该幂等键已用于另一份不同的提交。", "This Idempotency-Key was already used for a different submission.")})
            return ScreeningResponse.objects.get(pk=seen[0][0]), False
    response = ScreeningResponse(
        source=sub.source, campaign=sub.group.campaign if sub.group else None, group=sub.group,
        instrument=result.instrument, instrument_version=result.version, answers=sub.answers,
        total=result.total, standard_score=result.standard_score, band=result.band, positive=result.positive,
        subscales=dict(result.subscales), alerts=list(result.alerts), risk=result.risk or "",
        participant_name=sub.participant_name, participant_number=sub.participant_number,
        submission_key=stored_key, submission_fingerprint=fingerprint, region_id=sub.region_code,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            response.save()
            _open_alert_tasks(response)
            if sub.participant_name or sub.participant_number:
                audit.record(AuditAction.CREATE, obj=response, detail={"via": sub.source})
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer with its response.
        existing = ScreeningResponse.objects.filter(submission_key=stored_key).order_by().first()
        if existing is None:
            raise
        return existing, False
    return response, True


def _open_alert_tasks(response: ScreeningResponse) -> None:
    now = timezone.now()
    owner = response.campaign.owner if response.campaign else None
    tasks = [
        AlertTask(response=response, alert=alert, assignee=owner, region_id=response.region_id,
                  due_at=now + timedelta(hours=escalation_hours(alert)),
                  **AlertTask.region_columns(response.region_id))
        for alert in response.alerts
        if response.campaign is not None  # public self-screening is anonymous: nobody to follow up
    ]
    AlertTask.objects.bulk_create(tasks)


def escalate_overdue_alerts(now: datetime | None = None) -> int:
    """Escalate every open, unacknowledged level-1 task past its time to the county centre (one UPDATE)."""
    now = now or timezone.now()
    return AlertTask.objects.filter(status=AlertTask.Status.OPEN, level=1, due_at__lt=now).update(
        level=2, escalated_at=now, assignee=None
    )


def acknowledge_alert(actor: Any, task: AlertTask) -> AlertTask:
    """The task is being handled: stop its escalation clock (audited)."""
    if not actor.has_perm("screening.change_alerttask"):
        raise PermissionDenied
    with transaction.atomic():
        task.status = AlertTask.Status.ACKNOWLEDGED
        task.acknowledged_at = timezone.now()
        task.acknowledged_by = actor
        task.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        audit.record(AuditAction.CHANGE, obj=task, detail={"status": task.status})
    return task


def record_action(actor: Any, response: ScreeningResponse, action: str, note: str = "") -> FollowUpAction:
    """Record an interview, a referral or closing a case (audited)."""
    if not actor.has_perm("screening.add_followupaction"):
        raise PermissionDenied
    if action not in FollowUpAction.Action.values:
        raise ValidationError({"action": _message("请选择一项处理措施。", "Choose an action.")})
    with transaction.atomic():
        done = FollowUpAction.objects.create(response=response, action=action, note=note[:500], by=actor)
        if action == FollowUpAction.Action.CLOSED:
            response.alert_tasks.exclude(status=AlertTask.Status.CLOSED).update(status=AlertTask.Status.CLOSED)
        audit.record(AuditAction.CHANGE, obj=response, detail={"action": action})
    return done


@dataclass(frozen=True)
class CampaignInput:
    """A new campaign and its groups."""

    name: str
    instrument_ids: list[str]
    opens_at: datetime
    closes_at: datetime
    identified: bool
    groups: list[str]
    consent_text: str = ""


def create_campaign(actor: Any, data: CampaignInput) -> Campaign:
    """A psychologist's campaign at their own organisation, with one access code per group."""
    if not actor.has_perm("screening.add_campaign"):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if actor.organisation_id is None:
        errors["organisation"] = _message("您的账号未关联机构。", "Your account has no organisation.")
    unknown = [i for i in data.instrument_ids if i not in _instrument_ids()]
    if not data.instrument_ids or unknown:
        errors["instrument_ids"] = _message("请选择量表。", "Choose at least one known scale.")
    if data.closes_at <= data.opens_at:
        errors["closes_at"] = _message("结束时间须晚于开始时间。", "The closing time must be after the opening time.")
    names = [g.strip() for g in data.groups if g.strip()]
    if not names or len(set(names)) != len(names):
        errors["groups"] = _message("请填写各不相同的班级或部门名称。", "Give each class or department a distinct name.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=data.name.strip(), organisation=actor.organisation, owner=actor,
            instrument_ids=data.instrument_ids, opens_at=data.opens_at, closes_at=data.closes_at,
            identified=data.identified, consent_text=data.consent_text, region_id=actor.organisation.region_id,
        )
        CampaignGroup.objects.bulk_create([CampaignGroup(campaign=campaign, name=n) for n in names])
        audit.record(AuditAction.CREATE, obj=campaign)
    return campaign


def _instrument_ids() -> tuple[str, ...]:
    from xinqiao.screening.instruments import INSTRUMENT_IDS

    return tuple(INSTRUMENT_IDS)


__all__ = ["Source", "Submission", "escalate_overdue_alerts", "submit_response"]
