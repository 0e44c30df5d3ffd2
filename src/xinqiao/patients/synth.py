"""Synthetic registered patients with follow-up histories, at any size, deterministic for a seed.

``xinqiao synth --patients N`` (the command), the demo (``patients/demo.py``) and the benchmarks
(``bench/lookup.py``, ``bench/worklist.py``, the indicator benchmark) all build their populations
here, so that what a benchmark measures is what the demo shows.

What one synthetic patient is:

- a ``core.Person`` with a fictitious name, a valid GB 11643-1999 ID number (address code of the
  home county, a birth date, a sequence number whose last digit has the sex's parity, the check
  character), phone and address; identity and contact text encrypted with the configured field
  keys (AES-GCM, AAD = the column) and the ID number blind-indexed (``Person.id_index_for``), so
  the real look-up and de-duplication services find them. ID numbers never repeat within a
  population (a permutation of the number space per county, offset by the seed);
- a ``patients.Patient`` in a township of the chosen region, managed by a clinic of that township
  and a community doctor there, with a register number of the live scheme (county + year +
  sequence, ``RegisterSequence`` advanced so later registrations continue after it); one of the six
  disorders in realistic proportions (about 70% schizophrenia) with a matching ICD-10 code (and the
  co-occurring code F06 and F7x need), registered through a hospital case report (with its
  ``CaseReport``: deadline on the official calendar, some late), community discovery, import or
  transfer; a 个人信息补充表 (``PersonalSupplement``) for most; the status history
  (``StatusChange``: registration, admissions, discharges, loss, move, death);
- for a community-discovered patient, the ``SuspectedCase`` that registered them (found, referred,
  confirmed on the diagnosis date, with its ``SuspectedCaseEvent`` history) and the case report
  the confirmation opens (entered by the hospital since, or still a draft); now and then a
  suspected case that is not a patient (closed as not a case, or still reported or referred), with
  its own ``core.Person``; sometimes a ``Transfer`` to or from another township of the plan
  (accepted: the patient is the receiving township's since, with the history row
  ``accept_transfer`` writes; declined; pending). Rates and their basis: the constants below and
  ``docs/operations/synth.md``;
- a follow-up history over ``--years`` built by ``followups/synth.py`` with the national rules
  engine (``followups/rules.py``): each visit's classification and next date are what the engine
  gives for that visit's inputs. The patient's denormalised work-list columns (status, danger
  level, 肇事肇祸 history, last follow-up, last classification, next due date, failed attempts,
  awaiting a first visit, status date) are set to what that history implies, as the services
  would have left them.

Determinism: patients are generated in fixed chunks of ``CHUNK`` with one RNG per chunk seeded
from ``(seed, chunk)``, and the plan (townships, weights, doctors) from ``seed``, so the same seed,
size, region and ``today`` give the same population whatever the batch size or the number of
worker processes (ids and register numbers also depend on what the database already holds).
Ciphertexts differ between runs (fresh nonces); plain text does not.

Speed: on PostgreSQL the rows are streamed with ``COPY … FROM STDIN`` (psycopg 3) with ids
precomputed from a reserved block of each table's sequence (follow-up ids in blocks per chunk,
so there are gaps), one transaction per batch; the generation (encryption, histories) runs in a
pool of worker processes while the main process feeds the database. Optionally the secondary
indexes are dropped for the load and rebuilt after. On SQLite the same rows go in with
``executemany``. Measured figures: ``docs/operations/synth.md``.

Every synthetic patient carries ``submission_key = <key prefix><index>`` (default prefix
``synth:<seed>:``), which is how :func:`population_size` recognises a population and
:func:`clear_population` removes one.
"""

from __future__ import annotations

import bisect
import json
import math
import multiprocessing
import os
import random
import sys
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, connections, transaction
from django.db.models import Model, Q
from django.utils import timezone

from xinqiao.core import audit, crypto, idcard
from xinqiao.core.models import (
    AuditAction,
    Organisation,
    OrgType,
    Person,
    Region,
    RegionKind,
    RegionLevel,
    User,
)
from xinqiao.core.regions_data import ancestors, level_of
from xinqiao.patients import rules
from xinqiao.patients.codes import (
    Diagnosis,
    PatientStatus,
    RegistrationSource,
    SuspectedSource,
    SuspectedStatus,
    TransferStatus,
)
from xinqiao.patients.models import (
    CaseReport,
    Patient,
    PersonalSupplement,
    RegisterSequence,
    StatusChange,
    SuspectedCase,
    SuspectedCaseEvent,
    Transfer,
)

#: Patients per generation chunk. Fixed: the RNG is per chunk, so changing it changes the data.
CHUNK = 500

#: The demo province (广东省), the default region of ``xinqiao synth``.
DEFAULT_REGION = "44"

#: From this size on, ``indexes="auto"`` drops and rebuilds indexes and foreign keys (measured:
#: docs/operations/synth.md — maintaining 16 indexes and 4 foreign-key triggers per follow-up row
#: made COPY 8× slower than loading bare and rebuilding).
FAST_LOAD_FROM = 100_000

#: From this size on the fed tables are analysed after the load (fresh statistics for the planner;
#: autovacuum would get there, later). Below it the statistics barely move.
ANALYZE_FROM = 20_000

#: NULL in a COPY text row; the insert writer turns it back into ``None``.
NULL = "\\N"
#: Stands for the register number in a generated patient row until the main process numbers it.
REGISTER_MARK = "\x01"

# --- Vocabulary of the fictitious people -------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
            "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍建红梅文辉志海燕鹏飞宇浩凯俊帆晨欣怡佳"
         "婷雪琳丹颖慧嘉琪豪涵雨轩思远国庆春花秋菊德胜永福")
STREETS = ("中山路", "人民路", "解放路", "建设路", "新华路", "和平路", "胜利路", "文化路", "朝阳路", "幸福路",
           "东风路", "青年路", "光明路", "健康路", "兴业路", "府前路", "环城路", "滨江路", "工业大道", "育才路")
RELATIONS = ("父亲", "母亲", "配偶", "配偶", "子女", "兄弟姐妹", "其他亲属")

#: Diagnosis mix of a register (national reports: schizophrenia about 70% of the six disorders).
DIAGNOSIS_WEIGHTS: tuple[tuple[str, float], ...] = (
    (Diagnosis.SCHIZOPHRENIA, 0.70), (Diagnosis.BIPOLAR, 0.10), (Diagnosis.RETARDATION, 0.07),
    (Diagnosis.EPILEPSY, 0.05), (Diagnosis.DELUSIONAL, 0.04), (Diagnosis.SCHIZOAFFECTIVE, 0.04),
)
#: ICD-10 codes per diagnosis (F7x.1 = with significant behavioural impairment).
ICD10_CODES: dict[str, tuple[str, ...]] = {
    Diagnosis.SCHIZOPHRENIA: ("F20.0", "F20.0", "F20.0", "F20.1", "F20.2", "F20.3", "F20.5", "F20.6", "F20.9"),
    Diagnosis.BIPOLAR: ("F31.1", "F31.2", "F31.3", "F31.4", "F31.6", "F31.7", "F31.9"),
    Diagnosis.RETARDATION: ("F70.1", "F71.1", "F72.1", "F79.1"),
    Diagnosis.EPILEPSY: ("F06.2", "F06.3", "F06.8"),
    Diagnosis.DELUSIONAL: ("F22.0", "F22.8", "F22.9"),
    Diagnosis.SCHIZOAFFECTIVE: ("F25.0", "F25.1", "F25.2", "F25.9"),
}
#: The co-occurring code F06 (epilepsy, G40) and F7x (the mental disorder) need (patients.rules).
CO_CODES: dict[str, tuple[str, ...]] = {
    Diagnosis.EPILEPSY: ("G40.9", "G40.2", "G40.3"),
    Diagnosis.RETARDATION: ("F20.0", "F06.3", "F31.2", "F25.0"),
}
SOURCE_WEIGHTS: tuple[tuple[str, float], ...] = (
    (RegistrationSource.CASE_REPORT, 0.55), (RegistrationSource.COMMUNITY, 0.27),
    (RegistrationSource.IMPORT, 0.13), (RegistrationSource.TRANSFER_IN, 0.05),
)

# --- Ways onto the register besides the patient's own: suspected cases and transfers -------------
#
# Assumptions (no national series gives these rates; docs/operations/synth.md explains the choice):

#: Share of the suspected cases a psychiatric institution decides on that are confirmed as one of
#: the six disorders (the rest: depression, anxiety, dementia, substance use, no disorder).
SUSPECTED_CONFIRMED = 0.5
#: Share of the patients ``followups.synth.HistoryBuilder.subject`` registers inside the history
#: window (2 % in the last month, 42 % over the window): community-discovered patients registered in
#: the window, divided by ``SUSPECTED_CONFIRMED``, give the suspected cases found in the window.
REGISTERED_IN_WINDOW = 0.44
#: Suspected cases found by a village (residents') committee, the rest by a community doctor.
SUSPECTED_BY_COMMITTEE = 0.6
#: Not-a-case suspected cases closed without a referral (the doctor's assessment, or the family refused).
SUSPECTED_CLOSED_UNREFERRED = 0.15
#: Suspected persons whose ID number was not known when they were reported.
SUSPECTED_WITHOUT_ID = 0.2
#: Requests to hand a patient over to another township of the deployment, per on-register
#: patient-year (迁居 inside the deployment; moves out of it are ``followups.synth.MOVE_OUT_PER_YEAR``).
TRANSFER_PER_YEAR = 0.012
#: Hand-overs to a township of the same county (a household moving within the city or district).
TRANSFER_SAME_COUNTY = 0.7
#: Answered hand-overs that the receiving region declines (the patient was not found there).
TRANSFER_DECLINED = 0.1
#: The receiving region answers within 1 to this many days (pending until then).
TRANSFER_ANSWER_DAYS = 14

