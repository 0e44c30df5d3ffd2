"""Headless-Chromium fixtures for the browser tests (Playwright's sync API, Debian's chromium).

Playwright's own browser download is not used (and not reachable): the tests drive the system
Chromium at ``XINQIAO_CHROMIUM`` (default ``/usr/bin/chromium``) and skip when it is missing.
Every test here is marked ``e2e``; the root conftest adds ``flushes``, so they run in the
transactional pass against pytest-django's ``live_server``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an asyncio event loop in this thread; Django's ORM then refuses
# "sync" queries made by fixtures and assertions in the test process. Nothing here is async.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("XINQIAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
DEFAULT_TIMEOUT_MS = 15_000

# A phone (about an iPhone 12/13/14): the layout must work at this width.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 3,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium is present."""
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return None
    return os.environ.get("XINQIAO_SKIP_BROWSER_REASON") or (
        f"no Chromium at {CHROMIUM} (install Debian's 'chromium' package or set XINQIAO_CHROMIUM)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the browser tests up front (before any database set-up) when Chromium is missing."""
    reason = chromium_missing_reason()
    if reason is None:
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if item.get_closest_marker("e2e") and here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """One headless Chromium for the session (skips the test when the binary is missing)."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(chromium_browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(**context_options)``: a page in a fresh context, closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = chromium_browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def results_dir() -> Path:
    """``test-results/`` at the project root, for screenshots."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return RESULTS_DIR
