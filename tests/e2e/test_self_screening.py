"""Browser test: a member of the public screens themself with the PHQ-9 on a phone.

No sign-in. They pick the PHQ-9, tick the consent box, choose their district (the county list
follows the province through htmx), answer every question by tapping, and answer question 9 above
"not at all". The result page must put the crisis lines (12356 and the city's own line) first,
above the score, on the first screen; nothing may scroll sideways; the CSP must hold.

Run: ``XINQIAO_ENV=test python -m pytest -m flushes tests/e2e/test_self_screening.py``. Leaves
``test-results/e2e-self-screening-phone.png`` (the result) and ``…-form-phone.png`` (the answered form).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.test_smoke import CSP_MARKER, assert_no_horizontal_scroll

pytestmark = pytest.mark.e2e

CITY_HOTLINE = "020-81899120"


def test_member_of_the_public_completes_phq9_on_a_phone(live_server: Any, new_page: Any, transactional_db: Any,
                                                         results_dir: Any) -> None:
    from django.core.cache import cache

    from tests.factories import OrganisationFactory
    from xinqiao.core.models import OrgType, Region
    from xinqiao.screening.models import ScreeningResponse, Source

    cache.clear()  # rate-limit counters of earlier tests in this process
    county = Region.objects.get(code="440106")
    city = Region.objects.get(code="4401")
    OrganisationFactory(name="广州市心理援助热线中心（测试）", org_type=OrgType.HOTLINE_CENTRE, region=city,
                        phone=CITY_HOTLINE)
    centre = OrganisationFactory(name="天河区精神卫生中心（测试）", org_type=OrgType.MHC_COUNTY, region=county,
                                 phone="020-38888888", address="天河区示范路1号")

    page = new_page(**PHONE)
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    failed: list[str] = []  # the browser's own /favicon.ico probe is not ours to answer
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    base = live_server.url

    # The list of scales, without signing in.
    page.goto(base + "/screening/public/")
    expect(page.locator("#scale-phq9")).to_be_visible()
    assert_no_horizontal_scroll(page, "scale list")
    page.locator("#scale-phq9").tap()
    expect(page).to_have_url(re.compile(r"/screening/public/phq9/$"))
    expect(page.locator("#scale-description")).to_contain_text("筛查工具，不是诊断")

    # Consent first.
    page.locator('label[for="consent"]').tap()
    expect(page.locator("#consent")).to_be_checked()

    # Where they live: the county list follows the province (htmx), then the district.
    region = page.locator("#id_region")
    page.locator("#id_province").select_option("11")
    expect(region.locator('option[value="110101"]')).to_have_count(1)
    page.locator("#id_province").select_option("44")
    expect(region.locator('option[value="440106"]')).to_have_count(1)
    region.select_option("440106")

    # Nine questions, all on one page, answered by tapping the big choices; question 9 above "not at all".
    answers = [1, 2, 1, 1, 0, 1, 1, 0, 1]
    for number, answer in enumerate(answers, start=1):
        choice = page.locator(f'label[for="q{number}-{answer}"]')
        box = choice.bounding_box()
        assert box is not None and box["height"] >= 44, f"question {number}: tap target too small ({box})"
        choice.tap()
        expect(page.locator(f"#q{number}-{answer}")).to_be_checked()
    assert_no_horizontal_scroll(page, "PHQ-9 form")
    page.screenshot(path=str(results_dir / "e2e-self-screening-form-phone.png"), full_page=True)
    page.locator("#submit-button").tap()

    # The result: crisis lines first, on the first screen, above the score.
    expect(page).to_have_url(re.compile(r"/screening/public/result/[^/]+/$"))
    crisis = page.locator("#crisis")
    score = page.locator("#result-score")
    expect(crisis).to_be_visible()
    expect(score).to_be_visible()
    expect(page.locator("#crisis-number")).to_have_text("12356")
    expect(crisis.locator(f'a[href="tel:{CITY_HOTLINE}"]')).to_be_visible()
    crisis_box, score_box = crisis.bounding_box(), score.bounding_box()
    assert crisis_box is not None and score_box is not None
    assert crisis_box["y"] + crisis_box["height"] <= score_box["y"], "the crisis lines must come above the score"
    screen_height = page.viewport_size["height"]
    assert crisis_box["y"] < screen_height / 2, "the crisis lines must be on the first screen"
    number_box = page.locator("#crisis-number").bounding_box()
    assert number_box is not None and number_box["y"] + number_box["height"] <= screen_height
    crisis_first = page.evaluate(
        "() => !!(document.getElementById('crisis').compareDocumentPosition("
        "document.getElementById('result-score')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    assert crisis_first
    total = sum(answers)
    expect(score).to_contain_text(str(total))
    expect(page.locator("#services")).to_contain_text(centre.name)
    expect(page.locator("#services")).to_contain_text("020-38888888")
    assert_no_horizontal_scroll(page, "result")

    stored = ScreeningResponse.objects.get()
    assert stored.source == Source.PUBLIC and stored.total == total and stored.alerts == ["suicide_risk"]
    assert stored.participant_name == "" and stored.submitted_by_id is None and stored.region_id == "440106"

    page.screenshot(path=str(results_dir / "e2e-self-screening-phone.png"), full_page=True)

    assert page.evaluate("() => window.__cspViolations") == []
    violations = [m for m in console if CSP_MARKER in m]
    assert not violations, "CSP violations:\n" + "\n".join(violations)
    assert failed == []
    errors = [m for m in console if m.startswith(("error:", "pageerror:")) and "Failed to load resource" not in m]
    assert not errors, "console errors:\n" + "\n".join(errors)
