"""``xinqiao score INSTRUMENT --answers a,b,c,...``: score one screening and print the result as JSON.

Each answer is the 0-based index of the chosen option; a skipped item is an empty field
(``--answers 1,0,,,,0,0`` for a C-SSRS screener with questions 3–5 skipped). Prints
``{"instrument", "version", "total", "standard_score", "band", "band_label", "positive", "subscales",
"alerts", "risk"}`` and exits 0. A wrong number of answers, a non-numeric or out-of-range index, an
answer to a skipped question or a missing required answer prints a message naming the item on stderr
(Chinese, then English) and exits 2.

``--cutoff BAND=MIN`` (repeatable) moves a configurable band boundary, e.g. ``score epds --cutoff
probable=10 …`` for the Hong Kong 9/10 EPDS cut-off. No database access and no system checks.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from django.core.management.base import BaseCommand

from xinqiao.screening.instruments import INSTRUMENT_IDS, load
from xinqiao.screening.rules import AnswerError, score

EXIT_USAGE = 2


def parse_answers(text: str, labels: Sequence[str] = ()) -> list[int | None]:
    """``"1,0,,2"`` → ``[1, 0, None, 2]``; raises :class:`AnswerError` naming the item of a non-numeric
    field (by its label from ``labels`` when given, e.g. ``6b``)."""
    answers: list[int | None] = []
    for position, field in enumerate(text.split(","), start=1):
        label = labels[position - 1] if position <= len(labels) else str(position)
        field = field.strip()
        if not field:
            answers.append(None)
            continue
        try:
            answers.append(int(field))
        except ValueError:
            raise AnswerError(
                position,
                "invalid",
                f"第{label}题的答案“{field}”不是选项序号（从0开始的整数）。",
                f"Item {label}: answer {field!r} is not an option index (an integer from 0).",
            ) from None
    return answers


class Command(BaseCommand):
    help = "Score a screening instrument from answer indexes and print the result as JSON."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("instrument", choices=INSTRUMENT_IDS, help="instrument id")
        parser.add_argument(
            "--answers",
            required=True,
            help="comma-separated 0-based option indexes in item order; leave a field empty for a skipped item",
        )
        parser.add_argument(
            "--cutoff",
            action="append",
            default=[],
            metavar="BAND=MIN",
            help="move the lower bound of a configurable band (EPDS possible/probable, PCL-5 probable_ptsd)",
        )

    def fail(self, zh: str, en: str) -> NoReturn:
        self.stderr.write(f"错误：{zh}\nError: {en}")
        self.stderr.flush()
        sys.exit(EXIT_USAGE)

    def handle(self, *args: Any, **options: Any) -> None:
        instrument = load(options["instrument"])
        if options["cutoff"]:
            minimums: dict[str, int] = {}
            for spec in options["cutoff"]:
                band, sep, value = spec.partition("=")
                try:
                    minimums[band.strip()] = int(value)
                    if not sep:
                        raise ValueError(spec)
                except ValueError:
                    self.fail(
                        f"--cutoff 的格式应为 分级=最低分，收到“{spec}”。",
                        f"--cutoff must be BAND=MIN; got {spec!r}.",
                    )
            try:
                instrument = instrument.with_cutoffs(**minimums)
            except ValueError as exc:
                self.fail(f"无效的界值设置：{exc}", f"invalid cut-off: {exc}")
        try:
            result = score(
                instrument, parse_answers(options["answers"], [item.label for item in instrument.items])
            )
        except AnswerError as exc:
            self.fail(exc.message_zh, exc.message_en)
        self.stdout.write(json.dumps(result.as_json_dict(), ensure_ascii=False))
        self.stdout.flush()
        sys.exit(0)
