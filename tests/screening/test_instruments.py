"""The instrument data files and their loader: every shipped file is valid and matches INSTRUMENTS.md;
broken files are rejected with a message naming the place."""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xinqiao.screening import instruments as mod
from xinqiao.screening.instruments import (
    DATA_DIR,
    INSTRUMENT_IDS,
    InstrumentError,
    UnknownInstrumentError,
    all_instruments,
    load,
    load_directory,
    load_file,
    loinc_check_digit_ok,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
SCREENING = Path(mod.__file__).resolve().parent


def test_all_shipped_instruments_load() -> None:
    loaded = all_instruments()
    assert [i.id for i in loaded] == list(INSTRUMENT_IDS)
    assert sorted(p.stem for p in DATA_DIR.glob("*.json")) == sorted(INSTRUMENT_IDS)
    assert load_directory(DATA_DIR).keys() == set(INSTRUMENT_IDS)
    for instrument in loaded:
        assert instrument.version == "1.0.0"
        assert len(instrument.items) == mod.EXPECTED_ITEM_COUNTS[instrument.id]


def test_load_is_cached_and_refuses_unknown_ids() -> None:
    assert load("phq9") is load("phq9")
    assert hash(load("phq9")) == hash(load_file(DATA_DIR / "phq9.json"))
    assert load("phq9") == load_file(DATA_DIR / "phq9.json")
    for bad in ("nope", "../settings", "PHQ9", "mchat"):
        with pytest.raises(UnknownInstrumentError):
            load(bad)


@pytest.mark.parametrize(
    ("instrument_id", "items", "points", "total"),
    [
        ("phq9", 9, (0, 3), (0, 27)),
        ("phq2", 2, (0, 3), (0, 6)),
        ("gad7", 7, (0, 3), (0, 21)),
        ("gad2", 2, (0, 3), (0, 6)),
        ("scl90", 90, (1, 5), (90, 450)),
        ("sds", 20, (1, 4), (20, 80)),
        ("sas", 20, (1, 4), (20, 80)),
        ("epds", 10, (0, 3), (0, 30)),
        ("gds15", 15, (0, 1), (0, 15)),
        ("ad8", 8, (0, 1), (0, 8)),
        ("k10", 10, (1, 5), (10, 50)),
        ("who5", 5, (0, 5), (0, 25)),
        ("pcl5", 20, (0, 4), (0, 80)),
        ("cssrs", 7, (0, 1), None),
    ],
)
def test_items_points_and_ranges_match_the_facts(
    instrument_id: str, items: int, points: tuple[int, int], total: tuple[int, int] | None
) -> None:
    instrument = load(instrument_id)
    assert len(instrument.items) == items
    assert instrument.scoring.item_points == points
    assert instrument.scoring.total_range == total
    for item in instrument.items:
        assert (item.min_points, item.max_points) == points


def test_option_order_convention() -> None:
    for instrument in all_instruments():
        for item in instrument.items:
            if instrument.id == "epds":
                continue
            # listed from the "none / never / not at all" end: the first option scores the minimum
            assert item.points[0] == item.min_points or item.reverse, (instrument.id, item.number)
            if not item.reverse and instrument.id != "ad8":
                assert list(item.points) == sorted(item.points), (instrument.id, item.number)
    # yes/no: index 0 = no, 1 = yes
    for iid in ("gds15", "cssrs"):
        for item in load(iid).items:
            assert [o.text.en for o in item.options] == ["No", "Yes"]
    # AD8: no change 0 / yes, a change 1 / N/A 0
    ad8 = load("ad8").item(1)
    assert [o.text.en for o in ad8.options] == ["No, no change", "Yes, a change", "N/A, don't know"]
    assert ad8.points == (0, 1, 0)
    # EPDS keeps the printed order: items 1, 2, 4 score 0→3, items 3 and 5–10 score 3→0
    epds = load("epds")
    for item in epds.items:
        expected = (3, 2, 1, 0) if item.number in (3, 5, 6, 7, 8, 9, 10) else (0, 1, 2, 3)
        assert item.points == expected, item.number
    assert epds.item(3).options[0].text.en == "Yes, most of the time"
    assert epds.item(4).options[0].text.en == "No, not at all"
    # SDS/SAS: "none or a little" (1) … "most or all of the time" (4); reverse items 5 − x
    sds = load("sds")
    assert sds.item(1).points == (1, 2, 3, 4) and sds.item(2).points == (4, 3, 2, 1)
    assert load("scl90").item(1).points == (1, 2, 3, 4, 5)


def test_cssrs_shape() -> None:
    cssrs = load("cssrs")
    assert [i.label for i in cssrs.items] == ["1", "2", "3", "4", "5", "6", "6b"]
    assert [(i.enable_when.item, i.enable_when.answer) if i.enable_when else None for i in cssrs.items] == [
        None, None, (2, 1), (2, 1), (2, 1), None, (6, 1),
    ]  # fmt: skip
    assert [b.code for b in cssrs.bands] == ["none", "low", "moderate", "high"]
    assert cssrs.alert("suicide_risk").risk == "high"
    assert [o.loinc_answer for o in cssrs.item(1).options] == ["LA32-8", "LA33-6"]


PHQ9_ITEM_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
GAD7_ITEM_LOINC = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]


