"""Public self-screening pages: no sign-in, nothing identifying stored, crisis lines first.

Covers the scale list, the PHQ-9 form, validation naming the item or the consent field, storing
once per form key, the result page (12356 before the score on an alert, services of the region),
the rate limit (429, no raw address in the cache) and the signed, expiring result token.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache, caches
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import OrganisationFactory
from xinqiao.core.demo import DEMO_CITY, DEMO_COUNTIES
from xinqiao.core.models import OrgType, Region
from xinqiao.screening import ratelimit
from xinqiao.screening.instruments import INSTRUMENT_IDS, load
from xinqiao.screening.models import AlertTask, ScreeningResponse, Source
from xinqiao.screening.views.public import result_token

pytestmark = pytest.mark.django_db

COUNTY_A, COUNTY_B = DEMO_COUNTIES  # 天河区, 白云区
FORM = reverse("screening:public_form", kwargs={"instrument": "phq9"})
LIST = reverse("screening:public_list")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """The rate-limit counters live in the cache: start and end every test with none."""
    cache.clear()
    yield
    cache.clear()


def phq9_post(answers: list[int | None] | None = None, *, consent: bool = True, region: str = COUNTY_A,
              key: str | None = None) -> dict[str, str]:
    answers = [0, 1, 0, 1, 0, 0, 1, 0, 0] if answers is None else answers
    data = {f"q{i}": str(a) for i, a in enumerate(answers, start=1) if a is not None}
    data["submission_key"] = key or str(uuid.uuid4())
    data["region"] = region
    if consent:
        data["consent"] = "yes"
    return data


def en() -> Client:
    return Client(headers={"accept-language": "en"})


# --- The list of scales --------------------------------------------------------------------------


def test_list_page_names_every_scale_with_description_items_and_minutes(client: Client) -> None:
    response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    for iid in INSTRUMENT_IDS:
        inst = load(iid)
        assert inst.name.zh in html
        assert reverse("screening:public_form", kwargs={"instrument": iid}) in html
    phq9 = load("phq9")
    assert phq9.description.zh in html  # the plain-Chinese explanation of each scale
    entry = html[html.index('id="scale-phq9"'):html.index('id="scale-phq2"')]
    meta = re.search(r'class="small text-muted scale-meta">([^<]*)<', entry)
    assert meta and re.findall(r"\d+", meta.group(1)) == ["9", "2"]  # 9 questions, about 2 minutes
    assert "12356" in html


def test_list_page_in_english_uses_the_english_texts() -> None:
    html = en().get(LIST).content.decode()
    assert load("phq9").name.en in html
    assert load("phq9").description.en in html
    assert "9 questions · about 2 minutes" in html


# --- The form ------------------------------------------------------------------------------------


def test_form_renders_every_phq9_item_consent_and_region_picker(client: Client) -> None:
    response = client.get(FORM)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    html = response.content.decode()
    phq9 = load("phq9")
    for item in phq9.items:
        assert item.text.zh in html
        for value in range(len(item.options)):
            assert f'name="q{item.number}" id="q{item.number}-{value}" value="{value}"' in html
    assert html.count('type="radio"') == 9 * 4
    for option in phq9.option_sets["frequency"]:
        assert option.text.zh in html
    assert phq9.description.zh in html
    assert 'type="checkbox" name="consent" value="yes"' in html
    key = re.search(r'name="submission_key" value="([^"]+)"', html)
    assert key and uuid.UUID(key.group(1)).version == 4
    # Each rendering has its own key (a cached or shared form would merge people's answers).
    other = re.search(r'name="submission_key" value="([^"]+)"', client.get(FORM).content.decode())
    assert other and other.group(1) != key.group(1)
    assert 'name="province"' in html and 'name="region"' in html
    assert "<script>" not in html and "style=" not in html  # the CSP allows neither


def test_form_preselects_the_province_of_the_registry_and_lists_its_counties(client: Client) -> None:
    OrganisationFactory(name="天河区精神卫生中心（测试）", org_type=OrgType.MHC_COUNTY,
                        region=Region.objects.get(code=COUNTY_A))
    html = client.get(FORM).content.decode()
    assert '<option value="44" selected>' in html
    assert f'<option value="{COUNTY_A}">天河区</option>' in html
    assert f'<option value="{DEMO_CITY}">' in html  # the whole city is a choice too


def test_province_choice_without_js_and_with_htmx(client: Client) -> None:
    html = client.get(FORM, {"province": "11"}).content.decode()
    assert '<option value="110101">东城区</option>' in html
    fragment = client.get(FORM, {"province": "11"}, headers={"HX-Request": "true", "HX-Target": "region-select"})
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="region-select"')
    assert '<option value="110101">东城区</option>' in body
    assert "<html" not in body


def test_unknown_scale_is_404(client: Client) -> None:
    assert client.get(reverse("screening:public_form", kwargs={"instrument": "nope"})).status_code == 404
    assert client.post(reverse("screening:public_form", kwargs={"instrument": "nope"}), {}).status_code == 404


# --- Validation ----------------------------------------------------------------------------------


def test_missing_answer_is_400_naming_the_item(client: Client) -> None:
    data = phq9_post([0, 1, 0, 1, 0, 0, 1, 0, None])
    response = client.post(FORM, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-q9"' in html and 'href="#item-9"' in html
    assert 'id="error-q8"' not in html
    # What was answered is kept, and the same form key is offered again (nothing was stored).
    assert 'name="q2" id="q2-1" value="1" autocomplete="off" checked' in html
    assert f'value="{data["submission_key"]}"' in html
    assert ScreeningResponse.objects.count() == 0

    english = en().post(FORM, data).content.decode()
    assert "Question 9: please choose an answer." in english


def test_answer_outside_the_choices_is_400_naming_the_item(client: Client) -> None:
    data = phq9_post()
    data["q3"] = "7"
    response = en().post(FORM, data)
    assert response.status_code == 400
    assert "Question 3: that answer is not one of the choices." in response.content.decode()
    assert ScreeningResponse.objects.count() == 0


def test_consent_missing_is_400_naming_the_consent_field(client: Client) -> None:
    response = client.post(FORM, phq9_post(consent=False))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="consent-error"' in html and 'href="#consent-fieldset"' in html
    assert 'id="error-q' not in html
    assert "Consent: please tick the box" in en().post(FORM, phq9_post(consent=False)).content.decode()
    assert ScreeningResponse.objects.count() == 0


@pytest.mark.parametrize("region", ["", "4401999", "1101", "999999", "440106001", "44"])
def test_region_must_be_a_real_county_or_city(client: Client, region: str) -> None:
    response = client.post(FORM, phq9_post(region=region))
    assert response.status_code == 400
    assert 'id="region-error"' in response.content.decode()
    assert ScreeningResponse.objects.count() == 0


# --- Storing ---------------------------------------------------------------------------------------


def test_valid_submission_stores_one_anonymous_public_response(client: Client, cast: dict) -> None:
    # Even a signed-in user's self-screening is stored without them.
    from tests.helpers import login_verified

    login_verified(client, cast["community_doctor_a"])
    data = phq9_post([0, 1, 0, 1, 0, 0, 1, 0, 0])
    response = client.post(FORM, data, REMOTE_ADDR="198.51.100.23")
    assert response.status_code == 303
    assert response["Location"].startswith("/screening/public/result/")
    stored = ScreeningResponse.objects.get()
    assert stored.source == Source.PUBLIC
    assert stored.instrument == "phq9" and stored.answers == [0, 1, 0, 1, 0, 0, 1, 0, 0]
    assert stored.total == 3 and stored.band == "minimal" and stored.alerts == []
    assert stored.region_id == COUNTY_A and stored.county_code == COUNTY_A
    assert stored.participant_name == "" and stored.participant_number == ""
    assert stored.submitted_by_id is None and stored.campaign_id is None and stored.group_id is None
    assert stored.submission_key == f"public:{data['submission_key']}" and stored.submission_fingerprint
    # Nothing of the client reached the row.
    assert "198.51.100.23" not in repr(ScreeningResponse.objects.filter(pk=stored.pk).values().get())


def test_double_submit_with_the_same_key_stores_once(client: Client) -> None:
    data = phq9_post()
    first = client.post(FORM, data)
    second = client.post(FORM, data)
    assert first.status_code == second.status_code == 303
    assert ScreeningResponse.objects.count() == 1
    pk = ScreeningResponse.objects.get().pk
    for response in (first, second):
        assert client.get(response["Location"]).context["response"].pk == pk


def test_same_key_with_other_answers_keeps_the_first_and_offers_a_new_key(client: Client) -> None:
    data = phq9_post([0] * 9)
    assert client.post(FORM, data).status_code == 303
    changed = dict(data, q1="2")
    response = client.post(FORM, changed)
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="form-notice"' in html
    new_key = re.search(r'name="submission_key" value="([^"]+)"', html)
    assert new_key and new_key.group(1) != data["submission_key"]
    assert ScreeningResponse.objects.count() == 1
    assert client.post(FORM, dict(changed, submission_key=new_key.group(1))).status_code == 303
    assert ScreeningResponse.objects.count() == 2


def test_public_alert_opens_no_task(client: Client) -> None:
    client.post(FORM, phq9_post([0, 0, 0, 0, 0, 0, 0, 0, 2]))
    assert ScreeningResponse.objects.get().alerts == ["suicide_risk"]
    assert AlertTask.objects.count() == 0  # anonymous: nobody to follow up; the page shows the lines


def test_skipped_questions_are_dropped_not_refused(client: Client) -> None:
    # C-SSRS: q3–q5 are asked only after "yes" to q2; a no-JS form may still send them.
    url = reverse("screening:public_form", kwargs={"instrument": "cssrs"})
    data = {"q1": "1", "q2": "0", "q3": "1", "q4": "1", "q5": "0", "q6": "0", "consent": "yes",
            "region": COUNTY_A, "submission_key": str(uuid.uuid4())}
    response = client.post(url, data)
    assert response.status_code == 303, response.content.decode()[:2000]
    stored = ScreeningResponse.objects.get()
    assert stored.answers == [1, 0, None, None, None, 0, None]
    assert stored.band == "low"


# --- The result page -------------------------------------------------------------------------------


def _result_html(client: Client, answers: list[int | None], region: str = COUNTY_A) -> str:
    response = client.post(FORM, phq9_post(answers, region=region), follow=True)
    assert response.status_code == 200
    return str(response.content.decode())


def test_alert_shows_12356_before_the_score(client: Client) -> None:
    OrganisationFactory(name="广州市心理援助热线中心（测试）", org_type=OrgType.HOTLINE_CENTRE,
                        region=Region.objects.get(code=DEMO_CITY), phone="020-81899120")
    html = _result_html(client, [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert 'id="crisis"' in html
    assert "12356" in html
    score_at = html.index('id="result-score"')
    assert html.index("12356") < score_at
    assert html.index('id="crisis"') < score_at
    # The region's own line is in the crisis box too, before the score.
    assert html.index("020-81899120") < score_at
    assert 'href="tel:12356"' in html


def test_no_alert_no_crisis_box_but_the_helpline_after_the_result(client: Client) -> None:
    html = _result_html(client, [0, 0, 0, 0, 0, 0, 0, 0, 0])
    assert 'id="crisis"' not in html
    assert html.index('id="result-score"') < html.index('id="helpline"')
    assert "12356" in html


def test_result_says_what_it_means_and_does_not_mean() -> None:
    client = en()
    html = _result_html(client, [3, 3, 2, 2, 1, 1, 0, 0, 0])  # total 12: moderate, positive
    assert "Score 12 out of 27" in html
    phq9 = load("phq9")
    assert phq9.band("moderate").label.en in html
    assert phq9.band("moderate").advice.en in html  # type: ignore[union-attr]
    assert phq9.description.en in html
    assert "This is a screening, not a diagnosis." in html
    assert 'id="result-positive"' in html


def test_result_lists_services_of_the_chosen_region_and_its_city(client: Client) -> None:
    county_a = Region.objects.get(code=COUNTY_A)
    county_b = Region.objects.get(code=COUNTY_B)
    town_a = Region.objects.filter(parent=county_a).order_by("code").first()
    city = Region.objects.get(code=DEMO_CITY)
    shown = {  # name → (type, region, phone, address)
        "天河区精神卫生中心（测试）": (OrgType.MHC_COUNTY, county_a, "020-11112222", "天河路1号"),
        "五山街社区卫生服务中心（测试）": (OrgType.COMMUNITY_HEALTH_CENTRE, town_a, "020-33334444", ""),
        "广州市精神专科医院（测试）": (OrgType.PSYCHIATRIC_HOSPITAL, city, "", ""),
    }
    hidden = {
        "白云区精神卫生中心（测试）": (OrgType.MHC_COUNTY, county_b, True),  # the neighbouring county
        "五山街派出所（测试）": (OrgType.POLICE_STATION, town_a, True),  # not a service
        "已停用咨询室（测试）": (OrgType.COUNSELLING_ROOM, county_a, False),  # inactive
        "北京某医院（测试）": (OrgType.PSYCHIATRIC_HOSPITAL, Region.objects.get(code="110101"), True),
    }
    for name, (org_type, region, phone, address) in shown.items():
        OrganisationFactory(name=name, org_type=org_type, region=region, phone=phone, address=address)
    for name, (org_type, region, active) in hidden.items():
        OrganisationFactory(name=name, org_type=org_type, region=region, is_active=active)
    html = _result_html(client, [0] * 9)
    services = html[html.index('id="services"'):]
    for name in shown:
        assert name in services
    for name in hidden:
        assert name not in html
    assert "020-11112222" in services and "天河路1号" in services
    # Local services first, then the city's.
    assert services.index("天河区精神卫生中心（测试）") < services.index("广州市精神专科医院（测试）")


def test_result_token_tampered_or_unknown_is_404(client: Client) -> None:
    response = client.post(FORM, phq9_post(), follow=False)
    url = response["Location"]
    assert client.get(url).status_code == 200
    token = url.rstrip("/").rsplit("/", 1)[-1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(reverse("screening:public_result", kwargs={"token": tampered})).status_code == 404
    pk = ScreeningResponse.objects.get().pk
    assert client.get(reverse("screening:public_result", kwargs={"token": str(pk)})).status_code == 404
    # Signed for another response id by someone without the key: the signature does not match.
    forged = token.replace(token.split(":")[0], "MTIzNDU", 1)
    assert client.get(reverse("screening:public_result", kwargs={"token": forged})).status_code == 404
    # A valid token for a response that is not a public one answers 404 as well.
    other = ScreeningResponse.objects.get()
    other.source = Source.API
    other.save(update_fields=["source"])
    assert client.get(url).status_code == 404


def test_result_token_expires_after_an_hour(client: Client) -> None:
    client.post(FORM, phq9_post())
    token = result_token(ScreeningResponse.objects.get().pk)
    url = reverse("screening:public_result", kwargs={"token": token})
    later = time.time() + 59 * 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(url).status_code == 200
    expired = time.time() + 61 * 60
    with mock.patch("django.core.signing.time.time", return_value=expired):
        assert client.get(url).status_code == 404


def test_result_page_is_not_cached_or_indexed(client: Client) -> None:
    response = client.post(FORM, phq9_post(), follow=True)
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


# --- Rate limit ------------------------------------------------------------------------------------


@override_settings(XINQIAO_PUBLIC_RATE="3/600")
def test_rate_limit_answers_429_after_the_limit(client: Client) -> None:
    for _ in range(3):
        assert client.post(FORM, phq9_post(), REMOTE_ADDR="192.0.2.10").status_code == 303
    response = client.post(FORM, phq9_post(), REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert 'id="rate-limited"' in html and "12356" in html
    assert ScreeningResponse.objects.count() == 3
    # Invalid posts count too (no guessing past it), and another address has its own counter.
    assert client.post(FORM, {}, REMOTE_ADDR="192.0.2.10").status_code == 429
    assert client.post(FORM, phq9_post(), REMOTE_ADDR="192.0.2.11").status_code == 303
    # The next window starts afresh.
    with mock.patch("xinqiao.screening.ratelimit.time.time", return_value=time.time() + 601):
        assert client.post(FORM, phq9_post(), REMOTE_ADDR="192.0.2.10").status_code == 303


def test_rate_limit_cache_holds_no_raw_address(client: Client) -> None:
    address = "203.0.113.77"
    client.post(FORM, phq9_post(), REMOTE_ADDR=address)
    store: dict[str, Any] = caches["default"]._cache  # type: ignore[attr-defined]  # LocMemCache internals
    keys = [k for k in store if ratelimit.KEY_PREFIX in k]
    assert len(keys) == 1
    for key, value in store.items():
        assert address not in key
        assert address.encode() not in value
    digest = keys[0].rsplit(":", 1)[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_rate_limit_digest_is_keyed_and_changes_every_day(rf: Any) -> None:
    request = rf.post("/", REMOTE_ADDR="203.0.113.77")
    day1 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
    a = ratelimit.client_digest(request, now=day1)
    assert a == ratelimit.client_digest(request, now=day1 + 3600)
    assert a != ratelimit.client_digest(request, now=day1 + 86400)
    import hashlib

    assert a != hashlib.sha256(b"203.0.113.77").hexdigest()  # not a plain, reversible-by-lookup hash
    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 40):
        assert a != ratelimit.client_digest(request, now=day1)


def test_parse_rate() -> None:
    assert ratelimit.parse_rate("30/600") == ratelimit.Rate(30, 600)
    assert ratelimit.parse_rate("30/10m") == ratelimit.Rate(30, 600)
    assert ratelimit.parse_rate("100/1h") == ratelimit.Rate(100, 3600)
    for bad in ("", "30", "0/60", "30/0", "x/60"):
        with pytest.raises(ValueError):
            ratelimit.parse_rate(bad)


def test_get_is_not_rate_limited(client: Client) -> None:
    with override_settings(XINQIAO_PUBLIC_RATE="1/600"):
        for _ in range(3):
            assert client.get(FORM).status_code == 200


def test_no_session_is_started_for_the_public(client: Client) -> None:
    client.get(FORM)
    client.post(FORM, phq9_post(), follow=True)
    assert "sessionid" not in client.cookies
