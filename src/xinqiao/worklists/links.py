"""Where a work-list row leads: the patient's record, the follow-up form, the status change.

Those pages belong to the ``patients`` and ``followups`` apps; their route names are listed here,
in one place. A route that is not mounted gives no link rather than a broken one. The status link
asks for 失访 with reason 4 (连续3次未访到), which is what the failed-attempts prompt proposes.

A page shows the same three links for every row, so each route is reversed once (with a
placeholder id, for the current URL prefix and URLconf) and a row's link is the pattern with its id
put in: ``reverse()`` per row and link was a tenth of the work-list page's time.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from xinqiao.patients.codes import LossReason, PatientStatus

#: link → (route name, name of the URL keyword that takes the patient's id, query string).
ROUTES: dict[str, tuple[str, str, str]] = {
    "record": ("patients:patient_detail", "pk", ""),
    "followup": ("followups:followup_create", "patient_id", ""),
    "status": ("patients:patient_status", "pk",
               f"?to_status={PatientStatus.LOST.value}&loss_reason={int(LossReason.THREE_FAILED)}"),
}

#: Stands for the patient's id in a reversed pattern (an ``<int:…>`` path segment; no route has it).
_PLACEHOLDER = 987654321987


@cache
def _pattern(key: str, prefix: str, urlconf: str) -> tuple[str, str] | None:
    """``(before id, after id)`` of link ``key`` under this script prefix and URLconf; ``None`` when unmounted."""
    name, kwarg, query = ROUTES[key]
    try:
        url = reverse(name, kwargs={kwarg: _PLACEHOLDER}, urlconf=urlconf) + query
    except NoReverseMatch:
        return None
    before, found, after = url.partition(str(_PLACEHOLDER))
    if not found or str(_PLACEHOLDER) in after:
        raise ValueError(f"route {name} does not place the id as one path segment")
    return before, after


def _where() -> tuple[str, str]:
    """The current script prefix and URLconf (the settings' one outside a request)."""
    return get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF)


def _patterns() -> list[tuple[str, tuple[str, str]]]:
    prefix, urlconf = _where()
    return [(key, pattern) for key in ROUTES if (pattern := _pattern(key, prefix, urlconf)) is not None]


def patient_link(key: str, patient_id: int) -> str:
    """One link (``record``, ``followup`` or ``status``), or "" when that route does not exist."""
    pattern = _pattern(key, *_where())
    return f"{pattern[0]}{int(patient_id)}{pattern[1]}" if pattern is not None else ""


def patient_links(patient_id: int) -> dict[str, str]:
    """``{"record": url, "followup": url, "status": url}`` for the routes that exist."""
    pid = int(patient_id)
    return {key: f"{before}{pid}{after}" for key, (before, after) in _patterns()}


def patients_links(patient_ids: list[int]) -> list[dict[str, str]]:
    """``patient_links`` for each id of a page, the patterns looked up once."""
    patterns = _patterns()
    return [{key: f"{before}{int(pid)}{after}" for key, (before, after) in patterns} for pid in patient_ids]


@cache
def _worklist_urls(prefix: str, urlconf: str) -> dict[str, dict[str, str]]:
    from xinqiao.worklists import rules

    return {code: {"list": reverse("worklists:list", args=[code], urlconf=urlconf),
                   "export": reverse("worklists:export", args=[code], urlconf=urlconf)}
            for code in rules.LIST_CODES}


def worklist_urls() -> dict[str, dict[str, str]]:
    """``{code: {"list": url, "export": url}}`` of every work list (reversed once per URL prefix)."""
    return _worklist_urls(*_where())
