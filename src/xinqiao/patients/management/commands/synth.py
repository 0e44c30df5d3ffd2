"""``xinqiao synth --patients N``: build a synthetic register with follow-up histories.

Deterministic for ``--seed`` (and ``--today``, which closes the histories: default the local date).
Persons (valid ID numbers, encrypted identity, blind index), patients spread over every township
of ``--region`` (default 广东省, ``44``), the clinics and community doctors those townships lack, and
follow-up histories over ``--years`` consistent with the national rules engine. PostgreSQL is fed
with ``COPY``; see ``patients/synth.py`` and ``docs/operations/synth.md``.

``--screenings N`` adds N anonymous screening responses over the same townships
(``screening/synth.py``) without changing the patients or follow-ups a seed gives.

Prints one JSON line on stdout (patients, follow-ups, rows per table, seconds); progress on stderr.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from xinqiao.core.regions_data import level_of
from xinqiao.patients import synth


class Command(BaseCommand):
    help = "Build a synthetic population of registered patients with follow-up histories (deterministic)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--patients", type=int, required=True, help="how many patients")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--years", type=int, default=3, help="years of follow-up history before --today")
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--region", default="", help="region code of any level (default: 44, 广东省)")
        where.add_argument("--province", default="", help="2-digit province code")
        parser.add_argument("--today", default="", help="YYYY-MM-DD closing the histories (default: today)")
        parser.add_argument("--batch", type=int, default=5000, help="patients per transaction")
        parser.add_argument("--workers", type=int, default=0,
                            help="generator processes (0: one per CPU, at most 4; 1: none)")
        parser.add_argument("--indexes", choices=("auto", "keep", "drop"), default="auto",
                            help="PostgreSQL: drop secondary indexes and foreign keys for the load and rebuild "
                                 f"them after (auto: from {synth.FAST_LOAD_FROM} patients)")
        parser.add_argument("--key-prefix", default="",
                            help="submission-key prefix that names the population (default synth:<seed>:)")
        parser.add_argument("--screenings", type=int, default=0,
                            help="also add this many anonymous screening responses (PHQ-9, GAD-7 …, scored by the "
                                 "screening engine) over the same townships (default 0)")
        parser.add_argument("--replace", action="store_true",
                            help="delete an existing population with the same prefix first")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Synthetic patients cannot be generated in production.")
        if options["patients"] < 1:
            raise CommandError("--patients must be at least 1")
        if options["years"] < 1 or options["years"] > 30:
            raise CommandError("--years must be 1–30")
        region = options["province"] or options["region"] or synth.DEFAULT_REGION
        try:
            level_of(region)
        except ValueError as exc:
            raise CommandError(f"--region/--province: {exc}") from exc
        if options["province"] and len(region) != 2:
            raise CommandError("--province takes a 2-digit code")
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(f"--today: {exc}") from exc
        opts = synth.SynthOptions(
            patients=options["patients"], seed=options["seed"], years=options["years"], region=region,
            today=today, batch=max(synth.CHUNK, options["batch"]), workers=max(0, options["workers"]),
            key_prefix=options["key_prefix"], indexes=options["indexes"], screenings=max(0, options["screenings"]),
        )
        existing = synth.population_size(opts.prefix)
        if existing:
            if not options["replace"]:
                raise CommandError(f"{existing} patients of population {opts.prefix!r} exist: "
                                   f"use --replace, another --seed or --key-prefix")
            removed = synth.clear_population(opts.prefix)
            self.stderr.write(f"[synth] removed {removed} patients of the previous population")
        try:
            report = synth.build(opts)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        self.stdout.flush()
