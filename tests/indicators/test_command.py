"""``xinqiao indicators``: computes and stores, prints a summary, exits 2 naming a bad period or indicator."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.indicators.factories import followup, patient
from xinqiao.core.models import Region
from xinqiao.indicators.models import IndicatorResult, IndicatorRun

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("indicators", *args, stdout=out)
    return out.getvalue()


def test_command_refreshes_and_summarises(towns: list[Region]) -> None:
    p = patient(towns[0])
    followup(p, date(2026, 8, 1))
    text = run("--period", "2026Q3", "--indicator", "managed_rate", "--indicator", "medication_rate")
    assert text.startswith("2026Q3: 2 indicators, 8 rows in ")
    assert IndicatorResult.objects.filter(period="2026Q3").count() == 8
    assert IndicatorRun.objects.get().trigger == "command"
    assert "unchanged since the last run, skipped" in run("--period", "2026Q3", "--indicator", "managed_rate",
                                                          "--incremental")
    assert run("--period", "2026-08", "--period", "2026", "--indicator", "managed_rate").count("rows in") == 2


@pytest.mark.parametrize(("args", "named"), [
    (["--period", "2026Q7"], "2026Q7"),
    (["--period", "2026Q3", "--indicator", "bogus"], "bogus"),
])
def test_bad_input_exits_2_naming_it(args: list[str], named: str) -> None:
    with pytest.raises(CommandError, match=named) as info:
        run(*args)
    assert info.value.returncode == 2
