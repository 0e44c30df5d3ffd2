"""``xinqiao followup-rule --json '<input>'``: the national follow-up rules on one visit, as JSON.

Contract (issue 3; DESIGN.md "Contracts"): the input is a JSON object with ``followup_date``
(YYYY-MM-DD), ``danger_level`` (0–5), ``insight`` (1 完全, 2 不全, 3 缺失), ``symptoms`` (codes 1–12,
``[]`` for none), ``symptoms_marked``, ``social_function`` (``self_care``, ``housework``, ``work``,
``study``, ``social``: 1/2/3, ``work`` may be 9), ``adverse_reaction_serious``,
``physical_illness_serious`` and optionally ``previous_classification`` (1/2/3). Prints
``{"classification": 1|2|3, "label": "不稳定"|"基本稳定"|"稳定", "next_followup_date": "YYYY-MM-DD",
"actions": [...]}`` on stdout and exits 0. Invalid input prints a message naming the key on stderr
(Chinese, then English) and exits 2. No database access and no system checks.

The rules and their configuration: ``followups/rules.py`` and ``followups/data/rules.json``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand

from xinqiao.followups.rules import RuleInputError, parse_input, propose

EXIT_USAGE = 2


class Command(BaseCommand):
    help = "Classify one follow-up visit by the national rules and print the proposal as JSON."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", dest="input", required=True, metavar="INPUT",
                            help="the visit as a JSON object (see the module docstring for the keys)")

    def fail(self, zh: str, en: str) -> NoReturn:
        self.stderr.write(f"错误：{zh}\nError: {en}")
        self.stderr.flush()
        sys.exit(EXIT_USAGE)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            raw = json.loads(options["input"])
        except json.JSONDecodeError as exc:
            self.fail(f"--json 不是有效的 JSON（第 {exc.pos + 1} 个字符）：{exc.msg}",
                      f"--json is not valid JSON (at character {exc.pos + 1}): {exc.msg}")
        try:
            proposal = propose(parse_input(raw))
        except RuleInputError as exc:
            self.fail(exc.message_zh, exc.message_en)
        self.stdout.write(json.dumps(proposal.as_json_dict(), ensure_ascii=False))
        self.stdout.flush()
        sys.exit(0)
