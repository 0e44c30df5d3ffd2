"""Django admin for referrals and emergencies: read-only, scoped, masked and audited.

Referrals are sent, received, declined and completed, and emergencies recorded and closed, through
the referrals pages, whose services keep the deadlines and the event trail; never here.
"""

from __future__ import annotations

from django.contrib import admin

from xinqiao.core.admin import AuditedMaskedAdmin, ReadOnlyMaskedInline, masked
from xinqiao.referrals.models import EmergencyRecord, Referral, ReferralEvent


class ReferralEventInline(ReadOnlyMaskedInline):
    model = ReferralEvent
    fields = ("action", "from_state", "to_state", "at", "by", "organisation", "masked_note")
    readonly_fields = fields

    masked_note = masked("note")


@admin.register(Referral)
class ReferralAdmin(AuditedMaskedAdmin):
    """Two-way referrals with their trail; handled through the referrals pages."""

    list_display = ("id", "patient", "direction", "from_organisation", "to_organisation", "urgency", "state",
                    "sent_at")
    list_select_related = ("patient", "from_organisation", "to_organisation")
    list_filter = ("direction", "urgency", "state")
    inlines = (ReferralEventInline,)


@admin.register(EmergencyRecord)
class EmergencyRecordAdmin(AuditedMaskedAdmin):
    """应急处置 records (the names of the responders are encrypted and not shown); recorded and closed
    through the emergency pages."""

    list_display = ("id", "patient", "subject_category", "occurred_at", "masked_danger_level", "organisation",
                    "status", "recorded_late")
    list_select_related = ("patient", "organisation")
    list_filter = ("status", "subject_category")
    personal_via = ("person",)

    masked_danger_level = masked("danger_level")