def test_loinc_codes_as_in_instruments_md() -> None:
    panels = {i.id: (i.loinc.panel, i.loinc.total) for i in all_instruments()}
    assert panels == {
        "phq9": ("44249-1", "44261-6"),
        "phq2": ("55757-9", "55758-7"),
        "gad7": ("69737-5", "70274-6"),
        "gad2": (None, "70272-0"),
        "scl90": (None, None),
        "sds": (None, None),
        "sas": (None, None),
        "epds": ("71354-5", None),
        "gds15": ("48543-3", "48545-8"),
        "ad8": ("71945-0", None),
        "k10": (None, None),
        "who5": (None, None),
        "pcl5": ("101697-1", "101698-9"),
        "cssrs": ("93245-9", None),
    }
    assert [i.loinc for i in load("phq9").items] == PHQ9_ITEM_LOINC
    assert [i.loinc for i in load("phq2").items] == PHQ9_ITEM_LOINC[:2]
    assert [i.loinc for i in load("gad7").items] == GAD7_ITEM_LOINC
    assert [i.loinc for i in load("gad2").items] == GAD7_ITEM_LOINC[:2]
    assert load("phq9").supplementary_items[0].loinc == "69722-7"
    answers = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    for iid in ("phq9", "phq2", "gad7", "gad2"):
        assert [o.loinc_answer for o in load(iid).item(1).options] == answers
    assert load("gad2").loinc.unverified == ("70272-0",)
    assert all(not i.loinc.unverified for i in all_instruments() if i.id != "gad2")


def test_loinc_check_digit() -> None:
    for code in ("44249-1", "44261-6", "101697-1", "70272-0", "69722-7", "48545-8"):
        assert loinc_check_digit_ok(code)
    for code in ("44249-2", "44261-0", "101697-3", "LA6568-5", "44249"):
        assert not loinc_check_digit_ok(code)


def test_texts_are_bilingual_and_public_descriptions_say_what_a_result_means() -> None:
    for instrument in all_instruments():
        texts = [instrument.name, instrument.description, instrument.instructions, instrument.timeframe]
        texts += [item.text for item in instrument.items]
        texts += [o.text for item in instrument.items for o in item.options]
        texts += [b.label for b in instrument.bands] + [a.label for a in instrument.alerts]
        for text in texts:
            assert CJK.search(text.zh), (instrument.id, text)
            assert text.en and not CJK.search(text.en), (instrument.id, text)
        # plain Chinese for the public: a screen, not a diagnosis
        assert "诊断" in instrument.description.zh, instrument.id
        assert "diagnos" in instrument.description.en, instrument.id
        for band in instrument.bands:
            assert band.advice is not None and CJK.search(band.advice.zh)


def test_licence_lines() -> None:
    lines = {i.id: i.licence.copyright for i in all_instruments()}
    for iid in ("phq9", "phq2", "gad7", "gad2"):
        assert "Pfizer" in lines[iid] and "No permission required" in lines[iid]
    assert "© The Royal College of Psychiatrists 1987" in lines["epds"]
    assert "Washington University" in lines["ad8"] and "Copyright 2005" in lines["ad8"]
    assert "Pearson" in lines["scl90"]
    assert "Public domain" in lines["gds15"] and "Public domain" in lines["pcl5"]
    assert "Research Foundation for Mental Hygiene" in lines["cssrs"]


def test_readme_documents_every_instrument() -> None:
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for instrument in all_instruments():
        assert f"`{instrument.id}`" in readme
        for code in filter(None, (instrument.loinc.panel, instrument.loinc.total)):
            assert code in readme
    assert "70272-0 (unverified)" in readme
    assert "Option order" in readme


@pytest.mark.parametrize("module", ["rules.py", "instruments.py"])
def test_engine_and_loader_do_not_import_django(module: str) -> None:
    tree = ast.parse((SCREENING / module).read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.split(".")[0] in ("django", "xinqiao")], imported


