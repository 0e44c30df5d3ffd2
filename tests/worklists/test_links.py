"""Row links of the work lists: reversed once per URL prefix, equal to ``reverse`` for every id."""

from __future__ import annotations

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from xinqiao.worklists import links, rules


def _reversed(patient_id: int) -> dict[str, str]:
    return {key: reverse(name, kwargs={kwarg: patient_id}) + query for key, (name, kwarg, query) in links.ROUTES.items()}


@pytest.mark.parametrize("patient_id", [1, 7, 42, 987654321, 10**12 + 3])
def test_links_equal_reverse(patient_id: int) -> None:
    assert links.patient_links(patient_id) == _reversed(patient_id)
    assert links.patients_links([patient_id, 5]) == [_reversed(patient_id), _reversed(5)]
    for key in links.ROUTES:
        assert links.patient_link(key, patient_id) == _reversed(patient_id)[key]


def test_links_follow_the_script_prefix() -> None:
    set_script_prefix("/xq/")
    try:
        assert links.patient_links(3) == _reversed(3)
        assert links.patient_links(3)["record"].startswith("/xq/")
        assert links.worklist_urls()["overdue"]["list"] == reverse("worklists:list", args=["overdue"])
    finally:
        clear_script_prefix()
    assert not links.patient_links(3)["record"].startswith("/xq/")


def test_worklist_urls_equal_reverse() -> None:
    urls = links.worklist_urls()
    assert set(urls) == set(rules.LIST_CODES)
    for code in rules.LIST_CODES:
        assert urls[code] == {"list": reverse("worklists:list", args=[code]),
                              "export": reverse("worklists:export", args=[code])}


def test_an_unmounted_route_gives_no_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(links.ROUTES, "nowhere", ("no_such_app:no_such_route", "pk", ""))
    links._pattern.cache_clear()
    try:
        assert links.patient_link("nowhere", 3) == ""
        assert "nowhere" not in links.patient_links(3)
        assert set(links.patient_links(3)) == {"record", "followup", "status"}
    finally:
        links._pattern.cache_clear()
