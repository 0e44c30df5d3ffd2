"""National rules of the register that are not follow-up rules, loaded from data.

- Partner-agency visibility (``data/sharing.json``; DOMAIN.md §7, 《严重精神障碍管理治疗工作规范
  （2018年版）》 on information exchange within the 综合管理小组): partner roles see only patients at
  danger level ≥3 or with a 肇事肇祸 history.
- 在册 (on the register) = 累计建档 − 累计死亡 − 迁出 (DOMAIN.md §5): ``OFF_REGISTER_STATUSES``.
- ICD-10 codes of the six disorders (DOMAIN.md §1): ``icd10_errors``.
- Case-report deadlines in working days (《严重精神障碍发病报告管理办法（试行）》2013; DOMAIN.md §5):
  ``case_report_timeliness`` for an entered card; ``pending_case_report_due`` for one not yet
  entered (a draft), whose clock runs from the diagnosis all the same.
- The status lifecycle (``data/status_transitions.json``): ``status_change_errors``.

Pure Python: no database access, so the rules are testable from the standard's wording alone.
Errors are returned as ``(field, code)`` pairs; the services turn codes into translated messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from xinqiao.patients.codes import ICD10_PREFIXES, OFF_REGISTER_STATUSES, DeathCause, Diagnosis, PatientStatus
from xinqiao.patients.workdays import add_working_days

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class SharingRule:
    """Who counts as a partner agency and which patients they may see."""

    partner_roles: frozenset[str]
    min_danger_level: int
    include_incident_history: bool

    def is_partner_only(self, role_codes: Iterable[str]) -> bool:
        """True when every role of the user is a partner role (no clinical role lifts the limit)."""
        codes = set(role_codes)
        return bool(codes) and codes <= self.partner_roles

    def partner_may_see(self, danger_level: int, incident_history: bool) -> bool:
        """Whether a partner-only user may see a patient with these facts."""
        return danger_level >= self.min_danger_level or (self.include_incident_history and incident_history)


@lru_cache(maxsize=1)
def sharing_rule() -> SharingRule:
    """The configured sharing rule (``patients/data/sharing.json``)."""
    raw = json.loads((DATA_DIR / "sharing.json").read_text(encoding="utf-8"))
    level = int(raw["min_danger_level"])
    if not 0 <= level <= 5:
        raise ValueError("sharing.json: min_danger_level must be 0–5")
    return SharingRule(
        partner_roles=frozenset(raw["partner_roles"]),
        min_danger_level=level,
        include_incident_history=bool(raw.get("include_incident_history", True)),
    )


def on_register(status: str) -> bool:
    """在册: registered and neither dead nor moved out (DOMAIN.md §5)."""
    return status not in OFF_REGISTER_STATUSES


@lru_cache(maxsize=1)
def time_limits() -> dict[str, int]:
    """The configured time limits (``patients/data/time_limits.json``, DOMAIN.md §5)."""
    raw = json.loads((DATA_DIR / "time_limits.json").read_text(encoding="utf-8"))
    return {key: int(value) for key, value in raw.items() if not key.startswith("_")}


# --- ICD-10 codes of the six disorders ------------------------------------------------------------

#: ``F20``, ``F20.0``, ``F20.01``, ``G40.9`` (ICD-10 category, optional subcategory of 1–2 digits).
ICD10_PATTERN = re.compile(r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$")
#: Codes of mental retardation itself (F70–F79): not a co-occurring disorder.
RETARDATION_PREFIX = "F7"


def normalize_icd10(code: str) -> str:
    """Upper case, no spaces, full-width dot made ASCII: ``f20 .0`` → ``F20.0``."""
    return re.sub(r"\s+", "", code or "").replace("．", ".").replace("。", ".").upper()


def icd10_errors(diagnosis: str, code: str, co_code: str = "") -> list[tuple[str, str]]:
    """Check a diagnosis and its ICD-10 code(s) (DOMAIN.md §1); ``[]`` when valid.

    - the code must fall under the diagnosis (``codes.ICD10_PREFIXES``);
    - 癫痫所致精神障碍 F06.x needs a co-occurring epilepsy code G40.x (``co_icd10_code``);
    - 精神发育迟滞伴发精神障碍 F70–F79 needs the co-occurring mental disorder, an F code outside F70–F79.

    Error codes: ``required``, ``format``, ``not_six`` (diagnosis), ``mismatch`` (code not of the
    diagnosis), ``needs_g40``, ``needs_co_disorder``.
    """
    errors: list[tuple[str, str]] = []
    if diagnosis not in ICD10_PREFIXES:
        return [("diagnosis", "not_six")]
    code, co_code = normalize_icd10(code), normalize_icd10(co_code)
    if not code:
        errors.append(("icd10_code", "required"))
    elif not ICD10_PATTERN.match(code):
        errors.append(("icd10_code", "format"))
    elif not code.startswith(ICD10_PREFIXES[diagnosis]):
        errors.append(("icd10_code", "mismatch"))
    if co_code and not ICD10_PATTERN.match(co_code):
        errors.append(("co_icd10_code", "format"))
    elif diagnosis == Diagnosis.EPILEPSY and not co_code.startswith("G40"):
        errors.append(("co_icd10_code", "needs_g40"))
    elif diagnosis == Diagnosis.RETARDATION and (
        not co_code.startswith("F") or co_code.startswith(RETARDATION_PREFIX)
    ):
        errors.append(("co_icd10_code", "needs_co_disorder"))
    return errors


# --- Case-report deadlines --------------------------------------------------------------------------

@dataclass(frozen=True)
class Timeliness:
    """When a case report was due and whether it was late.

    ``report_deadline``: the hospital's — diagnosis + N working days (``case_report_working_days``),
    for entering it online or for sending the written card. ``entry_deadline``: for a written card,
    the county's — received + M working days (``county_entry_working_days``). ``certain`` is false
    when a deadline falls in a year whose holiday calendar is unknown (weekends only).
    """

    report_deadline: date
    entry_deadline: date | None
    late: bool
    sent_late: bool
    entered_late: bool
    certain: bool


def case_report_timeliness(diagnosed_on: date, entered_on: date, received_on: date | None = None,
                           limits: Mapping[str, int] | None = None) -> Timeliness:
    """The deadlines of one case report (《严重精神障碍发病报告管理办法（试行）》2013, Art. 9–10).

    Online (``received_on`` is ``None``): late when entered after diagnosis + 10 working days.
    Written: late when the card reached the county after diagnosis + 10 working days, or the county
    entered it after receipt + 5 working days.
    """
    limits = limits if limits is not None else time_limits()
    report_deadline, certain = add_working_days(diagnosed_on, limits["case_report_working_days"])
    if received_on is None:
        late = entered_on > report_deadline
        return Timeliness(report_deadline, None, late, late, False, certain)
    entry_deadline, entry_certain = add_working_days(received_on, limits["county_entry_working_days"])
    sent_late = received_on > report_deadline
    entered_late = entered_on > entry_deadline
    return Timeliness(report_deadline, entry_deadline, sent_late or entered_late, sent_late, entered_late,
                      certain and entry_certain)


@dataclass(frozen=True)
class PendingDue:
    """The deadlines of a case report not yet entered (a draft), and whether it is overdue on a day.

    ``report_deadline``: diagnosis + N working days, for the hospital to enter the card or to send
    the written one. ``entry_deadline``: for a written card the county centre has received, receipt
    + M working days. ``due`` is the deadline now running: the county's once the card is received,
    else the hospital's.
    """

    report_deadline: date
    entry_deadline: date | None
    received_on: date | None
    certain: bool

    @property
    def due(self) -> date:
        return self.entry_deadline if self.entry_deadline is not None else self.report_deadline

    def overdue(self, today: date) -> bool:
        """Past the hospital's deadline without the card; a card received after it; or not entered
        within the county's days of receipt."""
        if self.received_on is None:
            return today > self.report_deadline
        return self.received_on > self.report_deadline or today > self.due


