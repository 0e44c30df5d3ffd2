"""Writes of the platform foundation: the only place that creates or changes personal data.

Each action is one transaction: validate, write, audit (the audit event commits or rolls back
with the write). Views and API handlers parse input, call one of these, and render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinqiao.core import audit, idcard
from xinqiao.core.masks import present, unmaskable_fields
from xinqiao.core.models import AuditAction, DocumentType, Person, Region, RegionLevel, Sex
from xinqiao.core.scope import in_scope, permission_for


@dataclass(frozen=True)
class PersonInput:
    """Validated-at-the-edge input for a new person (field names match the model)."""

    name: str
    id_type: str
    id_number: str
    region_code: str
    phone: str = ""
    address: str = ""
    sex: str = ""
    birth_date: date | None = None


def check_document(id_type: str, number: str) -> idcard.IdCheck:
    """Validate a document number; raise ``ValidationError`` on the ``id_number`` field."""
    if id_type not in DocumentType.values:
        raise ValidationError({"id_type": _("Unknown document type.")})
    result = idcard.validate_document(id_type, number)
    if not result.valid:
        raise ValidationError({"id_number": idcard_error_message(result.error)})
    return result


def idcard_error_message(code: str | None) -> str:
    """The message for an ID-number error code, in the active language."""
    from django.utils.translation import get_language

    zh, en = idcard.ERROR_MESSAGES.get(code or "", (_("Invalid ID number."), "Invalid ID number."))
    return en if (get_language() or "").startswith("en") else zh


def create_person(actor: Any, data: PersonInput) -> Person:
    """Register a person in a township inside the actor's scope (audited)."""
    if not actor.has_perm(permission_for(Person, "add")):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("This field is required.")
    region = Region.objects.filter(code=data.region_code).first()
    if region is None or region.level != RegionLevel.TOWNSHIP:
        errors["region_code"] = _("Choose a township (乡镇/街道) by its 9-digit code.")
    elif not in_scope(actor, region.code):
        errors["region_code"] = _("This township is outside your region.")
    checked: idcard.IdCheck | None = None
    if data.id_number:
        try:
            checked = check_document(data.id_type, data.id_number)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    person = Person(
        name=data.name.strip(),
        id_type=data.id_type,
        id_number=checked.normalized if checked else "",
        region=region,
        phone=data.phone.strip(),
        address=data.address.strip(),
        sex=(checked.sex if checked and checked.sex else data.sex) or Sex.UNKNOWN,
        birth_date=(checked.birth_date if checked and checked.birth_date else data.birth_date),
        created_by=actor,
    )
    with transaction.atomic():
        person.save()
        audit.record(AuditAction.CREATE, obj=person, detail={"fields": sorted(Person.PII_FIELDS)})
    return person


def _sort_key(name: str, row: Any) -> tuple[bool, Any]:
    value = getattr(row, name)
    return value is not None, value


def _in_model_order(rows: list[Any], model: Any) -> list[Any]:
    """``rows`` in the model's ``Meta.ordering``, sorted here: a blind-index look-up finds one row or a
    handful, and an SQL ``ORDER BY`` on them only cost compiling it (the index probe is the same)."""
    for key in reversed(list(model._meta.ordering or ["pk"])):
        name = str(key).lstrip("-")
        name = "pk" if name == "id" else name
        rows.sort(key=partial(_sort_key, name), reverse=str(key).startswith("-"))
    return rows


def _persons_with(actor: Any, id_type: str, number: str) -> Any:
    """Persons in the actor's scope with this document number (lazy; validated, blind-indexed)."""
    checked = check_document(id_type, number)
    index = Person.id_index_for(id_type, checked.normalized)
    return Person.objects.restrict(actor).filter(id_number_index=index).order_by()


def find_by_id_number(actor: Any, id_type: str, number: str) -> list[Person]:
    """Exact look-up by document number through the blind index, within the actor's scope
    (``Person.Meta.ordering``): one probe of the ``id_number_index`` index."""
    return _in_model_order(list(_persons_with(actor, id_type, number)), Person)


def find_records_by_id_number(actor: Any, model: Any, id_type: str, number: str) -> list[Any]:
    """Records of ``model`` (a scoped personal-data model with a ``person`` relation, e.g.
    ``patients.Patient``) of the persons with this document number, each with its person; both
    within the actor's scope. ONE query: the blind-index probe on ``core_person`` is a sub-select,
    the record is found through its ``person_id`` index. In ``model``'s ``Meta.ordering``."""
    persons = _persons_with(actor, id_type, number).values("pk")
    rows = model._default_manager.restrict(actor).filter(person__in=persons).select_related("person").order_by()
    return _in_model_order(list(rows), model)


def duplicate_id_groups() -> list[tuple[str, int]]:
    """Blind-index values shared by more than one person, deployment-wide (one GROUP BY)."""
    from django.db.models import Count

    rows = (
        Person.objects.exclude(id_number_index="")
        .values("id_number_index")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n")
    )
    return [(r["id_number_index"], r["n"]) for r in rows]


def view_record(actor: Any, obj: Any) -> dict[str, Any]:
    """What the actor may see of a personal-data record reached through ``restrict``; audited as a view."""
    audit.record(AuditAction.VIEW, obj=obj)
    return present(actor, obj)


def unmask_record(actor: Any, obj: Any, purpose: str) -> dict[str, Any]:
    """Reveal the masked fields of any personal-data record the actor may reveal, after recording why."""
    purpose = purpose.strip()
    if len(purpose) < 4:
        raise ValidationError({"purpose": _("State the purpose of revealing this record (at least 4 characters).")})
    fields = unmaskable_fields(actor, obj)
    if not fields:
        raise PermissionDenied
    audit.record(AuditAction.UNMASK, obj=obj, purpose=purpose, detail={"fields": fields})
    return present(actor, obj, unmasked=True)


view_person = view_record
unmask_person = unmask_record
