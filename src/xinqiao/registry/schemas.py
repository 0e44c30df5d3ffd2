"""API schemas of the registry (one stem per model: ``Institution…``, ``Application…``, ``Point…``)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class PointOut(Schema):
    """A service point as the public sees it."""

    id: int
    name: str
    kind: str
    institution_id: int
    registration_number: str
    address: str
    phone: str
    latitude: float | None
    longitude: float | None
    open_24h: bool
    open_now: bool
    hours: str
    hours_note: str
    services: list[str]
    populations: list[str]
    languages: list[str]
    region_code: str
    distance_km: float | None = None


class InstitutionOut(Schema):
    id: int
    registration_number: str
    name: str
    kind: str
    status: str
    region_code: str
    version: int
    grade: str
    demonstration: bool
    demonstration_year: int | None
    beds: int | None
    hospital_level: int | None
    students: int | None
    counsellors: int | None


class InstitutionDetailOut(InstitutionOut):
    address: str
    phone: str
    points: list[PointOut]


class InstitutionIn(Schema):
    """Proposed details (field names as in the forms; errors name them)."""

    name: str = Field(..., min_length=1, max_length=128)
    kind: str
    region_code: str = Field(..., pattern=r"^\d{2}(\d{2}(\d{2}(\d{3})?)?)?$")
    address: str = Field("", max_length=255)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    unified_credit_code: str = Field("", max_length=18)
    latitude: float | None = None
    longitude: float | None = None
    open_24h: bool = False
    hours: str = Field("", max_length=255)
    hours_note: str = Field("", max_length=255)
    services: list[str] = []
    populations: list[str] = []
    languages: list[str] = []
    beds: int | None = Field(None, ge=0)
    hospital_level: int | None = Field(None, ge=1, le=3)
    students: int | None = Field(None, ge=0)
    counsellors: int | None = Field(None, ge=0)
    business_licence_number: str = Field("", max_length=32)
    licence_scope: str = Field("", max_length=255)
    licensing_status: str = ""
    village_code: str = Field("", max_length=12)
    village_name: str = Field("", max_length=64)
    own_organisation: bool = False


class ApplicationIn(Schema):
    institution_id: int | None = None
    details: InstitutionIn


class ApplicationOut(Schema):
    id: int
    kind: str
    status: str
    name: str
    region_code: str
    institution_id: int | None
    recommendation: str
    reason: str
    submitted_at: datetime
    decided_at: datetime | None


class TransitionIn(Schema):
    action: str = Field(..., max_length=16)
    reason: str = Field("", max_length=2000)
    recommendation: str = ""


class PractitionerOut(Schema):
    id: int
    name: str | None  # per role (categories practitioner.*); absent roles get None
    profession: str
    status: str
    region_code: str
    workplaces: list[int]
    credential_statuses: list[str]


class LookupIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    number: str = Field(..., min_length=1, max_length=64)


class WorkplaceOut(Schema):
    name: str
    region: str
    suspended: bool


class PublicSanctionOut(Schema):
    kind: str
    status: str
    effective_from: str | None
    ends_on: str | None


class LookupOut(Schema):
    """Exactly the public fields; a miss is ``found: false`` with everything else empty."""

    found: bool
    status: str | None
    credential_type: str | None
    workplaces: list[WorkplaceOut]
    sanctions: list[PublicSanctionOut]


class DisclosureOut(Schema):
    registration_number: str
    name: str
    kind: str
    status: str
    region_code: str
    grade: str
    demonstration: bool
    demonstration_year: int | None
    sanctions: list[PublicSanctionOut]


class RatioOut(Schema):
    numerator: int
    denominator: int | None
    percent: float | None
    target: float | None
    meets: bool | None


class CoverageRowOut(Schema):
    code: str
    name: str
    management_groups: RatioOut
    counselling_rooms: RatioOut
    school_rooms: RatioOut
    universities: int
    students: int
    counsellors: int
    universities_meeting: int
    students_per_counsellor: float | None
    psychiatrists: int
    population: int | None
    psychiatrists_per_100k: float | None
    psychiatrist_target: float
    psychiatrists_meet: bool | None
    hotlines: int
    crisis_teams: int


class CoverageOut(Schema):
    region_code: str
    region_name: str
    child_level: int | None
    year: int
    population_year: int | None
    village_year: int | None
    total: CoverageRowOut
    rows: list[CoverageRowOut]
    province_hotlines: list[dict[str, object]]
    cities_with_crisis_team: RatioOut | None

