"""Shared fixtures: the demo-like cast of users per role in two townships of two counties.

Alice-and-Bob style (Healthchecks' ``hc/test.py``): ``cast["community_doctor_a"]`` works in
township A of county A and must never see anything of township B. The region rows come from the
migration that loads the national codes; tests that flush the database (marker ``flushes``)
reload them first.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("XINQIAO_ENV", "test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.flushes)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _regions_present(request: pytest.FixtureRequest) -> None:
    """Flushing tests empty every table; reload the national codes so each starts complete."""
    if request.node.get_closest_marker("flushes") is None:
        return
    request.getfixturevalue("transactional_db")
    from xinqiao.core.models import Region
    from xinqiao.core.regions_loader import load_regions

    if not Region.objects.exists():
        load_regions()


@pytest.fixture
def cast(db):  # type: ignore[no-untyped-def]
    """One user per role placed like the demo; see ``tests/factories.py``."""
    from tests.factories import build_cast

    return build_cast()


@pytest.fixture
def towns(db):  # type: ignore[no-untyped-def]
    """The two test townships (A in county A, B in county B)."""
    from tests.factories import test_townships

    return test_townships()
