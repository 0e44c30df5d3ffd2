"""The community doctor's work lists: each list is ONE indexed query on ``patients.Patient``.

The follow-up services keep the work-list columns of ``Patient`` current (next follow-up due, last
classification, failed attempts, awaiting a first visit since), so no list needs a join to the
follow-ups or a Python loop over rows. What the functions here cost, whatever the list's size:

- ``worklist_counts``: one aggregate query (``COUNT(*) FILTER (WHERE …)`` per list on PostgreSQL,
  ``COUNT(CASE WHEN …)`` on SQLite) for the six counts;
- ``worklist_page``: one query for the page of rows (patient + person + township + responsible
  doctor in one join); the page count comes from the counts, so the paginator does not count again;
- days overdue / days waiting and the "late" and "propose 失访" flags are computed in SQL.

Scope (``scoped_patients``), documented in ``docs/domain/worklists.md``:

- always ``Patient.objects.restrict(user, action)``: the user's region and role narrowing;
- a user whose only work-list roles are *caseload* roles (``worklists.json``: the community doctor)
  sees their caseload: the patients of their clinic (``managing_organisation = user.organisation``)
  together with the patients they are the responsible doctor of wherever those are managed
  (``responsible_doctor = user``) — a clinic's doctors cover for each other, and a doctor keeps
  their own patients; ``mine=True`` narrows to the latter only;
- everyone else holding ``worklists.view_worklist`` (the county centre) sees their whole region,
  i.e. their county, as ``restrict`` gives it.

Indexes used: ``pat_org_due`` (managing_organisation, status, next_followup_due) and
``pat_doctor_due`` (responsible_doctor, status, next_followup_due) for caseloads;
``county_code`` (``InRegion``) for a county.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Expression,
    F,
    Func,
    IntegerField,
    OrderBy,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.core.roles import all_roles
from xinqiao.patients.models import Patient
from xinqiao.worklists import rules

PERMISSION = "worklists.view_worklist"


class UnknownListError(KeyError):
    """A list code that is not one of ``rules.LIST_CODES``."""


# --------------------------------------------------------------------------------------------------
# SQL helpers
# --------------------------------------------------------------------------------------------------


class DaysSince(Func):
    """Whole days from a date column to ``today``, in SQL (``today − column``; negative before it).

    PostgreSQL: ``date − date`` is an integer. SQLite stores dates as ``YYYY-MM-DD`` text:
    the difference of their Julian day numbers is an exact whole number.
    """

    output_field = IntegerField()
    arg_joiner = " - "
    template = "(%(expressions)s)"

    def __init__(self, today: date, column: str, **extra: Any) -> None:
        super().__init__(Value(today, output_field=DateField()), F(column), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
                           arg_joiner=") - julianday(", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(CAST(%(expressions)s AS integer))",
                           arg_joiner=" - ", **extra)


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


# --------------------------------------------------------------------------------------------------
# Scope
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _region_wide_roles() -> frozenset[str]:
    """Roles that grant the work lists without being caseload roles (the county centre)."""
    caseload = rules.settings().caseload_roles
    return frozenset(code for code, role in all_roles().items()
                     if PERMISSION in role.permissions and code not in caseload)


def is_caseload_user(user: Any) -> bool:
    """Whether the user's work lists are their caseload rather than their whole region."""
    codes = set(getattr(user, "role_codes", ()))
    return bool(codes & rules.settings().caseload_roles) and not codes & _region_wide_roles()


