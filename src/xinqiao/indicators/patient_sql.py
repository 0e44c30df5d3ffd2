"""Set-based SQL of the patient indicators (DOMAIN.md §6), on PostgreSQL and SQLite alike.

``flags_sql`` computes, for every patient on the register at the period end, the facts the
indicators count; ``rollup_sql`` wraps it in one statement that sums them per township and rolls
the townships up to county, city and province through the ``InRegion`` code columns (``GROUP BY
ROLLUP`` on PostgreSQL, a ``UNION ALL`` of four ``GROUP BY`` on SQLite). The population
denominators of ``prevalence`` come from ``populations.figures`` (one more statement, shared with
the service indicators). The drill-down (``drilldown.py``) selects patient ids from the very same
``flags_sql`` (narrowed to one region), so the lists and the counts cannot disagree.

Definitions (E = the period's last day, W = the 12 months ending at E, ``periods.year_window``;
configurable values in ``data/indicators.json`` → ``rules``):

- status at E: the ``to_status`` of the patient's latest ``StatusChange`` dated on or before E (ties
  by id); a patient without such a row has ``Patient.status`` if that status dates from E or before
  (or has no date), else 管理中 (managed, the status every registration starts with).
- 在册 (``reg``): registered on or before E and status at E not 死亡 / 迁出 / 销案.
- in hospital (``in_hosp``): status at E 住院中.
- a *completed follow-up*: a ``FollowUp`` with outcome 访到 (visited), dated in W.
- 年在管 (``managed``): 在册 with ≥1 completed follow-up, or in hospital.
- 规范管理 (``standard``): 在册 with ≥ ``min_followups`` completed follow-ups and no gap over
  ``max_gap_days`` days between consecutive ones, from max(W start, registration date) to the
  first, or from the last to E.
- 面访 (``f2f``): ≥1 completed follow-up by method 门诊 or 家庭 (every such patient is 年在管).
- the *last follow-up*: the latest completed follow-up in W (ties by id).
- 服药 (``med``): last follow-up adherence 规律 or 间断, or in hospital; 规律服药 (``regular``): 规律.
- schizophrenia (``schiz``): diagnosis F20 and 年在管; ``schiz_med``: and 服药.
- 居家 (``home``): 在册 and not in hospital; 居家在管 (``home_managed``): 年在管 and not in hospital.
- 病情稳定 (``stable``): 居家在管 whose last follow-up is within ``stable_recent_days`` of E and
  classed 稳定 (3).
- 社区康复 (``rehab``): 居家 with ``PersonalSupplement.community_rehab`` (the current value: the
  supplement keeps no history).
- 肇事肇祸 (``incident``) / 轻度滋事 (``minor``): 在册 with a completed follow-up dated in the
  period (not W) recording 肇事 or 肇祸 (resp. 轻度滋事) since the previous visit.

The patient's region is the one they are registered in now (a transfer moves the whole record).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection

from xinqiao.core.models.region import SCOPE_COLUMN
from xinqiao.core.regions_data import level_of
from xinqiao.indicators import definitions
from xinqiao.indicators.engine import Row, calculator
from xinqiao.indicators.periods import Period, year_window
from xinqiao.patients.codes import PatientStatus

#: indicator code → (numerator flag, denominator flag); ``None``: the population, not patients.
FLAGS: dict[str, tuple[str, str | None]] = {
    "prevalence": ("reg", None),
    "managed_rate": ("managed", "reg"),
    "standard_management_rate": ("standard", "reg"),
    "face_to_face_rate": ("f2f", "managed"),
    "medication_rate": ("med", "reg"),
    "regular_medication_rate": ("regular", "reg"),
    "schizophrenia_medication_rate": ("schiz_med", "schiz"),
    "stable_rate": ("stable", "home_managed"),
    "community_rehab_rate": ("rehab", "home"),
    "incident_rate": ("incident", "reg"),
    "minor_trouble_rate": ("minor", "reg"),
}
FLAG_COLUMNS: tuple[str, ...] = ("reg", "managed", "standard", "f2f", "med", "regular", "schiz", "schiz_med",
                                 "home_managed", "stable", "home", "rehab", "incident", "minor")
CODE_COLUMNS: tuple[str, ...] = ("province_code", "city_code", "county_code", "township_code")

_NAMED = re.compile(r"%\((\w+)\)s")


def bind(sql: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """Turn ``%(name)s`` placeholders into positional ``%s`` with the values in order (for RawSQL)."""
    params: list[Any] = []

    def one(match: re.Match[str]) -> str:
        params.append(values[match.group(1)])
        return "%s"

    return _NAMED.sub(one, sql), params


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _days(later: str, earlier: str) -> str:
    """Whole days from ``earlier`` to ``later`` (date expressions)."""
    if _pg():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _pg() else f"MAX({a}, {b})"


def _date(value: date) -> Any:
    return value if _pg() else value.isoformat()


def _int_list(values: Iterable[Any]) -> str:
    items = [int(v) for v in values]
    return ", ".join(str(v) for v in items)


def _status_list(values: Iterable[str]) -> str:
    allowed = set(PatientStatus.values)
    items = [v for v in values if v in allowed]
    if not items:
        raise definitions.DefinitionError("indicators.json: rules.not_registered_statuses has no known status")
    return ", ".join(f"'{v}'" for v in items)


def flags_sql(period: Period, region_code: str | None = None) -> tuple[str, dict[str, Any]]:
    """``SELECT id, <4 code columns>, <FLAG_COLUMNS>`` over the patients on the register at the period end.

    With ``region_code`` only that region's patients are read (the drill-down: the status changes and
    follow-ups are narrowed through ``patient_id``, so the same definitions run on far fewer rows).
    """
    rules = definitions.rules()
    std = rules["standard_management"]
    in_hosp = rules["in_hospital_status"]
    if in_hosp not in PatientStatus.values:
        raise definitions.DefinitionError("indicators.json: rules.in_hospital_status is not a status")
    wstart, end = year_window(period)
    status_at = ("COALESCE(ls.to_status, CASE WHEN p.status_changed_on IS NULL OR p.status_changed_on <= %(end)s "
                 "THEN p.status ELSE 'managed' END)")
    managed = "(fa.n >= 1 OR r.in_hosp = 1)"
    med = f"(r.in_hosp = 1 OR fa.last_adherence IN ({_int_list(rules['medication_adherence'])}))"
    schiz = f"(r.diagnosis = '{rules['schizophrenia_diagnosis'].replace(chr(39), '')}' AND {managed})"
    gap = "%(max_gap)s"
    mine = own = ""
    if region_code is not None:
        column = SCOPE_COLUMN[level_of(region_code)]
        own = f" AND p.{column} = %(region)s"
        mine = f" AND patient_id IN (SELECT id FROM patients_patient WHERE {column} = %(region)s)"  # noqa: S608
    # Only validated codes and literals are interpolated; every value is a parameter.
    sql = f"""
