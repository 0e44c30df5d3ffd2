"""Roles as data (``data/roles.json``): codes, labels, permissions, whether 2FA is required.

Each role is an auth group named by its code; ``sync_roles()`` makes the groups and their
permissions match the file (after every ``migrate``, and by ``xinqiao sync-roles``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

ROLES_FILE = Path(__file__).resolve().parent / "data" / "roles.json"


@dataclass(frozen=True)
class Role:
    """One role of the platform."""

    code: str
    zh: str
    en: str
    two_factor: bool
    permissions: tuple[str, ...]

    @property
    def label(self) -> str:
        """The label in the active language (Chinese unless English is active)."""
        return self.en if (get_language() or "").startswith("en") else self.zh


@cache
def all_roles() -> dict[str, Role]:
    """Every role, keyed by code, in file order."""
    raw = json.loads(ROLES_FILE.read_text(encoding="utf-8"))
    return {
        r["code"]: Role(r["code"], r["zh"], r["en"], bool(r["two_factor"]), tuple(r["permissions"]))
        for r in raw["roles"]
    }


def role_labels(codes: Any) -> list[str]:
    """Labels for a set of role codes, in file order."""
    roles = all_roles()
    return [roles[c].label for c in roles if c in set(codes)]


def requires_two_factor(user: Any) -> bool:
    """Whether this user must pass TOTP: a superuser, or any role marked ``two_factor``."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    roles = all_roles()
    return any(roles[c].two_factor for c in user.role_codes if c in roles)


def sync_roles() -> int:
    """Create or update one auth group per role with exactly the listed permissions."""
    from django.contrib.auth.models import Group, Permission

    count = 0
    for role in all_roles().values():
        group, _ = Group.objects.get_or_create(name=role.code)
        wanted = []
        for name in role.permissions:
            app_label, codename = name.split(".", 1)
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        count += 1
    return count
