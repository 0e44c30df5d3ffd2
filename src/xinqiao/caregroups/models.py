"""Township management groups (综合管理小组 / 关爱帮扶小组): members by seat, meetings, joint visits.

Sources: 《全国精神卫生工作规划（2015—2020年）》 三(一) (乡镇（街道）综合管理小组, target 100% by 2021);
《严重精神障碍管理治疗工作规范（2018年版）》 (关爱帮扶小组; joint follow-ups with police, village
committee and family); ``shared/DOMAIN.md`` §6–§7.

Every row sits in the group's township (``InRegion``), so a user reaches the groups, members,
meetings and visits of the townships in their region and nothing else (404). What a partner sees
of a *patient* is decided by ``Patient.objects.restrict`` (danger ≥3 or a 肇事肇祸 history for partner
roles) and the role's field masks; joint visits follow the same narrowing. Members from outside the
platform (a village cadre, a family member) keep their name and phone encrypted and masked.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.models import InRegion, RegionLevel
from xinqiao.core.scope import ScopedManager
from xinqiao.followups.models import FollowUp
from xinqiao.patients.models import Patient
from xinqiao.patients.rules import sharing_rule


class GroupKind(models.TextChoices):
    """The two kinds of group of DOMAIN.md §7."""

    COMPREHENSIVE = "comprehensive", _("comprehensive management group (综合管理小组)")
    CARE = "care", _("care and support group (关爱帮扶小组)")


class VisitOutcome(models.IntegerChoices):
    """What a joint visit found (走访结果)."""

    STABLE = 1, _("met the patient: stable at home")
    CONCERNS = 2, _("met the patient: concerns raised")
    REFERRED = 3, _("referred for treatment")
    NOT_FOUND = 4, _("patient not found at home")
    OTHER = 5, _("other")


class ManagementGroup(InRegion):
    """One group of a township: kind, name, when it was set up."""

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP

    kind = models.CharField(_("kind"), max_length=16, choices=GroupKind.choices)
    name = models.CharField(pgettext_lazy("title of a thing", "name"), max_length=128)
    established_on = models.DateField(_("established on"))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("management group")
        verbose_name_plural = _("management groups")
        ordering: ClassVar = ["region_id", "kind", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["region", "name"], name="managementgroup_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMember(InRegion):
    """A seat held by a platform user or by a named outsider (name and phone encrypted, masked)."""

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "outsider_name": "identity.name",
        "outsider_phone": "contact.phone",
    }

    group = models.ForeignKey(ManagementGroup, verbose_name=_("group"), on_delete=models.CASCADE,
                              related_name="members")
    role = models.CharField(_("seat"), max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("platform user"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="group_seats")
    outsider_name = EncryptedTextField(_("name"), blank=True)
    outsider_phone = EncryptedTextField(_("phone"), blank=True)
    unit = models.CharField(_("unit"), max_length=128, blank=True)
    active = models.BooleanField(_("active"), default=True)
    joined_on = models.DateField(_("joined on"))

    objects = ScopedManager()

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering: ClassVar = ["group_id", "role", "id"]
        permissions: ClassVar = [("unmask_groupmember", "Can reveal an outside member's name and phone (audited)")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class Meeting(InRegion):
    """A meeting of the group. Topics and decisions name patients only by register number
    (checked by ``caregroups.services``); stored encrypted all the same."""

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP

    group = models.ForeignKey(ManagementGroup, verbose_name=_("group"), on_delete=models.CASCADE,
                              related_name="meetings")
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=128, blank=True)
    attendees = models.ManyToManyField(GroupMember, verbose_name=_("attendees"), related_name="meetings")
    topics = EncryptedTextField(_("topics"))
    decisions = EncryptedTextField(_("decisions"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("group meeting")
        verbose_name_plural = _("group meetings")
        ordering: ClassVar = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class JointVisit(InRegion):
    """A visit to a patient by several members (联合随访/走访), in the patient's township."""

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {"note": "clinical.followup"}

    group = models.ForeignKey(ManagementGroup, verbose_name=_("group"), on_delete=models.CASCADE,
                              related_name="visits")
    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT,
                                related_name="joint_visits")
    visited_on = models.DateField(_("date"))
    participants = models.ManyToManyField(GroupMember, verbose_name=_("participants"), related_name="visits")
    outcome = models.PositiveSmallIntegerField(_("outcome"), choices=VisitOutcome.choices)
    note = EncryptedTextField(_("note"), blank=True)
    followup = models.ForeignKey(
        FollowUp, verbose_name=_("follow-up record"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("The follow-up record entered for this visit, if one was recorded."),
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("joint visit")
        verbose_name_plural = _("joint visits")
        ordering: ClassVar = ["-visited_on", "-id"]
        permissions: ClassVar = [("export_jointvisit", "Can export joint visits (audited)")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        """Partner roles see visits of the patients they may see (``patients/data/sharing.json``)."""
        rule = sharing_rule()
        if not rule.is_partner_only(getattr(user, "role_codes", ())):
            return qs
        condition = Q(patient__danger_level__gte=rule.min_danger_level)
        if rule.include_incident_history:
            condition |= Q(patient__incident_history=True)
        return qs.filter(condition)
