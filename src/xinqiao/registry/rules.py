"""The registry's rules as plain functions over plain values (no Django import).

Everything configurable is read from ``registry/data/*.json`` and cited there:

- ``workflow.json``: the state machines of registration applications, sanctions, inspection
  findings and complaints (意见 19, 24: 登记、评价、信息公开、优胜劣汰), with separation of duties;
- ``credential_types.json``: credential schemes (the 心理咨询师 national vocational qualification
  ended in 2017, so a certificate of that type issued later is refused);
- ``evaluation_checklist.json``: the scored inspection and evaluation checklist and its grades;
- ``kinds.json``: kinds of institution, their core organisation type, the public finder's filters;
- ``coverage.json``: targets of the service-system indicators (DOMAIN.md §6);
- ``public.json``: rates and limits of the public pages.

Also: distances (haversine and the bounding box that pre-filters in SQL), opening hours, and the
normalisation used by the credential look-up's blind indexes.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------------------------------
# Workflows
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One allowed move of a state machine."""

    action: str
    sources: frozenset[str]
    target: str
    permission: str
    reason: bool = False
    actor_is: str | None = None  # the actor must be this party of the record
    actor_not: frozenset[str] = frozenset()  # the actor must be none of these parties
    kinds: frozenset[str] | None = None  # only for records of these kinds


@dataclass(frozen=True)
class Machine:
    """A state machine read from ``workflow.json``."""

    name: str
    initial: str
    states: tuple[str, ...]
    final: frozenset[str]
    transitions: dict[str, Transition] = field(default_factory=dict)


class TransitionRefused(Exception):
    """A transition the rules do not allow; ``code`` says why, ``field`` what to point at."""

    def __init__(self, code: str, field: str = "action") -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def _machine(name: str, raw: dict[str, Any]) -> Machine:
    states = tuple(raw["states"])
    transitions: dict[str, Transition] = {}
    for t in raw["transitions"]:
        sources = frozenset(t["from"])
        unknown = (sources | {t["to"]}) - set(states)
        if unknown:
            raise ValueError(f"workflow.json: {name}.{t['action']} names unknown states {sorted(unknown)}")
        if t["action"] in transitions:
            raise ValueError(f"workflow.json: {name}.{t['action']} is declared twice")
        transitions[t["action"]] = Transition(
            action=t["action"], sources=sources, target=t["to"], permission=t["permission"],
            reason=bool(t.get("reason", False)), actor_is=t.get("actor_is"),
            actor_not=frozenset(t.get("actor_not", ())),
            kinds=frozenset(t["kinds"]) if t.get("kinds") else None,
        )
    final = frozenset(raw["final"])
    for t in transitions.values():
        if t.sources & final:
            raise ValueError(f"workflow.json: {name}.{t.action} leaves a final state")
    if raw["initial"] not in states:
        raise ValueError(f"workflow.json: {name} has an unknown initial state")
    return Machine(name=name, initial=raw["initial"], states=states, final=final, transitions=transitions)


@cache
def workflows() -> dict[str, Machine]:
    """Every state machine of ``workflow.json``, by name."""
    raw = _load("workflow.json")
    return {name: _machine(name, spec) for name, spec in raw.items() if not name.startswith("_")}


def workflow(name: str) -> Machine:
    """One state machine (``application``, ``sanction``, ``finding``, ``complaint``)."""
    return workflows()[name]


