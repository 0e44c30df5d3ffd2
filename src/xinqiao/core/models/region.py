"""Regions (GB/T 2260 / 国家统计局 统计用区划代码) and the mixin that places a row in one.

Codes have 2 (省级), 4 (地级), 6 (县级) or 9 (乡级) digits; a code's ancestors are its prefixes.
Every row of personal data carries its township code and the denormalised province/city/county
codes (``InRegion``), so a roll-up is one ``GROUP BY`` and a scope filter is one indexed equality.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinqiao.core.regions_data import ancestors, level_of


class RegionLevel(models.IntegerChoices):
    """Administrative level, from the code length."""

    PROVINCE = 1, _("province")
    PREFECTURE = 2, _("prefecture")
    COUNTY = 3, _("county")
    TOWNSHIP = 4, _("township")


class RegionKind(models.TextChoices):
    """What an entry really is: statistical codes hold entries that are not administrative units."""

    PROVINCE = "province", _("province-level division")
    PREFECTURE = "prefecture", _("prefecture-level division")
    COUNTY = "county", _("county-level division")
    TOWNSHIP = "township", _("township or subdistrict")
    # 市辖区/县/省直辖县级行政区划: a grouping in the code list, not a real prefecture.
    PLACEHOLDER = "placeholder", _("grouping placeholder (not a prefecture)")
    # NBS-only development zones and similar: in the statistical codes, not in GB/T 2260.
    DEVELOPMENT_ZONE = "development_zone", _("development zone (statistical code only)")


# Column of InRegion that a scope at each level filters on.
SCOPE_COLUMN: dict[int, str] = {
    RegionLevel.PROVINCE: "province_code",
    RegionLevel.PREFECTURE: "city_code",
    RegionLevel.COUNTY: "county_code",
    RegionLevel.TOWNSHIP: "township_code",
}


class Region(models.Model):
    """One entry of the national division codes (2023 edition), down to township level."""

    code = models.CharField(_("code"), max_length=9, primary_key=True)
    name = models.CharField(pgettext_lazy("title of a thing", "name"), max_length=64)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=RegionKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    pinyin = models.CharField(_("pinyin"), max_length=128, db_index=True)
    initials = models.CharField(_("pinyin initials"), max_length=40, db_index=True)
    province_code = models.CharField(max_length=2, db_index=True)
    city_code = models.CharField(max_length=4, blank=True, db_index=True)
    county_code = models.CharField(max_length=6, blank=True, db_index=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def scope_column(self) -> str:
        """The ``InRegion`` column that selects everything inside this region."""
        return SCOPE_COLUMN[self.level]

    def path(self) -> list[Region]:
        """This region and its ancestors, from the province down (one query)."""
        codes = [c for c in ancestors(self.code).values() if c]
        return list(Region.objects.filter(code__in=codes).order_by("level"))

    def full_name(self) -> str:
        """Names from province down, skipping placeholders (e.g. 广东省广州市天河区)."""
        return "".join(r.name for r in self.path() if r.kind != RegionKind.PLACEHOLDER)

    def contains(self, code: str) -> bool:
        """Whether the region with ``code`` lies inside (or is) this region."""
        return code.startswith(self.code) and len(code) >= len(self.code)


class InRegion(models.Model):
    """Mixin: the row belongs to a region, with the ancestor codes denormalised and indexed.

    ``region`` is the most specific region known (a township for personal data; organisations
    may sit at county, city or province level). ``save()`` fills the four code columns; for bulk
    loads call ``region_columns(code)`` yourself.
    """

    #: Lowest level allowed for ``region`` (personal data must sit in a township).
    required_region_level: ClassVar[int] = RegionLevel.PROVINCE

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    province_code = models.CharField(max_length=2, db_index=True, editable=False)
    city_code = models.CharField(max_length=4, blank=True, db_index=True, editable=False)
    county_code = models.CharField(max_length=6, blank=True, db_index=True, editable=False)
    township_code = models.CharField(max_length=9, blank=True, db_index=True, editable=False)

    class Meta:
        abstract = True

    @staticmethod
    def region_columns(code: str) -> dict[str, str]:
        """The denormalised code columns for a region code of any level."""
        level_of(code)  # raises ValueError for a malformed code
        return ancestors(code)

    def clean(self) -> None:
        super().clean()
        region_id: str | None = self.region_id
        if region_id and level_of(region_id) < self.required_region_level:
            raise ValidationError(
                {"region": _("Choose a region at %(level)s level or below.")
                 % {"level": RegionLevel(self.required_region_level).label}}
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        for column, value in self.region_columns(self.region_id).items():
            setattr(self, column, value)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "region" in update_fields:
            kwargs["update_fields"] = {*update_fields, *SCOPE_COLUMN.values()}
        super().save(*args, **kwargs)
