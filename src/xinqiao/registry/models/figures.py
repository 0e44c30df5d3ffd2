"""Counters and reference figures: public look-ups per day, regional denominators, import batches.

``LookupCount`` is how the public credential look-up is counted without being logged: one row per
day, channel and outcome with a number, and nothing about who asked or what they asked for.
``RegionStatistic`` holds the denominators the coverage figures need and the platform does not
otherwise know (population, villages and communities): loaded from a data file
(``xinqiao load-region-statistics``) until the indicators app imports populations.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinqiao.core.models import InRegion


class LookupCount(models.Model):
    """How many public credential look-ups there were on a day, by channel and outcome."""

    class Channel(models.TextChoices):
        PAGE = "page", _("web page")
        API = "api", _("API")

    class Outcome(models.TextChoices):
        FOUND = "found", _("found")
        NOT_FOUND = "not_found", _("not found")
        LIMITED = "limited", _("refused by the rate limit")
        INVALID = "invalid", _("incomplete request")

    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("credential look-up count")
        verbose_name_plural = _("credential look-up counts")
        ordering: ClassVar = ["-day", "channel", "outcome"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["day", "channel", "outcome"], name="registry_lookupcount_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.outcome}: {self.count}"


class Measure(models.TextChoices):
    POPULATION = "population", _("resident population (常住人口)")
    VILLAGES = "villages", _("villages and communities (村（居）委会)")


class RegionStatistic(InRegion):
    """A figure for one region and year, with its source (the denominators of coverage)."""

    year = models.PositiveSmallIntegerField(_("year"))
    measure = models.CharField(_("measure"), max_length=16, choices=Measure.choices)
    value = models.PositiveBigIntegerField(_("value"))
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("regional figure")
        verbose_name_plural = _("regional figures")
        ordering: ClassVar = ["region_id", "measure", "-year"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["region", "year", "measure"], name="registry_statistic_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.measure} {self.year}"


class ImportBatch(models.Model):
    """One imported Excel file: stored once per form key, so a resent upload imports nothing twice."""

    form_key = models.CharField(max_length=64, unique=True)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_name = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    institutions = models.PositiveIntegerField(default=0)
    practitioners = models.PositiveIntegerField(default=0)
    credentials = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"
