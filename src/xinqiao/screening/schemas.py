"""API schemas of screening."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class InstrumentSummary(Schema):
    """A scale in the library."""

    id: str
    version: str
    name: str
    items: int
    licence: str


class ResponseIn(Schema):
    """A completed scale. Give ``access_code`` for a campaign, else ``region_code`` (public/statistics)."""

    instrument: str = Field(max_length=16)
    answers: list[int | None] = Field(max_length=200)
    region_code: str = Field(default="", pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9})?$")
    access_code: str = Field(default="", max_length=12)
    participant_name: str = Field(default="", max_length=64)
    participant_number: str = Field(default="", max_length=32)


class ResponseOut(Schema):
    """The stored response's id and its score (engine contract)."""

    id: int
    replayed: bool
    result: dict[str, Any]
    crisis_line: str | None = None