def check_transition(machine: Machine, state: str, action: str, *, has_perm: Callable[[str], bool],
                     parties: Iterable[str] = (), reason: str = "", kind: str | None = None) -> Transition:
    """The transition ``action`` from ``state``, or ``TransitionRefused`` naming why not.

    ``parties`` are the roles the actor plays on this record (``applicant``, ``reviewer``,
    ``proposer``, ``institution``). Checked in this order: the action exists; the actor holds its
    permission (without it nothing else is revealed); it applies to this kind of record and leaves
    from this state; the actor is the required party and none of the refused ones; a reason is
    given where one is required.
    """
    transition = machine.transitions.get(action)
    if transition is None:
        raise TransitionRefused("unknown_action")
    if not has_perm(transition.permission):
        raise TransitionRefused("permission")
    if transition.kinds is not None and kind not in transition.kinds:
        raise TransitionRefused("wrong_kind")
    if state not in transition.sources:
        raise TransitionRefused("wrong_state")
    roles = set(parties)
    if transition.actor_is is not None and transition.actor_is not in roles:
        raise TransitionRefused("not_party")
    if roles & transition.actor_not:
        raise TransitionRefused("conflict")
    if transition.reason and len(reason.strip()) < 2:
        raise TransitionRefused("reason_required", field="reason")
    return transition


def available_actions(machine: Machine, state: str, *, has_perm: Callable[[str], bool],
                      parties: Iterable[str] = (), kind: str | None = None) -> list[str]:
    """The actions this actor could take now (a reason, where needed, assumed to be given)."""
    out = []
    for action in machine.transitions:
        try:
            check_transition(machine, state, action, has_perm=has_perm, parties=parties, reason="--", kind=kind)
        except TransitionRefused:
            continue
        out.append(action)
    return out


# --------------------------------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialType:
    """A credential scheme (``credential_types.json``)."""

    code: str
    zh: str
    en: str
    issuer: str
    professions: frozenset[str]
    valid_years: int | None
    no_new_issues_after: date | None
    counts_as: str | None
    source: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@cache
def credential_types() -> dict[str, CredentialType]:
    """Every credential type, by code, in file order."""
    out: dict[str, CredentialType] = {}
    for t in _load("credential_types.json")["types"]:
        if t["code"] in out:
            raise ValueError(f"credential_types.json: {t['code']} twice")
        last = t.get("no_new_issues_after")
        out[t["code"]] = CredentialType(
            code=t["code"], zh=t["zh"], en=t["en"], issuer=t.get("issuer", ""),
            professions=frozenset(t.get("professions", ())),
            valid_years=int(t["valid_years"]) if t.get("valid_years") else None,
            no_new_issues_after=date.fromisoformat(last) if last else None,
            counts_as=t.get("counts_as"), source=t.get("source", ""),
        )
    return out


CREDENTIAL_STATUSES = ("valid", "expired", "revoked")


def credential_status(*, revoked: bool, expiry_date: date | None, today: date) -> str:
    """``revoked`` beats ``expired`` beats ``valid``; a credential is valid through its expiry date."""
    if revoked:
        return "revoked"
    if expiry_date is not None and expiry_date < today:
        return "expired"
    return "valid"


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def default_expiry(ctype: CredentialType, issue_date: date) -> date | None:
    """The expiry a credential gets when none is entered: the type's period, if it has one.

    《护士条例》 art. 8: registration is valid for five years, so it lapses the day before the
    fifth anniversary of the issue date.
    """
    if ctype.valid_years is None:
        return None
    return date.fromordinal(add_years(issue_date, ctype.valid_years).toordinal() - 1)


def credential_problems(ctype: CredentialType, *, profession: str, issue_date: date | None,
                        expiry_date: date | None, today: date) -> list[tuple[str, str]]:
    """``(field, code)`` for everything wrong with a credential of this type; empty when fine."""
    problems: list[tuple[str, str]] = []
    if ctype.professions and profession not in ctype.professions:
        problems.append(("type_code", "profession_mismatch"))
    if issue_date is not None:
        if issue_date > today:
            problems.append(("issue_date", "in_future"))
        if ctype.no_new_issues_after is not None and issue_date > ctype.no_new_issues_after:
            problems.append(("issue_date", "discontinued"))
        if expiry_date is not None and expiry_date < issue_date:
            problems.append(("expiry_date", "before_issue"))
    return problems


_SPACES = re.compile(r"[\s\u00b7\u30fb\u2022.·]+")