SYMPTOM_WEIGHTS: tuple[tuple[int, float], ...] = (
    (1, 0.20), (10, 0.16), (3, 0.14), (5, 0.12), (11, 0.10), (6, 0.08), (7, 0.07), (4, 0.05), (2, 0.03),
    (9, 0.02), (8, 0.02), (12, 0.01),
)
SUSPECTED_NOTICED = ("家属反映近一个月自言自语、夜间不眠", "邻居反映其经常无故叫骂、摔砸物品", "独居，闭门不出，拒绝与人交流",
                     "称有人跟踪、要害自己，多次报警", "无故离家外出，被家属找回", "情绪高涨、话多，整夜不睡",
                     "网格员走访发现其言语紊乱", "家属称其拒绝进食，怀疑饭菜被下毒")
NOT_A_CASE = ("精神专科医院诊断：抑郁障碍，不属于六类严重精神障碍", "精神专科医院诊断：焦虑障碍，不属于六类严重精神障碍",
              "精神专科医院诊断：阿尔茨海默病，不属于六类严重精神障碍", "精神专科医院诊断：酒精所致精神障碍，不属于六类严重精神障碍",
              "精神专科医院诊断：未见明显精神异常")
NOT_REFERRED = ("经精防医生评估，未见精神病性症状", "家属拒绝送诊，经多次动员无效，无法明确诊断",
                "本人已外出务工，无法联系")
TRANSFER_REASONS = ("随家属迁居", "购房搬迁", "投靠子女", "租住地变更", "回户籍地居住")
DECLINE_REASONS = ("经核实，患者未在本辖区居住", "新住址查无此人，请核实后重新转出", "患者仍在原住址居住")

#: Birth dates span 60 years from this day; the ID-number space per county is days × 500.
BIRTH_FROM = date(1944, 1, 1)
BIRTH_DAYS = 21_900
_ID_SPACE = BIRTH_DAYS * 500
#: A prime that does not divide ``_ID_SPACE``: ``index → index × stride mod space`` is a permutation.
_ID_STRIDE = 7_368_787


def cumulative_weights(weights: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    """The values and their running weight totals, for ``bisect`` over ``random() × total``."""
    values, cum, total = [], [], 0.0
    for value, weight in weights:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


_DIAG_VALUES, _DIAG_CUM = cumulative_weights(DIAGNOSIS_WEIGHTS)
_SOURCE_VALUES, _SOURCE_CUM = cumulative_weights(SOURCE_WEIGHTS)
_SYMPTOM_VALUES, _SYMPTOM_CUM = cumulative_weights(SYMPTOM_WEIGHTS)
#: Chance that a patient index also brings a suspected case that is not (or not yet) a patient.
SUSPECTED_OTHER_PER_PATIENT = min(1.0, dict(SOURCE_WEIGHTS)[RegistrationSource.COMMUNITY] / _SOURCE_CUM[-1]
                                  * REGISTERED_IN_WINDOW / SUSPECTED_CONFIRMED)


# --- Options and plan --------------------------------------------------------------------------

@dataclass(frozen=True)
class SynthOptions:
    """What to build. ``today`` closes the histories (no visit after it)."""

    patients: int
    seed: int = 1
    years: int = 3
    region: str = DEFAULT_REGION
    today: date | None = None
    batch: int = 5000
    workers: int = 0  # 0: one per CPU (at most 4) on PostgreSQL, none on SQLite; 1: none
    key_prefix: str = ""
    #: PostgreSQL: drop the fed tables' secondary indexes and foreign keys for the load, then rebuild
    #: and re-validate them ("auto": when ``patients`` ≥ ``FAST_LOAD_FROM``).
    indexes: str = "auto"
    #: The demo: only these townships, with these clinics, doctors and hospital.
    townships: tuple[str, ...] = ()
    clinics: dict[str, int] = field(default_factory=dict)
    doctors: dict[str, tuple[int, ...]] = field(default_factory=dict)
    hospital: int | None = None
    #: Index of the first patient (a population can be grown in steps with the same prefix).
    start: int = 0
    #: Anonymous screening responses to add over the same townships (``screening/synth.py``);
    #: 0: none. They draw from their own RNG: the patients and follow-ups are the same either way.
    screenings: int = 0
    #: Hand-over requests to another township of the plan per on-register patient-year (the demo
    #: raises it to show a handful); 0: none.
    transfers_per_year: float = TRANSFER_PER_YEAR
    #: Share of the suspected persons who are not patients reported without an ID number.
    suspected_without_id: float = SUSPECTED_WITHOUT_ID

    @property
    def prefix(self) -> str:
        """Prefix of the patients' ``submission_key`` (identifies the population)."""
        return self.key_prefix or f"synth:{self.seed}:"


@dataclass(frozen=True)
class Town:
    """One township of the plan with who manages its patients."""

    code: str
    name: str
    county: str
    city: str
    province: str
    place: str  # e.g. 广东省广州市天河区五山街道 (for addresses)
    clinic_id: int
    doctor_ids: tuple[int, ...]
    hospital_id: int | None
    hospital_name: str


@dataclass
class Plan:
    """Everything a worker needs to generate any chunk (picklable, no database access)."""

    options: SynthOptions
    today: date
    towns: list[Town]
    town_cum: list[float]
    person_base: int
    patient_base: int
    followup_base: int
    followup_block: int
    history: Any  # followups.synth.HistoryBuilder
    suffix: dict[str, str] = field(default_factory=dict)
    table_names: dict[str, str] = field(default_factory=dict)
    #: Ids of the persons of suspected cases who are not patients (one per patient index at most),
    #: of suspected cases (two per patient index) and of transfers (one per patient index).
    other_person_base: int = 0
    suspected_base: int = 0
    transfer_base: int = 0


# --- Tables: the columns a generator provides, the rest from the model's defaults ---------------

class Table:
    """One table fed by the generator: provided columns first, then constant columns from defaults.

    The generator yields rows of text for ``provided`` (``NULL`` for null); every other concrete
    column of the model gets its default, computed once (``suffix``). A NOT NULL column without a
    default that the generator does not provide is an error raised when the plan is made, so a
    model change that synth does not know about fails loudly instead of writing wrong data.
    """

    def __init__(self, model: type[Model], provided: Sequence[str], now_text: str) -> None:
        self.model = model
        self.name = model._meta.db_table
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in provided if c not in by_attname]
        if unknown:
            raise RuntimeError(f"synth: {self.name} has no column(s) {unknown}")
        self.provided = list(provided)
        const_cols: list[str] = []
        const_vals: list[str] = []
        for attname, f in by_attname.items():
            if attname in provided:
                continue
            value = _default_text(f, now_text)
            if value is None:
                continue  # nullable: left NULL
            const_cols.append(f.column)
            const_vals.append(value)
        self.columns = [by_attname[c].column for c in self.provided] + const_cols
        self.suffix = ("\t" + "\t".join(const_vals)) if const_vals else ""

    def copy_sql(self) -> str:
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        return f"COPY {connection.ops.quote_name(self.name)} ({cols}) FROM STDIN"

    def insert_sql(self) -> str:
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        return f"INSERT INTO {connection.ops.quote_name(self.name)} ({cols}) VALUES ({marks})"  # noqa: S608


def _default_text(f: Any, now_text: str) -> str | None:
    """The COPY text of a field's default, ``None`` to leave it NULL; raises when there is none."""
    from django.db.models import NOT_PROVIDED

    if f.primary_key and f.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField"):
        return None  # the database numbers it
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return now_text
    if f.default is not NOT_PROVIDED:
        return to_text(f, f.get_default())
    if f.null:
        return None
    if f.get_internal_type() in ("CharField", "TextField") and f.blank:
        return ""
    raise RuntimeError(
        f"synth: {f.model._meta.db_table}.{f.column} is NOT NULL without a default; "
        f"teach patients/synth.py or followups/synth.py how to fill it"
    )


def to_text(f: Any, value: Any) -> str:
    """A Python value as text that both COPY and SQLite accept for this field."""
    if value is None:
        return NULL
    kind = f.get_internal_type()
    if kind == "BooleanField":
        return "1" if value else "0"
    if kind == "JSONField":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


PERSON_COLUMNS = (
    "id", "region_id", "province_code", "city_code", "county_code", "township_code", "name", "id_type",
    "id_number", "id_number_index", "sex", "birth_date", "phone", "address",
)
PATIENT_COLUMNS = (
    "id", "person_id", "region_id", "province_code", "city_code", "county_code", "township_code",
    "register_number", "status", "source", "registered_on", "diagnosis", "icd10_code", "co_icd10_code",
    "diagnosed_on", "diagnosing_hospital_id", "managing_organisation_id", "responsible_doctor_id", "danger_level",
    "incident_history", "last_followup_date", "last_classification", "next_followup_due", "failed_attempts",
    "awaiting_first_visit_since", "status_changed_on", "submission_key",
)
STATUS_COLUMNS = (
    "patient_id", "region_id", "province_code", "city_code", "county_code", "township_code", "from_status",
    "to_status", "changed_on", "loss_reason", "death_date", "death_cause", "physical_death_cause", "destination",
    "note", "transfer_id",
)
TRANSFER_COLUMNS = (
    "id", "patient_id", "region_id", "province_code", "city_code", "county_code", "township_code", "from_region_id",
    "from_province_code", "from_city_code", "from_county_code", "from_township_code", "from_organisation_id",
    "to_organisation_id", "status", "moved_on", "reason", "new_address", "requested_by_id", "requested_at",
    "decided_by_id", "decided_at", "decline_reason", "submission_key",
)
SUSPECTED_COLUMNS = (
    "id", "person_id", "region_id", "province_code", "city_code", "county_code", "township_code", "found_by",
    "reporter_name", "discovered_on", "symptoms", "description", "status", "referred_to_id", "referred_on",
    "decided_on", "closing_reason", "patient_id", "reported_by_id", "submission_key", "created_at",
)
SUSPECTED_EVENT_COLUMNS = ("case_id", "from_status", "to_status", "on", "note", "by_id", "at")
CASE_REPORT_COLUMNS = (
    "person_id", "patient_id", "region_id", "province_code", "city_code", "county_code", "township_code",
    "report_type", "diagnosis", "icd10_code", "co_icd10_code", "diagnosing_hospital_id", "diagnosed_on",
    "onset_date", "prior_danger", "brought_by", "reporting_unit_id", "entry", "received_on", "entered_on",
    "report_deadline", "entry_deadline", "late", "deadline_uncertain", "status",
)
SUPPLEMENT_COLUMNS = (
    "patient_id", "region_id", "province_code", "city_code", "county_code", "township_code", "guardian_name",
    "guardian_relation", "guardian_phone", "household", "employment", "consent", "consent_signed_by",
    "consent_date", "onset_date", "past_symptoms", "past_lock", "outpatient_history", "admissions",
    "latest_treatment_effect", "trouble_count", "disaster_count", "economic_status", "poverty_alleviation",
    "guardianship_subsidy", "disability_card", "disability_grade", "care_group_service", "family_doctor_contract",
    "community_rehab", "filled_on", "filled_by_id",
)


