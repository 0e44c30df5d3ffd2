"""The national paper forms as PDF: 个人信息补充表 and 随访服务记录表, filled or blank (WeasyPrint).

Layout: 《国家基本公共卫生服务规范（第三版）》(2017) 附件 严重精神障碍患者个人信息补充表 and 严重精神障碍
患者随访服务记录表: a title, the 姓名/编号 line, then a bordered table in which each row is one field
with its coded options printed in full and the chosen code written in the box on the right (a
multiple-choice field has one box per chosen code), the medication table, and signature lines.
A4, Noto CJK fonts from Debian's ``fonts-noto-cjk``.

The options come from ``patients.codes`` / ``followups.codes`` (the code printed equals the code
stored); what fills them comes through the mask policy: ``form_value`` shows a field as the user
may see it (hidden → blank, masked → masked unless the caller audited an unmask). The views audit
every print (``services.record_print``); this module only renders.

WeasyPrint subsets each CJK font it embeds. With HarfBuzz's subsetter (Debian ``libharfbuzz-subset0``)
a form renders in about 0.1 s; without it WeasyPrint falls back to fontTools, which takes ~10 s
per form on the CFF-based Noto CJK fonts (measured), so deployments must install that package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.core.masking import mask
from xinqiao.core.masks import Visibility, visibility

#: The fonts of the forms (``fonts-noto-cjk``), serif like the printed standard, sans as fallback.
FONT_STACK = "'Noto Serif CJK SC', 'Noto Sans CJK SC', serif"


@dataclass
class Option:
    """One printed option: its code and label."""

    code: Any
    label: str


@dataclass
class FormRow:
    """One row of a form's table: the field label, its options, the boxes on the right, free text."""

    label: str
    options: list[Option] = field(default_factory=list)
    boxes: list[str] = field(default_factory=list)
    text: str = ""
    parts: list[tuple[str, str | None]] = field(default_factory=list)  # (label, value) written inline; None: label only
    items: list[tuple[str, list[Option], str]] = field(default_factory=list)  # sub-items, each with a box
    wide: bool = False


def options_of(choices: type[models.Choices] | Iterable[tuple[Any, Any]]) -> list[Option]:
    pairs = choices.choices if isinstance(choices, type) else choices
    return [Option(code, str(label)) for code, label in pairs]


def form_value(user: Any, obj: models.Model | None, name: str, *, unmasked: bool = False) -> Any:
    """A field of ``obj`` as ``user`` may see it: ``None`` when hidden or empty, masked unless revealed.

    Fields outside ``PII_FIELDS`` (register number, creation dates) are shown as stored.
    """
    if obj is None:
        return None
    value = getattr(obj, name)
    category = getattr(obj, "PII_FIELDS", {}).get(name)
    if category is None or value in (None, "", []):
        return value if value not in ("", []) else None
    level = visibility(user, category)
    if level == Visibility.HIDDEN:
        return None
    if level == Visibility.MASKED and not (unmasked and user.has_perm(
            f"{obj._meta.app_label}.unmask_{obj._meta.model_name}")):
        return mask(category, value)
    return value


def box(value: Any) -> str:
    """The text written in one code box."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "2" if value else "1"
    return str(value)


def boxes(values: Sequence[Any] | None, count: int) -> list[str]:
    """``count`` boxes filled with the chosen codes of a multiple-choice field, in code order."""
    chosen = [str(v) for v in sorted(values)] if isinstance(values, list | tuple) else []
    if values is not None and not isinstance(values, list | tuple):
        chosen = [str(values)]  # masked: one box showing the mask
    return (chosen + [""] * count)[:max(count, len(chosen))]


def ymd(value: Any) -> str:
    """A date as the forms write it: 2024年03月05日; masked or hidden values pass through."""
    if isinstance(value, date):
        return _("%(y)s-%(m)02d-%(d)02d") % {"y": value.year, "m": value.month, "d": value.day}
    return "" if value is None else str(value)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render a form template to A4 PDF bytes."""
    from weasyprint import HTML

    html = render_to_string(template, {"font_stack": FONT_STACK, "printed_at": timezone.localtime(), **context})
    return bytes(HTML(string=html).write_pdf())
