"""Permission-matrix declarations of the public self-screening pages (``screening:public_*``).

Everything here is public: every role and the anonymous get the same answer. The form is called
with GET (POST, its validation, the rate limit and storing once are covered in
``tests/screening/test_public.py``). The result page is called with a freshly signed token for an
anonymous PHQ-2 response made for the purpose (a token is the only way in; see the tests for 404s).
"""

from __future__ import annotations

from typing import Any

from tests.security.test_permission_matrix import EVERYONE, Route, by_role


def _result_kwargs(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    if "public_result_token" not in ctx:
        from xinqiao.screening import services
        from xinqiao.screening.models import Source
        from xinqiao.screening.views.public import result_token

        response, _created = services.submit_response(services.Submission(
            instrument="phq2", answers=[1, 1], source=Source.PUBLIC, region_code="440106",
            key="public:matrix-result"))
        ctx["public_result_token"] = result_token(response.pk)
    return {"token": ctx["public_result_token"]}


ROUTES: dict[str, Route] = {
    "screening:public_list": Route(by_role(EVERYONE, 200, 200), anon=200),
    "screening:public_form": Route(by_role(EVERYONE, 200, 200), anon=200,
                                   kwargs=lambda ctx, s: {"instrument": "phq9"}),
    "screening:public_result": Route(by_role(EVERYONE, 200, 200), anon=200, kwargs=_result_kwargs),
}
