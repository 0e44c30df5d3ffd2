"""``xinqiao demo``: build the demo region and print the demo accounts (never in production)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from xinqiao.core.demo import build_demo
from xinqiao.core.roles import all_roles


class Command(BaseCommand):
    help = "Build the demo city (organisations, one account per role, synthetic persons); deterministic."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo cannot be loaded in production.")
        result = build_demo(options["seed"])
        roles = all_roles()
        towns = "、".join(f"{t.name}({t.code})" for t in result.townships)
        self.stdout.write(f"Demo region: 广东省广州市, townships {towns}; "
                          f"{result.organisations} organisations, {result.persons} new persons.")
        for note in result.notes:
            self.stdout.write(note)
        self.stdout.write("Demo accounts (username / password / role / region):")
        for username, password, role, region in result.accounts:
            self.stdout.write(f"  {username:<24} {password:<14} {roles[role].zh:<16} {region}")
        if not settings.XINQIAO_2FA_FORCED:
            self.stdout.write("Two-factor sign-in is OFFERED, not forced, in the demo (it is forced in production).")
