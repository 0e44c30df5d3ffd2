"""The rules of two-way referral (双向转诊) and of the emergency handling record (应急处置记录单).

Sources: 《严重精神障碍管理治疗工作规范（2018年版）》 (双向转诊; 应急处置 and its record within 24 hours,
police informed where the danger level is 3 or more) and ``shared/DOMAIN.md`` §3 (an unstable patient
is referred at once), §5 (time limits, configurable, in working days of the official calendar).

* A referral moves only along ``TRANSITIONS``: sent → received → completed, or sent → declined (with
  a reason). Completed and declined are final. Every move is made by the *receiving* organisation;
  the sender is told of each (``referrals.services``).
* Direction decides who may send to whom: up (上转) from a primary-care organisation to a psychiatric
  institution, with the reason; down (下转) from an institution back to primary care, with the
  discharge summary (出院信息: 住院疗效, 用药指导, 康复措施).
* Deadlines are working days after the step that starts them (``patients/data/time_limits.json``:
  ``referral_receive_working_days`` after sending, ``referral_complete_working_days`` after receipt).
* An emergency record is late when entered more than ``emergency_record_hours`` (24) after the
  event; the township police are informed when the danger level reaches the configured threshold.

Pure Python (no Django import): the values are the codes of ``referrals.codes`` and ``OrgType``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# --------------------------------------------------------------------------------------------------
# States and transitions
# --------------------------------------------------------------------------------------------------

SENT, RECEIVED, COMPLETED, DECLINED = "sent", "received", "completed", "declined"
STATES: tuple[str, ...] = (SENT, RECEIVED, COMPLETED, DECLINED)
FINAL_STATES: frozenset[str] = frozenset({COMPLETED, DECLINED})
OPEN_STATES: frozenset[str] = frozenset({SENT, RECEIVED})

RECEIVER, SENDER = "receiver", "sender"


@dataclass(frozen=True)
class Transition:
    """One allowed move: ``action`` takes a referral from ``source`` to ``target``."""

    action: str
    source: str
    target: str
    side: str  # which organisation acts: the receiver (or the sender)
    note_required: bool = False  # a decline states its reason


TRANSITIONS: tuple[Transition, ...] = (
    Transition("receive", SENT, RECEIVED, RECEIVER),
    Transition("decline", SENT, DECLINED, RECEIVER, note_required=True),
    Transition("complete", RECEIVED, COMPLETED, RECEIVER),
)
ACTIONS: frozenset[str] = frozenset(t.action for t in TRANSITIONS)


class TransitionRefused(ValueError):
    """The move is not allowed; ``code`` says why (``unknown_action``, ``not_allowed``, ``wrong_side``,
    ``note_required``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def transition_for(state: str, action: str, side: str, note: str = "") -> Transition:
    """The transition ``action`` from ``state`` made by ``side``; raises ``TransitionRefused``."""
    if action not in ACTIONS:
        raise TransitionRefused("unknown_action")
    # Each action belongs to one side: the other side is refused whatever the state.
    if side not in {t.side for t in TRANSITIONS if t.action == action}:
        raise TransitionRefused("wrong_side")
    for t in TRANSITIONS:
        if t.action == action and t.source == state:
            if t.note_required and not note.strip():
                raise TransitionRefused("note_required")
            return t
    raise TransitionRefused("not_allowed")


def allowed_actions(state: str, side: str | None) -> list[str]:
    """Actions ``side`` may take on a referral in ``state`` (none for a final state or no side)."""
    return [t.action for t in TRANSITIONS if t.source == state and side is not None and t.side == side]


# --------------------------------------------------------------------------------------------------
# Direction and organisation types
# --------------------------------------------------------------------------------------------------

#: 基层医疗卫生机构: 社区卫生服务中心, 乡镇卫生院, 村卫生室/社区卫生服务站 (``OrgType`` values).
PRIMARY_CARE_TYPES: frozenset[str] = frozenset({
    "community_health_centre", "township_health_centre", "village_clinic",
})
#: 精神卫生专业机构: 精神专科医院, 综合医院精神（心理）科, 精神卫生中心 (精防机构) of each level.
INSTITUTION_TYPES: frozenset[str] = frozenset({
    "psychiatric_hospital", "general_hospital_psych", "mhc_county", "mhc_city", "mhc_province",
})
UP, DOWN = "up", "down"
DIRECTION_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    UP: (PRIMARY_CARE_TYPES, INSTITUTION_TYPES),
    DOWN: (INSTITUTION_TYPES, PRIMARY_CARE_TYPES),
}


