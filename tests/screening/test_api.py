"""``POST /api/v1/screening/responses`` over HTTP, on the full middleware stack and on the lean path
for anonymous public submissions (:mod:`xinqiao.screening.fastpath`, first in ``MIDDLEWARE``).

Every behaviour is pinned on both stacks with the same assertions: scoring, storage, the
idempotency key (a retry answers the same id; other content under a used key is 422), per-item
errors in the caller's language, the crisis line, the shared per-address rate limit (429 with
``Retry-After`` and 12356, one count per request), security headers. Then what only the lean path
does: which requests it takes and which it hands on, and that its answers equal the full stack's.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import school_campaign_group
from tests.helpers import fields_of, has_cjk, login_verified
from xinqiao.core.models import Region
from xinqiao.core.request_context import current_request_info
from xinqiao.screening import fastpath, rules, services
from xinqiao.screening.instruments import load
from xinqiao.screening.models import AlertTask, ScreeningResponse, Source

pytestmark = pytest.mark.django_db

URL = "/api/v1/screening/responses"
FASTPATH = "xinqiao.screening.fastpath.AnonymousSubmissionMiddleware"
REGION = "440106"
ALERT = [2, 2, 2, 2, 2, 2, 2, 2, 1]  # item 9 > 0: suicide_risk
CALM = [0, 1, 0, 1, 0, 0, 1, 0, 0]


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=["full", "lean"])
def stack(request: pytest.FixtureRequest, settings: Any) -> str:
    """Run the test on the whole middleware stack and with the lean path listed first."""
    if request.param == "lean":
        settings.MIDDLEWARE = [FASTPATH, *settings.MIDDLEWARE]
    return str(request.param)


@pytest.fixture
def lean(settings: Any) -> None:
    settings.MIDDLEWARE = [FASTPATH, *settings.MIDDLEWARE]


def body(answers: list[int | None] | None = None, **extra: Any) -> dict[str, Any]:
    return {"instrument": "phq9", "answers": CALM if answers is None else answers, "region_code": REGION, **extra}


def post(client: Client, data: Any, key: str | None = "k-1", *, address: str = "127.0.0.1", **headers: str) -> Any:
    if key is not None:
        headers["Idempotency-Key"] = key
    raw = data if isinstance(data, str) else json.dumps(data)
    return client.post(URL, raw, content_type="application/json", headers=headers, REMOTE_ADDR=address)


def en() -> Client:
    return Client(headers={"accept-language": "en"})


# --- Both stacks: the endpoint's contract -----------------------------------------------------------


def test_submission_is_scored_stored_and_answered_201(stack: str) -> None:
    response = post(Client(), body(CALM), key="a-1")
    assert response.status_code == 201, response.content
    data = response.json()
    expected = rules.score(load("phq9"), CALM)
    assert data["replayed"] is False and data["crisis_line"] is None
    assert data["result"] == {"instrument": "phq9", "version": expected.version, "total": expected.total,
                              "standard_score": None, "band": expected.band, "positive": expected.positive,
                              "subscales": {}, "alerts": [], "risk": None}
    row = ScreeningResponse.objects.get(pk=data["id"])
    assert (row.source, row.region_id, row.county_code, row.city_code, row.province_code) == (
        Source.PUBLIC, REGION, REGION, REGION[:4], REGION[:2])
    assert (row.answers, row.total, row.band, row.instrument_version) == (CALM, expected.total, expected.band, "1.0.0")
    assert row.submitted_by_id is None and row.campaign_id is None
    assert row.participant_name == "" and row.participant_number == ""
    assert row.submission_key == "anon:a-1" and row.submitted_at is not None


def test_alert_answers_the_crisis_line_and_opens_no_task_for_the_public(stack: str) -> None:
    data = post(Client(), body(ALERT), key="a-2").json()
    assert data["result"]["alerts"] == ["suicide_risk"]
    assert data["crisis_line"] == "12356"
    assert not AlertTask.objects.exists()  # public self-screening is anonymous: nobody to follow up


def test_retry_with_the_same_key_answers_the_same_id_and_stores_once(stack: str) -> None:
    client = Client()
    first = post(client, body(ALERT), key="same")
    again = post(client, body(ALERT), key="same")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    assert again.json()["result"] == first.json()["result"]
    assert ScreeningResponse.objects.count() == 1


def test_same_key_with_other_answers_is_422_naming_the_key_in_the_callers_language(stack: str) -> None:
    assert post(Client(), body(CALM), key="k").status_code == 201
    refused = post(Client(), body(ALERT), key="k")
    assert refused.status_code == 422
    assert fields_of(refused) == ["Idempotency-Key"]
    assert has_cjk(refused.json()["detail"][0]["message"])
    english = post(en(), body(ALERT), key="k")
    assert english.status_code == 422 and "Idempotency-Key" in english.json()["detail"][0]["message"]
    assert ScreeningResponse.objects.count() == 1


@pytest.mark.parametrize(("answers", "field"), [
    ([0, 0, 0, 0, 0, 0, 0, 0, 4], "answers.9"),
    ([0, None, 0, 0, 0, 0, 0, 0, 0], "answers.2"),
    ([0, 0], "answers"),
])
def test_answer_errors_are_422_naming_the_item_in_the_callers_language(stack: str, answers: list[Any],
                                                                       field: str) -> None:
    chinese = post(Client(), body(answers), key="e-1")
    assert chinese.status_code == 422 and fields_of(chinese) == [field]
    assert has_cjk(chinese.json()["detail"][0]["message"])
    english = post(en(), body(answers), key="e-2")
    assert english.status_code == 422 and fields_of(english) == [field]
    assert not has_cjk(english.json()["detail"][0]["message"])
    assert not ScreeningResponse.objects.exists()


@pytest.mark.parametrize(("data", "field"), [
    (body(region_code=""), "region_code"),
    (body(region_code="999999"), "region_code"),
    (body(region_code="44x"), "region_code"),
    (body(instrument="nope"), "instrument"),
    ({"instrument": "phq9", "region_code": REGION}, "answers"),
])
def test_bad_fields_are_422_naming_the_field(stack: str, data: dict[str, Any], field: str) -> None:
    response = post(Client(), data, key="f-1")
    assert response.status_code == 422, response.content
    assert fields_of(response) == [field]
    assert not ScreeningResponse.objects.exists()


def test_missing_idempotency_key_or_broken_json_is_422(stack: str) -> None:
    assert fields_of(post(Client(), body(), key=None)) == ["Idempotency-Key"]
    assert post(Client(), "{not json", key="j-1").status_code in (400, 422)
    assert not ScreeningResponse.objects.exists()


def test_rate_limit_is_429_with_retry_after_and_12356_and_counts_each_request_once(stack: str,
                                                                                     settings: Any) -> None:
    settings.XINQIAO_PUBLIC_RATE = "3/600"
    client = Client()
    # A scoring error is counted (as before: the limit is checked before the answers); a body the
    # schema refuses is not; each request counts once whichever stack answers it.
    codes = [post(client, body([0, 0]), key="r-0").status_code,
             post(client, body(region_code="44x"), key="r-x").status_code,
             post(client, body(), key="r-1").status_code,
             post(client, body(), key="r-2").status_code,
             post(client, body(), key="r-3").status_code]
    assert codes == [422, 422, 201, 201, 429]
    limited = post(client, body(), key="r-4")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "12356" in limited.json()["detail"][0]["message"] and has_cjk(limited.json()["detail"][0]["message"])
    english = post(en(), body(), key="r-5")
    assert english.status_code == 429 and "12356" in english.json()["detail"][0]["message"]
    assert post(client, body(), key="r-6", address="192.0.2.44").status_code == 201  # another address
    assert ScreeningResponse.objects.count() == 3


def test_answers_carry_the_security_headers(stack: str) -> None:
    response = post(Client(), body(), key="h-1")
    assert response.status_code == 201
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert {v.strip() for v in response["Vary"].split(",")} >= {"Accept-Language", "Cookie"}
    assert response["Content-Language"] == "zh-hans"
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_https_redirect_and_host_validation_still_apply(stack: str, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert post(Client(), body(), key="s-1").status_code == 301
    settings.SECURE_SSL_REDIRECT = False
    assert post(Client(), body(), key="s-2", Host="evil.example").status_code == 400
    assert not ScreeningResponse.objects.exists()


def test_the_store_runs_with_the_request_context_for_audit(stack: str) -> None:
    seen: list[Any] = []
    real = services.store_submission

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(current_request_info())
        return real(*args, **kwargs)

    with mock.patch.object(services, "store_submission", side_effect=spy):
        assert post(Client(), body(), key="c-1", address="198.51.100.7").status_code == 201
    (info,) = seen
    assert info.remote_addr == "198.51.100.7"
    assert info.user is not None and not info.user.is_authenticated


def test_signed_in_caller_is_stored_as_api_with_the_user(stack: str, cast: dict[str, Any]) -> None:
    user = cast["mhc_staff_a"]
    client = login_verified(Client(), user)
    response = post(client, body(ALERT), key="u-1")
    assert response.status_code == 201, response.content
    row = ScreeningResponse.objects.get(pk=response.json()["id"])
    assert (row.source, row.submitted_by_id, row.submission_key) == (Source.API, user.pk, f"u{user.pk}:u-1")


def test_campaign_submission_opens_the_alert_task_in_the_same_transaction(stack: str,
                                                                          cast: dict[str, Any]) -> None:
    county = Region.objects.get(code=REGION)
    group = school_campaign_group(cast["psychologist_a"], county, identified=False)
    data = {"instrument": "phq9", "answers": ALERT, "access_code": group.access_code}
    response = post(Client(), data, key="g-1")
    assert response.status_code == 201, response.content
    row = ScreeningResponse.objects.get(pk=response.json()["id"])
    assert (row.source, row.group_id) == (Source.CAMPAIGN, group.pk)
    assert list(AlertTask.objects.filter(response=row).values_list("alert", "assignee_id")) == [
        ("suicide_risk", cast["psychologist_a"].pk)]
    # If the task cannot be written, the response is not stored either.
    with mock.patch.object(services, "_open_alert_tasks", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            post(Client(raise_request_exception=True), data, key="g-2")
    assert not ScreeningResponse.objects.filter(submission_key="anon:g-2").exists()


# --- The lean path only -------------------------------------------------------------------------------


def _lean_calls() -> Any:
    return mock.patch.object(fastpath, "submit", side_effect=fastpath.submit)


def test_lean_path_answers_anonymous_public_submissions(lean: None) -> None:
    with _lean_calls() as spy:
        assert post(Client(), body(ALERT), key="l-1").status_code == 201
        assert post(Client(), body(ALERT), key="l-1").json()["replayed"] is True
    assert spy.call_count == 2


@pytest.mark.parametrize("case", ["session", "authorization", "campaign", "error", "form", "get", "slash"])
def test_lean_path_hands_everything_else_to_the_full_stack(lean: None, case: str, cast: dict[str, Any]) -> None:
    client = Client()
    with _lean_calls() as spy:
        if case == "session":
            login_verified(client, cast["mhc_staff_a"])
            assert post(client, body(), key="x").status_code == 201
        elif case == "authorization":
            assert post(client, body(), key="x", Authorization="Bearer abc").status_code == 201
        elif case == "campaign":
            group = school_campaign_group(cast["psychologist_a"], Region.objects.get(code=REGION), identified=False)
            assert post(client, {"instrument": "phq9", "answers": CALM, "access_code": group.access_code},
                        key="x").status_code == 201
        elif case == "error":
            assert post(client, body([9] * 9), key="x").status_code == 422
        elif case == "form":
            assert client.post(URL, body(), headers={"Idempotency-Key": "x"}).status_code in (400, 422)
        elif case == "get":
            assert client.get(URL).status_code == 405
        else:
            assert client.post(URL + "/", json.dumps(body()), content_type="application/json",
                               headers={"Idempotency-Key": "x"}).status_code == 404
    assert spy.call_count == 0


def _comparable(response: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    headers = {k: v for k, v in response.items() if k not in ("Content-Security-Policy", "Content-Length")}
    headers["csp"] = sorted(d.strip() for d in response["Content-Security-Policy"].split(";"))
    data = {k: v for k, v in response.json().items() if k != "id"}
    return response.status_code, data, headers


@pytest.mark.parametrize("answers", [CALM, ALERT])
def test_lean_answers_equal_the_full_stacks(settings: Any, answers: list[int]) -> None:
    full = [post(Client(), body(answers), key="full"), post(Client(), body(answers), key="full"),
            post(en(), body([1] * 9), key="full")]
    settings.MIDDLEWARE = [FASTPATH, *settings.MIDDLEWARE]
    with _lean_calls() as spy:
        lean = [post(Client(), body(answers), key="lean"), post(Client(), body(answers), key="lean"),
                post(en(), body([1] * 9), key="lean")]
    assert spy.call_count == 3
    assert [_comparable(r) for r in lean] == [_comparable(r) for r in full]
    # Keys are shared by both stacks: a retry answered by the other stack is a replay.
    retry = post(Client(), body(answers), key="full")
    assert retry.json()["id"] == full[0].json()["id"] and retry.json()["replayed"] is True


def test_lean_stack_keeps_what_it_does_not_know(settings: Any) -> None:
    assert fastpath.lean_middleware() == [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "xinqiao.screening.fastpath.OncePolicyCSPMiddleware",
        "xinqiao.core.middleware.RequestContextMiddleware",
    ]
    settings.MIDDLEWARE = [FASTPATH, *settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    assert fastpath.lean_middleware()[-1] == "django.middleware.gzip.GZipMiddleware"
    assert FASTPATH not in fastpath.lean_middleware()


class _NeedsTheView:
    """A middleware with a ``process_view`` hook: the lean path cannot serve it."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)

    def process_view(self, request: Any, view: Any, args: Any, kwargs: Any) -> None:
        return None


