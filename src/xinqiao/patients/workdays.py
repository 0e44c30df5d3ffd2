"""Working-day arithmetic on the official Chinese holiday calendar (DOMAIN.md §5).

The time limits of the register are counted in working days (《严重精神障碍发病报告管理办法（试行）》2013:
a hospital enters a confirmed case within 10 working days; the county enters a written report within
5). Working days follow the State Council's yearly notice (国务院办公厅关于部分节假日安排的通知): public
holidays are off even on weekdays, and some weekends are adjusted working days (调休). Weekends alone
are wrong.

Sources, in order of precedence:

1. ``data/holidays_extra.json``: years (or corrections) an administrator adds from the notice;
2. the ``chinese_calendar`` module (PyPI ``chinesecalendar``, transcribed from the notices; 2004–2026
   in version 1.11);
3. otherwise Monday–Friday, and the answer is marked *uncertain* (``certain=False``) so that callers
   can say so instead of presenting a guessed deadline as fact.

Pure Python: no Django import.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import chinese_calendar

EXTRA_FILE = Path(__file__).resolve().parent / "data" / "holidays_extra.json"


class WorkdayDate(NamedTuple):
    """A date computed by working-day arithmetic, and whether every day crossed was covered by data."""

    date: date
    certain: bool


class WorkdayCount(NamedTuple):
    """A number of working days, and whether every day counted was covered by data."""

    days: int
    certain: bool


@lru_cache(maxsize=1)
def extra_calendar() -> dict[int, tuple[frozenset[date], frozenset[date]]]:
    """Year → (holidays, adjusted working days) from ``holidays_extra.json``; validated on load."""
    raw = json.loads(EXTRA_FILE.read_text(encoding="utf-8"))
    out: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
    for year_text, entry in raw.get("years", {}).items():
        year = int(year_text)
        holidays = frozenset(date.fromisoformat(d) for d in entry.get("holidays", []))
        workdays = frozenset(date.fromisoformat(d) for d in entry.get("workdays", []))
        stray = [d for d in holidays | workdays if d.year != year]
        if stray:
            raise ValueError(f"holidays_extra.json: {stray[0]} is listed under {year}")
        both = holidays & workdays
        if both:
            raise ValueError(f"holidays_extra.json: {min(both)} is both a holiday and a working day")
        out[year] = (holidays, workdays)
    return out


def reload() -> None:
    """Forget the cached data file (after an administrator edits it, and in tests)."""
    extra_calendar.cache_clear()
    day_status.cache_clear()


def covered(year: int) -> bool:
    """Whether the official calendar of ``year`` is known (data file or library)."""
    if year in extra_calendar():
        return True
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8192)
def day_status(day: date) -> tuple[bool, bool]:
    """(is a working day, certain) for one date."""
    extra = extra_calendar().get(day.year)
    if extra is not None:
        holidays, workdays = extra
        if day in holidays:
            return False, True
        if day in workdays:
            return True, True
        return day.weekday() < 5, True
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day (weekends only, uncertain, for an uncovered year)."""
    return day_status(day)[0]


def add_working_days(start: date, n: int) -> WorkdayDate:
    """The ``n``-th working day after ``start`` (before it for negative ``n``); ``start`` is not counted.

    ``add_working_days(diagnosed_on, 10)`` is the last day a case report is on time.
    ``n == 0`` gives ``start`` itself.
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    day = start
    certain = True
    while remaining:
        day += timedelta(days=step)
        working, known = day_status(day)
        certain = certain and known
        if working:
            remaining -= 1
    return WorkdayDate(day, certain)


def working_days_between(a: date, b: date) -> WorkdayCount:
    """Working days after ``a`` up to and including ``b`` (negative when ``b`` is before ``a``).

    The inverse of ``add_working_days``: when ``b`` is a working day,
    ``working_days_between(a, add_working_days(a, n).date).days == n``.
    """
    if b < a:
        back = working_days_between(b, a)
        return WorkdayCount(-back.days, back.certain)
    count = 0
    certain = True
    day = a
    while day < b:
        day += timedelta(days=1)
        working, known = day_status(day)
        certain = certain and known
        count += working
    return WorkdayCount(count, certain)