def normalise_name(value: str) -> str:
    """A name as the look-up compares it: NFKC, no spaces or middle dots, case-folded (then NFKC again,
    since case folding can leave a string that NFKC would recompose).

    ``"张 三"``, ``"张三"`` and the full-width ``"张三"`` compare equal; so do ``"Ali·Yusuf"`` and
    ``"ali yusuf"``.
    """
    folded = unicodedata.normalize("NFKC", _SPACES.sub("", unicodedata.normalize("NFKC", value or "")).casefold())
    return _SPACES.sub("", folded)


def normalise_number(value: str) -> str:
    """A certificate number as the look-up compares it: NFKC, upper case, no spaces or dashes."""
    return re.sub(r"[\s\-_/]+", "", unicodedata.normalize("NFKC", value or "")).upper()


# --------------------------------------------------------------------------------------------------
# Evaluation checklist
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    section: str
    zh: str
    en: str
    points: int
    critical: bool

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Grade:
    code: str
    zh: str
    en: str
    min_percent: float

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Checklist:
    id: str
    version: str
    items: tuple[ChecklistItem, ...]
    grades: tuple[Grade, ...]  # best first
    critical_cap: str
    sections: tuple[tuple[str, str, str], ...]  # code, zh, en

    @property
    def max_total(self) -> int:
        return sum(i.points for i in self.items)

    def item(self, code: str) -> ChecklistItem:
        for i in self.items:
            if i.code == code:
                return i
        raise KeyError(code)

    def grade(self, code: str) -> Grade:
        for g in self.grades:
            if g.code == code:
                return g
        raise KeyError(code)


def parse_checklist(raw: dict[str, Any]) -> Checklist:
    """Build and check a checklist from its JSON form."""
    items = []
    sections = []
    for section in raw["sections"]:
        sections.append((section["code"], section["zh"], section["en"]))
        for i in section["items"]:
            if int(i["points"]) <= 0:
                raise ValueError(f"checklist item {i['code']}: points must be positive")
            items.append(ChecklistItem(code=i["code"], section=section["code"], zh=i["zh"], en=i["en"],
                                       points=int(i["points"]), critical=bool(i.get("critical", False))))
    codes = [i.code for i in items]
    if len(codes) != len(set(codes)):
        raise ValueError("checklist item codes must be unique")
    grades = tuple(sorted((Grade(g["code"], g["zh"], g["en"], float(g["min_percent"])) for g in raw["grades"]),
                          key=lambda g: -g.min_percent))
    if not grades or grades[-1].min_percent != 0:
        raise ValueError("checklist grades must end with a band starting at 0%")
    cap = raw.get("critical_cap", grades[-1].code)
    if cap not in {g.code for g in grades}:
        raise ValueError("checklist critical_cap names no grade")
    return Checklist(id=raw["id"], version=str(raw["version"]), items=tuple(items), grades=grades,
                     critical_cap=cap, sections=tuple(sections))


@cache
def checklist() -> Checklist:
    """The configured checklist (``evaluation_checklist.json``)."""
    return parse_checklist(_load("evaluation_checklist.json"))


class ScoreError(Exception):
    """A checklist score that cannot be accepted; ``item`` is the item code, ``code`` the reason."""

    def __init__(self, item: str, code: str) -> None:
        super().__init__(f"{item}: {code}")
        self.item = item
        self.code = code


@dataclass(frozen=True)
class Scored:
    total: float
    max_total: int
    percent: float
    grade: str
    capped: bool  # a critical item pulled the grade down


