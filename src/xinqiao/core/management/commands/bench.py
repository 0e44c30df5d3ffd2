"""``xinqiao bench <benchmark> [options]``: run one benchmark of ``bench/`` and print its JSON line.

Each benchmark is a module of the top-level ``bench`` package (next to ``src/`` in a checkout)
registered in :data:`BENCHMARKS` under its sub-command name. A module provides:

* ``add_arguments(parser)``: its options (an ``argparse`` parser);
* ``run(**options) -> dict``: start what it needs, measure, stop everything it started, and return
  the figures; the command prints them as one JSON line on stdout (progress goes to stderr).

Adding ``worklist``, ``lookup``, ``import`` or ``indicators`` is one line here plus its module.
A benchmark that fails exits 1 with the reason on stderr and nothing on stdout.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

#: The checkout's root: ``bench/`` lives there, beside ``src/``.
ROOT = Path(__file__).resolve().parents[5]

#: Sub-command → module of ``bench``. Underscored spellings are accepted as aliases.
BENCHMARKS: dict[str, str] = {
    "screening-load": "bench.screening_load",
    "import": "bench.import_bench",
    "followup-import": "bench.followup_import_bench",
    "lookup": "bench.lookup",
    "worklist": "bench.worklist",
    "indicators": "bench.indicators",
}


def load_benchmark(module_name: str) -> ModuleType:
    """Import a benchmark module from the checkout's ``bench`` package."""
    if not (ROOT / "bench" / "__init__.py").is_file():
        raise CommandError(f"no bench/ package at {ROOT}: benchmarks run from a source checkout")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(module_name)


class Command(BaseCommand):
    help = "Run a benchmark (" + ", ".join(BENCHMARKS) + ") and print one JSON line of figures."
    requires_system_checks: list[str] = []  # a benchmark sets up its own database and settings

    def add_arguments(self, parser: Any) -> None:
        subparsers = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
        for name, module_name in BENCHMARKS.items():
            module = load_benchmark(module_name)
            aliases = [name.replace("-", "_")] if "-" in name else []
            doc = (module.__doc__ or "").strip().splitlines()
            sub = subparsers.add_parser(name, aliases=aliases, help=doc[0] if doc else name,
                                        description=doc[0] if doc else None)
            module.add_arguments(sub)
            sub.set_defaults(_module=module_name)

    def handle(self, *args: Any, **options: Any) -> None:
        module = load_benchmark(options["_module"])
        names = {a.dest for a in self._parser_actions(module)}
        try:
            figures = module.run(**{k: v for k, v in options.items() if k in names})
        except (RuntimeError, ValueError, OSError) as exc:
            raise CommandError(f"{options['benchmark']}: {exc}") from exc
        self.stdout.write(json.dumps(figures))
        self.stdout.flush()

    @staticmethod
    def _parser_actions(module: ModuleType) -> list[Any]:
        import argparse

        probe = argparse.ArgumentParser(add_help=False)
        module.add_arguments(probe)
        return list(probe._actions)
