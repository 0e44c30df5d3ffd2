"""Synthetic follow-up histories, consistent with the national rules engine (``followups/rules.py``).

Used by ``patients/synth.py`` (``xinqiao synth``, the demo, the benchmarks): for each synthetic
patient, :meth:`HistoryBuilder.simulate` walks from registration (or the start of the window) to
``today`` and writes what the follow-up services would have written:

- **visits** (随访服务记录表, ``outcome = visited``): the clinical picture comes from a latent course
  (a Markov chain over stable / basically stable / unstable pictures, per patient: mostly stable,
  some fluctuating, a few severe); the classification, the next follow-up date and the actions
  are **the engine's** for that visit's inputs (``rules.classify``, ``rules.next_followup_date``,
  ``rules.actions_for``; the previous classification is the patient's previous visit's), and the
  doctor follows the proposal (no overrides). The next attempt happens at the due date give or
  take a few days, sometimes weeks late, which is how some patients end up overdue today;
- **failed attempts** (未访到): some patients are hard to reach; three in a row make the patient
  lost (失访, reason 4), as ``time_limits.json`` says;
- **admissions**: an unstable visit sometimes ends in hospital (status ``in_hospital``); a
  discharge writes the 出院单 (``DischargeRecord``) and puts the patient back on the clinic's
  "awaiting a first visit" list; some are still in hospital today;
- **deaths** (a follow-up with outcome ``dead``, date and cause codes), **moves** out of the region,
  and losses for other reasons (外出打工, 走失 …), each with its ``patients.StatusChange``;
- medication lines (用药情况) from the catalogue, joint follow-ups (police, village cadre, family)
  for dangerous patients, and 肇事肇祸 counts that make the patient's incident history.

The final state (:class:`FinalState`) is what the patient's denormalised columns must hold.
No database access here except :meth:`HistoryBuilder.prepare` (the catalogue, run once before
the workers start) and :func:`delete_for_patients`.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from xinqiao.core import crypto
from xinqiao.followups import rules

#: NULL in COPY text (same as ``patients.synth.NULL``).
NULL = "\\N"
#: Follow-up ids are reserved per chunk of patients: at most this many follow-ups per patient-year.
MAX_PER_YEAR = 60
#: The rules engine's classes.
UNSTABLE, BASIC, STABLE = rules.UNSTABLE, rules.BASICALLY_STABLE, rules.STABLE
#: Any fixed date: classification does not depend on the date (only the next date does).
_REF_DATE = date(2024, 1, 1)

# --- Columns the generator provides (the rest take the model's defaults) ------------------------

HEAD = ("id", "patient_id", "region_id", "province_code", "city_code", "county_code", "township_code",
        "followup_date", "outcome", "method", "doctor_id", "organisation_id")
CLINICAL = ("danger_level", "symptoms", "symptoms_marked", "insight", "sleep", "diet", "self_care", "housework",
            "work", "study", "social", "lock_status", "lab_tests", "adherence", "adverse_reaction",
            "adverse_reaction_serious", "physical_illness_serious", "treatment_effect", "rehab_measures",
            "proposed_classification", "classification", "needs_referral")
VISIT = ("minor_trouble_count", "trouble_count", "disaster_count", "other_harm_count", "self_harm_count",
         "suicide_attempt_count", "hospital_status", "last_discharge_date", "referral", "referral_reason",
         "referral_institution", "previous_classification", "proposed_next_date", "next_followup_date",
         "proposed_actions", "actions", "police_notified")
END = ("not_reached_reason", "loss_reason", "death_date", "death_cause", "physical_death_cause")
FOLLOWUP_COLUMNS = HEAD + CLINICAL + VISIT + END
MEDICATION_COLUMNS = ("followup_id", "drug_id", "drug_name", "times", "period", "dose", "unit")
PARTICIPANT_COLUMNS = ("followup_id", "role", "name")
DISCHARGE_COLUMNS = ("patient_id", "region_id", "province_code", "city_code", "county_code", "township_code",
                     "hospital_id", "admission_date", "discharge_date", "diagnosis", "icd10_code", "effect",
                     "rehab_measures", "reported_on", "report_deadline", "late", "deadline_uncertain")

_EMPTY_CLINICAL = "\t".join((NULL, "[]", "0", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                             NULL, "0", "0", NULL, "[]", NULL, NULL, "0"))
_EMPTY_VISIT = "\t".join(("0", "0", "0", "0", "0", "0", NULL, NULL, NULL, "", "", NULL, NULL, NULL, "[]", "[]", "0"))

# --- Courses: how a patient's picture moves from visit to visit -----------------------------------

#: (share of patients, transition rows from S, B, U to (S, B, U)).
COURSES: tuple[tuple[float, tuple[tuple[float, float, float], ...]], ...] = (
    (0.68, ((0.94, 0.05, 0.01), (0.60, 0.35, 0.05), (0.15, 0.55, 0.30))),  # mostly stable
    (0.24, ((0.78, 0.18, 0.04), (0.35, 0.50, 0.15), (0.10, 0.50, 0.40))),  # fluctuating
    (0.08, ((0.55, 0.30, 0.15), (0.20, 0.50, 0.30), (0.05, 0.45, 0.50))),  # severe
)
_COURSE_CUM = [sum(c[0] for c in COURSES[: i + 1]) for i in range(len(COURSES))]
#: Picture at the first visit: newly registered patients are more often unwell.
FIRST_NEW = (0.30, 0.45, 0.25)
FIRST_KNOWN = (0.70, 0.23, 0.07)
#: Share of patients who are hard to reach, and the chance an attempt fails for them / the others.
HARD_TO_REACH = ((0.80, 0.03), (0.15, 0.12), (0.05, 0.40))
#: Days after the due date the next attempt happens: (weight, low, high).
LATENESS = ((0.70, -3, 3), (0.20, 4, 14), (0.08, 15, 45), (0.02, 46, 150))
#: Yearly hazards.
MOVE_OUT_PER_YEAR = 0.008
LOST_OTHER_PER_YEAR = 0.005
DEREGISTER_PER_YEAR = 0.001
ADMISSION_AFTER_UNSTABLE = 0.3


def _death_per_year(age: float) -> float:
    return 0.003 if age < 40 else 0.008 if age < 60 else 0.025


#: 死亡原因 (DeathCause) with 躯体疾病 sub-codes (PhysicalDeathCause).
DEATH_CAUSES = ((0.55, 1), (0.12, 2), (0.01, 3), (0.10, 4), (0.08, 5), (0.14, 6))
PHYSICAL_CAUSES = (1, 2, 3, 3, 4, 4, 5, 6, 7, 8)
LOSS_REASONS = ((0.45, 1), (0.25, 2), (0.15, 3), (0.15, 5))  # 4 comes from three failed attempts
NOT_REACHED = ("电话无人接听", "家中无人", "家属称患者外出", "地址有误，未找到", "患者拒绝见面")
DESTINATIONS = ("北京市", "上海市", "浙江省", "江苏省", "湖南省", "广西壮族自治区", "福建省", "四川省")
REFERRAL_REASONS = ("病情不稳定，转上级精神卫生专业机构诊治", "危险性评估3级以上，转诊住院治疗",
                    "自知力缺失，拒绝服药，转诊调整治疗方案", "出现严重药物不良反应，转诊处理")
PARTICIPANT_NAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周")


def _pick(rng: random.Random, weighted: Sequence[tuple[float, Any]]) -> Any:
    x = rng.random()
    acc = 0.0
    for weight, value in weighted:
        acc += weight
        if x < acc:
            return value
    return weighted[-1][1]


def _state(rng: random.Random, probs: Sequence[float]) -> int:
    x = rng.random()
    return 0 if x < probs[0] else 1 if x < probs[0] + probs[1] else 2


# --- Clinical pictures (templates) --------------------------------------------------------------

@dataclass(frozen=True)
class Picture:
    """One coherent set of a visit's clinical inputs, classified once by the engine."""

    danger: int
    text: str  # the CLINICAL columns as COPY text
    classification: int
    adherence: int
    marked: bool
    inputs: rules.RuleInput


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _make_picture(rng: random.Random, state: int, risky: bool) -> Picture:
    """A picture for latent state 0 (stable), 1 (basically stable) or 2 (unstable)."""
    danger, symptoms, marked, insight = 0, [], False, 1
    social = {"self_care": 1, "housework": rng.choice((1, 1, 2)), "work": rng.choice((1, 2, 2, 9)),
              "study": rng.choice((1, 2)), "social": rng.choice((1, 2))}
    adverse_serious = physical_serious = False
    sleep, diet = rng.choice((1, 1, 2)), rng.choice((1, 1, 2))
    adherence = 1 if rng.random() < 0.85 else 2
    effect = rng.choice((1, 2, 2))
    adverse = 1 if rng.random() < 0.92 else 2
    if state == 1:
        picks = [k for k in ("danger", "symptoms", "insight", "social") if rng.random() < 0.45] or [
            rng.choice(("danger", "symptoms", "insight", "social"))]
        if "danger" in picks:
            danger = rng.choice((1, 1, 2)) if not risky else rng.choice((1, 2, 2))
        if "symptoms" in picks:
            symptoms = rng.sample((1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12), rng.choice((1, 1, 2)))
        if "insight" in picks:
            insight = 2
        if "social" in picks:
            social[rng.choice(("self_care", "housework", "social", "study"))] = 3
        sleep, diet = rng.choice((1, 2, 2, 3)), rng.choice((1, 2, 2))
        adherence = rng.choice((1, 1, 1, 2, 2, 3))
        effect = rng.choice((2, 2, 3))
    elif state == 2:
        picks = [k for k in ("danger", "marked", "insight", "adverse", "physical")
                 if rng.random() < (0.6 if k == "danger" and risky else 0.2 if k == "danger" else 0.35 if k in ("marked", "insight")
                                    else 0.06)]
        if not picks:
            picks = [rng.choice(("danger", "marked", "insight")) if risky or rng.random() < 0.7 else "adverse"]
        danger = rng.choice((3, 3, 4, 5)) if "danger" in picks else rng.choice((0, 1, 2))
        if "marked" in picks or danger >= 3 or rng.random() < 0.5:
            symptoms = rng.sample((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), rng.choice((2, 3, 4)))
            if danger >= 3 and 7 not in symptoms:
                symptoms.append(7)
        marked = "marked" in picks
        insight = 3 if "insight" in picks else rng.choice((2, 2, 3 if marked else 2))
        adverse_serious = "adverse" in picks
        physical_serious = "physical" in picks
        if adverse_serious:
            adverse = 2
        social = {k: (rng.choice((2, 3)) if v != 9 else 9) for k, v in social.items()}
        sleep, diet = rng.choice((2, 3, 3)), rng.choice((2, 3))
        adherence = rng.choice((1, 2, 2, 3, 3))
        effect = rng.choice((3, 4, 4))
    symptoms = sorted(symptoms)
    rule_input = rules.RuleInput(
        followup_date=_REF_DATE, danger_level=danger, insight=insight, symptoms=tuple(symptoms),
        symptoms_marked=marked, social_function=MappingProxyType(dict(social)),
        adverse_reaction_serious=adverse_serious, physical_illness_serious=physical_serious)
    classification, _reasons = rules.classify(rule_input)
    rehab = sorted(rng.sample((1, 2, 3, 4), rng.choice((0, 1, 1, 2)))) if classification != UNSTABLE else []
    lock = 1 if rng.random() < 0.985 else rng.choice((2, 3, 3))
    if adherence == 1 and rng.random() < 0.03:
        adherence = 4  # 医嘱勿需服药 for a few stable patients
    text = "\t".join((
        str(danger), _json(symptoms), "1" if marked else "0", str(insight), str(sleep), str(diet),
        str(social["self_care"]), str(social["housework"]), str(social["work"]), str(social["study"]),
        str(social["social"]), str(lock), str(rng.choice((1, 1, 1, 2))), str(adherence), str(adverse),
        "1" if adverse_serious else "0", "1" if physical_serious else "0", str(effect), _json(rehab),
        str(classification), str(classification), "1" if classification == UNSTABLE else "0",
    ))
    return Picture(danger=danger, text=text, classification=classification, adherence=adherence, marked=marked,
                   inputs=rule_input)