def patient_tables(now_text: str) -> list[Table]:
    """The tables of this app synth feeds, in insertion order (persons first, a row after what it points at)."""
    return [Table(Person, PERSON_COLUMNS, now_text), Table(Patient, PATIENT_COLUMNS, now_text),
            Table(Transfer, TRANSFER_COLUMNS, now_text), Table(StatusChange, STATUS_COLUMNS, now_text),
            Table(CaseReport, CASE_REPORT_COLUMNS, now_text), Table(PersonalSupplement, SUPPLEMENT_COLUMNS, now_text),
            Table(SuspectedCase, SUSPECTED_COLUMNS, now_text), Table(SuspectedCaseEvent, SUSPECTED_EVENT_COLUMNS, now_text)]


# --- Planning (database reads, and the clinics, hospitals and doctors the region lacks) ---------

def _log(message: str) -> None:
    print(f"[synth] {message}", file=sys.stderr, flush=True)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def region_townships(region: str) -> list[Region]:
    """Townships (乡镇/街道) inside ``region`` (a code of any level), by code."""
    level_of(region)
    return list(Region.objects.filter(level=RegionLevel.TOWNSHIP, code__startswith=region,
                                      kind=RegionKind.TOWNSHIP).order_by("code"))


def _place_names(towns: Sequence[Region]) -> dict[str, str]:
    """Full place name of each township, skipping placeholder levels (one query)."""
    codes = {c for t in towns for c in ancestors(t.code).values() if c}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    out = {}
    for t in towns:
        parts = [regions[c] for c in (t.province_code, t.city_code, t.county_code) if c in regions]
        names: list[str] = []
        for r in parts:
            if r.kind != RegionKind.PLACEHOLDER and r.name not in names:
                names.append(r.name)
        out[t.code] = "".join(names) + t.name
    return out


def _clinic_name(town: Region) -> tuple[str, str]:
    if "街道" in town.name:
        return f"{town.name}社区卫生服务中心", OrgType.COMMUNITY_HEALTH_CENTRE
    return f"{town.name}卫生院", OrgType.TOWNSHIP_HEALTH_CENTRE


_HEALTH_TYPES = (OrgType.COMMUNITY_HEALTH_CENTRE, OrgType.TOWNSHIP_HEALTH_CENTRE)