def score_checklist(cl: Checklist, scores: Mapping[str, float]) -> Scored:
    """Total, percentage and grade of a complete set of item scores (every item scored once)."""
    unknown = set(scores) - {i.code for i in cl.items}
    if unknown:
        raise ScoreError(sorted(unknown)[0], "unknown_item")
    total = 0.0
    critical_failed = False
    for item in cl.items:
        if item.code not in scores or scores[item.code] is None:
            raise ScoreError(item.code, "missing")
        value = float(scores[item.code])
        if math.isnan(value) or value < 0 or value > item.points:
            raise ScoreError(item.code, "out_of_range")
        total += value
        if item.critical and value < item.points / 2:
            critical_failed = True
    percent = round(100.0 * total / cl.max_total, 1)
    grade = next(g for g in cl.grades if percent >= g.min_percent)
    capped = False
    if critical_failed:
        order = [g.code for g in cl.grades]
        if order.index(grade.code) < order.index(cl.critical_cap):
            grade = cl.grade(cl.critical_cap)
            capped = True
    return Scored(total=round(total, 1), max_total=cl.max_total, percent=percent, grade=grade.code, capped=capped)


# --------------------------------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    """Both given, finite, and on the globe."""
    if lat is None or lon is None:
        return False
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (the same formula the finder computes in SQL)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Box:
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


def bounding_box(lat: float, lon: float, radius_km: float) -> Box:
    """A latitude/longitude box containing every point within ``radius_km`` of (lat, lon).

    The box is the SQL pre-filter (two indexed range conditions); the exact distance is then
    computed for the rows inside it only. Near the poles the box widens to every longitude.
    """
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if max_lat >= 89.9 or min_lat <= -89.9:
        return Box(min_lat, max_lat, -180.0, 180.0)
    dlon = math.degrees(math.asin(min(1.0, math.sin(radius_km / EARTH_RADIUS_KM) / math.cos(math.radians(lat)))))
    return Box(min_lat, max_lat, max(-180.0, lon - dlon), min(180.0, lon + dlon))


# --------------------------------------------------------------------------------------------------
# Opening hours
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Interval:
    """Open on ISO ``weekday`` (1 = Monday … 7 = Sunday) from ``opens`` to ``closes`` minutes past
    midnight (``closes`` ≤ 1440; an interval never crosses midnight: overnight hours are split)."""

    weekday: int
    opens: int
    closes: int


class HoursError(ValueError):
    """Opening hours that cannot be read; ``fragment`` is the part that could not."""

    def __init__(self, fragment: str) -> None:
        super().__init__(fragment)
        self.fragment = fragment


