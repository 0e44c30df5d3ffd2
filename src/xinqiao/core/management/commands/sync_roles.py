"""``xinqiao sync-roles``: make the auth groups match ``core/data/roles.json``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinqiao.core.roles import sync_roles


class Command(BaseCommand):
    help = "Create or update one group per role with exactly the permissions listed in roles.json."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{sync_roles()} roles synchronised")