def direction_errors(direction: str, from_type: str | None, to_type: str | None, *, reason: str,
                     discharge_summary: str, same_organisation: bool = False) -> dict[str, str]:
    """Field → error code for a new referral (empty when it may be sent).

    Codes: ``unknown`` (direction), ``no_organisation`` / ``wrong_type`` (from_organisation),
    ``wrong_type`` / ``same`` (to_organisation), ``required`` (reason for up, discharge summary for down).
    """
    errors: dict[str, str] = {}
    if direction not in DIRECTION_TYPES:
        return {"direction": "unknown"}
    senders, receivers = DIRECTION_TYPES[direction]
    if from_type is None:
        errors["from_organisation"] = "no_organisation"
    elif from_type not in senders:
        errors["from_organisation"] = "wrong_type"
    if to_type is None or to_type not in receivers:
        errors["to_organisation"] = "wrong_type"
    elif same_organisation:
        errors["to_organisation"] = "same"
    if direction == UP and not reason.strip():
        errors["reason"] = "required"
    if direction == DOWN and not discharge_summary.strip():
        errors["discharge_summary"] = "required"
    return errors


# --------------------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------------------

AddWorkingDays = Callable[[date, int], date]


def receive_due(sent_on: date, limits: dict[str, int], add_working_days: AddWorkingDays) -> date:
    """The receiving organisation confirms receipt within ``referral_receive_working_days``."""
    return add_working_days(sent_on, limits["referral_receive_working_days"])


def complete_due(received_on: date, limits: dict[str, int], add_working_days: AddWorkingDays) -> date:
    """The referral is completed within ``referral_complete_working_days`` of receipt."""
    return add_working_days(received_on, limits["referral_complete_working_days"])


def current_due(state: str, receive_by: date | None, complete_by: date | None) -> date | None:
    """The deadline the referral is running against in ``state`` (none when final)."""
    if state == SENT:
        return receive_by
    if state == RECEIVED:
        return complete_by
    return None


def is_overdue(state: str, receive_by: date | None, complete_by: date | None, today: date) -> bool:
    """Past the deadline of its current step (the due day itself is still in time)."""
    due = current_due(state, receive_by, complete_by)
    return due is not None and today > due


def days_overdue(state: str, receive_by: date | None, complete_by: date | None, today: date) -> int:
    """Calendar days past the current deadline (0 when in time or final)."""
    due = current_due(state, receive_by, complete_by)
    return max(0, (today - due).days) if due is not None else 0


# --------------------------------------------------------------------------------------------------
# Emergencies
# --------------------------------------------------------------------------------------------------


def record_due(occurred_at: datetime, hours: int) -> datetime:
    """The 应急处置记录单 is entered within ``hours`` of the event (DOMAIN.md §5: 24 hours)."""
    return occurred_at + timedelta(hours=hours)


def record_is_late(occurred_at: datetime, recorded_at: datetime, hours: int) -> bool:
    """Entered after the time limit."""
    return recorded_at > record_due(occurred_at, hours)


def must_notify_police(danger_level: int, threshold: int) -> bool:
    """DOMAIN.md §3 and §5: police are informed at danger level ≥ the threshold (default 3)."""
    return danger_level >= threshold


def measures_valid(codes: Iterable[int], allowed: Iterable[int]) -> bool:
    """Every chosen measure is a known code and at least one was chosen."""
    chosen = list(codes)
    return bool(chosen) and set(chosen) <= set(allowed)