# --------------------------------------------------------------------------------------------------
# with_cutoffs
# --------------------------------------------------------------------------------------------------


def test_with_cutoffs() -> None:
    epds = load("epds")
    hk = epds.with_cutoffs(probable=10)
    assert [(b.code, b.min, b.max) for b in hk.bands] == [("unlikely", 0, 9), ("probable", 10, 30)]
    assert dict(hk.cutoff_overrides) == {"probable": 10} and not epds.cutoff_overrides
    both = epds.with_cutoffs(possible=9, probable=11)
    assert [(b.code, b.min, b.max) for b in both.bands] == [
        ("unlikely", 0, 8),
        ("possible", 9, 10),
        ("probable", 11, 30),
    ]
    assert load("epds") is epds and epds.band("possible").min == 10  # the cached definition is untouched
    pcl = load("pcl5").with_cutoffs(probable_ptsd=31)
    assert [(b.code, b.min, b.max) for b in pcl.bands] == [("below_cutoff", 0, 30), ("probable_ptsd", 31, 80)]
    for bad in (
        lambda: load("phq9").with_cutoffs(moderate=8),  # not configurable
        lambda: epds.with_cutoffs(unlikely=1),  # not configurable (first band)
        lambda: epds.with_cutoffs(possible=14, probable=13),  # out of order
        lambda: epds.with_cutoffs(probable=0),  # must be above the minimum
        lambda: epds.with_cutoffs(probable=31),  # beyond the maximum
    ):
        with pytest.raises(ValueError, match="cut-off"):
            bad()


# --------------------------------------------------------------------------------------------------
# Broken files are rejected
# --------------------------------------------------------------------------------------------------


