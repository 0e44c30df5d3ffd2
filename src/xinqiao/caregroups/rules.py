"""Rules of the township management groups (综合管理小组 / 关爱帮扶小组).

* Seats by group kind, as data (``data/member_roles.json``; DOMAIN.md §7): the 综合管理小组 has 综治,
  卫生健康, 公安, 民政, 司法行政, 残联 and 老龄; the 关爱帮扶小组 adds 网格员, 精防医生, 派出所民警,
  village cadres and the family.
* Minutes carry no patient identity beyond register numbers (精神卫生法 Art.4; 《严重精神障碍发病报告
  管理办法（试行）》2013: no passing of patient information beyond what the law provides).
  ``minutes_problems`` finds ID numbers, phone numbers and the names of the township's patients in a
  text, so the service can refuse it and say which kind of identity to take out.

Pure Python: no Django import.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
KINDS: tuple[str, ...] = ("comprehensive", "care")


@dataclass(frozen=True)
class MemberRole:
    """One seat of a group: its code, its labels and the kinds of group that have it."""

    code: str
    zh: str
    en: str
    kinds: frozenset[str]

    def label(self, language: str) -> str:
        return self.en if language.startswith("en") else self.zh


@lru_cache(maxsize=1)
def member_roles() -> dict[str, MemberRole]:
    """Seats by code (``data/member_roles.json``), validated on load."""
    raw = json.loads((DATA_DIR / "member_roles.json").read_text(encoding="utf-8"))
    out: dict[str, MemberRole] = {}
    for entry in raw["roles"]:
        kinds = frozenset(entry["kinds"])
        if not kinds or not kinds <= set(KINDS):
            raise ValueError(f"member_roles.json: {entry['code']} has unknown kinds {sorted(kinds)}")
        if entry["code"] in out:
            raise ValueError(f"member_roles.json: {entry['code']} is listed twice")
        out[entry["code"]] = MemberRole(entry["code"], entry["zh"], entry["en"], kinds)
    return out


def roles_for_kind(kind: str) -> list[MemberRole]:
    """The seats a group of ``kind`` may have, in file order."""
    return [role for role in member_roles().values() if kind in role.kinds]


def seat_allowed(kind: str, role_code: str) -> bool:
    """Whether a group of ``kind`` has the seat ``role_code``."""
    role = member_roles().get(role_code)
    return role is not None and kind in role.kinds


# --------------------------------------------------------------------------------------------------
# Minutes without identity
# --------------------------------------------------------------------------------------------------

# 18-digit resident ID (last may be X) or the old 15-digit one, not inside a longer number.
ID_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9Xx])")
# Mainland mobile numbers, with optional +86 and separators.
MOBILE = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?1[3-9][0-9](?:[\s-]?[0-9]{4}){2}(?![0-9])")
# Landlines with an area code: 020-12345678, (0755)1234567.
LANDLINE = re.compile(r"(?<![0-9])\(?0[1-9][0-9]{1,2}\)?[\s-]?[0-9]{7,8}(?![0-9])")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def minutes_problems(text: str, names: Iterable[str] = (), register_numbers: Iterable[str] = ()) -> list[str]:
    """Kinds of identity found in ``text``: ``id_number``, ``phone``, ``name`` (in that order).

    ``names`` are the names of the patients the minutes could be about (the township's register);
    names shorter than two characters are ignored (they would match ordinary words).
    ``register_numbers`` are allowed: they are taken out before looking for ID and phone numbers, so a
    register number that happens to be all digits is never mistaken for either.
    """
    text = _normalise(text)
    for number in sorted({_normalise(n) for n in register_numbers if n}, key=len, reverse=True):
        # Whole tokens only: a number inside a longer run of digits is not that register number.
        text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(number)}(?![0-9A-Za-z])", " ", text)
    found: list[str] = []
    if ID_NUMBER.search(text):
        found.append("id_number")
    if MOBILE.search(text) or LANDLINE.search(text):
        found.append("phone")
    compact = re.sub(r"\s+", "", text)
    for name in names:
        name = re.sub(r"\s+", "", _normalise(name or ""))
        if len(name) >= 2 and name in compact:
            found.append("name")
            break
    return found
