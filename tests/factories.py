"""factory_boy factories for regions, organisations, users and persons, and the test cast.

Regions are real (the migration loads the national codes); factories pick them, never invent
codes. ``build_cast()`` places one user per role like the demo: township roles in township A
(county A) and township B (county B), county roles in the two counties, city roles in the city.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import factory
from django.contrib.auth.models import Group

from xinqiao.core import idcard
from xinqiao.core.demo import DEMO_CITY, DEMO_COUNTIES, ROLE_PLACEMENT, demo_townships
from xinqiao.core.models import Organisation, OrgType, Person, Region, Sex, User
from xinqiao.core.roles import sync_roles

PASSWORD = "Test-password-42!"


def test_townships() -> list[Region]:
    """Township A (county A) and township B (county B)."""
    return demo_townships()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"测试机构{n}")
    org_type = OrgType.COMMUNITY_HEALTH_CENTRE
    region = factory.LazyFunction(lambda: Region.objects.get(code=DEMO_CITY))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.username)
    region = factory.LazyFunction(lambda: Region.objects.get(code=DEMO_CITY))
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if extracted:
            groups = list(Group.objects.filter(name__in=extracted))
            if len(groups) < len(set(extracted)):
                sync_roles()
                groups = list(Group.objects.filter(name__in=extracted))
            self.groups.set(groups)
        self.save()


_rng = random.Random(7)


def _id_number(town: Region) -> str:
    birth = date(1960, 1, 1).fromordinal(date(1960, 1, 1).toordinal() + _rng.randint(0, 20000))
    return idcard.generate_resident_id(town.county_code, birth, _rng.randint(0, 999))


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"王测试{n}")
    region = factory.LazyFunction(lambda: test_townships()[0])
    id_type = "resident_id"
    id_number = factory.LazyAttribute(lambda o: _id_number(o.region))
    sex = Sex.FEMALE
    birth_date = date(1980, 5, 17)
    phone = "13812345678"
    address = "广东省广州市天河区五山路1号"


def build_cast() -> dict[str, User]:
    """``{role}_a``/``{role}_b`` for township and county roles, ``{role}`` for city ones."""
    sync_roles()
    towns = test_townships()
    counties = [Region.objects.get(code=c) for c in DEMO_COUNTIES]
    city = Region.objects.get(code=DEMO_CITY)
    cast: dict[str, User] = {}
    for role, level in ROLE_PLACEMENT:
        if level in ("township", "county"):
            for i, suffix in enumerate("ab"):
                region = towns[i] if level == "township" else counties[i]
                cast[f"{role}_{suffix}"] = UserFactory(username=f"{role}_{suffix}", region=region, roles=[role])
        else:
            cast[role] = UserFactory(username=role, region=city, roles=[role], is_staff=role == "sysadmin")
    cast["regulator_province"] = UserFactory(username="regulator_province", region=Region.objects.get(code="44"),
                                             roles=["regulator"])
    cast["no_role"] = UserFactory(username="no_role", region=towns[0])
    return cast


def school_campaign_group(psychologist: User, county: Region, *, instruments: tuple[str, ...] = ("phq9",),
                          identified: bool = True, school_name: str = "测试中学",
                          campaign_name: str = "秋季筛查", group_name: str = "初一（1）班") -> Any:
    """An open campaign of ``psychologist`` at a new school in ``county``, with one class.

    The psychologist is moved to that school (campaigns are scoped to the psychologist's organisation).
    """
    from datetime import timedelta

    from django.utils import timezone

    from xinqiao.screening.models import Campaign, CampaignGroup

    school = Organisation.objects.create(name=school_name, org_type=OrgType.SCHOOL, region=county)
    psychologist.organisation = school
    psychologist.save(update_fields=["organisation"])
    now = timezone.now()
    campaign = Campaign.objects.create(
        name=campaign_name, organisation=school, owner=psychologist, instrument_ids=list(instruments),
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=7), identified=identified, region=county,
    )
    return CampaignGroup.objects.create(campaign=campaign, name=group_name)
