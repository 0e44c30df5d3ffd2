"""The data-quality panel: late case reports, overdue follow-ups, duplicate suspects, implausible records.

The rules are data (``data/quality_rules.json``: what each flags, why, the clause it rests on and its
parameters); this module holds the SQL of each rule, as a condition on the rule's subject table:

- ``late_case_report`` on ``patients.CaseReport``: the report's own ``late`` flag, fixed by the
  patients app from the working-day calendar when the card was entered (10 working days after the
  diagnosis, 5 for the county's entry of a written card), for cards entered in the period;
- ``pending_case_report`` on ``patients.CaseReport``: cards not yet entered (drafts: a hospital's,
  a written card the county received, the card of a confirmed suspected case) that the daily job
  flagged late (``late`` on a draft), whose deadline fell on or before the end of the period — a
  report never entered is late all the same;
- ``overdue_followup`` on ``patients.Patient``: the work list "overdue" condition itself
  (``worklists.queries.list_condition``), not a copy of it;
- ``duplicate_id_number``: the patient's person shares the ID-number blind index with another person
  anywhere in the deployment (the detection of ``patients.services.duplicate_groups``, which the merge
  page uses). Names and birth dates are encrypted/personal and cannot be compared in SQL, so the ID
  number is the only honest duplicate signal the data model offers;
- the implausible-record rules, each an ``EXISTS`` or a column comparison on the patient.

Counts per sub-region are ONE aggregate query for all patient rules (``COUNT(*) FILTER (WHERE …)``
per rule, grouped by the sub-region's code column) plus one for the case reports; counts are
aggregates (no personal data) and need only the panel permission and the region in scope. The
drill-down lists go through ``restrict(user)`` (404 outside scope is the view's job, rows outside the
user's reach never appear), are shown through ``masks.present`` and audited as list views.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import get_language

from xinqiao.core import audit
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, Person, Region
from xinqiao.core.models.region import SCOPE_COLUMN, RegionLevel
from xinqiao.followups.codes import Outcome
from xinqiao.followups.models import FollowUp
from xinqiao.indicators.periods import Period
from xinqiao.patients.codes import PatientStatus
from xinqiao.patients.models import CaseReport, Patient, StatusChange
from xinqiao.worklists.queries import list_condition

DATA_FILE = Path(__file__).resolve().parent / "data" / "quality_rules.json"
PERMISSION = "indicators.view_data_quality"
PAGE_SIZE = 25

KINDS: tuple[str, ...] = ("late_report", "overdue", "duplicate", "implausible")
SUBJECTS: tuple[str, ...] = ("patient", "case_report")


class UnknownRuleError(KeyError):
    """A rule code that is not in ``quality_rules.json``."""


@dataclass(frozen=True)
class QualityRule:
    """One rule of the panel, as the data file states it."""

    code: str
    kind: str
    subject: str
    zh: str
    en: str
    why_zh: str
    why_en: str
    source: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.en if (get_language() or "").startswith("en") else self.zh

    @property
    def why(self) -> str:
        return self.why_en if (get_language() or "").startswith("en") else self.why_zh


@lru_cache(maxsize=1)
def rules() -> tuple[QualityRule, ...]:
    """The rules, in the order of the file; the file is checked against the SQL known here."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    out = tuple(QualityRule(**item) for item in raw["rules"])
    codes = [r.code for r in out]
    if len(set(codes)) != len(codes):
        raise ValueError("quality_rules.json: duplicate rule codes")
    for rule in out:
        if rule.kind not in KINDS or rule.subject not in SUBJECTS:
            raise ValueError(f"quality_rules.json: {rule.code}: unknown kind or subject")
        if rule.code not in _PATIENT_CONDITIONS and rule.code not in CASE_REPORT_RULES:
            raise ValueError(f"quality_rules.json: {rule.code}: no SQL for this rule in quality.py")
        if (rule.subject == "case_report") != (rule.code in CASE_REPORT_RULES):
            raise ValueError(f"quality_rules.json: {rule.code}: wrong subject")
    return out


def get(code: str) -> QualityRule:
    for rule in rules():
        if rule.code == code:
            return rule
    raise UnknownRuleError(code)


# --------------------------------------------------------------------------------------------------
# The conditions (SQL), one per rule
# --------------------------------------------------------------------------------------------------


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _death_dates(outer: Any) -> tuple[QuerySet[StatusChange], QuerySet[FollowUp]]:
    """The recorded deaths of the outer patient: a status change to 死亡, or a follow-up reporting it."""
    return (StatusChange.objects.filter(patient=outer, to_status=PatientStatus.DEAD, death_date__isnull=False),
            FollowUp.objects.filter(patient=outer, outcome=Outcome.DEAD, death_date__isnull=False))


def _overdue(rule: QualityRule, today: date) -> Q:
    return list_condition("overdue", today)


