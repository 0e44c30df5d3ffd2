"""The notification inbox: what the periodic jobs and services sent to the signed-in user.

A user sees the notices addressed to them and those addressed to their organisation as a whole
(``Notification.objects.for_user``); anything else is a 404. Marking read is a POST with the CSRF
token. A notice addressed to an organisation is one row: when one colleague marks it read, it is
read for the whole organisation (it says "someone here has seen this").

Notices carry no personal data (register numbers and links only), so reading them is not audited;
the record a link leads to is scoped, masked and audited where it is shown.

``unread_notifications`` is a context processor for the navigation bar's unread count: the count
is a callable, so the query runs only when a template shows it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from xinqiao.core.models.notification import Notification

PAGE_SIZE = 30


def safe_link(link: str) -> str:
    """The notice's link if it is a path on this site, else "" (never ``javascript:`` or another host)."""
    return link if link.startswith("/") and not link.startswith("//") and "\\" not in link else ""


def unread_count(user: Any) -> int:
    """How many notices the user has not read (one COUNT)."""
    return Notification.objects.for_user(user).unread().count()


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``notifications_unread`` (lazy: counted only if a template uses it)."""
    user = request.user
    if not user.is_authenticated:
        return {"notifications_unread": 0}
    return {"notifications_unread": lambda: unread_count(user)}


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notices, newest first; ``?unread=1`` for the unread only."""
    qs = Notification.objects.for_user(request.user).select_related("recipient_organisation")
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        qs = qs.unread()
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"n": n, "link": safe_link(n.link)} for n in page.object_list]
    return render(request, "core/notification_list.html", {
        "page": page, "rows": rows, "only_unread": only_unread, "unread": unread_count(request.user),
    })


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notice read (404 if it is not the user's); ``open=1`` then follows its link."""
    notice = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    if notice.read_at is None:
        Notification.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    link = safe_link(notice.link)
    if request.POST.get("open") == "1" and link:
        return redirect(link)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every unread notice of the user read (one UPDATE)."""
    Notification.objects.for_user(request.user).unread().update(read_at=timezone.now())
    return redirect("notifications:list")