def test_lean_path_switches_off_if_a_kept_middleware_needs_the_view(settings: Any) -> None:
    settings.MIDDLEWARE = [FASTPATH, *settings.MIDDLEWARE, f"{__name__}._NeedsTheView"]
    with _lean_calls() as spy:
        assert post(Client(), body(), key="v-1").status_code == 201
        assert post(Client(), body(), key="v-2").status_code == 201
    assert spy.call_count == 0
    assert ScreeningResponse.objects.count() == 2


def test_once_policy_csp_follows_settings_and_per_response_policies(lean: None, settings: Any) -> None:
    first = post(Client(), body(), key="p-1")["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in first
    policy = dict(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"] = {**policy["DIRECTIVES"], "img-src": ["'self'", "https://maps.example"]}
    settings.CONTENT_SECURITY_POLICY = policy
    assert "https://maps.example" in post(Client(), body(), key="p-2")["Content-Security-Policy"]


def test_once_policy_csp_defers_to_django_csp_for_own_policies(rf: Any) -> None:
    from django.http import HttpResponse

    middleware = fastpath.OncePolicyCSPMiddleware(lambda request: HttpResponse())
    request = rf.post(URL)
    middleware.process_request(request)
    exempt = HttpResponse()
    exempt._csp_exempt = True  # type: ignore[attr-defined]
    assert "Content-Security-Policy" not in middleware.process_response(request, exempt)
    plain = middleware.process_response(request, HttpResponse())
    assert "default-src" in plain["Content-Security-Policy"]
    with pytest.raises(Exception, match="csp_nonce"):
        str(request.csp_nonce)  # asked for after the header was written: refused, as django-csp does