def _duplicate(rule: QualityRule, today: date) -> Q:
    shared = (Person.objects.exclude(id_number_index="").order_by().values("id_number_index")
              .annotate(n=Count("id")).filter(n__gt=1).values("id_number_index"))
    return Q(person__id_number_index__in=Subquery(shared))


def _followup_before_registration(rule: QualityRule, today: date) -> Q:
    return Q(Exists(FollowUp.objects.filter(patient=OuterRef("pk"), followup_date__lt=OuterRef("registered_on"))))


def _followup_in_future(rule: QualityRule, today: date) -> Q:
    return Q(Exists(FollowUp.objects.filter(patient=OuterRef("pk"), followup_date__gt=today)))


def _followup_after_death(rule: QualityRule, today: date) -> Q:
    visited = FollowUp.objects.filter(patient=OuterRef("pk"), outcome=Outcome.VISITED)
    changes, reports = _death_dates(OuterRef(OuterRef("pk")))
    return Q(Exists(visited.filter(Exists(changes.filter(death_date__lt=OuterRef("followup_date")))))) | Q(
        Exists(visited.filter(Exists(reports.filter(death_date__lt=OuterRef("followup_date"))))))


def _age_over_limit(rule: QualityRule, today: date) -> Q:
    return Q(person__birth_date__lt=_years_before(today, int(rule.params["max_age_years"])))


def _born_in_future(rule: QualityRule, today: date) -> Q:
    return Q(person__birth_date__gt=today)


def _death_before_birth(rule: QualityRule, today: date) -> Q:
    changes, reports = _death_dates(OuterRef("pk"))
    birth = OuterRef("person__birth_date")
    return Q(person__birth_date__isnull=False) & (
        Q(Exists(changes.filter(death_date__lt=birth))) | Q(Exists(reports.filter(death_date__lt=birth))))


def _registered_before_diagnosis(rule: QualityRule, today: date) -> Q:
    return Q(diagnosed_on__isnull=False, registered_on__lt=F("diagnosed_on"))


_PATIENT_CONDITIONS = {
    "overdue_followup": _overdue,
    "duplicate_id_number": _duplicate,
    "followup_before_registration": _followup_before_registration,
    "followup_in_future": _followup_in_future,
    "followup_after_death": _followup_after_death,
    "age_over_limit": _age_over_limit,
    "born_in_future": _born_in_future,
    "death_before_birth": _death_before_birth,
    "registered_before_diagnosis": _registered_before_diagnosis,
}


def patient_condition(code: str, today: date) -> Q:
    """The WHERE condition on ``Patient`` of a patient rule."""
    rule = get(code)
    if rule.subject != "patient":
        raise UnknownRuleError(code)
    return _PATIENT_CONDITIONS[code](rule, today)


#: The case-report rules (subject ``case_report``).
CASE_REPORT_RULES: tuple[str, ...] = ("late_case_report", "pending_case_report")


def case_report_condition(period: Period, code: str = "late_case_report") -> Q:
    """The WHERE condition on ``CaseReport`` of a case-report rule.

    ``late_case_report``: entered in the period and late (the card's own flag). ``pending_case_report``:
    not entered (draft), flagged late by the daily job, due by the end of the period.
    """
    if code == "pending_case_report":
        return Q(status="draft", late=True, report_deadline__lte=period.end)
    if code != "late_case_report":
        raise UnknownRuleError(code)
    return Q(status="entered", late=True, entered_on__gte=period.start, entered_on__lte=period.end)


# --------------------------------------------------------------------------------------------------
# Counts per sub-region
# --------------------------------------------------------------------------------------------------


def child_level(region: Region) -> int:
    """The level the panel breaks a region down to (a township breaks down to itself)."""
    return min(int(region.level) + 1, int(RegionLevel.TOWNSHIP))


def sub_regions(region: Region) -> list[Region]:
    """The regions of the rows: the children, or the township itself (one query)."""
    if region.level >= RegionLevel.TOWNSHIP:
        return [region]
    return list(Region.objects.filter(parent_id=region.code).order_by("code"))


@dataclass(frozen=True)
class QualityRow:
    """One sub-region (or the total): the count per rule, and the case reports entered in the period."""

    code: str
    name: str
    counts: dict[str, int]
    case_reports: int

    @property
    def late_share(self) -> float | None:
        """Late case reports as a percentage of those entered in the period."""
        late = self.counts.get("late_case_report", 0)
        return round(100.0 * late / self.case_reports, 1) if self.case_reports else None


@dataclass(frozen=True)
class QualityPanel:
    """The panel of one region: a row per sub-region and the total."""

    region: Region
    period: Period
    today: date
    rules: tuple[QualityRule, ...]
    rows: list[QualityRow]
    total: QualityRow


