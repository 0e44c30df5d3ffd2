"""Browser test: a member of the public finds help near them on a phone, then without JavaScript.

No sign-in. With the phone's location allowed, "Use my location" fills the form and sends it: the
list shows the nearest services first with their distance; asking "urgent" puts the 24-hour
hospital first; the hotline is offered above the list; every service has a call button. Then, in a
browser with JavaScript off, the same page works by province and district. Nothing scrolls
sideways and the CSP holds. The credential look-up is checked on the same phone.

Run: ``XINQIAO_ENV=test python -m pytest -m flushes tests/e2e/test_service_finder.py``. Leaves
``test-results/e2e-service-finder-phone.png`` and ``…-nojs-phone.png``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.test_smoke import CSP_MARKER, assert_no_horizontal_scroll

pytestmark = pytest.mark.e2e

HERE = {"latitude": 23.1300, "longitude": 113.3200}


def build_network() -> dict[str, Any]:
    from tests.registry.factories import make_institution, make_practitioner

    plain = {"business_licence_number": "", "licensing_status": ""}
    network = {
        "clinic": make_institution(None, name="近处心理门诊", kind="general_hospital_clinic", region_code="440106",
                                   latitude=23.1345, longitude=113.3200, hours="1-7 00:00-23:59",
                                   services=["psychiatric_outpatient", "psychology_outpatient"], **plain),
        "hospital": make_institution(None, name="较远精神专科医院", kind="psychiatric_hospital", region_code="4401",
                                     latitude=23.1660, longitude=113.3490, open_24h=True, hours="",
                                     phone="020-81234567", services=["emergency", "psychiatric_outpatient"], **plain),
        "agency": make_institution(None, name="中等距离咨询中心", kind="counselling_agency", region_code="440106",
                                   latitude=23.1120, longitude=113.3200, hours="1-5 09:00-18:00",
                                   services=["counselling"]),
        "hotline": make_institution(None, name="广州测试心理援助热线", kind="hotline", region_code="4401",
                                    latitude=None, longitude=None, open_24h=True, hours="", phone="020-12345678",
                                    services=["hotline"], **plain),
    }
    make_practitioner(network["agency"], name="陈思远", profession="counsellor",
                      credential=("counsellor_national", "1511000000654321"), issue_date=date(2016, 5, 1))
    return network


def watch(page: Any) -> tuple[list[str], list[str]]:
    console: list[str] = []
    failed: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    return console, failed


def test_finder_on_a_phone(live_server: Any, new_page: Any, transactional_db: Any, results_dir: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    build_network()
    base = live_server.url
    page = new_page(**PHONE, geolocation=HERE, permissions=["geolocation"])
    console, failed = watch(page)

    page.goto(base + "/services/")
    expect(page.locator("#crisis-line a[href^='tel:']")).to_be_visible()
    button = page.locator("#use-location")
    expect(button).to_be_visible()  # shown by finder.js only where the browser can locate
    box = button.bounding_box()
    assert box is not None and box["height"] >= 38
    assert_no_horizontal_scroll(page, "finder form")
    button.tap()
    expect(page).to_have_url(re.compile(r"lat=23\.13000&lon=113\.32000"))
    cards = page.locator("#results article.service-card")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text("近处心理门诊")
    expect(cards.nth(0).locator(".distance")).to_have_text(re.compile(r"^\d+ (m|米)$"))
    expect(cards.nth(1)).to_contain_text("中等距离咨询中心")
    expect(cards.nth(2)).to_contain_text("较远精神专科医院")
    expect(page.locator("#hotlines a[href='tel:020-12345678']")).to_be_visible()
    expect(page.locator("#location-used")).to_be_visible()

    # Urgent: the 24-hour hospital comes first, with a call button.
    page.locator("label[for='id_urgent']").tap()
    page.locator("#find-button").tap()
    expect(page).to_have_url(re.compile(r"urgent=1"))
    expect(cards.nth(0)).to_contain_text("较远精神专科医院")
    expect(cards.nth(0).locator("a[href='tel:020-81234567']")).to_be_visible()
    # Filter: emergency only.
    page.locator("label[for='f-emergency']").tap()
    page.locator("#find-button").tap()
    expect(cards).to_have_count(1)
    assert_no_horizontal_scroll(page, "finder results")
    page.screenshot(path=str(results_dir / "e2e-service-finder-phone.png"), full_page=True)

    # A service's page, then the credential look-up on the same phone.
    cards.nth(0).locator("h3 a").tap()
    expect(page.locator("h1")).to_have_text("较远精神专科医院")
    assert_no_horizontal_scroll(page, "service page")
    page.goto(base + "/services/credentials/")
    page.locator("#id_name").fill("陈思远")
    page.locator("#id_number").fill("1511 0000 0065 4321")
    page.locator("#lookup-form button[type=submit]").tap()
    expect(page.locator("#lookup-status")).to_have_attribute("data-status", "valid")
    expect(page.locator("#lookup-workplaces")).to_contain_text("中等距离咨询中心")
    assert "1511" not in page.url and "%E9%99%88" not in page.url  # the question is not in the URL
    assert_no_horizontal_scroll(page, "credential look-up")

    assert page.evaluate("() => window.__cspViolations") == []
    assert not [m for m in console if CSP_MARKER in m]
    assert failed == []
    errors = [m for m in console if m.startswith(("error:", "pageerror:")) and "Failed to load resource" not in m]
    assert not errors, "console errors:\n" + "\n".join(errors)


def test_finder_without_javascript(live_server: Any, new_page: Any, transactional_db: Any, results_dir: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    build_network()
    page = new_page(**PHONE, java_script_enabled=False)
    page.goto(live_server.url + "/services/?province=44")
    expect(page.locator("#use-location")).to_be_hidden()  # nothing that needs a script is offered
    page.locator("#id_region").select_option("440106")
    page.locator("#find-button").click()
    cards = page.locator("#results article.service-card")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text("中等距离咨询中心")  # the district's own, by name, then the city's
    expect(cards.nth(2)).to_contain_text("较远精神专科医院")
    expect(page.locator("#hotlines")).to_contain_text("020-12345678")
    assert_no_horizontal_scroll(page, "finder without JavaScript")
    page.screenshot(path=str(results_dir / "e2e-service-finder-nojs-phone.png"), full_page=True)
