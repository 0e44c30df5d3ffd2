"""Drill-down to patients: who is behind a patient indicator's numerator or denominator, or missing from it.

``patients(code, period, region, which)`` is a ``Patient`` queryset whose ids come from the very SQL
that counts them (``patient_sql.flags_sql``, as a ``RawSQL`` subquery): the list for a region and
period always has exactly as many patients as the stored numerator or denominator (recomputed now).
The caller passes ``base`` already restricted for the user (``Patient.objects.restrict(user)``), so
the list stays within scope and partner narrowing; masking and auditing stay with the view.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from xinqiao.core.models.region import SCOPE_COLUMN
from xinqiao.core.regions_data import level_of
from xinqiao.indicators import definitions
from xinqiao.indicators.patient_sql import FLAGS, bind, flags_sql
from xinqiao.indicators.periods import Period
from xinqiao.patients.models import Patient

WHICH = ("numerator", "denominator", "missing")


def condition(code: str, which: str) -> str:
    """The SQL condition on ``flags_sql``'s columns for ``which`` side of indicator ``code``."""
    try:
        ind = definitions.get(code)
    except KeyError:
        raise ValueError(_("“%(code)s” is not an indicator.") % {"code": code}) from None
    if ind.group != "patient" or not ind.drilldown or code not in FLAGS:
        raise ValueError(_("“%(code)s” has no patient list behind it.") % {"code": code})
    if which not in WHICH:
        raise ValueError(_("“%(which)s” is not one of numerator, denominator, missing.") % {"which": which})
    numerator, denominator = FLAGS[code]
    if denominator is None and which != "numerator":
        raise ValueError(_("The denominator of “%(code)s” is a population, not patients.") % {"code": code})
    if which == "numerator":
        return f"f.{numerator} = 1"
    if which == "denominator":
        return f"f.{denominator} = 1"
    return f"f.{denominator} = 1 AND f.{numerator} = 0"


def patient_ids_sql(code: str, period: Period, region_code: str, which: str) -> tuple[str, list[Any]]:
    """``SELECT id`` of the patients of ``which`` side of ``code`` in ``region_code`` for ``period``."""
    column = SCOPE_COLUMN[level_of(region_code)]
    where = condition(code, which)
    sql, values = flags_sql(period, region_code)
    return bind(f"SELECT f.id FROM ({sql}) f WHERE f.{column} = %(region)s AND {where}", values)  # noqa: S608


def patients(code: str, period: Period, region_code: str, which: str, base: Any = None) -> QuerySet[Patient]:
    """The patients behind ``which`` ("numerator", "denominator" or "missing" = denominator − numerator)."""
    sql, params = patient_ids_sql(code, period, region_code, which)
    qs = base if base is not None else Patient.objects.all()
    return qs.filter(pk__in=RawSQL(sql, params))  # noqa: S611 - our own SQL, values as parameters
