"""Permission-matrix declarations of the screening campaign pages (loaded by ``test_permission_matrix``).

Record routes use one identified PHQ-9 campaign per scope, each of a school of its own: ``in`` is
psychologist_a's school in township A (the matrix's psychologist_a has no organisation, so it is
given this one), ``sibling`` a school in township B (county B), ``out`` a school in Beijing. Each
campaign has one response whose item 9 raised a suicide-risk alert; the alert task is escalated
to level 2 so that the county centre sees it as well.

Who holds what (roles.json), written out:

* ``screening.view_campaign``: sysadmin, regulators, the county centre, the psychologist. A
  psychologist sees only their own organisation's campaigns; the others their region's.
* ``screening.view_screeningresponse`` (results, responses, PDF summary): the same without sysadmin,
  who sees that a campaign exists but gets 403 on its results.
* export (``export_campaign`` and ``export_screeningresponse``): the psychologist only.
* unmask and follow-up actions: the county centre and the psychologist.
* alert tasks: regulators, the county centre (escalated tasks only) and the psychologist read them;
  the county centre and the psychologist acknowledge.

Participant pages have no sign-in: everyone gets the same page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.security.test_permission_matrix import CITY_OR_ABOVE, EVERYONE, Route, by_role, record

CAMPAIGN_VIEWERS = frozenset({"sysadmin", "regulator", "regulator_province", "mhc_staff_a", "psychologist_a"})
RESPONSE_VIEWERS = CAMPAIGN_VIEWERS - {"sysadmin"}
CAMPAIGN_ADDERS = frozenset({"psychologist_a"})
EXPORTERS = frozenset({"psychologist_a"})
UNMASKERS = frozenset({"mhc_staff_a", "psychologist_a"})
ACTORS = frozenset({"mhc_staff_a", "psychologist_a"})
ALERT_VIEWERS = RESPONSE_VIEWERS
ALERT_ACKERS = frozenset({"mhc_staff_a", "psychologist_a"})

assert CITY_OR_ABOVE <= CAMPAIGN_VIEWERS  # the sibling-scope rule of ``record`` applies to them


def screening_objects(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per scope: a campaign, its group, a response and its (escalated) alert task; made once per ctx."""
    if "screening_campaigns" not in ctx:
        from django.utils import timezone

        from xinqiao.core.models import Organisation, OrgType, Region
        from xinqiao.screening.models import AlertTask, Campaign, CampaignGroup, Source
        from xinqiao.screening.services import Submission, submit_response

        cast = ctx["cast"]
        now = timezone.now()
        owners = {"in": cast["psychologist_a"], "sibling": cast["psychologist_b"], "out": cast["psychologist_b"]}
        objects: dict[str, dict[str, Any]] = {}
        for scope in ("in", "sibling", "out"):
            region = Region.objects.get(code=ctx["persons"][scope].region_id)
            school = Organisation.objects.create(name=f"矩阵测试学校心理辅导室-{scope}", org_type=OrgType.SCHOOL,
                                                 region=region)
            if scope == "in":
                owners[scope].organisation = school
                owners[scope].save(update_fields=["organisation"])
            campaign = Campaign.objects.create(
                name=f"矩阵测试筛查-{scope}", organisation=school, owner=owners[scope], instrument_ids=["phq9"],
                opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=1), identified=True,
                region=region)
            group = CampaignGroup.objects.create(campaign=campaign, name="矩阵测试班")
            response, _created = submit_response(Submission(
                instrument="phq9", answers=[1, 1, 1, 0, 0, 0, 0, 0, 1], source=Source.CAMPAIGN,
                region_code=region.code, group=group, participant_name="矩阵测试学生", participant_number="S001"))
            task = AlertTask.objects.get(response=response)
            AlertTask.objects.filter(pk=task.pk).update(level=2, escalated_at=now, assignee=None)
            objects[scope] = {"campaign": campaign, "group": group, "response": response, "task": task}
        ctx["screening_campaigns"] = objects
    out: dict[str, dict[str, Any]] = ctx["screening_campaigns"]
    return out


def _pk(kind: str) -> Any:
    return lambda ctx, scope: {"pk": screening_objects(ctx)[scope][kind].pk}


def _code(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    return {"code": screening_objects(ctx)["in"]["group"].access_code}


ROUTES: dict[str, Route] = {
    "screening:campaign_list": Route(by_role(CAMPAIGN_VIEWERS, 200, 403), anon=302),
    "screening:campaign_create": Route(by_role(CAMPAIGN_ADDERS, 200, 403), anon=302),
    "screening:campaign_detail": Route(record(CAMPAIGN_VIEWERS), anon=302, kwargs=_pk("campaign"), per_scope=True),
    "screening:campaign_results": Route(record(CAMPAIGN_VIEWERS, capable=RESPONSE_VIEWERS), anon=302,
                                        kwargs=_pk("campaign"), per_scope=True),
    "screening:campaign_export": Route(record(CAMPAIGN_VIEWERS, capable=EXPORTERS), anon=302,
                                       kwargs=_pk("campaign"), per_scope=True),
    "screening:campaign_summary": Route(record(CAMPAIGN_VIEWERS, capable=RESPONSE_VIEWERS), anon=302,
                                        kwargs=_pk("campaign"), per_scope=True),
    "screening:response_detail": Route(record(RESPONSE_VIEWERS), anon=302, kwargs=_pk("response"), per_scope=True),
    "screening:response_unmask": Route(record(RESPONSE_VIEWERS, capable=UNMASKERS), anon=302, method="post",
                                       kwargs=_pk("response"), per_scope=True,
                                       data=lambda ctx, u, s: {"purpose": "矩阵测试：约谈学生"}),
    "screening:response_action": Route(record(RESPONSE_VIEWERS, ok=302, capable=ACTORS), anon=302, method="post",
                                       kwargs=_pk("response"), per_scope=True,
                                       data=lambda ctx, u, s: {"action": "interview_done", "note": "矩阵测试"}),
    "screening:alert_list": Route(by_role(ALERT_VIEWERS, 200, 403), anon=302),
    "screening:alert_ack": Route(record(ALERT_VIEWERS, ok=302, capable=ALERT_ACKERS), anon=302, method="post",
                                 kwargs=_pk("task"), per_scope=True),
    # Participants: no sign-in; the same page for everyone. The thank-you page without a finished
    # campaign's progress token sends back to the first questionnaire.
    "screening:participant": Route(by_role(EVERYONE, 200, 200), anon=200, kwargs=_code),
    "screening:participant_done": Route(by_role(EVERYONE, 302, 302), anon=302, kwargs=_code),
}