def pending_case_report_due(diagnosed_on: date, received_on: date | None = None,
                            limits: Mapping[str, int] | None = None) -> PendingDue:
    """The running deadlines of a draft case report (same rules as ``case_report_timeliness``).

    The clock starts at the diagnosis, not at entry: a card never entered is late all the same
    (《严重精神障碍发病报告管理办法（试行）》2013; DOMAIN.md §5).
    """
    limits = limits if limits is not None else time_limits()
    report_deadline, certain = add_working_days(diagnosed_on, limits["case_report_working_days"])
    if received_on is None:
        return PendingDue(report_deadline, None, None, certain)
    entry_deadline, entry_certain = add_working_days(received_on, limits["county_entry_working_days"])
    return PendingDue(report_deadline, entry_deadline, received_on, certain and entry_certain)


# --- Status lifecycle ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lifecycle:
    """Allowed status changes and the facts each target status needs (``data/status_transitions.json``)."""

    transitions: dict[str, frozenset[str]]
    requires: dict[str, tuple[str, ...]]

    def allowed(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())


@lru_cache(maxsize=1)
def lifecycle() -> Lifecycle:
    """The configured lifecycle, validated against ``PatientStatus``."""
    raw = json.loads((DATA_DIR / "status_transitions.json").read_text(encoding="utf-8"))
    statuses = set(PatientStatus.values)
    transitions = {str(k): frozenset(v) for k, v in raw["transitions"].items()}
    unknown = (set(transitions) | {t for v in transitions.values() for t in v} | set(raw["requires"])) - statuses
    if unknown:
        raise ValueError(f"status_transitions.json: unknown status {sorted(unknown)[0]}")
    if set(transitions) != statuses:
        raise ValueError("status_transitions.json: every status needs an entry under 'transitions'")
    return Lifecycle(transitions, {str(k): tuple(v) for k, v in raw["requires"].items()})


