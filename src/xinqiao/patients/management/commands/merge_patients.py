"""``xinqiao merge-patients``: list duplicate registrations, or merge one person into another (audited).

    xinqiao merge-patients --list [--json]
    xinqiao merge-patients --keep 12 --drop 34 --reason "重复建档" --actor zhang_mhc

``--list`` shows, deployment-wide, the groups of persons sharing an ID number (blind index) with their
ids, townships and register numbers — never a name or number. A merge runs as ``--actor``, who needs
``patients.merge_patient`` and both records in their region (``services.merge_persons``), and is
audited like a merge on the duplicates page.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from xinqiao.core.models import Person, User
from xinqiao.core.services import duplicate_id_groups
from xinqiao.patients.services import merge_persons


class Command(BaseCommand):
    help = "List persons registered twice (same ID number) or merge one into another, audited."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--list", action="store_true", help="list duplicate groups (ids only)")
        parser.add_argument("--json", action="store_true", help="with --list: print JSON")
        parser.add_argument("--keep", type=int, help="id of the person to keep")
        parser.add_argument("--drop", type=int, help="id of the person merged into it")
        parser.add_argument("--reason", default="", help="why (recorded in the audit log)")
        parser.add_argument("--actor", default="", help="username of the user on whose authority the merge runs")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self._list(as_json=options["json"])
            return
        if not (options["keep"] and options["drop"] and options["actor"]):
            raise CommandError("give --list, or --keep, --drop, --reason and --actor")
        actor = User.objects.filter(username=options["actor"], is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {options['actor']!r}")
        keep = Person.objects.filter(pk=options["keep"]).first()
        drop = Person.objects.filter(pk=options["drop"]).first()
        if keep is None or drop is None:
            raise CommandError("--keep and --drop must be ids of existing persons")
        try:
            merge = merge_persons(actor, keep, drop, options["reason"])
        except PermissionDenied:
            raise CommandError(f"{actor.username} may not merge records (patients.merge_patient)") from None
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(self.style.SUCCESS(
            f"merged person #{merge.dropped_person_id} into #{merge.kept_person_id} (merge #{merge.pk}): "
            + json.dumps(merge.moved, sort_keys=True)))

    def _list(self, *, as_json: bool) -> None:
        indexes = [index for index, _n in duplicate_id_groups()]
        by_index: dict[str, list[dict[str, Any]]] = {i: [] for i in indexes}
        for p in (Person.objects.filter(id_number_index__in=indexes).select_related("patient")
                  .order_by("id_number_index", "id")):
            by_index[p.id_number_index].append({
                "person_id": p.pk, "township_code": p.township_code,
                "register_number": getattr(getattr(p, "patient", None), "register_number", None)})
        groups = list(by_index.values())
        if as_json:
            self.stdout.write(json.dumps(groups))
            return
        if not groups:
            self.stdout.write("no duplicates")
        for i, members in enumerate(groups, 1):
            listed = ", ".join(f"#{m['person_id']} {m['township_code']} {m['register_number'] or '-'}" for m in members)
            self.stdout.write(f"{i}. {listed}")
