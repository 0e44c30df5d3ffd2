"""Organisations of the service network (精防机构, hospitals, clinics, partner agencies, …).

Types follow the seeds: 《全国精神卫生工作规划（2015—2020年）》 三(一)(二)(三) and
《关于加强心理健康服务的指导意见》 11–18. The service registry (a later app) extends these.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .region import InRegion


class OrgType(models.TextChoices):
    """Kinds of organisation; the value is the stable code used in data files and the API."""

    MHC_PROVINCE = "mhc_province", _("provincial mental-health centre")
    MHC_CITY = "mhc_city", _("city mental-health centre")
    MHC_COUNTY = "mhc_county", _("county mental-health centre")
    PSYCHIATRIC_HOSPITAL = "psychiatric_hospital", _("psychiatric hospital")
    GENERAL_HOSPITAL_PSYCH = "general_hospital_psych", _("general hospital psychiatry or psychology department")
    COMMUNITY_HEALTH_CENTRE = "community_health_centre", _("community health service centre")
    TOWNSHIP_HEALTH_CENTRE = "township_health_centre", _("township health centre")
    VILLAGE_CLINIC = "village_clinic", _("village clinic")
    POLICE_STATION = "police_station", _("police station")
    CIVIL_AFFAIRS = "civil_affairs", _("civil-affairs office")
    ZONGZHI_CENTRE = "zongzhi_centre", _("comprehensive-governance (综治) centre")
    DISABLED_FEDERATION = "disabled_federation", _("disabled persons' federation")
    SCHOOL = "school", _("school")
    UNIVERSITY = "university", _("university")
    COUNSELLING_ROOM = "counselling_room", _("counselling room")
    EMPLOYER = "employer", _("employer (EAP)")
    HOTLINE_CENTRE = "hotline_centre", _("psychological-assistance hotline centre")
    COUNSELLING_AGENCY = "counselling_agency", _("social counselling agency")
    CRISIS_TEAM = "crisis_team", _("crisis-intervention team")
    HEALTH_COMMISSION = "health_commission", _("health commission")


class Organisation(InRegion):
    """An organisation with a region, an optional parent and its public contact data.

    Contact data here is the organisation's own (switchboard, address), not personal data.
    """

    name = models.CharField(pgettext_lazy("title of a thing", "name"), max_length=128)
    org_type = models.CharField(_("type"), max_length=32, choices=OrgType.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent organisation"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    unified_credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering: ClassVar = ["region_id", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["region", "name"], name="organisation_unique_name_in_region"),
        ]

    def __str__(self) -> str:
        return self.name