# --- Per-patient input and output ---------------------------------------------------------------

@dataclass
class Subject:
    """What the history needs to know about one patient."""

    patient_id: int
    registered_on: date
    diagnosed_on: date
    birth: date
    diagnosis: str
    icd10_code: str
    source: str
    doctor_id: int | None
    clinic_id: int
    hospital_id: int | None
    region: tuple[str, str, str, str, str]  # region_id, province, city, county, township
    hospital_name: str
    course: int
    risky: bool
    reach_fail: float
    prior_incident: bool
    initial_danger: int


@dataclass
class StatusEvent:
    """A status change the history implies (written as ``patients.StatusChange``)."""

    on: date
    from_status: str
    to_status: str
    loss_reason: int | None = None
    death_date: date | None = None
    death_cause: int | None = None
    physical_death_cause: int | None = None
    destination: str = ""
    note: str = ""


@dataclass
class FinalState:
    """What the patient's denormalised columns hold after the history (``Patient`` fields)."""

    status: str = "managed"
    danger_level: int = 0
    incident_history: bool = False
    last_followup_date: date | None = None
    last_classification: int | None = None
    next_followup_due: date | None = None
    failed_attempts: int = 0
    awaiting_first_visit_since: date | None = None
    status_changed_on: date | None = None


@dataclass
class History:
    """The rows of one patient's history and the final state."""

    lines: dict[str, list[str]]
    followups: int
    state: FinalState
    events: list[StatusEvent] = field(default_factory=list)