def scoped_patients(user: Any, *, mine: bool = False, action: str = "view") -> QuerySet[Patient]:
    """The patients whose work lists ``user`` may see (see the module docstring); lazy, no query."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm(PERMISSION):
        return Patient.objects.none()
    qs: QuerySet[Patient] = Patient.objects.restrict(user, action)
    if mine:
        return qs.filter(responsible_doctor_id=user.pk)
    if is_caseload_user(user):
        caseload = Q(responsible_doctor_id=user.pk)
        if getattr(user, "organisation_id", None):
            caseload |= Q(managing_organisation_id=user.organisation_id)
        qs = qs.filter(caseload)
    return qs


# --------------------------------------------------------------------------------------------------
# The lists
# --------------------------------------------------------------------------------------------------


def check_code(code: str) -> str:
    """``code`` if it names a list; ``UnknownListError`` otherwise."""
    if code not in rules.LIST_CODES:
        raise UnknownListError(code)
    return code


def list_condition(code: str, today: date) -> Q:
    """The WHERE condition of list ``code`` on ``today`` (mirrors ``rules.on_list``)."""
    cfg = rules.settings()
    status = Q(status__in=sorted(rules.LIST_STATUSES[check_code(code)]))
    conditions = {
        "due_today": Q(next_followup_due=today),
        "due_week": Q(next_followup_due__gte=today,
                      next_followup_due__lte=rules.due_week_end(today, cfg.due_soon_days)),
        "overdue": Q(next_followup_due__lt=today),
        "unstable": Q(last_classification=rules.UNSTABLE),
        "first_visit": Q(awaiting_first_visit_since__isnull=False),
        "failed_attempts": Q(failed_attempts__gte=1),
    }
    return status & conditions[code]


def _ordering(code: str) -> list[Any]:
    due_nulls_last = OrderBy(F("next_followup_due"), nulls_last=True)
    orderings: dict[str, list[Any]] = {
        "due_today": [F("danger_level").desc(), "id"],
        "due_week": ["next_followup_due", F("danger_level").desc(), "id"],
        "overdue": ["next_followup_due", "id"],  # longest overdue first
        "unstable": [due_nulls_last, "id"],
        "first_visit": ["awaiting_first_visit_since", "id"],  # longest waiting first
        "failed_attempts": [F("failed_attempts").desc(), due_nulls_last, "id"],
    }
    return orderings[code]


def _annotations(code: str, today: date) -> dict[str, Expression]:
    cfg = rules.settings()
    if code == "overdue":
        return {"days": DaysSince(today, "next_followup_due")}
    if code == "first_visit":
        return {
            "days": DaysSince(today, "awaiting_first_visit_since"),
            "late": _flag(Q(awaiting_first_visit_since__lt=today - timedelta(days=cfg.first_visit_days))),
        }
    if code == "failed_attempts":
        return {"prompt_lost": _flag(Q(failed_attempts__gte=cfg.failed_attempts_for_lost))}
    return {}


#: The patient fields a row shows (``masks.present(..., fields=ROW_FIELDS)``): the page, the API and
#: the export show these and nothing else of ``Patient.PII_FIELDS``.
ROW_FIELDS: tuple[str, ...] = (
    "danger_level", "last_classification", "last_followup_date", "next_followup_due", "responsible_doctor",
)
#: The person fields a row shows.
PERSON_ROW_FIELDS: tuple[str, ...] = ("name",)


@lru_cache(maxsize=1)
def _related() -> tuple[str, ...]:
    """Joined in the list query: person (name), township, and every relation among the row's fields
    (the responsible doctor), so that showing a row never queries again."""
    relations = [f for f in ROW_FIELDS if Patient._meta.get_field(f).is_relation]
    return ("person", "region", *relations)


def _base(user: Any, mine: bool, action: str) -> QuerySet[Patient]:
    # Every list takes only statuses from LIST_STATUSES: the union narrows the index range once.
    statuses = sorted(set().union(*rules.LIST_STATUSES.values()))
    return scoped_patients(user, mine=mine, action=action).filter(status__in=statuses)


def worklist_counts(user: Any, *, today: date | None = None, mine: bool = False) -> dict[str, int]:
    """How many patients are on each list: ONE aggregate query."""
    return _counts(_base(user, mine, "view"), today or timezone.localdate())


def _counts(base: QuerySet[Patient], today: date) -> dict[str, int]:
    totals = base.order_by().aggregate(
        **{code: Count("pk", filter=list_condition(code, today)) for code in rules.LIST_CODES})
    return {code: int(totals[code] or 0) for code in rules.LIST_CODES}


def _members(user: Any, code: str, today: date, mine: bool, action: str,
             base: QuerySet[Patient] | None = None) -> QuerySet[Patient]:
    """The list's rows, unjoined and ordered: what the page's sub-select sorts (narrow rows sort fast)."""
    base = _base(user, mine, action) if base is None else base
    return base.filter(list_condition(code, today)).order_by(*_ordering(code))


def _rows(code: str, today: date, where: Q) -> QuerySet[Patient]:
    return (Patient.objects.filter(where).select_related(*_related())
            .annotate(**_annotations(code, today)).order_by(*_ordering(code)))


def worklist(user: Any, code: str, *, today: date | None = None, mine: bool = False,
             action: str = "view") -> QuerySet[Patient]:
    """List ``code`` as one lazy queryset: rows joined to person, township and responsible doctor,
    annotated with ``days`` (overdue / waiting, computed in SQL), ``late`` and ``prompt_lost``."""
    today = today or timezone.localdate()
    return (_members(user, check_code(code), today, mine, action)
            .select_related(*_related()).annotate(**_annotations(code, today)))


# --------------------------------------------------------------------------------------------------
# Rows as the user may see them
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistRow:
    """One patient on a list, with only what the user's role may see (``masks.present``)."""

    patient: Patient
    shown: dict[str, Any]
    name: str
    danger_level: int | None
    days: int | None
    late: bool
    prompt_lost: bool