WITH last_status AS (
  SELECT patient_id, to_status FROM (
    SELECT patient_id, to_status,
           ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY changed_on DESC, id DESC) AS rn
    FROM patients_statuschange WHERE changed_on <= %(end)s{mine}
  ) s WHERE rn = 1
),
r AS (
  SELECT p.id, p.province_code, p.city_code, p.county_code, p.township_code, p.diagnosis, p.registered_on,
         CASE WHEN {status_at} = '{in_hosp}' THEN 1 ELSE 0 END AS in_hosp
  FROM patients_patient p LEFT JOIN last_status ls ON ls.patient_id = p.id
  WHERE p.registered_on <= %(end)s{own}
    AND {status_at} NOT IN ({_status_list(rules['not_registered_statuses'])})
),
fu AS (
  SELECT patient_id, followup_date, method, adherence, classification,
         trouble_count + disaster_count AS incidents, minor_trouble_count AS minor,
         CASE WHEN LEAD(id) OVER w IS NULL THEN 1 ELSE 0 END AS rn,
         LAG(followup_date) OVER w AS prev_date
  FROM followups_followup
  WHERE outcome = 'visited' AND followup_date >= %(wstart)s AND followup_date <= %(end)s{mine}
  WINDOW w AS (PARTITION BY patient_id ORDER BY followup_date, id)
),
fa AS (
  SELECT patient_id, COUNT(*) AS n,
         MAX(CASE WHEN method IN ({_int_list(rules['face_to_face_methods'])}) THEN 1 ELSE 0 END) AS f2f,
         MAX(CASE WHEN prev_date IS NULL THEN 0 ELSE {_days('followup_date', 'prev_date')} END) AS max_gap,
         MIN(followup_date) AS first_date, MAX(followup_date) AS last_date,
         MAX(CASE WHEN rn = 1 THEN adherence END) AS last_adherence,
         MAX(CASE WHEN rn = 1 THEN classification END) AS last_class,
         MAX(CASE WHEN followup_date >= %(start)s AND incidents > 0 THEN 1 ELSE 0 END) AS incident,
         MAX(CASE WHEN followup_date >= %(start)s AND minor > 0 THEN 1 ELSE 0 END) AS minor
  FROM fu GROUP BY patient_id
)
SELECT r.id, r.province_code, r.city_code, r.county_code, r.township_code,
  1 AS reg,
  CASE WHEN {managed} THEN 1 ELSE 0 END AS managed,
  CASE WHEN fa.n >= %(min_n)s AND fa.max_gap <= {gap}
        AND {_days('fa.first_date', _greatest('%(wstart)s', 'r.registered_on'))} <= {gap}
        AND {_days('%(end)s', 'fa.last_date')} <= {gap} THEN 1 ELSE 0 END AS standard,
  COALESCE(fa.f2f, 0) AS f2f,
  CASE WHEN {med} THEN 1 ELSE 0 END AS med,
  CASE WHEN fa.last_adherence IN ({_int_list(rules['regular_adherence'])}) THEN 1 ELSE 0 END AS regular,
  CASE WHEN {schiz} THEN 1 ELSE 0 END AS schiz,
  CASE WHEN {schiz} AND {med} THEN 1 ELSE 0 END AS schiz_med,
  CASE WHEN r.in_hosp = 0 AND fa.n >= 1 THEN 1 ELSE 0 END AS home_managed,
  CASE WHEN r.in_hosp = 0 AND fa.n >= 1 AND fa.last_class = %(stable_class)s
        AND {_days('%(end)s', 'fa.last_date')} <= %(stable_days)s THEN 1 ELSE 0 END AS stable,
  CASE WHEN r.in_hosp = 0 THEN 1 ELSE 0 END AS home,
  CASE WHEN r.in_hosp = 0 AND ps.community_rehab THEN 1 ELSE 0 END AS rehab,
  COALESCE(fa.incident, 0) AS incident,
  COALESCE(fa.minor, 0) AS minor
