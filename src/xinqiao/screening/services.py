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
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction
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


@dataclass(frozen=True)
class ScoredSubmission:
    """A submission that passed validation, with its score: ready to store."""

    sub: Submission
    result: rules.ScoreResult
    fingerprint: str


def prepare_submission(sub: Submission) -> ScoredSubmission:
    """Validate and score without touching the database's rows (the region check is cached);
    raises ``ValidationError`` naming the item, the scale or the region."""
    result = score_answers(sub.instrument, sub.answers)
    if not region_exists(sub.region_code):
        raise ValidationError({"region_code": _message("请选择有效的地区。", "Choose a valid region.")})
    return ScoredSubmission(sub=sub, result=result, fingerprint=submission_fingerprint(sub))


def submit_response(sub: Submission, *, actor: Any = None) -> tuple[ScreeningResponse, bool]:
    """Score and store a response once; returns (response, created). A retry with the same key and
    the same content returns the stored one; the same key with other content is refused."""
    return store_submission(prepare_submission(sub), actor=actor)


def store_submission(scored: ScoredSubmission, *, actor: Any = None) -> tuple[ScreeningResponse, bool]:
    """Store a scored submission once per key (see :func:`submit_response`).

    A submission that opens no alert task and writes no audit event (no campaign, no identity: the
    public and API ones) is one row: it is stored by a single ``INSERT … ON CONFLICT
    (submission_key) DO NOTHING RETURNING id``, atomic on its own, and the key is only read back
    when that insert found it taken. Campaign submissions (alert tasks, audit) take the ORM path in
    one transaction.
    """
    sub = scored.sub
    if sub.group is None and not (sub.participant_name or sub.participant_number):
        connection = connections[DEFAULT_DB_ALIAS]
        if _direct_insert_supported(connection):
            return _insert_row(connection, scored, actor)
    response = _new_response(scored, actor)
    stored_key = response.submission_key
    if stored_key:
        # Exact match on the unique index, no ORDER BY: stays one index probe however large the table.
        seen = list(ScreeningResponse.objects.filter(submission_key=stored_key).order_by()
                    .values_list("pk", flat=True)[:1])
        if seen:
            return _replay(stored_key, scored.fingerprint), False
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


