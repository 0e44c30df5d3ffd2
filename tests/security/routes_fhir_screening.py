"""Permission-matrix declarations of the FHIR screening routes (loaded by ``test_permission_matrix``).

Questionnaire definitions are public. A stored response (QuestionnaireResponse / Observation) is a
record route: the records are campaign responses of psychologist_a's school (county A) placed in
township A (``in``), township B (``sibling``) and Beijing (``out``). Who holds
``screening.view_screeningresponse`` (roles.json), written out: regulators, the county mental-health
centre and the school psychologist; everybody else gets 404, as for a record out of scope.
"""

from __future__ import annotations

from typing import Any

from tests.security.test_permission_matrix import EVERYONE, Route, by_role, record

SCREENING_VIEWERS = frozenset({"regulator", "regulator_province", "mhc_staff_a", "psychologist_a"})


def _responses(ctx: dict[str, Any]) -> dict[str, Any]:
    """One PHQ-9 campaign response per scope, created on first use and kept in ``ctx``."""
    if "fhir_screening_responses" not in ctx:
        from tests.factories import school_campaign_group
        from xinqiao.core.models import Region
        from xinqiao.screening.models import Source
        from xinqiao.screening.services import Submission, submit_response

        psychologist = ctx["cast"]["psychologist_a"]
        group = school_campaign_group(psychologist, Region.objects.get(code=psychologist.region_id),
                                      school_name="矩阵测试中学", campaign_name="矩阵测试筛查", group_name="矩阵测试班")
        regions = {scope: ctx["persons"][scope].region_id for scope in ("in", "sibling", "out")}
        ctx["fhir_screening_responses"] = {
            scope: submit_response(
                Submission(
                    instrument="phq9",
                    answers=[1, 1, 1, 0, 0, 0, 0, 0, 1],
                    source=Source.CAMPAIGN,
                    region_code=code,
                    group=group,
                    participant_name="矩阵测试学生",
                )
            )[0]
            for scope, code in regions.items()
        }
    responses: dict[str, Any] = ctx["fhir_screening_responses"]
    return responses


def _response_pk(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    return {"pk": _responses(ctx)[scope].pk}


ROUTES: dict[str, Route] = {
    "fhir:questionnaire_search": Route(by_role(EVERYONE, 200, 200), anon=200),
    "fhir:questionnaire_read": Route(
        by_role(EVERYONE, 200, 200), anon=200, kwargs=lambda ctx, s: {"pk": "phq9"}
    ),
    "fhir:questionnaireresponse_read": Route(
        record(SCREENING_VIEWERS), anon=401, kwargs=_response_pk, per_scope=True
    ),
    "fhir:screening_observation_read": Route(
        record(SCREENING_VIEWERS), anon=401, kwargs=_response_pk, per_scope=True
    ),
}