def status_change_errors(current: str, target: str, facts: Mapping[str, Any], today: date) -> list[tuple[str, str]]:
    """Check a status change and its facts; ``[]`` when it may be recorded.

    ``facts`` holds ``changed_on``, ``loss_reason``, ``death_date``, ``death_cause``,
    ``physical_death_cause``, ``destination`` and ``note`` (empty/None when not given).
    Error codes: ``not_allowed`` (on ``to_status``), ``required``, ``future``, ``only_physical``
    (a 躯体疾病 sub-code without cause 1), ``before_change`` (death after the change date).
    """
    rules = lifecycle()
    if not rules.allowed(current, target):
        return [("to_status", "not_allowed")]
    errors: list[tuple[str, str]] = []
    for name in rules.requires.get(target, ()):
        value = facts.get(name)
        if value is None or value == "":
            errors.append((name, "required"))
    changed_on = facts.get("changed_on")
    if changed_on is None:
        errors.append(("changed_on", "required"))
    elif changed_on > today:
        errors.append(("changed_on", "future"))
    death_date = facts.get("death_date")
    if target == PatientStatus.DEAD:
        if death_date is not None and death_date > today:
            errors.append(("death_date", "future"))
        if facts.get("death_cause") == DeathCause.PHYSICAL and not facts.get("physical_death_cause"):
            errors.append(("physical_death_cause", "required"))
    if facts.get("physical_death_cause") and facts.get("death_cause") != DeathCause.PHYSICAL:
        errors.append(("physical_death_cause", "only_physical"))
    return errors


def first_visit_due(registered_on: date, limits: Mapping[str, int] | None = None) -> date:
    """The first follow-up of a newly registered or transferred patient (local rule: within 2 weeks)."""
    from datetime import timedelta

    limits = limits if limits is not None else time_limits()
    return registered_on + timedelta(days=limits["first_visit_days_after_notice"])