class IdBlock:
    """Consecutive follow-up ids reserved for one chunk; raises if the reservation is exceeded."""

    def __init__(self, start: int, size: int) -> None:
        self.next = start
        self.end = start + size

    def take(self) -> int:
        value = self.next
        if value >= self.end:
            raise RuntimeError("synth: the follow-up id block of a chunk is exhausted (raise MAX_PER_YEAR)")
        self.next += 1
        return value


@lru_cache(maxsize=65536)
def _next_date(classification: int, on: date, previous: int | None) -> date:
    return rules.next_followup_date(classification, on, previous)


@lru_cache(maxsize=256)
def _actions_text(classification: int, danger: int, previous: int | None) -> tuple[str, str]:
    """The engine's actions as JSON text, and whether the police are informed ("1"/"0")."""
    actions = rules.actions_for(classification, danger, previous)
    return _json(list(actions)), "1" if rules.NOTIFY_POLICE in actions else "0"


def _first_visit_due(on: date) -> date:
    from xinqiao.patients.rules import first_visit_due

    return first_visit_due(on)


class HistoryBuilder:
    """Builds the follow-up history of each synthetic patient (one per worker process)."""

    PICTURES_PER_GROUP = 96

    def __init__(self, *, seed: int, today: date, years: int, now_text: str) -> None:
        self.seed = seed
        self.today = today
        self.years = years
        self.window_start = date(today.year - years, today.month, min(today.day, 28))
        self.now_text = now_text
        rng = random.Random(f"xinqiao-synth-pictures:{seed}")  # noqa: S311 (fictitious data)
        #: pictures[state][risky] → list of pictures
        self.pictures = [[[_make_picture(rng, state, risky) for _ in range(self.PICTURES_PER_GROUP)]
                          for risky in (False, True)] for state in range(3)]
        self.drugs: list[tuple[int, str, str, bool]] = []  # id, name, class, long acting
        self.suffix: dict[str, str] = {}
        self.table_names: dict[str, str] = {}
        self.first_visit_days = 14
        self.failed_for_lost = 3
        self.discharge_days = 10

    # -- set-up in the main process (database) --

    def prepare(self, tables: dict[str, Any]) -> None:
        """Read the medication catalogue and the tables' constant columns (before forking)."""
        from xinqiao.followups.models import (
            DischargeRecord,
            FollowUp,
            FollowUpMedication,
            FollowUpParticipant,
            MedicationCatalogue,
        )

        drugs = [(pk, name, kind, bool(la)) for pk, name, kind, la in MedicationCatalogue.objects.filter(active=True)
                 .order_by("id").values_list("id", "generic_name_zh", "drug_class", "long_acting")]
        suffix, names = {}, {}
        for key, model in (("followup", FollowUp), ("medication", FollowUpMedication),
                           ("participant", FollowUpParticipant), ("discharge", DischargeRecord)):
            table = tables[model._meta.db_table]
            suffix[key] = table.suffix
            names[key] = table.name
        self.configure(drugs=drugs, suffix=suffix, table_names=names)

    def configure(self, *, drugs: list[tuple[int, str, str, bool]], suffix: dict[str, str],
                  table_names: dict[str, str]) -> None:
        """Set what :meth:`prepare` reads from the database (tests call it directly)."""
        from xinqiao.patients.rules import time_limits

        self.drugs = drugs
        self.suffix = suffix
        self.table_names = table_names
        limits = time_limits()
        self.first_visit_days = limits["first_visit_days_after_notice"]
        self.failed_for_lost = limits["failed_attempts_for_lost"]
        self.discharge_days = limits["discharge_report_working_days"]

    def ids_per_patient(self) -> int:
        """Follow-up ids to reserve per patient: a bound no history can exceed (attempts are at least
        a week apart, visits at least 11 days; a history spans at most ``years`` plus two months)."""
        return MAX_PER_YEAR * (self.years + 1) + 8

    # -- per patient --

    def subject(self, rng: random.Random, *, patient_id: int, birth: date, diagnosis: str, icd10_code: str,
                source: str, doctor_id: int | None, town: Any) -> Subject:
        """Registration, diagnosis and the patient's course (drawn from ``rng``)."""
        today, window = self.today, self.window_start
        x = rng.random()
        if x < 0.02:  # newly registered: some still awaiting their first visit
            registered = today - timedelta(days=rng.randint(0, 30))
        elif x < 0.58:  # on the register before the window
            registered = window - timedelta(days=rng.randint(1, 3650))
        else:
            registered = window + timedelta(days=rng.randint(0, max(0, (today - window).days)))
        adult = date(birth.year + 16, birth.month, min(birth.day, 28))
        if registered < adult:
            registered = min(today, adult + timedelta(days=rng.randint(0, 400)))
        diagnosed = registered - timedelta(days=rng.randint(1, 20) if source == "case_report" else rng.randint(20, 900))
        if diagnosed < adult:
            diagnosed = adult
        course = bisect.bisect(_COURSE_CUM, rng.random() * _COURSE_CUM[-1])
        course = min(course, len(COURSES) - 1)
        risky = rng.random() < (0.04, 0.10, 0.35)[course]
        prior_incident = rng.random() < (0.25 if risky else 0.015)
        return Subject(
            patient_id=patient_id, registered_on=registered, diagnosed_on=diagnosed, birth=birth,
            diagnosis=diagnosis, icd10_code=icd10_code, source=source, doctor_id=doctor_id, clinic_id=town.clinic_id,
            hospital_id=town.hospital_id,
            region=(town.code, town.province, town.city, town.county, town.code),
            hospital_name=town.hospital_name, course=course, risky=risky,
            reach_fail=_pick(rng, [(w, p) for w, p in HARD_TO_REACH]),
            prior_incident=prior_incident,
            initial_danger=rng.choice((3, 4, 5)) if risky and rng.random() < 0.5 else rng.choice((0, 0, 0, 1, 2)),
        )

    def simulate(self, rng: random.Random, s: Subject, ids: IdBlock) -> History:
        """The history of one patient up to ``today`` (see the module docstring)."""
        today = self.today
        encrypt = crypto.encrypt
        fu_rows: list[str] = []
        med_rows: list[str] = []
        part_rows: list[str] = []
        dis_rows: list[str] = []
        events: list[StatusEvent] = []
        state = FinalState(danger_level=s.initial_danger, incident_history=False,
                           status_changed_on=s.registered_on)
        # Registration (services.register_patient): awaiting the first visit, due within 2 weeks.
        new = s.registered_on >= self.window_start
        state.awaiting_first_visit_since = s.registered_on
        state.next_followup_due = _first_visit_due(s.registered_on)
        start = s.registered_on if new else self.window_start
        if new:
            x = rng.random()
            t = s.registered_on + timedelta(days=rng.randint(1, 14) if x < 0.8 else rng.randint(15, 30) if x < 0.95
                                            else rng.randint(31, 60))
            latent = _state(rng, FIRST_NEW)
        else:
            t = self.window_start + timedelta(days=rng.randint(0, 90))
            latent = _state(rng, FIRST_KNOWN)
        head = f"{s.patient_id}\t{s.region[0]}\t{s.region[1]}\t{s.region[2]}\t{s.region[3]}\t{s.region[4]}"
        doctor = str(s.doctor_id) if s.doctor_id else NULL
        clinic = str(s.clinic_id)
        fu_suffix = self.suffix["followup"]
        med_suffix = self.suffix["medication"]
        part_suffix = self.suffix["participant"]
        transitions = COURSES[s.course][1]
        pictures = self.pictures
        # Terminal events drawn up-front (exponential waiting times from the start of the window).
        age = (start - s.birth).days / 365.25

        def waiting(per_year: float) -> date:
            return start + timedelta(days=min(36_500, int(rng.expovariate(per_year / 365.25))) + 1)

        death_on = waiting(_death_per_year(age) * (1.6 if s.course == 2 else 1.0))
        move_on = waiting(MOVE_OUT_PER_YEAR)
        lost_on = waiting(LOST_OTHER_PER_YEAR)
        dereg_on = waiting(DEREGISTER_PER_YEAR)
        end_on = min(death_on, move_on, lost_on, dereg_on)
        regimen = [f"\t{drug_id}\t{name}\t{times}\t{period}\t{dose}\t{unit}{med_suffix}"
                   for drug_id, name, times, period, dose, unit in self._regimen(rng, s.diagnosis)]
        visit_head = f"{head}\t"
        doctor_clinic = f"{doctor}\t{clinic}"
        visit_end = f"\t\t{NULL}\t{NULL}\t{NULL}\t{NULL}{fu_suffix}"
        previous: int | None = None
        last_discharge: date | None = None
        hospital_status = 2 if rng.random() < 0.35 else 0
        if hospital_status == 2:
            last_discharge = s.diagnosed_on + timedelta(days=rng.randint(10, 60))
            if last_discharge >= start:
                last_discharge = None
                hospital_status = 0
        failed = 0
        status = "managed"

        while True:
            if end_on <= t and end_on <= today:
                # The first terminal event before the next attempt ends the history.
                self._terminal(rng, s, state, events, end_on, death_on, move_on, lost_on, dereg_on, fu_rows, ids,
                               head, doctor, clinic, fu_suffix, status)
                break
            if t > today:
                break
            if rng.random() < s.reach_fail:
                # 未访到: the due date stands; another attempt in a few days.
                failed += 1
                fid = ids.take()
                lost = failed >= self.failed_for_lost
                reason = encrypt(rng.choice(NOT_REACHED), "followups.followup.not_reached_reason")
                fu_rows.append(f"{fid}\t{head}\t{t.isoformat()}\tnot_reached\t{rng.choice((2, 3, 3))}\t{doctor}\t"
                               f"{clinic}\t{_EMPTY_CLINICAL}\t{_EMPTY_VISIT}\t{reason}\t"
                               f"{'4' if lost else NULL}\t{NULL}\t{NULL}\t{NULL}{fu_suffix}")
                state.failed_attempts = failed
                if lost:
                    events.append(StatusEvent(on=t, from_status=status, to_status="lost", loss_reason=4,
                                              note="随访记录：失访"))
                    state.status, state.status_changed_on = "lost", t
                    break
                t += timedelta(days=rng.randint(7, 28))
                continue
            # A visit.
            latent = _state(rng, transitions[latent]) if previous is not None or not new else latent
            picture = pictures[latent][1 if s.risky else 0][int(rng.random() * self.PICTURES_PER_GROUP)]
            cls = picture.classification
            nxt = _next_date(cls, t, previous)
            acts_text, police = _actions_text(cls, picture.danger, previous)
            fid = ids.take()
            day = t.isoformat()
            due = nxt.isoformat()
            counts = "0\t0\t0\t0\t0\t0"
            if picture.danger >= 3:
                trouble = 1 if rng.random() < 0.06 else 0
                disaster = 1 if rng.random() < 0.01 else 0
                self_harm = 1 if picture.danger == 4 and rng.random() < 0.2 else 0
                counts = f"{rng.choice((0, 1, 1, 2))}\t{trouble}\t{disaster}\t{rng.choice((0, 0, 1))}\t{self_harm}\t0"
                if trouble or disaster:
                    state.incident_history = True
            elif picture.danger >= 1 and rng.random() < 0.3:
                counts = "1\t0\t0\t0\t0\t0"
            if cls == UNSTABLE:
                referral = "2"
                referral_reason = encrypt(rng.choice(REFERRAL_REASONS), "followups.followup.referral_reason")
                institution = s.hospital_name
            else:
                referral, referral_reason, institution = "1", "", ""
            if cls == UNSTABLE or picture.danger >= 3:
                method = 2
            else:
                x = rng.random()
                method = 1 if x < 0.45 else 2 if x < 0.8 else 3
            fu_rows.append(
                f"{fid}\t{visit_head}{day}\tvisited\t{method}\t{doctor_clinic}\t{picture.text}\t{counts}\t"
                f"{hospital_status}\t{last_discharge.isoformat() if last_discharge else NULL}\t{referral}\t"
                f"{referral_reason}\t{institution}\t{previous if previous is not None else NULL}\t{due}\t"
                f"{due}\t{acts_text}\t{acts_text}\t{police}{visit_end}")
            if picture.adherence in (1, 2):
                for tail in regimen:
                    med_rows.append(f"{fid}{tail}")
            if picture.danger >= 3 and method == 2:
                for role in ("police", "family") if rng.random() < 0.6 else ("police", "village_cadre", "family"):
                    who = rng.choice(PARTICIPANT_NAMES) + ("警官" if role == "police" else "某")
                    part_rows.append(f"{fid}\t{role}\t{encrypt(who, 'followups.followupparticipant.name')}"
                                     f"{part_suffix}")
            previous = cls
            failed = 0
            state.failed_attempts = 0
            state.last_followup_date = t
            state.last_classification = cls
            state.next_followup_due = nxt
            state.danger_level = picture.danger
            state.awaiting_first_visit_since = None
            # An unstable visit sometimes ends in hospital.
            if cls == UNSTABLE and rng.random() < ADMISSION_AFTER_UNSTABLE:
                admitted = t + timedelta(days=rng.randint(1, 7))
                if admitted >= end_on or admitted > today:
                    t = nxt + timedelta(days=self._late(rng))
                    continue
                events.append(StatusEvent(on=admitted, from_status="managed", to_status="in_hospital"))
                state.status, state.status_changed_on = "in_hospital", admitted
                status = "in_hospital"
                discharged = admitted + timedelta(days=rng.randint(20, 120))
                reported = self._reported(rng, discharged)
                if admitted <= lost_on <= reported:
                    # 失访 is not a status an in-hospital patient can take (status_transitions.json).
                    lost_on = date.max
                    end_on = min(death_on, move_on, dereg_on)
                if reported > today or discharged >= end_on:
                    if end_on > today:
                        break  # still in hospital today (or the discharge is not entered yet)
                    t = end_on  # the terminal event happens in hospital
                    continue
                # followups.services.record_discharge: back to managed on the discharge date, awaiting
                # a first visit since the day it was entered, due within the first-visit limit.
                self._discharge(rng, s, admitted, discharged, reported, dis_rows)
                events.append(StatusEvent(on=discharged, from_status="in_hospital", to_status="managed", note="出院"))
                status = "managed"
                state.status, state.status_changed_on = "managed", discharged
                state.awaiting_first_visit_since = reported
                first_due = reported + timedelta(days=self.first_visit_days)
                if state.next_followup_due is None or state.next_followup_due > first_due:
                    state.next_followup_due = first_due
                hospital_status, last_discharge = 2, discharged
                t = reported + timedelta(days=rng.randint(1, 12))
                continue
            t = nxt + timedelta(days=self._late(rng))
        lines = {self.table_names["followup"]: fu_rows}
        if med_rows:
            lines[self.table_names["medication"]] = med_rows
        if part_rows:
            lines[self.table_names["participant"]] = part_rows
        if dis_rows:
            lines[self.table_names["discharge"]] = dis_rows
        return History(lines=lines, followups=len(fu_rows), state=state, events=events)

    # -- pieces --

    @staticmethod
    def _late(rng: random.Random) -> int:
        """Days after the due date of the next attempt (``LATENESS``; hot path: no ``randint``)."""
        x = rng.random()
        acc = 0.0
        band = LATENESS[-1]
        for candidate in LATENESS:
            acc += candidate[0]
            if x < acc:
                band = candidate
                break
        _weight, low, high = band
        return low + int(rng.random() * (high - low + 1))

    def _regimen(self, rng: random.Random, diagnosis: str) -> list[tuple[int, str, int, str, str, str]]:
        """The drugs a patient takes (the same at each visit): one or two lines."""
        if not self.drugs:
            return []
        antipsychotics = [d for d in self.drugs if d[2] == "antipsychotic"]
        stabilisers = [d for d in self.drugs if d[2] == "mood_stabiliser"] or antipsychotics
        out = []
        if diagnosis == "F31":
            first = rng.choice(stabilisers)
        else:
            pool = antipsychotics or self.drugs
            first = rng.choice(pool)
        chosen = [first]
        if rng.random() < 0.3:
            second = rng.choice(antipsychotics if diagnosis == "F31" else stabilisers + antipsychotics)
            if second[0] != first[0]:
                chosen.append(second)
        for drug_id, name, _kind, long_acting in chosen:
            if long_acting:
                out.append((drug_id, name, 1, "month", rng.choice(("75.00", "100.00", "150.00", "400.00")), "mg"))
            else:
                out.append((drug_id, name, rng.choice((1, 2, 2, 3)), "day",
                            rng.choice(("2.00", "5.00", "10.00", "25.00", "100.00", "200.00")), "mg"))
        return out

    def _reported(self, rng: random.Random, discharged: date) -> date:
        """When the hospital enters the discharge (within 10 working days; a few late)."""
        from xinqiao.patients.workdays import add_working_days

        if rng.random() < 0.08:
            return _working_deadline(discharged, self.discharge_days).date + timedelta(days=rng.randint(1, 20))
        return add_working_days(discharged, rng.randint(1, self.discharge_days)).date

    def _discharge(self, rng: random.Random, s: Subject, admitted: date, discharged: date, reported: date,
                   rows: list[str]) -> None:
        """The 出院单 of an admission, entered on ``reported``."""
        deadline = _working_deadline(discharged, self.discharge_days)
        if s.hospital_id is None:
            return
        rows.append("\t".join((
            str(s.patient_id), *s.region, str(s.hospital_id), admitted.isoformat(), discharged.isoformat(),
            s.diagnosis, s.icd10_code, str(rng.choice((1, 2, 2, 2, 3))), _json(sorted(rng.sample((1, 2, 3, 4), 2))),
            reported.isoformat(), deadline.date.isoformat(), "1" if reported > deadline.date else "0",
            "0" if deadline.certain else "1",
        )) + self.suffix["discharge"])

    def _terminal(self, rng: random.Random, s: Subject, state: FinalState, events: list[StatusEvent], on: date,
                  death_on: date, move_on: date, lost_on: date, dereg_on: date, fu_rows: list[str], ids: IdBlock,
                  head: str, doctor: str, clinic: str, fu_suffix: str, status: str) -> None:
        """Death, move, loss or deregistration on ``on`` (whichever came first)."""
        if on == death_on:
            cause = _pick(rng, DEATH_CAUSES)
            physical = rng.choice(PHYSICAL_CAUSES) if cause == 1 else None
            learned = min(self.today, on + timedelta(days=rng.randint(0, 20)))
            fid = ids.take()
            fu_rows.append(f"{fid}\t{head}\t{learned.isoformat()}\tdead\t{rng.choice((2, 3))}\t{doctor}\t{clinic}\t"
                           f"{_EMPTY_CLINICAL}\t{_EMPTY_VISIT}\t\t{NULL}\t{on.isoformat()}\t{cause}\t"
                           f"{physical if physical else NULL}{fu_suffix}")
            # followups.services: the follow-up that finds the death changes the status on its date.
            events.append(StatusEvent(on=learned, from_status=status, to_status="dead", death_date=on,
                                      death_cause=cause, physical_death_cause=physical, note="随访记录：死亡"))
            state.status, state.status_changed_on = "dead", learned
            state.next_followup_due = None
        elif on == move_on:
            events.append(StatusEvent(on=on, from_status=status, to_status="moved_out",
                                      destination=f"迁居{rng.choice(DESTINATIONS)}"))
            state.status, state.status_changed_on = "moved_out", on
            state.next_followup_due = None
            state.awaiting_first_visit_since = None
        elif on == lost_on:
            # 失访 for another reason: the attempt that found it out records the 失访原因.
            reason = _pick(rng, LOSS_REASONS)
            fid = ids.take()
            why = crypto.encrypt(rng.choice(NOT_REACHED[2:]), "followups.followup.not_reached_reason")
            fu_rows.append(f"{fid}\t{head}\t{on.isoformat()}\tnot_reached\t{rng.choice((2, 3))}\t{doctor}\t{clinic}\t"
                           f"{_EMPTY_CLINICAL}\t{_EMPTY_VISIT}\t{why}\t{reason}\t{NULL}\t{NULL}\t{NULL}{fu_suffix}")
            events.append(StatusEvent(on=on, from_status=status, to_status="lost", loss_reason=reason,
                                      note="随访记录：失访"))
            state.status, state.status_changed_on = "lost", on
            state.failed_attempts += 1
        else:
            events.append(StatusEvent(on=on, from_status=status, to_status="deregistered",
                                      note=rng.choice(("复核诊断不属于六类严重精神障碍", "重复建档，注销"))))
            state.status, state.status_changed_on = "deregistered", on
            state.next_followup_due = None
            state.awaiting_first_visit_since = None


