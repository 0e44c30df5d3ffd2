"""Where a work-list row leads: the patient's record, the follow-up form, the status change.

Those pages belong to the ``patients`` and ``followups`` apps; their route names are listed here,
in one place. A route that is not mounted gives no link rather than a broken one. The status link
asks for 失访 with reason 4 (连续3次未访到), which is what the failed-attempts prompt proposes.
"""

from __future__ import annotations

from functools import cache

from django.urls import NoReverseMatch, reverse

from xinqiao.patients.codes import LossReason, PatientStatus

#: link → (route name, name of the URL keyword that takes the patient's id, query string).
ROUTES: dict[str, tuple[str, str, str]] = {
    "record": ("patients:patient_detail", "pk", ""),
    "followup": ("followups:followup_create", "patient_id", ""),
    "status": ("patients:patient_status", "pk",
               f"?to_status={PatientStatus.LOST.value}&loss_reason={int(LossReason.THREE_FAILED)}"),
}


@cache
def _available(name: str, kwarg: str) -> bool:
    try:
        reverse(name, kwargs={kwarg: 1})
    except NoReverseMatch:
        return False
    return True


def patient_link(key: str, patient_id: int) -> str:
    """One link (``record``, ``followup`` or ``status``), or "" when that route does not exist."""
    name, kwarg, query = ROUTES[key]
    return reverse(name, kwargs={kwarg: patient_id}) + query if _available(name, kwarg) else ""


def patient_links(patient_id: int) -> dict[str, str]:
    """``{"record": url, "followup": url, "status": url}`` for the routes that exist."""
    return {key: link for key in ROUTES if (link := patient_link(key, patient_id))}
