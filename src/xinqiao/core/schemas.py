"""API schemas (pydantic v2 via django-ninja) of the foundation; one stem per model."""

from __future__ import annotations

from datetime import date

from ninja import Schema
from pydantic import Field


class RegionSchema(Schema):
    """A division code entry (public data)."""

    code: str
    name: str
    level: int
    kind: str
    parent_code: str | None = None
    pinyin: str


class RegionDetailSchema(RegionSchema):
    """A region with its path from the province and its children."""

    full_name: str
    children: list[RegionSchema]


class OrganisationSchema(Schema):
    """An organisation's public record."""

    id: int
    name: str
    org_type: str
    org_type_label: str
    region_code: str
    parent_id: int | None = None
    phone: str
    address: str
    is_active: bool


class MeSchema(Schema):
    """The signed-in user."""

    username: str
    display_name: str
    roles: list[str]
    region_code: str | None
    organisation_id: int | None
    two_factor_verified: bool


class PersonSchema(Schema):
    """A person as the caller may see it: hidden categories are null, masked ones masked."""

    id: int
    township_code: str
    county_code: str
    name: str | None = None
    id_type: str
    id_number: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    phone: str | None = None
    address: str | None = None
    unmasked: bool = False


class PersonCreateSchema(Schema):
    """Input for registering a person."""

    name: str = Field(min_length=1, max_length=64)
    id_type: str = "resident_id"
    id_number: str = Field(default="", max_length=32)
    region_code: str = Field(pattern=r"^\d{9}$")
    sex: str = ""
    birth_date: date | None = None
    phone: str = Field(default="", max_length=20)
    address: str = Field(default="", max_length=255)


class UnmaskSchema(Schema):
    """Why the record is revealed."""

    purpose: str = Field(min_length=4, max_length=500)


class PersonPage(Schema):
    """One page of persons."""

    count: int
    page: int
    pages: int
    results: list[PersonSchema]
