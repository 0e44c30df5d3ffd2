"""Counters and reference figures: public look-ups per day, regional denominators, import batches.

``LookupCount`` is how the public credential look-up is counted without being logged: one row per
day, channel and outcome with a number, and nothing about who asked or what they asked for.
``RegionStatistic`` holds the denominators the coverage figures and the indicators need and the
platform does not otherwise know (population and its urban/rural split, villages and communities,
awareness and depression survey results): loaded from a CSV or Excel file by the indicators app
(``xinqiao load-population``, the upload page) or, for the registry's own demo, by
``xinqiao load-region-statistics``.
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
    """What a regional figure counts. Survey measures come in pairs (respondents, those who meet the
    standard; patients, those treated), so a rate is a ratio of two whole numbers (indicators app)."""

    POPULATION = "population", _("resident population (常住人口)")
    POPULATION_URBAN = "population_urban", _("urban resident population (城镇常住人口)")
    POPULATION_RURAL = "population_rural", _("rural resident population (乡村常住人口)")
    VILLAGES = "villages", _("villages and communities (村（居）委会)")
    AWARENESS_URBAN_SURVEYED = "awareness_urban_surveyed", _("awareness survey: urban respondents")
    AWARENESS_URBAN_AWARE = "awareness_urban_aware", _("awareness survey: urban respondents meeting the standard")
    AWARENESS_RURAL_SURVEYED = "awareness_rural_surveyed", _("awareness survey: rural respondents")
    AWARENESS_RURAL_AWARE = "awareness_rural_aware", _("awareness survey: rural respondents meeting the standard")
    AWARENESS_STUDENTS_SURVEYED = "awareness_students_surveyed", _("awareness survey: student respondents")
    AWARENESS_STUDENTS_AWARE = "awareness_students_aware", _(
        "awareness survey: student respondents meeting the standard")
    DEPRESSION_BASELINE_CASES = "depression_baseline_cases", _("depression survey, baseline: people with depression")
    DEPRESSION_BASELINE_TREATED = "depression_baseline_treated", _("depression survey, baseline: of them treated")
    DEPRESSION_CASES = "depression_cases", _("depression survey, current: people with depression")
    DEPRESSION_TREATED = "depression_treated", _("depression survey, current: of them treated")


class RegionStatistic(InRegion):
    """A figure for one region and year, with its source (the denominators of coverage)."""

    year = models.PositiveSmallIntegerField(_("year"))
    measure = models.CharField(_("measure"), max_length=32, choices=Measure.choices)
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
