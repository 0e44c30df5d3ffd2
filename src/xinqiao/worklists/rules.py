"""The rules behind the community doctor's work lists, as plain functions over plain values.

Sources (``shared/DOMAIN.md`` §3, §5):

- 《国家基本公共卫生服务规范（第三版）》严重精神障碍患者管理服务规范: at least four follow-ups a year, each
  fixing the date of the next; a follow-up not made by that date is overdue. Patients classified
  不稳定 at their last follow-up need the closest watch (next visit within 2 weeks, with referral).
- 《严重精神障碍管理治疗工作规范（2018年版）》: a newly reported or newly discharged patient is handed to
  the home clinic, which opens the record and starts follow-ups (local rule: first visit within
  ``first_visit_days_after_notice`` = 14 days); three failed attempts in a row → 失访 (reason code 4,
  ``failed_attempts_for_lost`` = 3).

The time limits come from ``patients/data/time_limits.json`` (``patients.rules.time_limits``); how
the lists are cut and shown comes from ``worklists/data/worklists.json``. Which statuses each list
takes is decided here: follow-ups are owed by patients being managed at home (``managed``); a
patient in hospital is followed by the hospital, but an unstable one stays on the unstable list so
that the clinic sees them on discharge. Lost, moved-out, dead and deregistered patients are on no
list (失访 patients leave the lists; they come back when a follow-up reaches them again).

No database access here: the queries in ``queries.py`` turn these into one indexed SQL statement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from xinqiao.patients.codes import Classification, PatientStatus
from xinqiao.patients.rules import time_limits

DATA_FILE = Path(__file__).resolve().parent / "data" / "worklists.json"

#: The lists, in the order the overview shows them (the order of the issue's wording).
LIST_CODES: tuple[str, ...] = ("due_today", "due_week", "overdue", "unstable", "first_visit", "failed_attempts")

#: The list the overview opens on: overdue follow-ups are the ones already late.
DEFAULT_LIST = "overdue"

_HOME = frozenset({PatientStatus.MANAGED.value})
_HOME_OR_HOSPITAL = frozenset({PatientStatus.MANAGED.value, PatientStatus.IN_HOSPITAL.value})

#: Which patient statuses each list takes (see the module docstring).
LIST_STATUSES: dict[str, frozenset[str]] = {
    "due_today": _HOME,
    "due_week": _HOME,
    "overdue": _HOME,
    "unstable": _HOME_OR_HOSPITAL,
    "first_visit": _HOME,
    "failed_attempts": _HOME,
}

#: 本次随访分类 1 不稳定.
UNSTABLE = int(Classification.UNSTABLE)


@dataclass(frozen=True)
class WorklistSettings:
    """How the lists are cut and shown, with the time limits they apply."""

    due_soon_days: int
    caseload_roles: frozenset[str]
    page_size: int
    overview_top: int
    first_visit_days: int
    failed_attempts_for_lost: int
    late_report_lookback_days: int


@lru_cache(maxsize=1)
def settings() -> WorklistSettings:
    """The configured settings (``worklists/data/worklists.json`` + ``patients`` time limits)."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    limits = time_limits()
    out = WorklistSettings(
        due_soon_days=int(raw["due_soon_days"]),
        caseload_roles=frozenset(raw["caseload_roles"]),
        page_size=int(raw["page_size"]),
        overview_top=int(raw["overview_top"]),
        first_visit_days=int(limits["first_visit_days_after_notice"]),
        failed_attempts_for_lost=int(limits["failed_attempts_for_lost"]),
        late_report_lookback_days=int(raw.get("late_report_lookback_days", 30)),
    )
    if not 1 <= out.due_soon_days <= 31:
        raise ValueError("worklists.json: due_soon_days must be 1–31")
    if not 1 <= out.page_size <= 200 or not 1 <= out.overview_top <= out.page_size:
        raise ValueError("worklists.json: page_size must be 1–200 and overview_top 1–page_size")
    if out.first_visit_days < 1 or out.failed_attempts_for_lost < 1:
        raise ValueError("time_limits.json: first_visit_days_after_notice and failed_attempts_for_lost must be ≥ 1")
    return out


def due_week_end(today: date, due_soon_days: int) -> date:
    """Last day of "due this week": the ``due_soon_days`` days starting today (default 7: today + 6)."""
    return today + timedelta(days=due_soon_days - 1)


def is_due_today(due: date | None, today: date) -> bool:
    """The next follow-up falls today."""
    return due == today


def is_due_soon(due: date | None, today: date, due_soon_days: int) -> bool:
    """The next follow-up falls today or in the next ``due_soon_days − 1`` days."""
    return due is not None and today <= due <= due_week_end(today, due_soon_days)


def is_overdue(due: date | None, today: date) -> bool:
    """The date fixed at the last follow-up has passed without a follow-up (规范: the next visit date)."""
    return due is not None and due < today


def days_overdue(due: date, today: date) -> int:
    """Whole days since the due date (1 on the day after it)."""
    return (today - due).days


def first_visit_deadline(since: date, first_visit_days: int) -> date:
    """Last day for the first visit after the notice (newly reported or discharged)."""
    return since + timedelta(days=first_visit_days)


def first_visit_late(since: date, today: date, first_visit_days: int) -> bool:
    """The first visit was not made within the limit (today is past the deadline)."""
    return today > first_visit_deadline(since, first_visit_days)


def prompt_lost(failed_attempts: int, threshold: int) -> bool:
    """Three (configurable) failed attempts in a row: propose 失访, reason 4 (DOMAIN.md §5)."""
    return failed_attempts >= threshold


def on_list(code: str, *, status: str, due: date | None, classification: int | None,
            awaiting_since: date | None, failed_attempts: int, today: date, due_soon_days: int) -> bool:
    """Whether one patient with these facts belongs on list ``code`` (the reference the SQL must match)."""
    if status not in LIST_STATUSES[code]:
        return False
    if code == "due_today":
        return is_due_today(due, today)
    if code == "due_week":
        return is_due_soon(due, today, due_soon_days)
    if code == "overdue":
        return is_overdue(due, today)
    if code == "unstable":
        return classification == UNSTABLE
    if code == "first_visit":
        return awaiting_since is not None
    if code == "failed_attempts":
        return failed_attempts >= 1
    raise KeyError(code)
