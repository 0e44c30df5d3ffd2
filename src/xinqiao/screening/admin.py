"""Django admin for screening: read-only, scoped, masked and audited.

Campaigns are set up by their psychologist, and responses, alerts and follow-up actions handled,
through the screening pages; never here. A group's access code is not shown.
"""

from __future__ import annotations

from django.contrib import admin

from xinqiao.core.admin import AuditedMaskedAdmin, ReadOnlyMaskedInline, masked
from xinqiao.screening.models import AlertTask, Campaign, CampaignGroup, FollowUpAction, ScreeningResponse


class CampaignGroupInline(ReadOnlyMaskedInline):
    model = CampaignGroup
    fields = ("name", "kind", "expected_size")
    readonly_fields = fields


@admin.register(Campaign)
class CampaignAdmin(AuditedMaskedAdmin):
    """Screening campaigns with their groups; set up through the campaign pages."""

    list_display = ("id", "name", "organisation", "owner", "opens_at", "closes_at", "identified")
    list_select_related = ("organisation", "owner")
    list_filter = ("identified",)
    search_fields = ("name",)
    inlines = (CampaignGroupInline,)


class FollowUpActionInline(ReadOnlyMaskedInline):
    model = FollowUpAction


@admin.register(ScreeningResponse)
class ScreeningResponseAdmin(AuditedMaskedAdmin):
    """Completed scales; a participant's name and number are shown masked. Handled on the screening pages."""

    list_display = ("id", "instrument", "source", "campaign", "masked_name", "masked_number", "band", "positive",
                    "submitted_at")
    list_select_related = ("campaign",)
    list_filter = ("instrument", "source", "positive")
    inlines = (FollowUpActionInline,)

    masked_name = masked("participant_name")
    masked_number = masked("participant_number")


@admin.register(AlertTask)
class AlertTaskAdmin(AuditedMaskedAdmin):
    """Alerts raised by a response; acknowledged and handled on the screening pages."""

    list_display = ("id", "response", "alert", "status", "level", "assignee", "due_at", "created_at")
    list_select_related = ("response", "assignee")
    list_filter = ("status", "level")