_DAYS = re.compile(r"^([1-7])(?:-([1-7]))?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _minutes(text: str, fragment: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise HoursError(fragment)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise HoursError(fragment)
    return hours * 60 + minutes


def parse_hours(text: str) -> list[Interval]:
    """Read weekly hours such as ``"1-5 08:00-12:00,14:00-17:30; 6 09:00-12:00"``.

    Days are ISO numbers (1 = Monday … 7 = Sunday), single or a range, several joined by commas
    (``"1,3,5"``); segments are separated by ``;`` or new lines. ``22:00-06:00`` runs overnight and
    is split at midnight into the two days. An empty text means no regular hours.
    """
    out: set[Interval] = set()
    for segment in re.split(r"[;\n；]+", text or ""):
        segment = segment.strip()
        if not segment:
            continue
        parts = segment.split(None, 1)
        if len(parts) != 2:
            raise HoursError(segment)
        days: list[int] = []
        for chunk in parts[0].split(","):
            match = _DAYS.match(chunk.strip())
            if not match:
                raise HoursError(segment)
            first, last = int(match.group(1)), int(match.group(2) or match.group(1))
            if last < first:
                raise HoursError(segment)
            days.extend(range(first, last + 1))
        for span in re.split(r"[,，]", parts[1]):
            if "-" not in span:
                raise HoursError(segment)
            start_text, end_text = span.split("-", 1)
            start, end = _minutes(start_text, segment), _minutes(end_text, segment)
            if start == end or start == 1440:
                raise HoursError(segment)
            for day in days:
                if end > start:
                    out.add(Interval(day, start, end))
                else:  # overnight: to midnight, then from midnight on the next day
                    out.add(Interval(day, start, 1440))
                    if end:
                        out.add(Interval(day % 7 + 1, 0, end))
    return sorted(out)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_hours(intervals: Iterable[Interval]) -> str:
    """The canonical text of intervals (``parse_hours(format_hours(x)) == x`` for split input)."""
    by_day: dict[int, list[Interval]] = {}
    for i in sorted(intervals):
        by_day.setdefault(i.weekday, []).append(i)
    segments: list[tuple[list[int], str]] = []
    for day in sorted(by_day):
        spans = ",".join(f"{_clock(i.opens)}-{_clock(i.closes)}" for i in by_day[day])
        if segments and segments[-1][1] == spans and segments[-1][0][-1] == day - 1:
            segments[-1][0].append(day)
        else:
            segments.append(([day], spans))
    out = []
    for days, spans in segments:
        label = str(days[0]) if len(days) == 1 else f"{days[0]}-{days[-1]}"
        out.append(f"{label} {spans}")
    return "; ".join(out)


def is_open(intervals: Iterable[Interval], weekday: int, minute: int) -> bool:
    """Whether any interval covers this ISO weekday and minute of the day."""
    return any(i.weekday == weekday and i.opens <= minute < i.closes for i in intervals)


# --------------------------------------------------------------------------------------------------
# Kinds, coverage targets, public settings
# --------------------------------------------------------------------------------------------------


@cache
def kinds() -> dict[str, dict[str, Any]]:
    """Kind code → its configuration (``kinds.json``)."""
    raw: dict[str, dict[str, Any]] = _load("kinds.json")["kinds"]
    return raw


def org_type_for(kind: str, region_level: int) -> str:
    """The core organisation type a new institution of this kind gets at this region level."""
    conf = kinds()[kind]
    if "org_type_by_level" in conf:
        by_level: dict[str, str] = conf["org_type_by_level"]
        return by_level.get(str(region_level), by_level[max(by_level)])
    return str(conf["org_type"])


def public_kinds() -> frozenset[str]:
    """Kinds listed in the public finder."""
    return frozenset(k for k, conf in kinds().items() if conf.get("public"))


@cache
def finder_filters() -> dict[str, frozenset[str]]:
    """Public filter → the service codes it matches."""
    raw = _load("kinds.json")["finder_filters"]
    return {k: frozenset(v) for k, v in raw.items() if not k.startswith("_")}


@cache
def coverage_config() -> dict[str, Any]:
    """Targets and zones (``coverage.json``)."""
    return _load("coverage.json")


def zone_of(province_code: str) -> str:
    """``east``, ``central`` or ``west`` for a province code (``coverage.json``); east if unknown."""
    for zone, codes in coverage_config()["zones"].items():
        if province_code[:2] in codes:
            return str(zone)
    return "east"


def psychiatrist_target(province_code: str) -> float:
    """Psychiatrists per 100,000 the plan asks of this province's zone."""
    return float(coverage_config()["targets"]["psychiatrists_per_100k"][zone_of(province_code)])


@cache
def public_settings() -> dict[str, Any]:
    """Rates and limits of the public pages (``public.json``)."""
    return _load("public.json")


def percent(numerator: int | float, denominator: int | float | None) -> float | None:
    """``numerator / denominator`` as a percentage with one decimal, ``None`` without a denominator."""
    if not denominator:
        return None
    return round(100.0 * numerator / denominator, 1)


def per_100k(count: int, population: int | None) -> float | None:
    """``count`` per 100,000 people, two decimals; ``None`` without a population."""
    if not population:
        return None
    return round(count * 100000 / population, 2)


VILLAGE_CODE = re.compile(r"^\d{12}$")


def village_in_township(village_code: str, township_code: str) -> bool:
    """A 12-digit 统计用区划代码 of a village/community lies in its 9-digit township."""
    return bool(VILLAGE_CODE.match(village_code)) and village_code.startswith(township_code)
