"""Django admin for care groups (关爱帮扶小组): read-only, scoped, masked and audited.

Groups, seats, meetings and joint visits are set up and recorded through the care-group pages;
never here.
"""

from __future__ import annotations

from django.contrib import admin

from xinqiao.caregroups.models import GroupMember, JointVisit, ManagementGroup, Meeting
from xinqiao.core.admin import AuditedMaskedAdmin, masked


@admin.register(ManagementGroup)
class ManagementGroupAdmin(AuditedMaskedAdmin):
    """The groups of a township; set up through the care-group pages."""

    list_display = ("id", "name", "kind", "established_on", "active", "township_code")
    list_select_related = ("region",)
    list_filter = ("kind", "active")


@admin.register(GroupMember)
class GroupMemberAdmin(AuditedMaskedAdmin):
    """Seats of a group; a member from outside the platform is shown masked. Changed on the group's page."""

    list_display = ("id", "group", "role", "user", "masked_name", "masked_phone", "unit", "active")
    list_select_related = ("group", "user")
    list_filter = ("active",)

    masked_name = masked("outsider_name")
    masked_phone = masked("outsider_phone")


@admin.register(Meeting)
class MeetingAdmin(AuditedMaskedAdmin):
    """Group meetings (topics and decisions are encrypted and not shown, nor the place, which may be a
    home); recorded on the group's page."""

    list_display = ("id", "group", "held_on", "recorded_by", "created_at")
    list_select_related = ("group", "recorded_by")
    hidden_fields = ("place",)


@admin.register(JointVisit)
class JointVisitAdmin(AuditedMaskedAdmin):
    """Joint home visits; recorded on the group's page."""

    list_display = ("id", "group", "patient", "visited_on", "outcome", "recorded_by")
    list_select_related = ("group", "patient", "recorded_by")
    list_filter = ("outcome",)