@lru_cache(maxsize=8192)
def _working_deadline(start: date, days: int) -> Any:
    from xinqiao.patients.workdays import add_working_days

    return add_working_days(start, days)


# --- Tables and clean-up ------------------------------------------------------------------------

def tables(now_text: str) -> list[Any]:
    """The follow-up tables synth feeds, in insertion order (after persons and patients)."""
    from xinqiao.followups.models import DischargeRecord, FollowUp, FollowUpMedication, FollowUpParticipant
    from xinqiao.patients.synth import Table

    return [Table(FollowUp, FOLLOWUP_COLUMNS, now_text), Table(FollowUpMedication, MEDICATION_COLUMNS, now_text),
            Table(FollowUpParticipant, PARTICIPANT_COLUMNS, now_text),
            Table(DischargeRecord, DISCHARGE_COLUMNS, now_text)]


def delete_for_patients(patient_ids: Any) -> None:
    """Delete the follow-up rows of these patients (a queryset of ids), children first, in SQL."""
    from xinqiao.followups.models import (
        DischargeMedication,
        DischargeRecord,
        FollowUp,
        FollowUpMedication,
        FollowUpParticipant,
        HealthCheck,
    )

    for model, path in ((FollowUpMedication, "followup__patient_id__in"),
                        (FollowUpParticipant, "followup__patient_id__in"),
                        (DischargeMedication, "discharge__patient_id__in"),
                        (FollowUp, "patient_id__in"), (DischargeRecord, "patient_id__in"),
                        (HealthCheck, "patient_id__in")):
        qs = model._default_manager.filter(**{path: patient_ids})
        qs._raw_delete(qs.db)


def followup_input(row: dict[str, Any]) -> Any:
    """The rules-engine input of a stored visit (for checking a history against the engine)."""
    return rules.RuleInput(
        followup_date=row["followup_date"], danger_level=row["danger_level"], insight=row["insight"],
        symptoms=tuple(sorted(row["symptoms"])), symptoms_marked=row["symptoms_marked"],
        social_function=MappingProxyType({k: row[k] for k in rules.SOCIAL_FUNCTION_ITEMS}),
        adverse_reaction_serious=row["adverse_reaction_serious"],
        physical_illness_serious=row["physical_illness_serious"],
        previous_classification=row["previous_classification"],
    )


__all__ = ["FinalState", "History", "HistoryBuilder", "IdBlock", "StatusEvent", "Subject", "delete_for_patients",
           "followup_input", "tables"]
