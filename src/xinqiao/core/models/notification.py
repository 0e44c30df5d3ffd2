"""A notice to a user or to everyone of an organisation: overdue follow-ups, late case reports,
discharges to pick up, referrals and emergencies waiting (DOMAIN.md §5 time limits).

Titles and bodies never contain a patient's name or ID number: they name the record by its
register number and link to it, where the reader's own scope and masks apply.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .organisation import Organisation


class NotificationQuerySet(models.QuerySet["Notification"]):
    """Notifications addressed to a user directly or to their organisation."""

    def for_user(self, user: Any) -> NotificationQuerySet:
        if not getattr(user, "is_authenticated", False):
            return self.none()
        where = Q(recipient_id=user.pk)
        if getattr(user, "organisation_id", None):
            where |= Q(recipient_organisation_id=user.organisation_id, recipient__isnull=True)
        return self.filter(where)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One notice; ``dedupe_key`` makes a periodic job's repeat runs add nothing new."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="notifications")
    recipient_organisation = models.ForeignKey(
        Organisation, verbose_name=_("recipient organisation"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=48, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | Q(recipient_organisation__isnull=False),
                name="notification_has_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
