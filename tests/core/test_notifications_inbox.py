"""The notification inbox: own and organisation notices only, mark read by POST with CSRF, unread count."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import OrganisationFactory
from tests.helpers import verified_client
from xinqiao.core.models.notification import Notification
from xinqiao.core.views.notifications import safe_link, unread_notifications

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor(cast: dict[str, Any], towns: list) -> Any:
    user = cast["community_doctor_a"]
    user.organisation = OrganisationFactory(name="五山街社区卫生服务中心（测试）", region=towns[0])
    user.save(update_fields=["organisation"])
    return user


def notice(**kwargs: Any) -> Notification:
    kwargs.setdefault("kind", "followup_overdue")
    kwargs.setdefault("title", "随访逾期：患者 440106001-0001")
    return Notification.objects.create(**kwargs)


def test_inbox_lists_own_and_organisation_notices_only(doctor: Any, cast: dict) -> None:
    own = notice(recipient=doctor, title="给我的通知")
    org = notice(recipient_organisation=doctor.organisation, title="给本机构的通知")
    other = notice(recipient=cast["community_doctor_b"], title="给别人的通知")
    other_org = notice(recipient_organisation=OrganisationFactory(name="别的机构"), title="给别的机构的通知")
    html = verified_client(doctor).get(reverse("notifications:list")).content.decode()
    assert f'id="notification-{own.pk}"' in html and f'id="notification-{org.pk}"' in html
    assert f'id="notification-{other.pk}"' not in html and f'id="notification-{other_org.pk}"' not in html
    assert "发给五山街社区卫生服务中心（测试）全体人员" in html
    assert 'id="notifications-unread">2<' in html


def test_mark_read_and_open(doctor: Any, cast: dict) -> None:
    client = verified_client(doctor)
    n = notice(recipient=doctor, link="/worklists/overdue/")
    assert client.get(reverse("notifications:read", args=[n.pk])).status_code == 405
    response = client.post(reverse("notifications:read", args=[n.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/worklists/overdue/"
    n.refresh_from_db()
    assert n.read_at is not None
    unread = client.get(reverse("notifications:list") + "?unread=1").content.decode()
    assert f'id="notification-{n.pk}"' not in unread
    # Someone else's notice is not found.
    theirs = notice(recipient=cast["community_doctor_b"])
    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_touches_only_the_users_notices(doctor: Any, cast: dict) -> None:
    mine = [notice(recipient=doctor), notice(recipient_organisation=doctor.organisation)]
    theirs = notice(recipient=cast["community_doctor_b"])
    assert verified_client(doctor).post(reverse("notifications:read_all")).status_code == 302
    assert all(Notification.objects.get(pk=n.pk).read_at for n in mine)
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_read_needs_the_csrf_token(doctor: Any) -> None:
    n = notice(recipient=doctor)
    client = verified_client(doctor, enforce_csrf_checks=True)
    assert client.post(reverse("notifications:read", args=[n.pk])).status_code == 403
    assert Notification.objects.get(pk=n.pk).read_at is None


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//evil.example/x", "https://evil.example/", "/\\evil"])
def test_links_off_the_site_are_never_followed(doctor: Any, link: str) -> None:
    assert safe_link(link) == ""
    n = notice(recipient=doctor, link=link)
    client = verified_client(doctor)
    assert link not in client.get(reverse("notifications:list")).content.decode()
    response = client.post(reverse("notifications:read", args=[n.pk]), {"open": "1"})
    assert response["Location"] == reverse("notifications:list")


def test_unread_count_for_the_nav_is_lazy(doctor: Any) -> None:
    notice(recipient=doctor)
    notice(recipient=doctor)
    notice(recipient_organisation=doctor.organisation)
    notice(recipient=doctor, read_at="2025-03-01T08:00:00+08:00")  # read: not counted
    request = RequestFactory().get("/")
    request.user = doctor
    with CaptureQueriesContext(connection) as ctx:
        context = unread_notifications(request)
    assert len(ctx.captured_queries) == 0  # nothing counted until a template shows it
    html = render_to_string("core/notification_nav.html", {**context, "user": doctor})
    assert 'id="nav-notifications-unread">3<' in html
    anonymous = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    anonymous.user = AnonymousUser()
    assert unread_notifications(anonymous) == {"notifications_unread": 0}
