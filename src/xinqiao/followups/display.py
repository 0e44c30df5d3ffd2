"""What a follow-up looks like to a user, for the pages and the API: its fields as labelled rows,
and its correction history, masked as the follow-up (``core.masks.present``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.followups import corrections, labels
from xinqiao.followups.models import FollowUp, FollowUpMedication

JSON_LABELS: dict[str, Callable[[Any], list[str]]] = {"symptoms": labels.symptom_labels, "rehab_measures": labels.rehab_labels,
               "actions": labels.action_labels, "proposed_actions": labels.action_labels}


def rows(obj: models.Model, shown: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, display value) for the fields the user may see, in model order."""
    out = []
    for f in obj._meta.get_fields():
        name = getattr(f, "name", "")
        if name not in shown:
            continue
        value = shown[name]
        if name in JSON_LABELS and isinstance(value, list):
            value = "、".join(JSON_LABELS[name](value)) or "—"
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif value in (None, "", []):
            value = "—"
        out.append((str(getattr(f, "verbose_name", name)), value))
    return out


def history(user: Any, followup: FollowUp) -> list[dict[str, Any]]:
    """The follow-up's revisions, newest first: who, when, why, and the previous values of what changed,
    masked as the follow-up (``present`` on the snapshot; hidden categories left out)."""
    out = []
    for revision in followup.revisions.select_related("created_by").order_by("-number"):
        values = revision.values
        previous = corrections.as_followup(values)
        fields = [name for name in revision.changed if name in FollowUp.PII_FIELDS]
        changes = rows(previous, present(user, previous, fields=fields))
        meds, parts = corrections.lines_of(values)
        if "medications" in revision.changed and visibility(
                user, FollowUpMedication.PII_FIELDS["drug_name"]) != Visibility.HIDDEN:
            lines = [present(user, m) for m in meds]
            changes.append((_("Medication"), "；".join(
                f"{m['drug_name']} {m['times']}×{m['period']} {m['dose']} {m['unit']}" for m in lines) or "—"))
        if "participants" in revision.changed:
            shown_parts = [present(user, p) for p in parts]
            if any(shown_parts):
                changes.append((_("Participants"), "；".join(
                    f"{p.get('role', '')} {p.get('name', '')}".strip() for p in shown_parts) or "—"))
        out.append({"number": revision.number, "at": revision.created_at, "by": revision.created_by,
                    "reason": present(user, revision).get("reason"), "changes": changes})
    return out
