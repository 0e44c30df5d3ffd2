"""Factories of the management-group tests: a group of township A with members, made through the services."""

from __future__ import annotations

from datetime import date
from typing import Any

from xinqiao.caregroups import services
from xinqiao.caregroups.models import GroupMember, ManagementGroup
from xinqiao.core.models import Region


def group(lead: Any, town: Region, *, kind: str = "comprehensive", name: str = "") -> ManagementGroup:
    """A group set up by ``lead`` (a 综治 or clinic account of the township)."""
    return services.create_group(lead, services.GroupInput(
        region_code=town.code, kind=kind, name=name or f"{town.name}综合管理小组", established_on=date(2025, 3, 1)))


def seat(lead: Any, g: ManagementGroup, role: str, *, user: Any = None, name: str = "", phone: str = "") -> GroupMember:
    """A member: a platform account or a named outsider."""
    return services.add_member(lead, g, services.MemberInput(
        role=role, user_id=user.pk if user else None, outsider_name=name, outsider_phone=phone))
