"""How each category of personal data is shown masked (pure functions, no Django).

Examples: 440106199001011234 → 4401**********1234 · 张三丰 → 张** · 13812345678 → 138****5678 ·
广东省广州市天河区某街1号 → 广东省广州市**** · 1990-01-01 → 1990-**-**.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

STAR = "*"


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters (GB 11643: province+city, then seq+check)."""
    if len(value) <= 8:
        return STAR * len(value)
    return value[:4] + STAR * (len(value) - 8) + value[-4:]


def mask_name(value: str) -> str:
    """Keep the first character (the surname in most Chinese names)."""
    if not value:
        return ""
    return value[0] + STAR * max(len(value) - 1, 1)


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 digits of a mobile number; others keep the last 4."""
    digits = value.strip()
    if len(digits) == 11:
        return digits[:3] + STAR * 4 + digits[-4:]
    if len(digits) <= 4:
        return STAR * len(digits)
    return STAR * (len(digits) - 4) + digits[-4:]


def mask_address(value: str) -> str:
    """Keep the first 6 characters (about province and city), hide the rest."""
    if len(value) <= 6:
        return STAR * 4
    return value[:6] + STAR * 4


def mask_birth_date(value: date | str) -> str:
    """Keep the year."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    return text[:4] + "-**-**"


def mask_default(value: object) -> str:
    """Anything else: a fixed placeholder that does not reveal the length."""
    return STAR * 4


MASKERS: dict[str, Callable[..., str]] = {
    "identity.name": mask_name,
    "identity.id_number": mask_id_number,
    "identity.birth_date": mask_birth_date,
    "contact.phone": mask_phone,
    "contact.address": mask_address,
    "care.guardian": mask_name,
}


def mask(category: str, value: object) -> str:
    """Mask ``value`` the way its category is masked; empty stays empty."""
    if value is None or value == "":
        return ""
    return MASKERS.get(category, mask_default)(value)