FROM r
LEFT JOIN fa ON fa.patient_id = r.id
LEFT JOIN patients_personalsupplement ps ON ps.patient_id = r.id
"""  # noqa: S608
    values = {
        "end": _date(end), "wstart": _date(wstart), "start": _date(period.start),
        "min_n": int(std["min_followups"]), "max_gap": int(std["max_gap_days"]),
        "stable_class": int(rules["stable_classification"]), "stable_days": int(rules["stable_recent_days"]),
        "region": region_code,
    }
    return sql, values


def _sums() -> str:
    return ", ".join(f"SUM({c}) AS {c}" for c in FLAG_COLUMNS)


def rollup_sql(period: Period) -> tuple[str, dict[str, Any]]:
    """``SELECT code, <sums of FLAG_COLUMNS>`` for every region at every level that has patients on the register."""
    flags, values = flags_sql(period)
    cols = ", ".join(CODE_COLUMNS)
    town = f"SELECT {cols}, {_sums()} FROM ({flags}) f GROUP BY {cols}"  # noqa: S608
    if _pg():
        sql = (f"SELECT COALESCE(township_code, county_code, city_code, province_code) AS code, {_sums()} "  # noqa: S608
               f"FROM ({town}) t GROUP BY ROLLUP ({cols}) HAVING GROUPING(province_code) = 0")
    else:
        # The township sums are a CTE used four times: SQLite materialises it once.
        sql = f"WITH t AS ({town})\n" + "\nUNION ALL\n".join(  # noqa: S608
            f"SELECT {column} AS code, {_sums()} FROM t GROUP BY {column}"  # noqa: S608
            for column in CODE_COLUMNS)
    return sql, values


def _fetch(sql: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    text, params = bind(sql, values)
    with connection.cursor() as cur:
        cur.execute(text, params)
        return list(cur.fetchall())


def region_counts(period: Period) -> dict[str, dict[str, int]]:
    """``{region code: {flag: count}}`` for every region with patients on the register at the period end."""
    out: dict[str, dict[str, int]] = {}
    for row in _fetch(*rollup_sql(period)):
        code = row[0]
        if code:
            out[code] = {flag: int(value or 0) for flag, value in zip(FLAG_COLUMNS, row[1:], strict=True)}
    return out


def populations(year: int) -> dict[str, int]:
    """``{region code: resident population}`` for ``year``: ``populations.figures`` (SERVICE's one
    statement: own latest figure ≤ year, else the sum of the children's when every child has one)."""
    from xinqiao.indicators.populations import figures

    return figures("population", year)


def _level(code: str) -> int:
    return {2: 1, 4: 2, 6: 3, 9: 4}[len(code)]


@calculator(*FLAGS)
def patient_indicators(period: Period, codes: set[str]) -> Iterable[Row]:
    """Rows of the patient indicators: one rollup statement, plus the population one for ``prevalence``."""
    counts = region_counts(period)
    rows: list[Row] = []
    for code in sorted(codes):
        numerator, denominator = FLAGS[code]
        if denominator is None:
            continue
        for region, c in counts.items():
            rows.append((code, region, _level(region), c[numerator], c[denominator]))
    if "prevalence" in codes:
        population = populations(period.year)
        for region in sorted(set(counts) | set(population)):
            registered = counts.get(region, {}).get("reg", 0)
            rows.append(("prevalence", region, _level(region), registered, population.get(region)))
    return rows
