"""National rules of the register that are not follow-up rules, loaded from data.

- Partner-agency visibility (``data/sharing.json``; DOMAIN.md §7, 《严重精神障碍管理治疗工作规范
  （2018年版）》 on information exchange within the 综合管理小组): partner roles see only patients at
  danger level ≥3 or with a 肇事肇祸 history.
- 在册 (on the register) = 累计建档 − 累计死亡 − 迁出 (DOMAIN.md §5): ``OFF_REGISTER_STATUSES``.

Pure Python: no database access, so the rules are testable from the standard's wording alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from xinqiao.patients.codes import OFF_REGISTER_STATUSES

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class SharingRule:
    """Who counts as a partner agency and which patients they may see."""

    partner_roles: frozenset[str]
    min_danger_level: int
    include_incident_history: bool

    def is_partner_only(self, role_codes: Iterable[str]) -> bool:
        """True when every role of the user is a partner role (no clinical role lifts the limit)."""
        codes = set(role_codes)
        return bool(codes) and codes <= self.partner_roles

    def partner_may_see(self, danger_level: int, incident_history: bool) -> bool:
        """Whether a partner-only user may see a patient with these facts."""
        return danger_level >= self.min_danger_level or (self.include_incident_history and incident_history)


@lru_cache(maxsize=1)
def sharing_rule() -> SharingRule:
    """The configured sharing rule (``patients/data/sharing.json``)."""
    raw = json.loads((DATA_DIR / "sharing.json").read_text(encoding="utf-8"))
    level = int(raw["min_danger_level"])
    if not 0 <= level <= 5:
        raise ValueError("sharing.json: min_danger_level must be 0–5")
    return SharingRule(
        partner_roles=frozenset(raw["partner_roles"]),
        min_danger_level=level,
        include_incident_history=bool(raw.get("include_incident_history", True)),
    )


def on_register(status: str) -> bool:
    """在册: registered and neither dead nor moved out (DOMAIN.md §5)."""
    return status not in OFF_REGISTER_STATUSES


@lru_cache(maxsize=1)
def time_limits() -> dict[str, int]:
    """The configured time limits (``patients/data/time_limits.json``, DOMAIN.md §5)."""
    raw = json.loads((DATA_DIR / "time_limits.json").read_text(encoding="utf-8"))
    return {key: int(value) for key, value in raw.items() if not key.startswith("_")}
