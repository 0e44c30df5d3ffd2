"""Spreadsheet columns as data: header, kind, coded options, and the parser each cell goes through.

A column names the national field it fills (``key``), its header (English msgid, shown and
matched in Chinese as well), its kind and, for coded fields, the option class of
``patients.codes``: the code in the cell equals the code on the paper form and in the database.
``parser()`` turns a cell into ``(value, None)`` or ``(None, message)``; messages say what is
wrong in the user's language and never repeat the cell when it could be personal (an ID number).

Cells are accepted the way people fill paper-form spreadsheets: ``1``, ``"1"``, ``"1 门诊"``
(the drop-down's text) or the label alone for codes; ``1,3,5`` / ``1、3、5`` / ``1，3`` for
several codes; ``2024-03-05``, ``2024/3/5``, ``2024年3月5日``, ``20240305`` or a date cell for
dates; ``是``/``否`` for yes/no.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

Parsed = tuple[Any, str | None]
Parser = Callable[[Any], Parsed]

TEXT, CODE, CODES, DATE, BOOL, COUNT, INT, DECIMAL = "text", "code", "codes", "date", "bool", "count", "int", "decimal"
#: Languages whose headers and labels are recognised in an uploaded file.
LANGUAGES = ("zh-hans", "en")
_SPLIT = re.compile(r"[,，、;；/\n]+")
_LEADING_CODE = re.compile(r"^([0-9A-Za-z]+(?:\.[0-9]+)?)(?:\s|[-.、:：．)）]|$)")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YES = frozenset({"是", "有", "1", "y", "yes", "true", "√", "✓", "是的"})
_NO = frozenset({"否", "无", "0", "n", "no", "false", "×", "✗", "不是"})


def normalise(value: Any) -> str:
    """A cell as trimmed text with full-width digits and letters made ASCII (NFKC)."""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.strip()


def header_key(text: str) -> str:
    """How a header is compared: no spaces, no required-marker ``*``, case-folded."""
    return re.sub(r"[\s*＊]+", "", unicodedata.normalize("NFKC", str(text))).casefold()


@dataclass(frozen=True)
class Column:
    """One spreadsheet column."""

    key: str
    header: Promise | str
    kind: str = TEXT
    required: bool = False
    choices: type[models.Choices] | Sequence[tuple[Any, Any]] | None = None
    max_length: int = 200
    hint: Promise | str = ""
    example: Any = ""
    width: int = 14
    group: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    # --- options ---------------------------------------------------------------------------------

    def options(self) -> list[tuple[Any, str]]:
        """``(code, label)`` in the active language."""
        if self.choices is None:
            return []
        pairs = self.choices.choices if isinstance(self.choices, type) else self.choices
        return [(value, str(label)) for value, label in pairs]

    def option_texts(self) -> list[str]:
        """The drop-down texts: ``"1 门诊"`` (code, then label)."""
        return [f"{value} {label}" for value, label in self.options()]

    @cached_property
    def _lookup(self) -> dict[str, Any]:
        """Every spelling of every option (code, labels in each language, drop-down text) → code."""
        table: dict[str, Any] = {}
        for language in LANGUAGES:
            with translation.override(language):
                for value, label in self.options():
                    for spelling in (str(value), label, f"{value} {label}"):
                        table[header_key(spelling)] = value
        return table

    @cached_property
    def _exact(self) -> dict[str, Any]:
        """The spellings a cell most often has, exactly (``"1"``, ``"1 门诊"``): one dict look-up."""
        table: dict[str, Any] = {}
        for language in LANGUAGES:
            with translation.override(language):
                for value, label in self.options():
                    for spelling in (str(value), label, f"{value} {label}"):
                        table[spelling] = value
        return table

    def headers(self) -> set[str]:
        """The header in each recognised language, as compared (``header_key``)."""
        out = set()
        for language in LANGUAGES:
            with translation.override(language):
                out.add(header_key(str(self.header)))
        return out

    # --- parsing ---------------------------------------------------------------------------------

    def lookup_code(self, text: str) -> Any:
        """The code a cell names, or ``None``."""
        table = self._lookup
        key = header_key(text)
        if key in table:
            return table[key]
        if key.endswith(".0") and key[:-2] in table:
            return table[key[:-2]]
        match = _LEADING_CODE.match(text)
        if match:
            return table.get(header_key(match.group(1)))
        return None

    def allowed(self) -> str:
        return "、".join(str(value) for value, _label in self.options())

    def parser(self) -> Parser:
        """The function that parses this column's cells (``None`` for an empty cell)."""
        make = {TEXT: self._text, CODE: self._code, CODES: self._codes, DATE: self._date, BOOL: self._bool,
                COUNT: self._count, INT: self._count, DECIMAL: self._decimal}[self.kind]
        return make()

    def _text(self) -> Parser:
        limit = self.max_length

        def parse(value: Any) -> Parsed:
            text = (value if isinstance(value, str) else str(value)).strip()
            if len(text) > limit:
                return None, _("Too long: at most %(limit)s characters.") % {"limit": limit}
            return text, None
        return parse

    def _code(self) -> Parser:
        exact = self._exact

        def parse(value: Any) -> Parsed:
            if value.__class__ is str:
                code = exact.get(value)
                if code is not None:
                    return code, None
            text = normalise(value)
            code = self.lookup_code(text)
            if code is None:
                return None, _("Unknown code “%(value)s”: allowed codes are %(allowed)s.") % {
                    "value": text[:20], "allowed": self.allowed()}
            return code, None
        return parse

    def _codes(self) -> Parser:
        exact, table = self._exact, self._lookup

        def strict(token: str) -> Any:
            code = exact.get(token)
            return table.get(header_key(token)) if code is None else code

        def parse(value: Any) -> Parsed:
            text = normalise(value)
            whole = strict(text)  # one option, whose label may hold a comma or a space
            if whole is not None:
                return [whole], None
            codes: list[Any] = []
            for token in _SPLIT.split(text):
                token = token.strip()
                if not token:
                    continue
                code = strict(token)
                if code is None and " " in token:
                    pieces = token.split()
                    parts = [strict(piece) for piece in pieces]  # "1 3 5"
                    if all(part is not None for part in parts):
                        codes.extend(parts)
                        continue
                    if all(piece.isdigit() for piece in pieces):
                        token = next(piece for piece, part in zip(pieces, parts, strict=True) if part is None)
                if code is None:
                    code = self.lookup_code(token)  # "1 幻觉" in some other spelling
                if code is None:
                    return None, _("Unknown code “%(value)s”: allowed codes are %(allowed)s.") % {
                        "value": token[:20], "allowed": self.allowed()}
                codes.append(code)
            return sorted(set(codes)), None
        return parse

    def _date(self) -> Parser:
        def parse(value: Any) -> Parsed:
            if isinstance(value, datetime):
                return value.date(), None
            if isinstance(value, date):
                return value, None
            text = normalise(value)
            match = _DATE.match(text) or _COMPACT_DATE.match(text)
            if match:
                try:
                    return date(int(match.group(1)), int(match.group(2)), int(match.group(3))), None
                except ValueError:
                    return None, _("There is no such date.")
            return None, _("Enter a date as YYYY-MM-DD, for example 2024-03-05.")
        return parse

    def _bool(self) -> Parser:
        def parse(value: Any) -> Parsed:
            if value == "是" or value is True:
                return True, None
            if value == "否" or value is False:
                return False, None
            text = normalise(value).casefold()
            text = text.split(" ", 1)[-1] if " " in text else text  # "1 是" from a drop-down
            if text in _YES:
                return True, None
            if text in _NO:
                return False, None
            return None, _("Enter 是 (yes) or 否 (no).")
        return parse

    def _count(self) -> Parser:
        low, high = self.extra.get("min", 0), self.extra.get("max", 999)

        def parse(value: Any) -> Parsed:
            if value.__class__ is str and value.isdigit() and value.isascii():
                whole = int(value)
                if low <= whole <= high:
                    return whole, None
            text = normalise(value)
            try:
                number = float(text)
            except ValueError:
                number = -1.5
            if not number.is_integer() or not low <= number <= high:
                return None, _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
            return int(number), None
        return parse


    def _decimal(self) -> Parser:
        high = Decimal(str(self.extra.get("max", 100000)))

        def parse(value: Any) -> Parsed:
            try:
                number = Decimal(normalise(value))
            except InvalidOperation:
                number = Decimal(-1)
            if not number.is_finite() or not Decimal(0) < number < high:
                return None, _("Enter a number greater than 0.")
            return number.quantize(Decimal("0.01")), None
        return parse


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet row number, column header (``""`` for the whole row), message."""

    row: int
    column: str
    message: str

    def as_list(self) -> list[Any]:
        return [self.row, self.column, self.message]


def match_header(columns: Sequence[Column], header: Sequence[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Map column keys to positions in an uploaded header row.

    Returns ``(positions, missing required headers, unknown headers)``. Unknown headers are
    reported, not fatal (a spare notes column is harmless); a missing required column is.
    """
    wanted: dict[str, Column] = {}
    for column in columns:
        for text in column.headers():
            wanted[text] = column
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, text in enumerate(header):
        if not text:
            continue
        found = wanted.get(header_key(text))
        if found is None:
            unknown.append(text)
        elif found.key not in positions:
            positions[found.key] = index
    missing = [str(c.header) for c in columns if c.required and c.key not in positions]
    return positions, missing, unknown
