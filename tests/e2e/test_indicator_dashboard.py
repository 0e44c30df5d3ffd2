"""Browser test: a provincial regulator opens the indicator dashboard on a phone; the map and bars render.

Signed in (password, then the forced TOTP set-up), the regulator of 广东省 opens ``/indicators/``:
the traffic lights are shown, the choropleth of the province's cities is drawn from the shipped
boundary file (fetched from /static/, registered with ECharts) with the "indicative, no 审图号"
notice, the sorted bar chart and the trend line are drawn, and the CSP reports nothing. Tapping a
city opens its indicator page one level down, where counties have no boundary: bars only.

Run: ``XINQIAO_ENV=test python -m pytest -m flushes tests/e2e/test_indicator_dashboard.py``. Leaves
``test-results/e2e-indicators-phone.png`` and ``…-city-phone.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.test_service_finder import watch
from tests.e2e.test_smoke import CSP_MARKER, assert_no_horizontal_scroll, sign_in, totp_now

pytestmark = pytest.mark.e2e


def test_regulator_sees_map_and_bars_without_csp_errors(live_server: Any, new_page: Any, cast: dict, towns: list,
                                                         results_dir: Any) -> None:
    from tests.factories import PASSWORD
    from tests.indicators.test_views import stored

    for period, scale in (("2026Q2", 0.9), ("2026Q3", 1.0)):
        stored("managed_rate", "44", int(82 * scale), 100, period)
        for city, managed in (("4401", 85), ("4403", 78), ("4406", 55), ("4419", 90)):
            stored("managed_rate", city, int(managed * scale), 100, period)
    stored("managed_rate", "440106", 30, 50)
    stored("managed_rate", "440111", 45, 50)

    regulator = cast["regulator_province"]
    page = new_page(**PHONE)
    console, failed = watch(page)
    base = live_server.url
    sign_in(page, base, regulator.username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    page.fill("#id_token", totp_now(page.locator("#totp-secret").inner_text()))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(base + "/")

    response = page.goto(base + "/indicators/")
    assert response is not None and response.ok
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    expect(page.locator("#ind-managed_rate")).to_have_attribute("data-status", "met")
    expect(page.locator("#ind-managed_rate .indicator-status")).to_be_visible()
    expect(page.locator("#chart-map")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#chart-bars")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#chart-trend")).to_have_attribute("data-rendered", "1")
    for chart in ("#chart-map", "#chart-bars", "#chart-trend"):
        assert page.locator(f"{chart} canvas").count() >= 1, f"{chart}: nothing drawn"
    assert page.evaluate("() => !!window.echarts.getMap('xinqiao-44')"), "boundaries were not registered"
    expect(page.locator("#boundary-notice")).to_contain_text("审图号")
    rows = page.locator("#subregion-table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_have_attribute("data-code", "4419")  # best first
    assert_no_horizontal_scroll(page, "indicator dashboard")
    page.screenshot(path=str(results_dir / "e2e-indicators-phone.png"), full_page=True)

    # One level down: 广州市's counties have no boundary file, so bars only.
    page.locator("#sub-4401 a").first.click()
    expect(page).to_have_url(re.compile(r"/indicators/managed_rate/\?period=2026Q3&region=4401$"))
    expect(page.locator("#map-fallback")).to_be_visible()
    expect(page.locator("#chart-map")).to_have_count(0)
    expect(page.locator("#chart-bars")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#patient-links a")).to_have_count(3)
    assert_no_horizontal_scroll(page, "indicator page (city)")
    page.screenshot(path=str(results_dir / "e2e-indicators-city-phone.png"), full_page=True)

    assert page.evaluate("() => window.__cspViolations") == []
    violations = [m for m in console if CSP_MARKER in m]
    assert not violations, "CSP violations:\n" + "\n".join(violations)
    # A missing /favicon.ico is reported as "Failed to load resource"; real failures are in ``failed``.
    errors = [m for m in console if m.startswith(("error:", "pageerror:")) and "Failed to load resource" not in m]
    assert not errors, "console errors:\n" + "\n".join(errors)
    assert not failed, "failed requests:\n" + "\n".join(failed)
