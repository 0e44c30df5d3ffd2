"""Stored indicator results and the runs that computed them.

``IndicatorResult`` holds one indicator's numerator, denominator and value for one region (any level)
and one period (month ``2026-07``, quarter ``2026Q3``, year ``2026``). Rows are written by the engine
(``indicators/engine.py``) in bulk for every region at every level of a period and replaced as a
whole for that period and indicator; nothing here is personal data (counts only), so results are
scoped by region but never masked. ``IndicatorRun`` records each computation (nightly job or on
demand) with its timing, for the data-quality panel and the operations page; an incremental run
that found nothing changed is recorded as ``skipped`` with the source fingerprint it compared.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinqiao.core.models import InRegion
from xinqiao.core.scope import ScopedManager


class PeriodType(models.TextChoices):
    MONTH = "month", _("month")
    QUARTER = "quarter", _("quarter")
    YEAR = "year", _("year")


class IndicatorResult(InRegion):
    """One indicator for one region and one period: numerator ÷ denominator (× the unit's scale)."""

    indicator = models.CharField(_("indicator"), max_length=48)
    level = models.PositiveSmallIntegerField(_("level"))
    period = models.CharField(_("period"), max_length=8)
    period_type = models.CharField(_("period type"), max_length=8, choices=PeriodType.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    numerator = models.BigIntegerField(_("numerator"))
    denominator = models.BigIntegerField(_("denominator"), null=True, blank=True)
    value = models.FloatField(_("value"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    objects = ScopedManager()

    class Meta:
        verbose_name = _("indicator result")
        verbose_name_plural = _("indicator results")
        ordering: ClassVar = ["indicator", "period", "region_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["indicator", "period", "region"], name="indicators_result_unique"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["period", "indicator", "level"], name="ind_period_level"),
        ]
        permissions: ClassVar = [
            ("refresh_indicators", "Can recompute the indicators of a period on demand"),
            ("export_report", "Can download supervision reports (PDF, Excel)"),
            ("view_data_quality", "Can read the data-quality panel"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period} {self.region_id}"


class IndicatorRun(models.Model):
    """One computation of a period's indicators: what triggered it, how long it took, how many rows."""

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("nightly job")
        ON_DEMAND = "on_demand", _("on demand")
        COMMAND = "command", _("command line")

    period = models.CharField(_("period"), max_length=8, db_index=True)
    trigger = models.CharField(_("trigger"), max_length=12, choices=Trigger.choices)
    incremental = models.BooleanField(_("incremental"), default=False)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_s = models.FloatField(_("duration (s)"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows written"), default=0)
    indicators = models.JSONField(_("indicators"), default=list)
    error = models.TextField(_("error"), blank=True)
    skipped = models.BooleanField(_("skipped (nothing changed)"), default=False)
    fingerprint = models.CharField(_("source fingerprint"), max_length=64, blank=True,
                                   help_text=_("Digest of the source tables when the run started (engine.fingerprint)."))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        verbose_name = _("indicator run")
        verbose_name_plural = _("indicator runs")
        ordering: ClassVar = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.period} {self.started_at:%Y-%m-%d %H:%M}"