def panel(region: Region, period: Period, *, today: date | None = None) -> QualityPanel:
    """Counts of every rule per sub-region of ``region``: two aggregate queries (+ the region names)."""
    today = today or timezone.localdate()
    within = {region.scope_column: region.code}
    column = SCOPE_COLUMN[child_level(region)]
    patient_rules = [r for r in rules() if r.subject == "patient"]
    per_region: dict[str, dict[str, int]] = {}
    patient_counts = (
        Patient.objects.filter(**within).order_by().values(column)
        .annotate(**{r.code: Count("pk", filter=patient_condition(r.code, today)) for r in patient_rules})
    )
    for row in patient_counts:
        per_region[row[column]] = {r.code: int(row[r.code] or 0) for r in patient_rules}
    reports: dict[str, int] = {}
    report_rules = [r.code for r in rules() if r.subject == "case_report"]
    entered = Q(status="entered", entered_on__gte=period.start, entered_on__lte=period.end)
    report_counts = (
        CaseReport.objects.filter(**within).filter(entered | case_report_condition(period, "pending_case_report"))
        .order_by().values(column)
        .annotate(total=Count("pk", filter=entered),
                  **{code: Count("pk", filter=case_report_condition(period, code)) for code in report_rules})
    )
    for row in report_counts:
        counts = per_region.setdefault(row[column], {})
        for code in report_rules:
            counts[code] = int(row[code] or 0)
        reports[row[column]] = int(row["total"] or 0)
    codes = [r.code for r in rules()]
    regions = sub_regions(region)
    rows = [QualityRow(code=r.code, name=r.name, counts={c: per_region.get(r.code, {}).get(c, 0) for c in codes},
                       case_reports=reports.get(r.code, 0)) for r in regions]
    known = {r.code for r in regions}
    # Rows placed in a code missing from the region table (should not happen) still count in the total.
    rows += [QualityRow(code=c, name=c, counts={k: v.get(k, 0) for k in codes}, case_reports=reports.get(c, 0))
             for c, v in sorted(per_region.items()) if c not in known and c]
    total = QualityRow(code=region.code, name=region.name,
                       counts={c: sum(r.counts[c] for r in rows) for c in codes},
                       case_reports=sum(r.case_reports for r in rows))
    return QualityPanel(region=region, period=period, today=today, rules=rules(), rows=rows, total=total)


# --------------------------------------------------------------------------------------------------
# Drill-down: the records behind a count, as the user may see them
# --------------------------------------------------------------------------------------------------


def members(user: Any, code: str, region: Region, period: Period, *, today: date | None = None,
            action: str = "view") -> QuerySet[Any]:
    """The records flagged by rule ``code`` in ``region`` that ``user`` may reach (lazy, one query)."""
    rule = get(code)
    today = today or timezone.localdate()
    within = {region.scope_column: region.code}
    if rule.subject == "case_report":
        order = ("report_deadline", "id") if code == "pending_case_report" else ("-entered_on", "-id")
        return (CaseReport.objects.restrict(user, action).filter(**within).filter(case_report_condition(period, code))
                .select_related("region", "reporting_unit", "patient").order_by(*order))
    return (Patient.objects.restrict(user, action).filter(**within).filter(patient_condition(code, today))
            .select_related("person", "region").order_by("township_code", "register_number"))


@dataclass(frozen=True)
class QualityListRow:
    """One flagged record: the facts that explain the flag, masked per role."""

    record: Any
    township: str
    number: str
    shown: dict[str, Any]
    person: dict[str, Any]


@dataclass(frozen=True)
class QualityList:
    rule: QualityRule
    region: Region
    period: Period
    page: Page
    rows: list[QualityListRow]


def view_list(user: Any, code: str, region: Region, period: Period, *, page: int | str | None = 1,
              today: date | None = None) -> QualityList:
    """One page of the records behind a count, masked (``present``) and audited as a list view."""
    rule = get(code)
    qs = members(user, code, region, period, today=today)
    current = Paginator(qs, PAGE_SIZE).get_page(page)
    records = list(current.object_list)
    rows = []
    for record in records:
        if rule.subject == "case_report":
            rows.append(QualityListRow(record=record, township=record.region.name,
                                       number=record.patient.register_number if record.patient else "",
                                       shown=present(user, record), person={}))
        else:
            rows.append(QualityListRow(record=record, township=record.region.name, number=record.register_number,
                                       shown=present(user, record), person=present(user, record.person)))
    object_type = "patients.casereport" if rule.subject == "case_report" else "patients.patient"
    audit.record_many(AuditAction.LIST, records, object_type=object_type, region_code=region.code,
                      detail={"quality_rule": code, "region": region.code, "period": period.key,
                              "page": current.number})
    return QualityList(rule=rule, region=region, period=period, page=current, rows=rows)
