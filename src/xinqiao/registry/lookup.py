"""The public credential look-up: name + certificate number → status, workplaces, public sanctions.

意见 18: counsellors' certificates are registered online and "向社会提供查询服务". Anyone may ask;
the answer holds exactly ``PUBLIC_FIELDS`` and nothing else. A wrong number, a wrong name and a
number that does not exist all give the same answer (``NOT_FOUND``), so the look-up cannot be
used to learn whether a number exists or whose it is.

Every look-up is counted (``LookupCount``: day, channel, outcome) and never logged: no audit
event, no name, no number, no address. The question travels in a POST body, never in a URL, so
it stays out of access logs; the rate limit keys on a salted daily HMAC of the address
(``screening.ratelimit``), never the address itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from xinqiao.registry import rules
from xinqiao.registry.models import (
    Credential,
    InstitutionStatus,
    LookupCount,
    Practice,
    Sanction,
    SanctionStatus,
)
from xinqiao.registry.models.people import name_index, number_index

#: The only keys a found answer carries.
PUBLIC_FIELDS = ("found", "status", "credential_type", "workplaces", "sanctions")
#: The answer to anything that does not match a name and a number together.
NOT_FOUND: dict[str, Any] = {"found": False, "status": None, "credential_type": None, "workplaces": [],
                             "sanctions": []}
RATE_SCOPE = "registry-lookup"


@dataclass(frozen=True)
class Workplace:
    name: str
    region: str
    suspended: bool


@dataclass(frozen=True)
class PublicSanction:
    kind: str  # warning | suspension | removal
    status: str  # in_force | lifted
    effective_from: str | None
    ends_on: str | None


@dataclass(frozen=True)
class Answer:
    """What the public may know about one credential."""

    found: bool
    status: str | None  # valid | expired | revoked
    credential_type: str | None  # the type's label in the asker's language
    workplaces: list[Workplace] = field(default_factory=list)
    sanctions: list[PublicSanction] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lookup(name: str, number: str, *, lang: str = "zh") -> dict[str, Any]:
    """The public answer for a name and a certificate number (``NOT_FOUND`` unless both match)."""
    if not rules.normalise_name(name) or not rules.normalise_number(number):
        return dict(NOT_FOUND)
    credential = (Credential.objects.filter(number_index=number_index("", number),
                                            practitioner__name_index=name_index(name))
                  .select_related("practitioner").order_by("revoked_at", "-issue_date", "-id").first())
    if credential is None:
        return dict(NOT_FOUND)
    today = timezone.localdate()
    practitioner = credential.practitioner
    places = (Practice.objects.filter(practitioner=practitioner, ended_on__isnull=True,
                                      institution__status__in=(InstitutionStatus.ACTIVE, InstitutionStatus.SUSPENDED))
              .select_related("institution__organisation", "institution__region").order_by("-is_primary", "id"))
    sanctions = (Sanction.objects.filter(practitioner=practitioner, public=True,
                                         status__in=(SanctionStatus.IN_FORCE, SanctionStatus.LIFTED))
                 .order_by("-effective_from", "-id"))
    ctype = credential.type
    answer = Answer(
        found=True,
        status=credential.status_on(today),
        credential_type=ctype.label(lang) if ctype else credential.type_code,
        workplaces=[Workplace(name=p.institution.organisation.name, region=p.institution.region.name,
                              suspended=p.institution.status == InstitutionStatus.SUSPENDED) for p in places],
        sanctions=[PublicSanction(kind=s.kind, status=s.status,
                                  effective_from=s.effective_from.isoformat() if s.effective_from else None,
                                  ends_on=s.ends_on.isoformat() if s.ends_on else None) for s in sanctions],
    )
    return answer.as_dict()


def count(channel: str, outcome: str) -> None:
    """Add one to today's counter for this channel and outcome (an UPDATE, or the day's first INSERT)."""
    day = timezone.localdate()
    with transaction.atomic():
        updated = LookupCount.objects.filter(day=day, channel=channel, outcome=outcome).update(count=F("count") + 1)
        if updated:
            return
        try:
            with transaction.atomic():
                LookupCount.objects.create(day=day, channel=channel, outcome=outcome, count=1)
        except IntegrityError:  # another request created the day's row first
            LookupCount.objects.filter(day=day, channel=channel, outcome=outcome).update(count=F("count") + 1)


def outcome_of(answer: dict[str, Any]) -> str:
    return LookupCount.Outcome.FOUND if answer["found"] else LookupCount.Outcome.NOT_FOUND