def full_fields(user: Any) -> frozenset[str]:
    """Patient fields this user sees in full (for badges that show raw values)."""
    return frozenset(f for f, category in Patient.PII_FIELDS.items()
                     if visibility(user, category) == Visibility.FULL)


def make_row(user: Any, patient: Patient, full: frozenset[str] | None = None) -> WorklistRow:
    """One row; ``days`` only where the user may see follow-up dates (it reveals them)."""
    full = full_fields(user) if full is None else full
    shown = present(user, patient, fields=ROW_FIELDS)
    person = present(user, patient.person, fields=PERSON_ROW_FIELDS)
    dated = "next_followup_due" in full
    return WorklistRow(
        patient=patient,
        shown=shown,
        name=str(person.get("name") or ""),
        danger_level=patient.danger_level if "danger_level" in full else None,
        days=getattr(patient, "days", None) if dated else None,
        late=bool(getattr(patient, "late", False)) and dated,
        prompt_lost=bool(getattr(patient, "prompt_lost", False)) and dated,
    )


@dataclass(frozen=True)
class WorklistPage:
    """A page of one list, with the counts of every list (for the tabs)."""

    code: str
    page: Page
    rows: list[WorklistRow]
    counts: dict[str, int]
    today: date


def worklist_page(user: Any, code: str, *, page: int | str | None = 1, per_page: int | None = None,
                  today: date | None = None, mine: bool = False,
                  counts: dict[str, int] | None = None) -> WorklistPage:
    """One page of list ``code``: two queries (the counts, unless given, and the rows)."""
    check_code(code)
    today = today or timezone.localdate()
    base = _base(user, mine, "view")  # the scope, worked out once for both queries
    counts = _counts(base, today) if counts is None else counts
    size = per_page or rules.settings().page_size
    members = _members(user, code, today, mine, "view", base)
    paginator = Paginator(members, size)
    paginator.__dict__["count"] = counts[code]  # known from the aggregate: no second COUNT
    current = paginator.get_page(page)
    # One statement: the page's ids are picked by a sub-select that sorts only the narrow rows
    # (LIMIT right on the sort: a top-N sort), then joined to person, township and doctor.
    start = (current.number - 1) * size
    current.object_list = list(_rows(code, today, Q(pk__in=members.values("pk")[start:start + size])))
    full = full_fields(user)
    rows = [make_row(user, p, full) for p in current.object_list]
    return WorklistPage(code=code, page=current, rows=rows, counts=counts, today=today)


# --------------------------------------------------------------------------------------------------
# Case reports not yet entered (the county centre's board)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingReportCounts:
    """Case reports not yet entered that the user answers for, and how many are past their deadline."""

    total: int
    late: int


def pending_case_report_counts(user: Any) -> PendingReportCounts | None:
    """One aggregate over ``patients.services.pending_case_reports(user)``; ``None`` for users who may
    not see case reports (no query). Counts only: no personal data, so nothing to audit."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm("patients.view_casereport"):
        return None
    from xinqiao.patients.services import pending_case_reports

    row = pending_case_reports(user).order_by().aggregate(total=Count("pk"), late=Count("pk", filter=Q(late=True)))
    return PendingReportCounts(total=int(row["total"] or 0), late=int(row["late"] or 0))

