"""The periodic job: flag what is late and tell who must act (DOMAIN.md §5 time limits).

Four kinds, each found with ONE set-based query (no Python loop over patients beyond building the
notices), each notice idempotent by its ``dedupe_key`` so that a repeated run adds nothing:

- ``followup_overdue``: a managed patient whose next follow-up date has passed (规范: the date set at
  the last follow-up). Key ``followup_overdue:<patient>:<due date>``: one notice per missed date.
- ``first_visit_late``: a newly reported or discharged patient not visited within
  ``first_visit_days_after_notice`` days (default 14). Key ``first_visit_late:<patient>:<since>``.
- ``case_report_late``: a case report (发病报告卡) entered after its deadline (``CaseReport.late``,
  fixed by the patients app from the working-day calendar), entered within the last
  ``late_report_lookback_days`` days so that a first run does not flood the inboxes with history.
  Key ``case_report_late:<report>:<recipient>``. A report already notified while pending (below) is
  not notified again when it is entered.
- ``case_report_pending``: a case report not yet entered (a draft: a hospital's own, a written card
  the county received, or the card a confirmed suspected case needs) past the deadline running
  from the diagnosis (``patients.rules.pending_case_report_due``: 10 working days, or 5 from the
  county's receipt of a written card). First one UPDATE sets ``late`` on the drafts newly past it
  (``patients.services.mark_overdue_drafts``), then one query finds the late drafts not yet
  notified. Key ``case_report_pending:<report>:<recipient>``.

Who is told:

- for a patient: the responsible doctor, or the managing clinic (everyone of it) when no doctor is
  named; for a case report: the reporting unit;
- the county centre (organisations of type ``mhc_county`` in the patient's county): per case report
  (late or pending),
  and for overdue follow-ups and late first visits one digest per county and day with the number
  newly flagged and a link to the county's list (a centre with thousands of patients needs the
  list, not thousands of notices). Key ``<kind>:county:<organisation>:<date>``.

The query of each kind already leaves out the patients whose notice exists (``NOT EXISTS`` on the
unique ``dedupe_key``), so a repeated run is cheap and its counts are "newly flagged".

Notices are written in the deployment's language (``settings.LANGUAGE_CODE``, Chinese): the job
has no user. They name the record by its register number, never the patient's name.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao.core.models import Organisation, OrgType
from xinqiao.core.models.notification import Notification
from xinqiao.core.notifications import Notice, notify_many
from xinqiao.patients.codes import PatientStatus
from xinqiao.patients.models import Patient
from xinqiao.worklists import rules
from xinqiao.worklists.links import patient_link

KIND_OVERDUE = "followup_overdue"
KIND_FIRST_VISIT = "first_visit_late"
KIND_CASE_REPORT = "case_report_late"
KIND_PENDING = "case_report_pending"


@dataclass(frozen=True)
class FlagResult:
    """What one run found newly late, and how many notices it offered."""

    date: str
    followups_overdue: int
    first_visits_late: int
    case_reports_late: int
    case_reports_pending: int
    notices: int

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def county_centres() -> dict[str, list[int]]:
    """County code → the active county mental-health centres there (one query)."""
    out: dict[str, list[int]] = defaultdict(list)
    for county, org_id in (Organisation.objects.filter(org_type=OrgType.MHC_COUNTY, is_active=True)
                           .order_by("id").values_list("county_code", "id")):
        if county:
            out[county].append(org_id)
    return out


def _key_exists(prefix: str, *columns: str, suffix: str = "") -> Exists:
    """``EXISTS`` a notification whose key is ``prefix:<col1>:<col2>…suffix`` built from the outer row.

    Dates cast to text are ``YYYY-MM-DD`` on both vendors (SQLite stores them so; PostgreSQL's ISO
    output), matching ``date.isoformat()`` in the keys written below.
    """
    parts: list[Any] = [Value(prefix)]
    for column in columns:
        parts += [Value(":"), Cast(OuterRef(column), output_field=CharField())]
    if suffix:
        parts.append(Value(suffix))
    return Exists(Notification.objects.filter(dedupe_key=Concat(*parts, output_field=CharField())))


def _worklist_url(code: str) -> str:
    return reverse("worklists:list", kwargs={"code": code})


def _patient_link(patient_id: int, fallback: str) -> str:
    return patient_link("record", patient_id) or fallback


def _responsible(doctor_id: int | None, clinic_id: int | None) -> dict[str, int | None]:
    """The responsible doctor, or the managing clinic when none is named."""
    if doctor_id is not None:
        return {"recipient_id": doctor_id, "organisation_id": None}
    return {"recipient_id": None, "organisation_id": clinic_id}


def _county_digests(kind: str, counties: Iterable[str], centres: dict[str, list[int]], today: date,
                    title: str, body: str, link: str) -> list[Notice]:
    """One notice per county centre of each county with newly flagged items (``%(n)d`` in the texts)."""
    counts = Counter(counties)
    return [
        Notice(kind=kind, title=title % {"n": n}, body=body % {"n": n}, link=link, organisation_id=org_id,
               subject_type="core.region", subject_id=county,
               dedupe_key=f"{kind}:county:{org_id}:{today.isoformat()}")
        for county, n in sorted(counts.items()) for org_id in centres.get(county, ())
    ]


# --------------------------------------------------------------------------------------------------
# The four kinds
# --------------------------------------------------------------------------------------------------


def flag_overdue_followups(today: date, centres: dict[str, list[int]]) -> tuple[int, list[Notice]]:
    """Managed patients past their next follow-up date, not yet notified for that date (one query)."""
    rows = list(
        Patient.objects.filter(status=PatientStatus.MANAGED, next_followup_due__lt=today)
        .exclude(_key_exists(KIND_OVERDUE, "id", "next_followup_due"))
        .order_by("next_followup_due", "id")
        .values_list("id", "register_number", "next_followup_due", "responsible_doctor_id",
                     "managing_organisation_id", "county_code")
    )
    fallback = _worklist_url("overdue")
    notices = [
        Notice(
            kind=KIND_OVERDUE,
            title=_("Follow-up overdue: patient %(number)s") % {"number": number},
            body=_("The follow-up due on %(due)s has not been recorded (%(days)d days overdue). "
                   "Visit or call the patient and record the follow-up.")
            % {"due": due.isoformat(), "days": (today - due).days},
            link=_patient_link(pk, fallback), subject_type="patients.patient", subject_id=str(pk),
            dedupe_key=f"{KIND_OVERDUE}:{pk}:{due.isoformat()}", **_responsible(doctor, clinic),
        )
        for pk, number, due, doctor, clinic, _county in rows
    ]
    notices += _county_digests(
        KIND_OVERDUE, (r[5] for r in rows), centres, today,
        _("Follow-ups newly overdue in your county: %(n)d"),
        _("%(n)d patients in your county passed the date of their next follow-up without one being "
          "recorded. The overdue list shows them all."),
        fallback,
    )
    return len(rows), notices


def flag_late_first_visits(today: date, centres: dict[str, list[int]]) -> tuple[int, list[Notice]]:
    """Patients awaiting a first visit past the limit, not yet notified (one query)."""
    limit = rules.settings().first_visit_days
    rows = list(
        Patient.objects.filter(status=PatientStatus.MANAGED,
                               awaiting_first_visit_since__lt=today - timedelta(days=limit))
        .exclude(_key_exists(KIND_FIRST_VISIT, "id", "awaiting_first_visit_since"))
        .order_by("awaiting_first_visit_since", "id")
        .values_list("id", "register_number", "awaiting_first_visit_since", "responsible_doctor_id",
                     "managing_organisation_id", "county_code")
    )
    fallback = _worklist_url("first_visit")
    notices = [
        Notice(
            kind=KIND_FIRST_VISIT,
            title=_("First visit late: patient %(number)s") % {"number": number},
            body=_("Notified on %(since)s; the first visit was due within %(limit)d days and has not been "
                   "recorded. Visit the patient, open the record and start follow-ups.")
            % {"since": since.isoformat(), "limit": limit},
            link=_patient_link(pk, fallback), subject_type="patients.patient", subject_id=str(pk),
            dedupe_key=f"{KIND_FIRST_VISIT}:{pk}:{since.isoformat()}", **_responsible(doctor, clinic),
        )
        for pk, number, since, doctor, clinic, _county in rows
    ]
    notices += _county_digests(
        KIND_FIRST_VISIT, (r[5] for r in rows), centres, today,
        _("First visits newly late in your county: %(n)d"),
        _("%(n)d newly reported or discharged patients in your county were not visited within the limit. "
          "The list of patients awaiting a first visit shows them all."),
        fallback,
    )
    return len(rows), notices


def flag_late_case_reports(today: date, centres: dict[str, list[int]]) -> tuple[int, list[Notice]]:
    """Case reports entered after their deadline, recently, not yet notified (one query).

    Tells the reporting unit and every county centre of the patient's county, per report.
    """
    from xinqiao.patients.models import CaseReport

    since = today - timedelta(days=rules.settings().late_report_lookback_days)
    rows = list(
        CaseReport.objects.filter(late=True, entered_on__gte=since)
        .exclude(_key_exists(KIND_CASE_REPORT, "id", suffix=":unit"))
        .exclude(_key_exists(KIND_PENDING, "id", suffix=":unit"))
        .order_by("entered_on", "id")
        .values_list("id", "patient_id", "report_deadline", "entered_on", "reporting_unit_id", "county_code")
    )
    notices: list[Notice] = []
    for pk, patient_id, deadline, entered, unit, county in rows:
        title = _("Case report entered late: report %(id)d") % {"id": pk}
        body = _("Due by %(deadline)s (working days on the official calendar); entered on %(entered)s.") % {
            "deadline": deadline.isoformat(), "entered": entered.isoformat()}
        link = _patient_link(patient_id, "") if patient_id else ""
        common: dict[str, Any] = {"kind": KIND_CASE_REPORT, "title": title, "body": body, "link": link,
                  "subject_type": "patients.casereport", "subject_id": str(pk)}
        notices.append(Notice(organisation_id=unit, dedupe_key=f"{KIND_CASE_REPORT}:{pk}:unit", **common))
        notices += [Notice(organisation_id=org_id, dedupe_key=f"{KIND_CASE_REPORT}:{pk}:county:{org_id}", **common)
                    for org_id in centres.get(county, ())]
    return len(rows), notices


def flag_pending_case_reports(today: date, centres: dict[str, list[int]]) -> tuple[int, list[Notice]]:
    """Case reports not yet entered and past their deadline, not yet notified (one UPDATE, one query).

    Tells the reporting unit (the hospital, or the county centre for a written card it received) and
    every county centre of the patient's county, per report. Names the report by its number and,
    when the patient is already registered (a confirmed suspected case), the register number.
    """
    from xinqiao.patients.models import CaseReport
    from xinqiao.patients.services import mark_overdue_drafts

    mark_overdue_drafts(today)
    rows = list(
        CaseReport.objects.filter(status="draft", late=True)
        .exclude(_key_exists(KIND_PENDING, "id", suffix=":unit"))
        .order_by("report_deadline", "id")
        .values_list("id", "diagnosed_on", "report_deadline", "received_on", "entry_deadline",
                     "reporting_unit_id", "county_code", "patient__register_number")
    )
    link = reverse("patients:case_report_list") + "?pending=1"
    notices: list[Notice] = []
    for pk, diagnosed, deadline, received, entry_deadline, unit, county, number in rows:
        title = (_("Case report not entered, past its deadline: report %(id)d (patient %(number)s)")
                 % {"id": pk, "number": number} if number else
                 _("Case report not entered, past its deadline: report %(id)d") % {"id": pk})
        if received is not None:
            body = _("Diagnosed on %(diagnosed)s; the written card was due at the county by %(deadline)s, received "
                     "on %(received)s, and was to be entered by %(entry)s (working days on the official calendar). "
                     "Enter the case report.") % {
                "diagnosed": diagnosed.isoformat(), "deadline": deadline.isoformat(),
                "received": received.isoformat(), "entry": entry_deadline.isoformat()}
        else:
            body = _("Diagnosed on %(diagnosed)s; the case report was due by %(deadline)s (working days on the "
                     "official calendar) and has not been entered. Enter it, or send the written card.") % {
                "diagnosed": diagnosed.isoformat(), "deadline": deadline.isoformat()}
        common: dict[str, Any] = {"kind": KIND_PENDING, "title": title, "body": body, "link": link,
                                  "subject_type": "patients.casereport", "subject_id": str(pk)}
        notices.append(Notice(organisation_id=unit, dedupe_key=f"{KIND_PENDING}:{pk}:unit", **common))
        notices += [Notice(organisation_id=org_id, dedupe_key=f"{KIND_PENDING}:{pk}:county:{org_id}", **common)
                    for org_id in centres.get(county, ()) if org_id != unit]
    return len(rows), notices


def flag_all(today: date | None = None) -> FlagResult:
    """Run the four kinds and send their notices (idempotent; safe to run at any interval)."""
    today = today or timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        centres = county_centres()
        overdue, n1 = flag_overdue_followups(today, centres)
        first, n2 = flag_late_first_visits(today, centres)
        reports, n3 = flag_late_case_reports(today, centres)
        with transaction.atomic():
            pending, n4 = flag_pending_case_reports(today, centres)
            offered = notify_many([*n1, *n2, *n3, *n4])
    return FlagResult(date=today.isoformat(), followups_overdue=overdue, first_visits_late=first,
                      case_reports_late=reports, case_reports_pending=pending, notices=offered)