def _new_response(scored: ScoredSubmission, actor: Any) -> ScreeningResponse:
    sub, result = scored.sub, scored.result
    return ScreeningResponse(
        source=sub.source, campaign=sub.group.campaign if sub.group else None, group=sub.group,
        instrument=result.instrument, instrument_version=result.version, answers=sub.answers,
        total=result.total, standard_score=result.standard_score, band=result.band, positive=result.positive,
        subscales=dict(result.subscales), alerts=list(result.alerts), risk=result.risk or "",
        participant_name=sub.participant_name, participant_number=sub.participant_number,
        submission_key=sub.key[:128] or None, submission_fingerprint=scored.fingerprint, region_id=sub.region_code,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _replay(stored_key: str | None, fingerprint: str) -> ScreeningResponse:
    """The response stored under ``stored_key``, if it was stored from the same content."""
    found = list(ScreeningResponse.objects.filter(submission_key=stored_key).order_by()[:1])
    if not found:  # pragma: no cover - the key was just found taken; rows are never deleted
        raise IntegrityError(f"submission key {stored_key!r} vanished")
    stored = found[0]
    if stored.submission_fingerprint != fingerprint:
        raise ValidationError({"Idempotency-Key": _message(
            "该幂等键已用于另一份不同的提交。", "This Idempotency-Key was already used for a different submission.")})
    return stored


# --- One-statement INSERT for submissions that are a single row ------------------------------------

_PASS_THROUGH = (models.CharField, models.IntegerField, models.BooleanField, models.PositiveSmallIntegerField)
_KEY_TYPES = (*_PASS_THROUGH, models.BigAutoField, models.AutoField)


def _direct_insert_supported(connection: Any) -> bool:
    """``INSERT … ON CONFLICT (column) DO NOTHING RETURNING`` (PostgreSQL; SQLite ≥ 3.35)."""
    features = connection.features
    return bool(features.can_return_columns_from_insert and features.supports_update_conflicts_with_target)


@dataclass(frozen=True)
class _Column:
    attname: str
    kind: str  # "same" | "json" | "datetime" | "field"
    field: Any


@lru_cache(maxsize=4)
def _insert_statement(vendor: str) -> tuple[str, tuple[_Column, ...]]:
    """The SQL and its columns (every concrete field but the id), built once from the model, so a
    new field is stored without touching this code. Plain character, integer and boolean columns
    and foreign keys to such keys pass through; JSON and datetimes use the backend's adapters; any
    other field (the encrypted ones) goes through its own ``get_db_prep_save``."""
    ops = connections[DEFAULT_DB_ALIAS].ops
    meta = ScreeningResponse._meta
    columns: list[_Column] = []
    for field in meta.concrete_fields:
        if field.primary_key:
            continue
        if type(field) in _PASS_THROUGH or type(getattr(field, "target_field", None)) in _KEY_TYPES:
            kind = "same"
        elif type(field) is models.JSONField:
            kind = "json"
        elif type(field) is models.DateTimeField:
            kind = "datetime"
        else:
            kind = "field"
        columns.append(_Column(field.attname, kind, field))
    names = ", ".join(ops.quote_name(c.field.column) for c in columns)
    key_column = ops.quote_name(meta.get_field("submission_key").column)
    # Identifiers from the model's own metadata, quoted; every value is a parameter.
    sql = (f"INSERT INTO {ops.quote_name(meta.db_table)} ({names}) VALUES "  # noqa: S608
           f"({', '.join(['%s'] * len(columns))}) ON CONFLICT ({key_column}) DO NOTHING "
           f"RETURNING {ops.quote_name(meta.pk.column)}")
    return sql, tuple(columns)


def _insert_row(connection: Any, scored: ScoredSubmission, actor: Any) -> tuple[ScreeningResponse, bool]:
    """Store a one-row submission with one ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (what
    ``save()`` does: the region's code columns, ``submitted_at`` now); if the key was taken, the
    stored response (:func:`_replay`)."""
    sub, result = scored.sub, scored.result
    row: dict[str, Any] = {
        "region_id": sub.region_code, **ScreeningResponse.region_columns(sub.region_code),
        "source": sub.source, "campaign_id": None, "group_id": None,
        "instrument": result.instrument, "instrument_version": result.version, "answers": sub.answers,
        "total": result.total, "standard_score": result.standard_score, "band": result.band,
        "positive": result.positive, "subscales": dict(result.subscales), "alerts": list(result.alerts),
        "risk": result.risk or "", "participant_name": "", "participant_number": "",
        "submission_key": sub.key[:128] or None, "submission_fingerprint": scored.fingerprint,
        "submitted_by_id": actor.pk if getattr(actor, "is_authenticated", False) else None,
        "submitted_at": timezone.now(),
    }
    ops = connection.ops
    sql, columns = _insert_statement(connection.vendor)
    values: list[Any] = []
    params: list[Any] = []
    for column in columns:
        value = row[column.attname] if column.attname in row else column.field.get_default()
        values.append(value)
        if column.kind == "same" or value is None:
            params.append(value)
        elif column.kind == "json":
            params.append(ops.adapt_json_value(value, column.field.encoder))
        elif column.kind == "datetime":
            params.append(ops.adapt_datetimefield_value(value))
        else:
            params.append(column.field.get_db_prep_save(value, connection))
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone()
    if inserted is None:
        return _replay(row["submission_key"], scored.fingerprint), False
    attnames = [ScreeningResponse._meta.pk.attname, *(c.attname for c in columns)]
    return ScreeningResponse.from_db(DEFAULT_DB_ALIAS, attnames, [inserted[0], *values]), True


@cache
def _server_binding_cursor() -> Any:
    """psycopg 3's server-binding cursor class as Django's PostgreSQL backend defines it, or None."""
    from django.db.backends.postgresql import base

    return getattr(base, "ServerBindingCursor", None)


def _cursor(connection: Any) -> Any:
    """A cursor for one statement. On PostgreSQL with psycopg 3: a server-binding cursor (parameters
    sent apart from the SQL, not quoted into it client-side: a third less CPU for this 25-parameter
    INSERT) in Django's own wrapper, so execute wrappers, query logging and error translation apply."""
    server_binding = _server_binding_cursor() if connection.vendor == "postgresql" else None
    if server_binding is None:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = server_binding(connection.connection)
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)


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


__all__ = [
    "ScoredSubmission", "Source", "Submission", "escalate_overdue_alerts", "prepare_submission",
    "store_submission", "submit_response",
]
