"""Reporting periods of the indicators: a month (``2026-07``), a quarter (``2026Q3``) or a year (``2026``).

Pure Python (no database). A period is inclusive of its first and last day; "as of the period" means
"as of its last day" (``Period.end``). Bad keys raise a localized ``ValueError`` that names the key.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

MONTH, QUARTER, YEAR = "month", "quarter", "year"
TYPES: tuple[str, ...] = (MONTH, QUARTER, YEAR)

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER_RE = re.compile(r"^(\d{4})[Qq]([1-4])$")
_YEAR_RE = re.compile(r"^(\d{4})$")
_MIN_YEAR, _MAX_YEAR = 1990, 2100


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period; ``end`` is its last day (inclusive)."""

    key: str
    type: str
    start: date
    end: date

    @property
    def year(self) -> int:
        """The calendar year the period lies in (targets are looked up by it)."""
        return self.start.year

    def __str__(self) -> str:
        return self.key


def _bad(key: str) -> ValueError:
    return ValueError(
        _("“%(period)s” is not a period: use a month 2026-07, a quarter 2026Q3 or a year 2026.") % {"period": key}
    )


def _check_year(year: int, key: str) -> None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise _bad(key)


def month(year: int, month_number: int) -> Period:
    """The month ``year``-``month_number``."""
    last = calendar.monthrange(year, month_number)[1]
    return Period(f"{year:04d}-{month_number:02d}", MONTH, date(year, month_number, 1), date(year, month_number, last))


def quarter(year: int, number: int) -> Period:
    """Quarter ``number`` (1–4) of ``year``."""
    first = 3 * (number - 1) + 1
    last_month = first + 2
    return Period(f"{year:04d}Q{number}", QUARTER, date(year, first, 1),
                  date(year, last_month, calendar.monthrange(year, last_month)[1]))


def year(number: int) -> Period:
    """The calendar year ``number``."""
    return Period(f"{number:04d}", YEAR, date(number, 1, 1), date(number, 12, 31))


def parse(key: str) -> Period:
    """``"2026-07"`` → July 2026, ``"2026Q3"`` → third quarter, ``"2026"`` → the year."""
    text = (key or "").strip()
    if m := _MONTH_RE.match(text):
        y, mo = int(m.group(1)), int(m.group(2))
        _check_year(y, key)
        if not 1 <= mo <= 12:
            raise _bad(key)
        return month(y, mo)
    if m := _QUARTER_RE.match(text):
        y = int(m.group(1))
        _check_year(y, key)
        return quarter(y, int(m.group(2)))
    if m := _YEAR_RE.match(text):
        y = int(m.group(1))
        _check_year(y, key)
        return year(y)
    raise _bad(key)


def containing(day: date, type: str) -> Period:
    """The period of ``type`` that contains ``day``."""
    if type == MONTH:
        return month(day.year, day.month)
    if type == QUARTER:
        return quarter(day.year, (day.month - 1) // 3 + 1)
    if type == YEAR:
        return year(day.year)
    raise ValueError(_("“%(type)s” is not a period type: use month, quarter or year.") % {"type": type})


def _months(period: Period) -> int:
    return {MONTH: 1, QUARTER: 3, YEAR: 12}[period.type]


def shift(period: Period, n: int) -> Period:
    """The period ``n`` periods of the same type after (``n`` > 0) or before (``n`` < 0) this one."""
    if period.type == YEAR:
        return year(period.start.year + n)
    index = period.start.year * 12 + period.start.month - 1 + n * _months(period)
    return containing(date(index // 12, index % 12 + 1, 1), period.type)


def previous(period: Period, n: int = 1) -> Period:
    """The period ``n`` periods of the same type before this one."""
    return shift(period, -n)


def recent(type: str, count: int, today: date | None = None) -> list[Period]:
    """The ``count`` periods of ``type`` ending with the one containing ``today``, oldest first."""
    current = containing(today or timezone.localdate(), type)
    return [shift(current, -i) for i in range(count - 1, -1, -1)]


def year_window(period: Period) -> tuple[date, date]:
    """The 12 months ending at the period's end (inclusive): the window of 年在管 and 规范管理."""
    end = period.end
    start_year, start_month = (end.year, end.month + 1) if end.month < 12 else (end.year + 1, 1)
    return date(start_year - 1, start_month, 1), end