def shipped(instrument_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / f"{instrument_id}.json").read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, doc: Any, name: str = "phq9") -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _set(doc: dict[str, Any], fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    fn(doc)
    return doc


def _band_gap(d: dict[str, Any]) -> None:
    d["bands"][0]["max"] = 3  # minimal 0–3, mild 5–9: nothing covers 4


def _band_overlap(d: dict[str, Any]) -> None:
    d["bands"][1]["min"] = 4  # minimal 0–4, mild 4–9


def _band_short(d: dict[str, Any]) -> None:
    d["bands"][-1]["max"] = 26


def _band_reversed(d: dict[str, Any]) -> None:
    d["bands"][1]["min"], d["bands"][1]["max"] = 9, 5


def _wrong_option_count(d: dict[str, Any]) -> None:
    d["items"][2]["options"] = d["option_sets"]["frequency"][:3]


def _wrong_set_size(d: dict[str, Any]) -> None:
    d["option_sets"]["frequency"].append({"text": {"zh": "总是", "en": "Always"}, "points": 4})


def _points_off(d: dict[str, Any]) -> None:
    d["option_sets"]["frequency"][3]["points"] = 4  # 0 1 2 4 does not span 0–3


def _total_range(d: dict[str, Any]) -> None:
    d["scoring"]["total_range"] = [0, 28]


def _drop_item(d: dict[str, Any]) -> None:
    d["items"].pop()
    d["scoring"]["total_range"] = [0, 24]


def _renumber(d: dict[str, Any]) -> None:
    d["items"][4]["number"] = 7


def _unknown_set(d: dict[str, Any]) -> None:
    d["items"][0]["options"] = "frequencies"


def _unknown_key(d: dict[str, Any]) -> None:
    d["items"][0]["reversed"] = True


def _missing_key(d: dict[str, Any]) -> None:
    del d["licence"]


def _bad_loinc(d: dict[str, Any]) -> None:
    d["items"][0]["loinc"] = "44250-8"


def _alert_item(d: dict[str, Any]) -> None:
    d["alerts"][0]["when"]["item"] = 10


def _alert_points(d: dict[str, Any]) -> None:
    d["alerts"][0]["when"]["min_points"] = 0  # would fire on every answer


def _no_zh(d: dict[str, Any]) -> None:
    d["items"][1]["text"]["zh"] = " "


def _bad_version(d: dict[str, Any]) -> None:
    d["version"] = "1.0"


def _reverse_non_monotonic(d: dict[str, Any]) -> None:
    d["option_sets"]["frequency"][1]["points"], d["option_sets"]["frequency"][2]["points"] = 2, 1
    d["items"][0]["reverse"] = True


def _enable_forward(d: dict[str, Any]) -> None:
    d["items"][1]["enable_when"] = {"item": 3, "answer": 1}


def _bool_points(d: dict[str, Any]) -> None:
    d["option_sets"]["frequency"][1]["points"] = True


BROKEN = [
    ("band gap", _band_gap, "gap: nothing covers 4–4"),
    ("band overlap", _band_overlap, "overlap"),
    ("bands stop short", _band_short, "bands end at 26"),
    ("band min above max", _band_reversed, "above max"),
    ("wrong option count (inline)", _wrong_option_count, "expected 4 options, found 3"),
    ("wrong option count (set)", _wrong_set_size, "expected 4 options, found 5"),
    ("points do not span the range", _points_off, "do not span 0–3"),
    ("declared total range", _total_range, "declared [0, 28], the items give [0, 27]"),
    ("item count", _drop_item, "phq9 has 9 items, the file has 8"),
    ("item numbering", _renumber, "expected 5, found 7"),
    ("unknown option set", _unknown_set, "unknown option set 'frequencies'"),
    ("unknown key", _unknown_key, "unknown key(s): reversed"),
    ("missing key", _missing_key, "missing key(s): licence"),
    ("LOINC check digit", _bad_loinc, "wrong check digit"),
    ("alert on a missing item", _alert_item, "no such item"),
    ("alert that always fires", _alert_points, "must be within 1–3"),
    ("empty Chinese text", _no_zh, "items[1].text.zh"),
    ("version", _bad_version, "does not match"),
    ("reverse item with unordered points", _reverse_non_monotonic, "strictly increasing"),
    ("skip logic on a later item", _enable_forward, "earlier item"),
    ("boolean points", _bool_points, "expected an integer"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [(m, msg) for _, m, msg in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_loader_rejects_broken_files(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    path = write(tmp_path, _set(shipped("phq9"), mutate))
    with pytest.raises(InstrumentError) as info:
        load_file(path)
    assert message in str(info.value)
    assert str(info.value).startswith("phq9.json: ")


def test_loader_accepts_an_unchanged_copy(tmp_path: Path) -> None:
    for iid in INSTRUMENT_IDS:
        assert load_file(write(tmp_path, shipped(iid), iid)) == load(iid)


def test_loader_rejects_bad_json_and_wrong_id(tmp_path: Path) -> None:
    bad = tmp_path / "phq9.json"
    bad.write_text('{"id": "phq9",', encoding="utf-8")
    with pytest.raises(InstrumentError, match="not valid JSON"):
        load_file(bad)
    with pytest.raises(InstrumentError, match="does not match the file name"):
        load_file(write(tmp_path, shipped("phq9"), "phq10"))
    with pytest.raises(InstrumentError, match="cannot read"):
        load_file(tmp_path / "missing.json")
    with pytest.raises(InstrumentError):
        load_directory(tmp_path)  # phq9.json (broken) and phq10.json are both there


def test_loader_rejects_broken_risk_and_scl90_files(tmp_path: Path) -> None:
    cssrs = _set(shipped("cssrs"), lambda d: d["bands"].pop())
    with pytest.raises(InstrumentError, match="risk-method instrument has the bands"):
        load_file(write(tmp_path, cssrs, "cssrs"))
    rule = _set(shipped("cssrs"), lambda d: d["scoring"]["risk_rules"][0]["when_yes"].append([9]))
    with pytest.raises(InstrumentError, match="missing item"):
        load_file(write(tmp_path, rule, "cssrs"))
    skip = _set(shipped("cssrs"), lambda d: d["items"][6]["enable_when"].update(answer=2))
    with pytest.raises(InstrumentError, match="has no option 2"):
        load_file(write(tmp_path, skip, "cssrs"))
    esc = _set(shipped("scl90"), lambda d: d["scoring"]["escalations"][0].update(band="severe"))
    with pytest.raises(InstrumentError, match="unknown band 'severe'"):
        load_file(write(tmp_path, esc, "scl90"))
    factor = _set(shipped("scl90"), lambda d: d["subscales"][0]["items"].append(91))
    with pytest.raises(InstrumentError, match=r"subscales\[0\]\.items"):
        load_file(write(tmp_path, factor, "scl90"))
    std = _set(shipped("sds"), lambda d: d["bands"][0].update(min=20))  # raw minimum, not the standard 25
    with pytest.raises(InstrumentError, match="starts below the lowest possible score"):
        load_file(write(tmp_path, std, "sds"))
    prov = _set(shipped("pcl5"), lambda d: d["scoring"]["provisional"]["requires"].update(cluster_f_count=1))
    with pytest.raises(InstrumentError, match="unknown subscale 'cluster_f_count'"):
        load_file(write(tmp_path, prov, "pcl5"))