def _clinics_of(codes: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(codes, 5000):
        for region_id, pk in (Organisation.objects.filter(region_id__in=chunk, org_type__in=_HEALTH_TYPES)
                              .order_by("region_id", "id").values_list("region_id", "id")):
            found.setdefault(region_id, pk)
    return found


def ensure_clinics(towns: Sequence[Region]) -> dict[str, int]:
    """One primary-care clinic per township: the existing one, else one created (bulk)."""
    codes = [t.code for t in towns]
    found = _clinics_of(codes)
    missing = [t for t in towns if t.code not in found]
    if missing:
        new = []
        for t in missing:
            name, kind = _clinic_name(t)
            new.append(Organisation(name=name, org_type=kind, region_id=t.code, **ancestors(t.code)))
        Organisation.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        found = _clinics_of(codes)
        _log(f"created {len(missing)} township clinics")
    return found


def ensure_hospitals(towns: Sequence[Region]) -> dict[str, tuple[int, str]]:
    """A psychiatric hospital per prefecture that confirms diagnoses: the existing one, else created."""
    cities = sorted({t.city_code for t in towns})

    def existing() -> dict[str, tuple[int, str]]:
        out: dict[str, tuple[int, str]] = {}
        for city_code, pk, name in (Organisation.objects.filter(city_code__in=cities,
                                                                org_type=OrgType.PSYCHIATRIC_HOSPITAL)
                                    .order_by("city_code", "id").values_list("city_code", "id", "name")):
            out.setdefault(city_code, (pk, name))
        return out

    found = existing()
    missing = [c for c in cities if c not in found]
    if missing:
        regions = {r.code: r for r in Region.objects.filter(code__in=[*missing, *(c[:2] for c in missing)])}
        new = []
        for code in missing:
            region, province = regions[code], regions[code[:2]]
            label = province.name if region.kind == RegionKind.PLACEHOLDER else region.name
            new.append(Organisation(name=f"{label}精神专科医院", org_type=OrgType.PSYCHIATRIC_HOSPITAL,
                                    region_id=code, **ancestors(code)))
        Organisation.objects.bulk_create(new, ignore_conflicts=True)
        found = existing()
        _log(f"created {len(missing)} psychiatric hospitals (one per prefecture)")
    return found


def ensure_doctors(rng: random.Random, towns: Sequence[Region], clinics: dict[str, int],
                   wanted: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """Community doctors per township (``wanted`` each): the existing ones, else created (bulk).

    Created accounts cannot sign in (unusable password); they exist to be responsible doctors.
    """
    from django.contrib.auth.models import Group

    from xinqiao.core.roles import sync_roles

    group = Group.objects.filter(name="community_doctor").first()
    if group is None:
        sync_roles()
        group = Group.objects.get(name="community_doctor")
    codes = [t.code for t in towns]

    def existing() -> dict[str, list[int]]:
        have: dict[str, list[int]] = {c: [] for c in codes}
        for chunk in _chunks(codes, 5000):
            for region_id, pk in (User.objects.filter(region_id__in=chunk, groups=group, is_active=True)
                                  .order_by("region_id", "id").values_list("region_id", "id")):
                have[region_id].append(pk)
        return have

    have = existing()
    new: list[User] = []
    unusable = make_password(None)
    for t in towns:
        for j in range(len(have[t.code]), wanted.get(t.code, 1)):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            new.append(User(username=f"synth_doc_{t.code}_{j + 1}", display_name=name,
                            password=unusable, region_id=t.code, organisation_id=clinics[t.code]))
    if new:
        User.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        ids: list[int] = []
        for chunk in _chunks([u.username for u in new], 5000):
            ids += list(User.objects.filter(username__in=chunk).values_list("id", flat=True))
        through = User.groups.through
        through.objects.bulk_create([through(user_id=pk, group_id=group.pk) for pk in ids],
                                    batch_size=5000, ignore_conflicts=True)
        have = existing()
        _log(f"created {len(new)} community-doctor accounts (unusable passwords)")
    return {c: tuple(v[: max(1, wanted.get(c, 1))]) for c, v in have.items()}


def reserve_ids(model: type[Model], n: int) -> int:
    """Reserve ``n`` consecutive primary keys of ``model``; returns the first.

    PostgreSQL: the block is taken from the table's identity sequence (later ORM inserts continue
    after it). SQLite: max(id) + 1 (the writer holds the database's write lock while it inserts).
    """
    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        top = int(cur.fetchone()[0])
        if connection.vendor != "postgresql":
            return top + 1
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        seq = cur.fetchone()[0]
        cur.execute("SELECT nextval(%s)", [seq])
        start = max(int(cur.fetchone()[0]), top + 1)
        cur.execute("SELECT setval(%s, %s)", [seq, start + max(n, 1) - 1])
    return start


def make_plan(options: SynthOptions, now_text: str) -> Plan:
    """Resolve townships, clinics, hospitals and doctors; reserve ids; prepare the history builder."""
    from xinqiao.followups import synth as followup_synth
    from xinqiao.followups.models import FollowUp

    today = options.today or timezone.localdate()
    rng = random.Random(f"xinqiao-synth-plan:{options.seed}")  # noqa: S311 (fictitious data)
    if options.townships:
        regions = list(Region.objects.filter(code__in=options.townships).order_by("code"))
    else:
        regions = region_townships(options.region)
    if not regions:
        raise ValueError(f"no townships under region {options.region!r}: load the regions (migrate) first")
    # Township sizes vary (urban subdistricts are larger): a log-normal weight per township.
    weights = [rng.lognormvariate(0, 0.6) * (1.6 if "街道" in t.name else 1.0) for t in regions]
    total = sum(weights)
    expected = {t.code: options.patients * w / total for t, w in zip(regions, weights, strict=True)}
    clinics = dict(options.clinics) or ensure_clinics(regions)
    if options.hospital is not None:
        name = Organisation.objects.filter(pk=options.hospital).values_list("name", flat=True).first() or ""
        hospitals = {t.city_code: (options.hospital, name) for t in regions}
    else:
        hospitals = ensure_hospitals(regions)
    if options.doctors:
        doctors = dict(options.doctors)
    else:
        wanted = {code: max(1, min(8, math.ceil(n / 350))) for code, n in expected.items()}
        doctors = ensure_doctors(rng, regions, clinics, wanted)
    places = _place_names(regions)
    towns = []
    for t in regions:
        hospital_id, hospital_name = hospitals.get(t.city_code, (None, ""))
        towns.append(Town(code=t.code, name=t.name, county=t.county_code, city=t.city_code, province=t.province_code,
                          place=places[t.code], clinic_id=clinics[t.code], doctor_ids=doctors.get(t.code, ()),
                          hospital_id=hospital_id, hospital_name=hospital_name))
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    history = followup_synth.HistoryBuilder(seed=options.seed, today=today, years=options.years, now_text=now_text)
    block = history.ids_per_patient() * CHUNK
    n_chunks = math.ceil(options.patients / CHUNK)
    # One block of person ids: the patients, then the suspected persons who are not patients.
    person_base = reserve_ids(Person, 2 * options.patients)
    return Plan(
        options=options, today=today, towns=towns, town_cum=cum,
        person_base=person_base, patient_base=reserve_ids(Patient, options.patients),
        followup_base=reserve_ids(FollowUp, block * n_chunks), followup_block=block, history=history,
        other_person_base=person_base + options.patients,
        suspected_base=reserve_ids(SuspectedCase, 2 * options.patients),
        transfer_base=reserve_ids(Transfer, options.patients),
    )


# --- Generation (pure: no database access; runs in worker processes) ----------------------------

@dataclass
class Chunk:
    """The rows of one chunk as COPY text lines per table, the (county, year) of each patient in
    order (for register numbers), and counts."""

    index: int
    lines: dict[str, list[str]]
    register: list[tuple[str, int]]
    patients: int
    followups: int


@lru_cache(maxsize=8192)
def _pending_due(diagnosed_on: date) -> Any:
    return rules.pending_case_report_due(diagnosed_on)


@lru_cache(maxsize=65536)
def _case_timeliness(diagnosed_on: date, entered_on: date, received_on: date | None) -> Any:
    return rules.case_report_timeliness(diagnosed_on, entered_on, received_on)


class Generator:
    """Generates the chunks of a plan. Built once per worker process."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.options = plan.options
        self.aad = {f"{m._meta.label_lower}.{f}": f"{m._meta.app_label}.{m._meta.model_name}.{f}"
                    for m, fields in ((Person, ("name", "id_number", "phone", "address")),
                                      (PersonalSupplement, ("guardian_name", "guardian_relation", "guardian_phone",
                                                            "consent_signed_by")),
                                      (StatusChange, ("destination", "note")))
                    for f in fields}
        self.aad.update({f"{m._meta.label_lower}.{f}": f"{m._meta.app_label}.{m._meta.model_name}.{f}"
                         for m, fields in ((SuspectedCase, ("reporter_name", "description", "closing_reason")),
                                           (SuspectedCaseEvent, ("note",)),
                                           (Transfer, ("reason", "new_address", "decline_reason")))
                         for f in fields})
        self.history = plan.history
        self.prefix = self.options.prefix
        from xinqiao.followups import synth as followup_synth
        from xinqiao.followups.models import FollowUp

        self.fu_table = FollowUp._meta.db_table
        self.fu_index = {name: followup_synth.FOLLOWUP_COLUMNS.index(name)
                         for name in ("followup_date", "outcome", "doctor_id", "organisation_id")}
        self.by_county: dict[str, list[Town]] = {}
        for town in plan.towns:
            self.by_county.setdefault(town.county, []).append(town)
        # The population (its key prefix), not the seed, places its ID numbers: a population grown
        # in steps with other seeds (the demo) still never repeats a number.
        self.id_offset = (zlib.crc32(self.prefix.encode()) * 104_729) % _ID_SPACE

    def id_number(self, county: str, index: int, male: bool) -> tuple[str, date]:
        """A GB 11643 number, unique within the county for each index of the population."""
        slot = ((index + self.id_offset) * _ID_STRIDE) % _ID_SPACE
        birth = BIRTH_FROM + timedelta(days=slot // 500)
        seq = (slot % 500) * 2 + (1 if male else 0)
        return idcard.generate_resident_id(county, birth, seq), birth

    def chunk(self, chunk_no: int) -> Chunk:
        from xinqiao.followups.synth import IdBlock

        plan, opts = self.plan, self.options
        names = plan.table_names
        suffix = plan.suffix
        rng = random.Random(f"xinqiao-synth:{opts.seed}:{chunk_no}")  # noqa: S311
        # Suspected cases and transfers draw from their own stream: the patients' draws are unchanged.
        moves = random.Random(f"xinqiao-synth-moves:{opts.seed}:{chunk_no}")  # noqa: S311
        first = chunk_no * CHUNK
        last = min(first + CHUNK, opts.patients)
        out: dict[str, list[str]] = {names[k]: [] for k in ("person", "patient", "transfer", "status", "case",
                                                             "supplement", "suspected", "suspected_event")}
        persons, patients, statuses = out[names["person"]], out[names["patient"]], out[names["status"]]
        cases, supplements = out[names["case"]], out[names["supplement"]]
        register: list[tuple[str, int]] = []
        followups = 0
        ids = IdBlock(plan.followup_base + chunk_no * plan.followup_block, plan.followup_block)
        towns, cum = plan.towns, plan.town_cum
        total = cum[-1]
        encrypt = crypto.encrypt
        aad = self.aad
        today = plan.today
        for i in range(first, last):
            town = towns[min(bisect.bisect(cum, rng.random() * total), len(towns) - 1)]
            index = opts.start + i
            male = rng.random() < 0.52
            number, birth = self.id_number(town.county, index, male)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            phone = f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
            address = f"{town.place}{rng.choice(STREETS)}{rng.randint(1, 399)}号{rng.randint(1, 30)}0{rng.randint(1, 6)}房"
            person_id = plan.person_base + i
            patient_id = plan.patient_base + i
            region = f"{town.code}\t{town.province}\t{town.city}\t{town.county}\t{town.code}"
            persons.append(
                f"{person_id}\t{region}\t{encrypt(name, aad['core.person.name'])}\tresident_id\t"
                f"{encrypt(number, aad['core.person.id_number'])}\t{Person.id_index_for('resident_id', number)}\t"
                f"{'M' if male else 'F'}\t{birth.isoformat()}\t{encrypt(phone, aad['core.person.phone'])}\t"
                f"{encrypt(address, aad['core.person.address'])}{suffix['person']}")

            diagnosis = _DIAG_VALUES[bisect.bisect(_DIAG_CUM, rng.random() * _DIAG_CUM[-1])]
            icd = rng.choice(ICD10_CODES[diagnosis])
            co_icd = rng.choice(CO_CODES[diagnosis]) if diagnosis in CO_CODES else ""
            source = _SOURCE_VALUES[bisect.bisect(_SOURCE_CUM, rng.random() * _SOURCE_CUM[-1])]
            doctor = rng.choice(town.doctor_ids) if town.doctor_ids else None
            subject = self.history.subject(rng, patient_id=patient_id, birth=birth, diagnosis=diagnosis,
                                           icd10_code=icd, source=source, doctor_id=doctor, town=town)
            if source == RegistrationSource.COMMUNITY:
                _community_diagnosis(moves, subject, birth)
            history = self.history.simulate(rng, subject, ids)
            s = history.state
            registered = subject.registered_on
            # 迁居 inside the deployment: requested, then accepted (the patient is managed here since),
            # declined or still pending.
            move = self.transfer(moves, out, i, index, town, patient_id, doctor, address, subject, history)
            accepted_on = move.accepted_on if move is not None else None
            if move is not None and accepted_on is not None:
                self.sent_before(history, move, accepted_on)
            for table, lines in history.lines.items():
                out.setdefault(table, []).extend(lines)
            followups += history.followups

            # 发病报告卡 of a case-report registration: entered the day of registration.
            has_case = source == RegistrationSource.CASE_REPORT and town.hospital_id is not None
            if has_case:
                written = rng.random() < 0.15
                received = None
                if written:
                    received = min(registered, subject.diagnosed_on + timedelta(days=rng.randint(2, 16)))
                timing = _case_timeliness(subject.diagnosed_on, registered, received)
                # 危险行为 before diagnosis: 肇事 only for those with an incident history.
                prior = [rng.choice(("minor_trouble", "other_harm", "self_harm"))] if (
                    subject.prior_incident or subject.initial_danger >= 3) else []
                if subject.prior_incident:
                    prior.append("trouble")
                cases.append("\t".join((
                    str(person_id), str(patient_id), region, "1" if rng.random() < 0.7 else "2", diagnosis, icd, co_icd,
                    str(town.hospital_id), subject.diagnosed_on.isoformat(),
                    (subject.diagnosed_on - timedelta(days=rng.randint(30, 3000))).isoformat(), _json(sorted(prior)),
                    str(rng.choice((1, 2, 2, 2, 3, 5))), str(town.hospital_id), "written" if written else "online",
                    received.isoformat() if received else NULL, registered.isoformat(),
                    timing.report_deadline.isoformat(),
                    timing.entry_deadline.isoformat() if timing.entry_deadline else NULL,
                    "1" if timing.late else "0", "0" if timing.certain else "1", "entered",
                )) + suffix["case"])
            elif source == RegistrationSource.COMMUNITY and town.hospital_id is not None:
                # The card a confirmed suspected case still needs (confirm_suspected_case opens a draft).
                has_case = self.community_card(moves, cases, person_id, patient_id, region, town, subject,
                                               diagnosis, icd, co_icd)

            # 个人信息补充表: filled in by the clinic for most patients soon after registration.
            filled = registered + timedelta(days=rng.randint(0, 30))
            if filled <= today and rng.random() < 0.92:
                guardian = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                consent = "1" if rng.random() < 0.95 else "0"
                poor = rng.random() < 0.22
                supplements.append("\t".join((
                    str(patient_id), region, encrypt(guardian, aad["patients.personalsupplement.guardian_name"]),
                    encrypt(rng.choice(RELATIONS), aad["patients.personalsupplement.guardian_relation"]),
                    encrypt(f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                            aad["patients.personalsupplement.guardian_phone"]),
                    str(rng.choice((1, 2))), str(rng.choice((1, 3, 3, 4, 4, 4, 6, 8, 9))), consent,
                    encrypt(guardian, aad["patients.personalsupplement.consent_signed_by"]), filled.isoformat(),
                    (subject.diagnosed_on - timedelta(days=rng.randint(30, 3000))).isoformat(),
                    _json(sorted(rng.sample(range(1, 13), rng.choice((1, 2, 3))))), str(rng.choice((1, 1, 1, 1, 3))),
                    str(rng.choice((1, 2, 3, 3))), str(rng.choice((0, 0, 1, 1, 2, 3))), str(rng.choice((1, 2, 2, 3))),
                    "1" if subject.prior_incident else "0", "0", "1" if poor else "2", "1" if poor else "0",
                    "1" if rng.random() < 0.3 else "0", "1" if rng.random() < 0.25 else "0",
                    str(rng.choice((1, 2, 3, 4))) if rng.random() < 0.25 else NULL,
                    "1" if subject.risky or rng.random() < 0.2 else "0", "1" if rng.random() < 0.6 else "0",
                    "1" if rng.random() < 0.45 else "0", filled.isoformat(),
                    _t(move.sender_doctor if move is not None and accepted_on and filled < accepted_on else doctor),
                )) + suffix["supplement"])
                recorded_prior = True
            else:
                recorded_prior = has_case
            # 肇事肇祸 history: known from the case report or the supplement, or seen at a visit.
            incident = s.incident_history or (subject.prior_incident and recorded_prior)

            # Status history: registration, then what the follow-up history implies.
            statuses.append(f"{patient_id}\t{region}\t\tmanaged\t{registered.isoformat()}\t{NULL}\t{NULL}\t{NULL}"
                            f"\t{NULL}\t\t\t{NULL}{suffix['status']}")
            pending_move = accepted_on
            for e in history.events:
                if pending_move is not None and e.on > pending_move:
                    statuses.append(self.transfer_status_row(move, patient_id, region, pending_move))
                    pending_move = None
                statuses.append("\t".join((
                    str(patient_id), region, e.from_status, e.to_status, e.on.isoformat(), _t(e.loss_reason),
                    _t(e.death_date), _t(e.death_cause), _t(e.physical_death_cause),
                    encrypt(e.destination, aad["patients.statuschange.destination"]) if e.destination else "",
                    encrypt(e.note, aad["patients.statuschange.note"]) if e.note else "", NULL,
                )) + suffix["status"])
            if pending_move is not None:
                statuses.append(self.transfer_status_row(move, patient_id, region, pending_move))
            status_since = s.status_changed_on
            if accepted_on is not None and (status_since is None or status_since < accepted_on):
                status_since = accepted_on  # accept_transfer: managed since the acceptance

            register.append((town.county, registered.year))
            patients.append("\t".join((
                str(patient_id), str(person_id), region, REGISTER_MARK, s.status, source, registered.isoformat(),
                diagnosis, icd, co_icd, subject.diagnosed_on.isoformat(), _t(town.hospital_id), str(town.clinic_id),
                _t(doctor), str(s.danger_level), "1" if incident else "0", _t(s.last_followup_date),
                _t(s.last_classification), _t(s.next_followup_due), str(s.failed_attempts),
                _t(s.awaiting_first_visit_since), _t(status_since), f"{self.prefix}{index}",
            )) + suffix["patient"])

            # 社区发现: the suspected case that brought a community-discovered patient onto the register,
            # and now and then one that was not (or is not yet) a case.
            if source == RegistrationSource.COMMUNITY:
                found_in, finder = town, doctor
                if move is not None and accepted_on is not None and subject.diagnosed_on < accepted_on:
                    found_in, finder = move.sender, move.sender_doctor
                self.confirmed_case(moves, out, i, index, town, found_in, person_id, patient_id, subject, finder)
            if moves.random() < SUSPECTED_OTHER_PER_PATIENT:
                self.other_case(moves, out, i, index, town, doctor)
        return Chunk(index=chunk_no, lines=out, register=register, patients=last - first, followups=followups)

    def community_card(self, rng: random.Random, cases: list[str], person_id: int, patient_id: int, region: str,
                       town: Town, subject: Any, diagnosis: str, icd: str, co_icd: str) -> bool:
        """The 发病报告卡 of a confirmed suspected case: ``confirm_suspected_case`` opens it as a draft
        (its clock running from the diagnosis); the hospital enters it within 10 working days (8 %
        later). Still a draft when that is after today. Returns whether it was entered (its
        dangerous behaviours are then known)."""
        today, diagnosed, registered = self.plan.today, subject.diagnosed_on, subject.registered_on
        late = rng.random() < 0.08
        entered = max(registered, diagnosed + timedelta(days=rng.randint(15, 45) if late else rng.randint(1, 14)))
        prior = [rng.choice(("minor_trouble", "other_harm", "self_harm"))] if (
            subject.prior_incident or subject.initial_danger >= 3) else []
        if subject.prior_incident:
            prior.append("trouble")
        head = (f"{person_id}\t{patient_id}\t{region}\t{{}}\t{diagnosis}\t{icd}\t{co_icd}\t{town.hospital_id}\t"
                f"{diagnosed.isoformat()}\t")
        onset = (diagnosed - timedelta(days=rng.randint(30, 3000))).isoformat()
        report_type, brought_by = "1" if rng.random() < 0.7 else "2", str(rng.choice((1, 2, 2, 3, 5)))
        if entered <= today:
            timing = _case_timeliness(diagnosed, entered, None)
            cases.append(head.format(report_type) + "\t".join((
                onset, _json(sorted(prior)), brought_by, str(town.hospital_id), "online", NULL, entered.isoformat(),
                timing.report_deadline.isoformat(), NULL, "1" if timing.late else "0",
                "0" if timing.certain else "1", "entered",
            )) + self.plan.suffix["case"])
            return True
        due = _pending_due(diagnosed)
        cases.append(head.format(NULL) + "\t".join((
            NULL, "[]", NULL, str(town.hospital_id), "online", NULL, NULL, due.report_deadline.isoformat(), NULL,
            "1" if due.overdue(today) else "0", "0" if due.certain else "1", "draft",
        )) + self.plan.suffix["case"])
        return False

    # -- 迁居 inside the deployment (patients.services.request_transfer / accept_transfer / decline_transfer) --

    def other_town(self, rng: random.Random, town: Town) -> Town:
        """The other end of a hand-over: mostly a township of the same county."""
        near = [t for t in self.by_county.get(town.county, ()) if t.code != town.code]
        if near and rng.random() < TRANSFER_SAME_COUNTY:
            return rng.choice(near)
        while True:
            other = self.plan.towns[int(rng.random() * len(self.plan.towns))]
            if other.code != town.code:
                return other

    def transfer(self, rng: random.Random, out: dict[str, list[str]], i: int, index: int, town: Town,
                 patient_id: int, doctor: int | None, address: str, subject: Any, history: Any) -> Move | None:
        """Maybe a hand-over request in the window, and its answer; writes the ``Transfer`` row.

        Requests come at ``transfers_per_year`` while the patient is on the register inside the
        window. One answered after today is pending; otherwise declined (``TRANSFER_DECLINED``) or
        accepted. An accepted patient was managed by the other township before and by ``town``
        since: the acceptance is placed just before a visit (the new clinic's first, within the
        first-visit limit) at a time the history has the patient managed, so that every later row
        of the history is what the services would have written after ``accept_transfer``.
        """
        opts, today = self.options, self.plan.today
        if opts.transfers_per_year <= 0 or len(self.plan.towns) < 2:
            return None
        begin = max(self.history.window_start, subject.registered_on)
        exposure = (today - begin).days
        if exposure <= 0 or rng.random() >= 1 - math.exp(-opts.transfers_per_year * exposure / 365.25):
            return None
        requested = begin + timedelta(days=rng.randint(0, exposure))
        lag = rng.randint(1, TRANSFER_ANSWER_DAYS)
        other = self.other_town(rng, town)
        other_doctor = rng.choice(other.doctor_ids) if other.doctor_ids else None
        declined = rng.random() < TRANSFER_DECLINED
        events = history.events
        accepted_on: date | None = None
        if requested + timedelta(days=lag) > today:
            status = TransferStatus.PENDING
            if _status_at(events, requested) not in _ACTIVE or history.state.status not in _ACTIVE:
                return None
        elif declined:
            status = TransferStatus.DECLINED
            if _status_at(events, requested) not in _ACTIVE:
                return None
        else:
            status = TransferStatus.ACCEPTED
            slot = self.acceptance(rng, subject, history, requested + timedelta(days=lag), lag)
            if slot is None:
                return None
            requested, accepted_on = slot
        if accepted_on is not None:
            sender, sender_doctor, receiver, receiver_doctor = other, other_doctor, town, doctor
        else:
            sender, sender_doctor, receiver, receiver_doctor = town, doctor, other, other_doctor
        moved_on = max(subject.registered_on, requested - timedelta(days=rng.randint(0, 30)))
        new_address = address if accepted_on is not None else (
            f"{receiver.place}{rng.choice(STREETS)}{rng.randint(1, 399)}号{rng.randint(1, 30)}0{rng.randint(1, 6)}房")
        encrypt, aad = crypto.encrypt, self.aad
        transfer_id = self.plan.transfer_base + i
        decided = requested + timedelta(days=lag) if status == TransferStatus.DECLINED else accepted_on
        out[self.plan.table_names["transfer"]].append("\t".join((
            str(transfer_id), str(patient_id), _region(receiver), _region(sender), str(sender.clinic_id),
            str(receiver.clinic_id) if accepted_on is not None or rng.random() < 0.5 else NULL, status,
            moved_on.isoformat(), encrypt(rng.choice(TRANSFER_REASONS), aad["patients.transfer.reason"]),
            encrypt(new_address, aad["patients.transfer.new_address"]), _t(sender_doctor), _at(rng, requested, 1),
            _t(receiver_doctor) if decided is not None else NULL, _at(rng, decided, 6) if decided else NULL,
            encrypt(rng.choice(DECLINE_REASONS), aad["patients.transfer.decline_reason"])
            if status == TransferStatus.DECLINED else "",
            f"{self.prefix}t{index}",
        )) + self.plan.suffix["transfer"])
        return Move(transfer_id=transfer_id, status=status, sender=sender, sender_doctor=sender_doctor,
                    accepted_on=accepted_on)

    def acceptance(self, rng: random.Random, subject: Any, history: Any, target: date,
                   lag: int) -> tuple[date, date] | None:
        """(requested, accepted): the acceptance just before the first visit after ``target`` where it fits.

        It fits when the patient is managed on that day with no status change since the request
        (accepting moves a managed patient: the history's later steps stay valid) and the visit
        comes within the first-visit limit (the new clinic's first visit, on time).
        """
        lines = history.lines.get(self.fu_table) or []
        di, oi = self.fu_index["followup_date"], self.fu_index["outcome"]
        cut = max(di, oi) + 1
        limit = self.history.first_visit_days
        previous = subject.registered_on
        for line in lines:
            parts = line.split("\t", cut)
            when = date.fromisoformat(parts[di])
            if parts[oi] == "visited" and when > target and (when - previous).days >= 2:
                accepted = when - timedelta(days=rng.randint(1, min(limit, (when - previous).days - 1)))
                requested = max(subject.registered_on, accepted - timedelta(days=lag))
                if (accepted > subject.registered_on and _status_at(history.events, accepted) == PatientStatus.MANAGED
                        and not any(requested < e.on <= accepted for e in history.events)):
                    return requested, accepted
            previous = when
        return None

    def sent_before(self, history: Any, move: Move, accepted_on: date) -> None:
        """Attempts before the acceptance were the sending township's: its clinic and doctor."""
        lines = history.lines.get(self.fu_table) or []
        di, doc, org = self.fu_index["followup_date"], self.fu_index["doctor_id"], self.fu_index["organisation_id"]
        cut = accepted_on.isoformat()
        for k, line in enumerate(lines):
            parts = line.split("\t")
            if parts[di] < cut:
                parts[doc], parts[org] = _t(move.sender_doctor), str(move.sender.clinic_id)
                lines[k] = "\t".join(parts)

    def transfer_status_row(self, move: Move | None, patient_id: int, region: str, accepted_on: date) -> str:
        """The history row ``accept_transfer`` writes: from the (managed) status to managed, linked."""
        assert move is not None
        return (f"{patient_id}\t{region}\t{PatientStatus.MANAGED}\t{PatientStatus.MANAGED}\t{accepted_on.isoformat()}"
                f"\t{NULL}\t{NULL}\t{NULL}\t{NULL}\t\t\t{move.transfer_id}{self.plan.suffix['status']}")

    # -- 社区发现 (patients.services.report_suspected_case / refer / confirm / close) --

    def confirmed_case(self, rng: random.Random, out: dict[str, list[str]], i: int, index: int, town: Town,
                       found_in: Town, person_id: int, patient_id: int, subject: Any, doctor: int | None) -> None:
        """The suspected case of a community-discovered patient: found, referred, confirmed on the
        diagnosis date (``confirm_suspected_case`` sets ``decided_on`` to it), registered since."""
        decided = subject.diagnosed_on
        referred = None
        if town.hospital_id is not None and rng.random() >= 0.1:  # else confirmed at the first contact
            referred = decided - timedelta(days=rng.randint(0, 30))
        discovered = (referred or decided) - timedelta(days=rng.randint(0, 21))
        self.case_rows(rng, out, case_id=self.plan.suspected_base + 2 * i, person_id=person_id, town=town,
                       found_in=found_in, discovered=discovered, referred=referred, decided=decided,
                       status=SuspectedStatus.CONFIRMED, reason="", patient_id=patient_id, doctor=doctor,
                       key=f"{self.prefix}s{index}")

    def other_case(self, rng: random.Random, out: dict[str, list[str]], i: int, index: int, town: Town,
                   doctor: int | None) -> None:
        """A suspected case found in the window that is not a patient: closed as not a case, or still
        open (reported, or referred and waiting for the diagnosis) whatever its outcome will be.

        Those that would have been confirmed by today are the community-discovered patients.
        """
        today, start = self.plan.today, self.history.window_start
        discovered = start + timedelta(days=rng.randint(0, max(0, (today - start).days)))
        a_case = rng.random() < SUSPECTED_CONFIRMED
        referred: date | None
        if town.hospital_id is None or (not a_case and rng.random() < SUSPECTED_CLOSED_UNREFERRED):
            referred, decided = None, discovered + timedelta(days=rng.randint(3, 30))
        else:
            referred = discovered + timedelta(days=rng.randint(1, 21))
            decided = referred + timedelta(days=rng.randint(7, 60))
        reason = ""
        if referred is not None and referred > today:
            status, referred, decided_on = SuspectedStatus.REPORTED, None, None
        elif decided > today:
            status, decided_on = (SuspectedStatus.REFERRED if referred else SuspectedStatus.REPORTED), None
        elif a_case:
            return
        else:
            status, decided_on = SuspectedStatus.CLOSED, decided
            reason = rng.choice(NOT_A_CASE if referred else NOT_REFERRED)
        person_id = self.plan.other_person_base + i
        encrypt, aad = crypto.encrypt, self.aad
        male = rng.random() < 0.55
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if rng.random() < self.options.suspected_without_id:
            number_text, index_text, birth_text = "", "", NULL
        else:
            # Counted down from the top of the county's number space: never a patient's number.
            number, birth = self.id_number(town.county, _ID_SPACE - 1 - index, male)
            number_text = encrypt(number, aad["core.person.id_number"])
            index_text, birth_text = Person.id_index_for("resident_id", number), birth.isoformat()
        phone = f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        address = f"{town.place}{rng.choice(STREETS)}{rng.randint(1, 399)}号{rng.randint(1, 30)}0{rng.randint(1, 6)}房"
        out[self.plan.table_names["person"]].append(
            f"{person_id}\t{_region(town)}\t{encrypt(name, aad['core.person.name'])}\tresident_id\t{number_text}\t"
            f"{index_text}\t{'M' if male else 'F'}\t{birth_text}\t"
            f"{encrypt(phone, aad['core.person.phone']) if rng.random() < 0.6 else ''}\t"
            f"{encrypt(address, aad['core.person.address'])}{self.plan.suffix['person']}")
        self.case_rows(rng, out, case_id=self.plan.suspected_base + 2 * i + 1, person_id=person_id, town=town,
                       found_in=town, discovered=discovered, referred=referred, decided=decided_on, status=status,
                       reason=reason, patient_id=None, doctor=doctor, key=f"{self.prefix}n{index}")

    def case_rows(self, rng: random.Random, out: dict[str, list[str]], *, case_id: int, person_id: int, town: Town,
                  found_in: Town, discovered: date, referred: date | None, decided: date | None, status: str,
                  reason: str, patient_id: int | None, doctor: int | None, key: str) -> None:
        """A ``SuspectedCase`` and its ``SuspectedCaseEvent`` history, as the services write them."""
        encrypt, aad, suffix, names = crypto.encrypt, self.aad, self.plan.suffix, self.plan.table_names
        committee = rng.random() < SUSPECTED_BY_COMMITTEE
        reporter = (f"{found_in.name}{rng.choice(('居委会', '村委会'))} {rng.choice(SURNAMES)}{rng.choice(GIVEN)}"
                    if committee else "")
        symptoms = sorted({_SYMPTOM_VALUES[bisect.bisect(_SYMPTOM_CUM, rng.random() * _SYMPTOM_CUM[-1])]
                           for _ in range(rng.choice((1, 2, 2, 3)))})
        closing = encrypt(reason, aad["patients.suspectedcase.closing_reason"]) if reason else ""
        out[names["suspected"]].append("\t".join((
            str(case_id), str(person_id), _region(town),
            SuspectedSource.VILLAGE_COMMITTEE if committee else SuspectedSource.DOCTOR,
            encrypt(reporter, aad["patients.suspectedcase.reporter_name"]) if reporter else "", discovered.isoformat(),
            _json(symptoms), encrypt(rng.choice(SUSPECTED_NOTICED), aad["patients.suspectedcase.description"]), status,
            _t(town.hospital_id) if referred else NULL, _t(referred), _t(decided), closing, _t(patient_id), _t(doctor),
            key, _at(rng, discovered, 1),
        )) + suffix["suspected"])
        events = out[names["suspected_event"]]
        tail = suffix["suspected_event"]
        events.append(f"{case_id}\t\t{SuspectedStatus.REPORTED}\t{discovered.isoformat()}\t\t{_t(doctor)}\t"
                      f"{_at(rng, discovered, 1)}{tail}")
        before = SuspectedStatus.REPORTED
        if referred is not None:
            note = encrypt(f"转诊至{town.hospital_name}", aad["patients.suspectedcaseevent.note"]) if town.hospital_name else ""
            events.append(f"{case_id}\t{before}\t{SuspectedStatus.REFERRED}\t{referred.isoformat()}\t{note}\t"
                          f"{_t(doctor)}\t{_at(rng, referred, 3)}{tail}")
            before = SuspectedStatus.REFERRED
        if decided is not None and status in (SuspectedStatus.CONFIRMED, SuspectedStatus.CLOSED):
            closed = status == SuspectedStatus.CLOSED
            # Closing notes the reason; a confirmation is entered by the hospital (no community user).
            events.append(f"{case_id}\t{before}\t{status}\t{decided.isoformat()}\t"
                          f"{encrypt(reason, aad['patients.suspectedcaseevent.note']) if closed else ''}\t"
                          f"{_t(doctor) if closed else NULL}\t{_at(rng, decided, 6)}{tail}")


@dataclass
class Move:
    """A synthetic patient's hand-over between two townships of the plan."""

    transfer_id: int
    status: str
    sender: Town
    sender_doctor: int | None
    accepted_on: date | None


#: Statuses from which a hand-over can be requested (on the register, not deregistered).
_ACTIVE = frozenset({PatientStatus.MANAGED, PatientStatus.IN_HOSPITAL, PatientStatus.LOST})


def _status_at(events: Sequence[Any], day: date) -> str:
    """The patient's status at the end of ``day`` from the history's status events (in date order)."""
    status = str(PatientStatus.MANAGED)
    for e in events:
        if e.on > day:
            break
        status = e.to_status
    return status


def _community_diagnosis(rng: random.Random, subject: Any, birth: date) -> None:
    """A community-discovered patient is registered when the hospital confirms the diagnosis
    (``confirm_suspected_case``): within three weeks of the diagnosis date."""
    adult = date(birth.year + 16, birth.month, min(birth.day, 28))
    diagnosed = subject.registered_on - timedelta(days=rng.randint(0, 20))
    subject.diagnosed_on = max(diagnosed, min(adult, subject.registered_on))


def _region(town: Town) -> str:
    return f"{town.code}\t{town.province}\t{town.city}\t{town.county}\t{town.code}"


def _at(rng: random.Random, day: date, hour: int) -> str:
    """A moment of ``day`` in office hours (UTC+8): ``hour`` + 8 o'clock, a random minute."""
    return f"{day.isoformat()}T{hour:02d}:{int(rng.random() * 60):02d}:00+00:00"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _t(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- Worker pool --------------------------------------------------------------------------------

@contextmanager
def cached_calendar() -> Iterator[None]:
    """Memoise ``workdays.day_status`` while generating (restored after).

    The case-report and discharge deadlines go through ``patients.workdays`` day by day, and the
    ``chinese_calendar`` look-up behind it re-scans its whole table on every call: 80 µs a day,
    which dominated generation. The calendar does not change during a build.
    """
    from xinqiao.patients import workdays

    original = workdays.day_status
    workdays.day_status = lru_cache(maxsize=None)(original)
    try:
        yield
    finally:
        workdays.day_status = original


_WORKER: Generator | None = None


def _worker_init(plan: Plan) -> None:
    global _WORKER
    from xinqiao.patients import workdays

    # A forked worker lives only for the build: memoise the calendar for its lifetime.
    workdays.day_status = lru_cache(maxsize=None)(workdays.day_status)
    _WORKER = Generator(plan)


def _worker_chunk(chunk_no: int) -> Chunk:
    assert _WORKER is not None
    return _WORKER.chunk(chunk_no)


def _chunks_in_order(plan: Plan, workers: int) -> Iterator[Chunk]:
    """Chunks 0..n in order, generated in a pool (bounded look-ahead) or inline."""
    n_chunks = math.ceil(plan.options.patients / CHUNK)
    if workers <= 1 or n_chunks <= 1:
        gen = Generator(plan)
        with cached_calendar():
            for c in range(n_chunks):
                yield gen.chunk(c)
        return
    connections.close_all()  # never share a database socket with forked children
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_worker_init, initargs=(plan,)) as pool:
        pending: deque[Any] = deque()
        submitted = 0
        window = workers * 3
        while submitted < n_chunks or pending:
            while submitted < n_chunks and len(pending) < window:
                pending.append(pool.apply_async(_worker_chunk, (submitted,)))
                submitted += 1
            yield pending.popleft().get()


# --- Writers ------------------------------------------------------------------------------------

class Numberer:
    """Register numbers ``<county><year><6-digit sequence>`` continuing ``RegisterSequence``."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, int], int] = {}
        self.dirty: set[tuple[str, int]] = set()

    def load(self, counties: Iterable[str]) -> None:
        for county, year, last in RegisterSequence.objects.filter(county_code__in=list(counties)).values_list(
                "county_code", "year", "last"):
            self.last[(county, year)] = last

    def number(self, chunk: Chunk) -> None:
        """Put numbers into the chunk's patient rows (in order)."""
        name = Patient._meta.db_table
        rows = chunk.lines[name]
        for k, (county, year) in enumerate(chunk.register):
            n = self.last.get((county, year), 0) + 1
            self.last[(county, year)] = n
            self.dirty.add((county, year))
            rows[k] = rows[k].replace(REGISTER_MARK, f"{county}{year}{n:06d}", 1)

    def save(self) -> None:
        """Advance ``RegisterSequence`` to the numbers given (in the batch's transaction)."""
        if not self.dirty:
            return
        RegisterSequence.objects.bulk_create(
            [RegisterSequence(county_code=c, year=y, last=self.last[(c, y)]) for c, y in sorted(self.dirty)],
            update_conflicts=True, unique_fields=["county_code", "year"], update_fields=["last"],
        )
        self.dirty.clear()


class Writer:
    """Writes batches of chunks, one transaction per batch."""

    def __init__(self, tables: dict[str, Table], numberer: Numberer) -> None:
        self.tables = tables
        self.numberer = numberer

    def write(self, chunks: list[Chunk]) -> None:
        with transaction.atomic():
            self.begin()
            for c in chunks:
                self.numberer.number(c)
            for name, table in self.tables.items():
                lines = [line for c in chunks for line in c.lines.get(name, ())]
                if lines:
                    self.write_table(table, lines)
            self.numberer.save()

    def begin(self) -> None:
        """Per-transaction settings."""

    def write_table(self, table: Table, lines: list[str]) -> None:
        raise NotImplementedError


class CopyWriter(Writer):
    """PostgreSQL: ``COPY … FROM STDIN`` of preformatted text (psycopg 3)."""

    def begin(self) -> None:
        with connection.cursor() as cur:
            # Losing the last batches on a crash is harmless here; waiting for each WAL flush is not.
            cur.execute("SET LOCAL synchronous_commit TO off")

    def write_table(self, table: Table, lines: list[str]) -> None:
        raw = connection.connection
        with raw.cursor() as cur, cur.copy(table.copy_sql()) as copy:
            step = 20_000
            for start in range(0, len(lines), step):
                copy.write(("\n".join(lines[start:start + step]) + "\n").encode("utf-8"))


class InsertWriter(Writer):
    """Any other database (SQLite): ``executemany`` of the same rows."""

    def write_table(self, table: Table, lines: list[str]) -> None:
        rows = [tuple(None if v == NULL else v for v in line.split("\t")) for line in lines]
        with connection.cursor() as cur:
            cur.executemany(table.insert_sql(), rows)


# --- Fast load: drop secondary indexes and foreign keys, rebuild and re-validate after ----------

def secondary_indexes(tables: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, name, CREATE INDEX …) of the indexes of ``tables`` that back no constraint."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
               ORDER BY i.tablename, i.indexname""",
            [list(tables)],
        )
        return [(str(a), str(b), str(c)) for a, b, c in cur.fetchall()]


def foreign_keys(tables: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys declared on ``tables``."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
               WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s) ORDER BY 1, 2""",
            [list(tables)],
        )
        return [(str(a), str(b), str(c)) for a, b, c in cur.fetchall()]


class FastLoad:
    """Drop the fed tables' secondary indexes and foreign keys; :meth:`restore` puts them back.

    Before dropping anything the statements that restore them are written to
    ``<var dir>/synth-restore-<database>.sql``, so an interrupted build can be repaired with
    ``psql -f`` (the file is removed after a successful restore). Foreign keys come back
    validated: ``ADD CONSTRAINT`` checks every row in one set-based query.
    """

    def __init__(self, tables: Iterable[str], progress: Callable[[str], None]) -> None:
        self.tables = list(tables)
        self.progress = progress
        self.indexes = secondary_indexes(self.tables)
        self.fks = foreign_keys(self.tables)
        self.path: Any = None

    def restore_sql(self) -> list[str]:
        qn = connection.ops.quote_name
        return [f"{definition};" for _t, _n, definition in self.indexes] + [
            f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition};" for table, name, definition in self.fks]

    def drop(self) -> None:
        from django.conf import settings

        qn = connection.ops.quote_name
        var = getattr(settings, "VAR_DIR", None)
        if var is not None:
            from pathlib import Path

            self.path = Path(var) / f"synth-restore-{connection.settings_dict['NAME']}.sql"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("\n".join(self.restore_sql()) + "\n", encoding="utf-8")
        with transaction.atomic(), connection.cursor() as cur:
            for table, name, _definition in self.fks:
                cur.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
            for _table, name, _definition in self.indexes:
                cur.execute(f"DROP INDEX {qn(name)}")
        self.progress(f"dropped {len(self.indexes)} secondary indexes and {len(self.fks)} foreign keys for the load"
                      + (f" (restore script: {self.path})" if self.path else ""))

    def restore(self) -> None:
        self.progress(f"rebuilding {len(self.indexes)} indexes, re-validating {len(self.fks)} foreign keys")
        with connection.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            for statement in self.restore_sql():
                cur.execute(statement)
        if self.path is not None:
            self.path.unlink(missing_ok=True)


# --- Entry points -------------------------------------------------------------------------------

@dataclass
class Report:
    """What a build did and how long each step took."""

    patients: int
    followups: int
    rows: dict[str, int]
    seconds: float
    plan_s: float
    load_s: float
    index_s: float
    analyze_s: float
    workers: int
    database: str
    prefix: str
    first_index: int
    #: CPU seconds: this process and its generator workers; the PostgreSQL backend that loaded the
    #: rows (COPY, index builds, ANALYZE). On a shared machine these say more than wall time.
    cpu_s: dict[str, float | None] = field(default_factory=dict)
    #: The screening responses' build report when ``--screenings`` asked for some.
    screenings: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        if out["screenings"] is None:
            del out["screenings"]
        out["patients_per_s"] = round(self.patients / self.load_s) if self.load_s else None
        out["followups_per_s"] = round(self.followups / self.load_s) if self.load_s else None
        for key in ("seconds", "plan_s", "load_s", "index_s", "analyze_s"):
            out[key] = round(out[key], 2)
        return out


def _own_cpu() -> float:
    """CPU seconds of this process and its finished children (the generator workers)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _backend_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend (``/proc``; same host only), else ``None``."""
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = int(cur.fetchone()[0])
        fields = open(f"/proc/{pid}/stat", encoding="ascii").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def all_tables(now_text: str) -> dict[str, Table]:
    """Every table synth feeds, by name, in insertion order."""
    from xinqiao.followups import synth as followup_synth

    return {t.name: t for t in (*patient_tables(now_text), *followup_synth.tables(now_text))}


def build(options: SynthOptions, progress: Callable[[str], None] = _log) -> Report:
    """Build the population described by ``options`` in the default database."""
    if options.patients < 1:
        raise ValueError("patients must be ≥ 1")
    started = time.perf_counter()
    cpu_started = _own_cpu()
    pg = connection.vendor == "postgresql"
    workers = options.workers or (min(4, os.cpu_count() or 1) if pg else 1)
    if connection.in_atomic_block:
        workers = 1  # forking closes connections, which an open transaction cannot survive
    now_text = timezone.now().isoformat()
    tables = all_tables(now_text)
    plan = make_plan(options, now_text)
    for key, model in (("person", Person), ("patient", Patient), ("status", StatusChange), ("case", CaseReport),
                       ("supplement", PersonalSupplement), ("transfer", Transfer), ("suspected", SuspectedCase),
                       ("suspected_event", SuspectedCaseEvent)):
        plan.table_names[key] = model._meta.db_table
        plan.suffix[key] = tables[model._meta.db_table].suffix
    plan.history.prepare(tables)
    numberer = Numberer()
    numberer.load({t.county for t in plan.towns})
    plan_s = time.perf_counter() - started
    progress(f"plan: {len(plan.towns)} townships, {options.patients} patients, {workers} worker(s), {plan_s:.1f}s")

    fast: FastLoad | None = None
    if pg and (options.indexes == "drop" or (options.indexes == "auto" and options.patients >= FAST_LOAD_FROM)):
        fast = FastLoad(tables, progress)
        fast.drop()

    writer: Writer = (CopyWriter if pg else InsertWriter)(tables, numberer)
    t_load = time.perf_counter()
    counts = dict.fromkeys(tables, 0)
    done = followups = 0
    batch: list[Chunk] = []
    per_batch = max(1, options.batch // CHUNK)
    last_report = time.perf_counter()

    def flush() -> None:
        nonlocal done, followups
        writer.write(batch)
        for c in batch:
            done += c.patients
            followups += c.followups
            for name, lines in c.lines.items():
                counts[name] = counts.get(name, 0) + len(lines)
        batch.clear()

    try:
        for chunk in _chunks_in_order(plan, workers):
            batch.append(chunk)
            if len(batch) >= per_batch:
                flush()
                if time.perf_counter() - last_report > 15:
                    last_report = time.perf_counter()
                    progress(f"{done}/{options.patients} patients, {followups} follow-ups "
                             f"({done / (last_report - t_load):.0f} patients/s)")
        if batch:
            flush()
    finally:
        load_s = time.perf_counter() - t_load
        t_index = time.perf_counter()
        if fast is not None:
            fast.restore()
        index_s = time.perf_counter() - t_index
    t_analyze = time.perf_counter()
    if pg and options.patients >= ANALYZE_FROM:
        with connection.cursor() as cur:
            for name in tables:
                cur.execute(f"ANALYZE {connection.ops.quote_name(name)}")
    analyze_s = time.perf_counter() - t_analyze
    screenings = None
    if options.screenings > 0:
        from xinqiao.screening import synth as screening_synth

        screenings = screening_synth.build(screening_synth.make_plan(
            options.screenings, seed=options.seed, prefix=screening_synth.key_prefix(options.prefix),
            region=options.region if not options.townships else options.townships[0], today=plan.today,
            years=options.years), indexes=options.indexes, progress=progress)
        counts[screening_synth.ScreeningResponse._meta.db_table] = screenings["screenings"]
    # One audit event for the whole load (who generated what, where), as for any bulk write.
    audit.record(AuditAction.CREATE, object_type="patients.patient", region_code=options.region,
                 detail={"via": "synth", "population": options.prefix, "seed": options.seed, "first": options.start,
                         "today": plan.today.isoformat(), "rows": counts})
    report = Report(
        patients=done, followups=followups, rows=counts, seconds=time.perf_counter() - started, plan_s=plan_s,
        load_s=load_s, index_s=index_s, analyze_s=analyze_s, workers=workers, database=connection.vendor,
        prefix=options.prefix, first_index=options.start,
        cpu_s={"synth": round(_own_cpu() - cpu_started, 1), "postgres_backend": _round(_backend_cpu())},
        screenings=screenings,
    )
    progress(f"done: {done} patients, {followups} follow-ups in {report.seconds:.1f}s")
    return report


def population_size(prefix: str) -> int:
    """How many patients carry a ``submission_key`` starting with ``prefix``."""
    return Patient.objects.filter(submission_key__startswith=prefix).count()


def population_complete(prefix: str, n: int) -> bool:
    """Whether a finished population of exactly ``n`` patients with ``prefix`` is present.

    Batches commit in order, so the last patient's presence plus the count means the build ended.
    """
    return Patient.objects.filter(submission_key=f"{prefix}{n - 1}").exists() and population_size(prefix) == n


def clear_population(prefix: str) -> int:
    """Delete a synthetic population (``submission_key`` prefix) and all its rows, in SQL.

    Returns the number of patients deleted.
    """
    from xinqiao.followups import synth as followup_synth

    if not prefix:
        raise ValueError("a population prefix is required")
    qs = Patient.objects.filter(submission_key__startswith=prefix)
    ids = qs.values("id")
    with transaction.atomic():
        person_ids = list(qs.values_list("person_id", flat=True))
        cases = SuspectedCase._default_manager.filter(Q(submission_key__startswith=prefix) | Q(patient_id__in=ids))
        # The suspected persons who are not patients (of this population or any other).
        person_ids += list(Person.objects.filter(id__in=cases.filter(patient__isnull=True).values("person_id"),
                                                 patient__isnull=True).values_list("id", flat=True))
        followup_synth.delete_for_patients(ids)
        events = SuspectedCaseEvent._default_manager.filter(case__in=cases.values("id"))
        events._raw_delete(events.db)
        case_ids = list(cases.values_list("id", flat=True))
        for chunk in _chunks(case_ids, 20_000):
            rows = SuspectedCase._default_manager.filter(id__in=chunk)
            rows._raw_delete(rows.db)
        for model in (StatusChange, Transfer, CaseReport, PersonalSupplement):
            rows = model._default_manager.filter(patient_id__in=ids)
            rows._raw_delete(rows.db)
        deleted = qs.count()
        qs._raw_delete(qs.db)
        from xinqiao.screening import synth as screening_synth

        screening_synth.clear_screenings(prefix)  # those ``--screenings`` added, if any
        for chunk in _chunks(person_ids, 20_000):
            persons = Person.objects.filter(id__in=chunk)
            persons._raw_delete(persons.db)
    return deleted


# --- Populations for the benchmarks ------------------------------------------------------------

#: Every benchmark population's key prefix starts with this.
BENCH_PREFIX = "bench:"


def bench_prefix(n: int, seed: int) -> str:
    """Key prefix of the benchmark population of ``n`` patients and ``seed``."""
    return f"{BENCH_PREFIX}{seed}:{n}:"


@dataclass
class Population:
    """A benchmark population: its prefix, whether this run built it and how long that took."""

    prefix: str
    patients: int
    built: bool
    build: dict[str, Any] | None


def ensure_population(n: int, *, seed: int = 1, years: int = 3, region: str = DEFAULT_REGION, workers: int = 0,
                      progress: Callable[[str], None] = _log) -> Population:
    """The benchmark population of ``n`` patients for ``seed``: reused when complete, else built.

    A benchmark measures one population: any other benchmark population in the database is
    removed first (other data is left alone).
    """
    prefix = bench_prefix(n, seed)
    if population_complete(prefix, n):
        progress(f"reusing population {prefix} ({n} patients)")
        return Population(prefix=prefix, patients=n, built=False, build=None)
    stale = (Patient.objects.filter(submission_key__startswith=BENCH_PREFIX).order_by()
             .values_list("submission_key", flat=True).first())
    while stale:
        old = stale.rsplit(":", 1)[0] + ":"
        removed = clear_population(old)
        progress(f"removed the previous benchmark population {old} ({removed} patients)")
        stale = (Patient.objects.filter(submission_key__startswith=BENCH_PREFIX).order_by()
                 .values_list("submission_key", flat=True).first())
    report = build(SynthOptions(patients=n, seed=seed, years=years, region=region, workers=workers, key_prefix=prefix),
                   progress=progress)
    return Population(prefix=prefix, patients=n, built=True, build=report.as_dict())
