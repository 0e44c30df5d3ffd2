"""Browser smoke tests: a community doctor on a phone, the language switch, and the CSP.

Run: ``XINQIAO_ENV=test python -m pytest -m flushes tests/e2e`` (add ``DATABASE_URL`` for
PostgreSQL). The phone test leaves a screenshot in ``test-results/``.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.e2e

MASKED_ID = re.compile(r"^\d{4}\*+\w{4}$")
FULL_ID = re.compile(r"^\d{17}[\dX]$")
CSP_MARKER = "Content Security Policy"


def totp_now(secret: str) -> str:
    """The current 6-digit code for the base32 key shown on the set-up page."""
    from django_otp.oath import TOTP

    key = base64.b32decode(secret.strip().upper() + "=" * (-len(secret.strip()) % 8))
    return str(TOTP(key).token()).zfill(6)


def assert_no_horizontal_scroll(page: Any, where: str) -> None:
    scroll_width, inner_width = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width + 1, (
        f"{where}: page scrolls sideways on a phone ({scroll_width}px content in a {inner_width}px window)"
    )


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()


def test_community_doctor_on_a_phone(live_server: Any, new_page: Any, cast: dict, towns: list,
                                     results_dir: Any) -> None:
    from tests.factories import PASSWORD, OrganisationFactory, PersonFactory
    from xinqiao.core.models import AuditAction, AuditEvent, Person
    from xinqiao.core.roles import all_roles

    town_a, town_b = towns
    doctor = cast["community_doctor_a"]
    organisation = OrganisationFactory(name="五山街社区卫生服务中心（测试）", region=town_a)
    doctor.organisation = organisation
    doctor.save(update_fields=["organisation"])
    persons_a = [PersonFactory(region=town_a), PersonFactory(region=town_a)]
    person_b = PersonFactory(region=town_b)

    page = new_page(**PHONE)
    base = live_server.url

    # Password, then the forced two-factor set-up (test settings force it).
    sign_in(page, base, doctor.username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#id_token", totp_now(secret))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(base + "/")

    # Home: who, where, which role; usable on the phone.
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("#home-organisation")).to_have_text(organisation.name)
    expect(page.locator("#home-region")).to_contain_text(town_a.name)
    expect(page.locator("#home-region")).to_contain_text(town_a.code)
    expect(page.locator("#home-roles")).to_have_text(all_roles()["community_doctor"].zh)
    assert_no_horizontal_scroll(page, "home")

    # The persons list through the collapsed navbar: township A only, names masked.
    page.locator(".navbar-toggler").tap()
    page.locator('#nav a[href="/persons/"]').click()
    expect(page).to_have_url(base + "/persons/")
    rows = page.locator("#person-list a.list-group-item")
    expect(rows).to_have_count(len(persons_a))
    listed = {int(href.rstrip("/").rsplit("/", 1)[-1]) for href in
              (rows.nth(i).get_attribute("href") for i in range(rows.count()))}
    assert listed == {p.pk for p in persons_a}
    assert person_b.pk not in listed
    for i in range(rows.count()):
        row = rows.nth(i)
        shown_name = row.locator(".masked").first.inner_text().strip()
        assert "*" in shown_name, f"name not masked in the list: {shown_name!r}"
        assert shown_name not in {p.name for p in [*persons_a, person_b]}
        assert town_a.code in row.inner_text()
        assert town_b.code not in row.inner_text()
    assert_no_horizontal_scroll(page, "person list")

    # One record: the ID number masked; revealing it needs a purpose and is audited.
    rows.first.click()
    expect(page).to_have_url(re.compile(r"/persons/\d+/$"))
    pk = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    person = Person.objects.get(pk=pk)
    id_field = page.locator("#f-id_number")
    masked_id = id_field.inner_text().strip()
    assert MASKED_ID.match(masked_id), f"ID number not masked: {masked_id!r}"
    assert masked_id != person.id_number
    assert_no_horizontal_scroll(page, "person detail")

    purpose = "今日入户随访，核对身份"
    page.fill("#id_purpose", purpose)
    page.locator('form[action$="/unmask/"] button[type=submit]').click()
    expect(page.locator(".alert-info")).to_be_visible()
    expect(id_field).to_have_text(FULL_ID)
    revealed = id_field.inner_text().strip()
    assert revealed == person.id_number and len(revealed) == 18
    assert AuditEvent.objects.filter(
        action=AuditAction.UNMASK, object_type="core.person", object_id=str(pk),
        actor_username=doctor.username, purpose=purpose,
    ).exists()
    assert_no_horizontal_scroll(page, "person detail (revealed)")

    page.screenshot(path=str(results_dir / "e2e-community-doctor-phone.png"), full_page=True)


def test_language_switch(live_server: Any, new_page: Any) -> None:
    page = new_page(**DESKTOP)
    page.goto(live_server.url + "/accounts/login/")
    heading = page.locator("main h1")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    default_heading = heading.inner_text().strip()

    with page.expect_navigation():
        page.locator("nav select[name=language]").select_option("en")  # auto-submits (core/app.js)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert page.locator("html").get_attribute("lang") == "en"
    expect(heading).to_have_text("Sign in")

    with page.expect_navigation():
        page.locator("nav select[name=language]").select_option("zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(heading).to_have_text(default_heading)

    # Needs the compiled zh-Hans catalog (src/xinqiao/locale/zh_Hans/LC_MESSAGES/django.mo).
    assert default_heading == "登录", (
        f"default (zh-Hans) login heading is {default_heading!r}: is the zh_Hans catalog compiled?"
    )


def test_csp_holds_and_htmx_search_works(live_server: Any, new_page: Any) -> None:
    page = new_page(**DESKTOP)
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    # Also catch violations that do not reach the console (the event fires in the page).
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    for path in ("/accounts/login/", "/regions/"):
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, f"{path}: no CSP header ({policy!r})"
        page.wait_for_load_state("load")
        assert page.evaluate("() => window.__cspViolations") == [], path

    # htmx runs under the CSP: the typeahead finds 天河区 by pinyin.
    assert page.evaluate("() => typeof window.htmx") == "object"
    page.locator("#region-q").press_sequentially("tianhe", delay=20)
    hit = page.locator("#region-search-list a", has_text="天河区").first
    expect(hit).to_be_visible()
    assert hit.get_attribute("data-code")
    assert page.evaluate("() => window.__cspViolations") == []

    violations = [m for m in console if CSP_MARKER in m]
    assert not violations, "CSP violations:\n" + "\n".join(violations)
    errors = [m for m in console if m.startswith(("error:", "pageerror:"))]
    assert not errors, "console errors:\n" + "\n".join(errors)
