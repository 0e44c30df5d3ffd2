"""What each work list is called and what it holds, in the user's language."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrOrPromise

from xinqiao.worklists import rules

LABELS: dict[str, StrOrPromise] = {
    "due_today": pgettext_lazy("work list", "Due today"),
    "due_week": pgettext_lazy("work list", "Due this week"),
    "overdue": pgettext_lazy("work list", "Overdue"),
    "unstable": pgettext_lazy("work list", "Unstable"),
    "first_visit": pgettext_lazy("work list", "Awaiting first visit"),
    "failed_attempts": pgettext_lazy("work list", "Failed attempts"),
}


def list_label(code: str) -> StrOrPromise:
    """The list's name (e.g. 已逾期)."""
    return LABELS[code]


def list_description(code: str) -> str:
    """One sentence on what the list holds, with the configured limits."""
    cfg = rules.settings()
    texts = {
        "due_today": _("Patients whose next follow-up falls today."),
        "due_week": _("Patients whose next follow-up falls within the next %(days)d days.")
        % {"days": cfg.due_soon_days},
        "overdue": _("The date set at the last follow-up has passed without a follow-up. Longest overdue first."),
        "unstable": _("Classified unstable at the last follow-up: follow up within two weeks, refer, and inform "
                      "the police where the danger level is 3 or above."),
        "first_visit": _("Newly reported or newly discharged patients not yet visited. The first visit is due "
                         "within %(days)d days of the notice.") % {"days": cfg.first_visit_days},
        "failed_attempts": _("Follow-up attempts in a row that did not reach the patient. After %(n)d, record "
                             "the patient as lost to follow-up.") % {"n": cfg.failed_attempts_for_lost},
    }
    return texts[code]
