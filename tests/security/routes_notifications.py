"""Permission-matrix declarations of the notification inbox (loaded by ``test_permission_matrix``).

Everyone signed in has an inbox (their own notices and their organisation's); there is no
permission to hold. Marking one notice read answers 404 to anyone it is not addressed to: the
matrix's notice is addressed to community_doctor_a only. Marking all read touches only the
caller's own notices, so it is open to everyone signed in.
"""

from __future__ import annotations

from typing import Any

from tests.security.test_permission_matrix import EVERYONE, Route, by_role


def _notice(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    if "notice" not in ctx:
        from xinqiao.core.models.notification import Notification

        ctx["notice"] = Notification.objects.create(
            kind="matrix", title="矩阵测试通知", recipient=ctx["cast"]["community_doctor_a"], link="/worklists/")
    return {"pk": ctx["notice"].pk}


ROUTES: dict[str, Route] = {
    "notifications:list": Route(by_role(EVERYONE, 200, 200), anon=302),
    "notifications:read": Route(by_role(frozenset({"community_doctor_a"}), 302, 404), anon=302, method="post",
                                kwargs=_notice),
    "notifications:read_all": Route(by_role(EVERYONE, 302, 302), anon=302, method="post"),
}
