"""The demo region: a real city's codes, its organisations, one account per role, synthetic persons.

Deterministic for a seed: the same seed gives the same accounts, passwords and persons. Later
issues extend ``build_demo`` with patients and activity. Never used in production (the command
refuses there). Everything here is fictitious: names are drawn from common-character lists and
ID numbers are generated with valid check digits for the demo townships.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from xinqiao.core import audit, idcard
from xinqiao.core.models import AuditAction, Organisation, OrgType, Person, Region, RegionLevel, Sex, User
from xinqiao.core.roles import sync_roles

DEMO_PROVINCE = "44"  # 广东省
DEMO_CITY = "4401"  # 广州市
DEMO_COUNTIES = ("440106", "440111")  # 天河区, 白云区
PERSONS_PER_TOWNSHIP = 12

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍建华红梅文辉志强海燕"
STREETS = ("中山大道", "天河路", "黄埔大道", "广州大道", "白云大道", "机场路", "同和路", "京溪路")

# (role code, level the account sits at: "township" | "county" | "city" | "province")
ROLE_PLACEMENT: list[tuple[str, str]] = [
    ("community_doctor", "township"), ("police", "township"), ("civil_affairs", "township"),
    ("zongzhi", "township"), ("grid_worker", "township"), ("disabled_federation", "county"),
    ("psychiatrist", "county"), ("mhc_staff", "county"), ("psychologist", "county"),
    ("regulator", "city"), ("hotline_counsellor", "city"), ("crisis_lead", "city"), ("sysadmin", "city"),
]


@dataclass
class DemoResult:
    """What the demo built: accounts with passwords, and counts. Apps' ``extend_demo`` add lines."""

    accounts: list[tuple[str, str, str, str]] = field(default_factory=list)  # username, password, role, region
    organisations: int = 0
    persons: int = 0
    townships: list[Region] = field(default_factory=list)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def demo_townships() -> list[Region]:
    """The first township (by code) of each demo county: the two townships of the demo."""
    out = []
    for county in DEMO_COUNTIES:
        t = Region.objects.filter(parent_id=county, level=RegionLevel.TOWNSHIP).order_by("code").first()
        if t is None:
            raise RuntimeError(f"region data missing for county {county}: run migrate first")
        out.append(t)
    return out


def _password(rng: random.Random) -> str:
    letters = "".join(rng.choice(string.ascii_letters) for _ in range(6))
    return f"Xq-{letters}{rng.randint(10, 99)}!"


def _org(name: str, org_type: str, region: Region, parent: Organisation | None = None, **extra: Any) -> Organisation:
    org, _created = Organisation.objects.update_or_create(
        region=region, name=name, defaults={"org_type": org_type, "parent": parent, **extra}
    )
    return org


def build_organisations(rng: random.Random, townships: list[Region]) -> dict[str, Organisation]:
    """The demo city's network: commission, centres, hospitals, clinics, partner agencies."""
    city = Region.objects.get(code=DEMO_CITY)
    province = Region.objects.get(code=DEMO_PROVINCE)
    orgs: dict[str, Organisation] = {}
    orgs["prov_commission"] = _org("广东省卫生健康委员会", OrgType.HEALTH_COMMISSION, province, phone="020-00000001")
    orgs["mhc_province"] = _org("广东省精神卫生中心", OrgType.MHC_PROVINCE, province, phone="020-00000002")
    orgs["commission"] = _org("广州市卫生健康委员会", OrgType.HEALTH_COMMISSION, city, orgs["prov_commission"], phone="020-00000010")
    orgs["mhc_city"] = _org("广州市精神卫生中心", OrgType.MHC_CITY, city, orgs["mhc_province"], phone="020-00000011")
    orgs["psych_hospital"] = _org("广州市精神专科医院", OrgType.PSYCHIATRIC_HOSPITAL, city, phone="020-00000012")
    orgs["hotline"] = _org("广州市心理援助热线中心", OrgType.HOTLINE_CENTRE, city, orgs["mhc_city"], phone="12356")
    orgs["crisis_team"] = _org("广州市心理危机干预队", OrgType.CRISIS_TEAM, city, orgs["mhc_city"])
    orgs["university"] = _org("广州示范大学", OrgType.UNIVERSITY, city)
    orgs["university_room"] = _org("广州示范大学心理健康教育与咨询中心", OrgType.COUNSELLING_ROOM, city, orgs["university"])
    orgs["agency"] = _org("广州心语社会心理服务中心", OrgType.COUNSELLING_AGENCY, city)
    for suffix, town in zip("ab", townships, strict=True):
        county = Region.objects.get(code=town.county_code)
        mhc = orgs[f"mhc_{suffix}"] = _org(f"{county.name}精神卫生中心", OrgType.MHC_COUNTY, county, orgs["mhc_city"])
        orgs[f"general_{suffix}"] = _org(f"{county.name}人民医院精神心理科", OrgType.GENERAL_HOSPITAL_PSYCH, county)
        orgs[f"dpf_{suffix}"] = _org(f"{county.name}残疾人联合会", OrgType.DISABLED_FEDERATION, county)
        orgs[f"school_{suffix}"] = _org(f"{county.name}第一中学", OrgType.SCHOOL, county)
        orgs[f"school_room_{suffix}"] = _org(f"{county.name}第一中学心理辅导室", OrgType.COUNSELLING_ROOM, county,
                                             orgs[f"school_{suffix}"])
        orgs[f"employer_{suffix}"] = _org(f"{county.name}示范制造有限公司员工援助中心", OrgType.EMPLOYER, county)
        health_type = OrgType.COMMUNITY_HEALTH_CENTRE if "街道" in town.name else OrgType.TOWNSHIP_HEALTH_CENTRE
        chc = orgs[f"chc_{suffix}"] = _org(f"{town.name}社区卫生服务中心", health_type, town, mhc,
                                           phone=f"020-{rng.randint(30000000, 89999999)}")
        orgs[f"clinic_{suffix}"] = _org(f"{town.name}第一社区卫生服务站", OrgType.VILLAGE_CLINIC, town, chc)
        orgs[f"police_{suffix}"] = _org(f"{town.name}派出所", OrgType.POLICE_STATION, town)
        orgs[f"civil_{suffix}"] = _org(f"{town.name}民政办", OrgType.CIVIL_AFFAIRS, town)
        orgs[f"zongzhi_{suffix}"] = _org(f"{town.name}综治中心", OrgType.ZONGZHI_CENTRE, town)
        orgs[f"room_{suffix}"] = _org(f"{town.name}社区心理咨询室", OrgType.COUNSELLING_ROOM, town, chc)
    return orgs


def _account_org(role: str, suffix: str, orgs: dict[str, Organisation]) -> Organisation:
    return {
        "community_doctor": orgs[f"chc_{suffix}"], "police": orgs[f"police_{suffix}"],
        "civil_affairs": orgs[f"civil_{suffix}"], "zongzhi": orgs[f"zongzhi_{suffix}"],
        "grid_worker": orgs[f"zongzhi_{suffix}"], "disabled_federation": orgs[f"dpf_{suffix}"],
        "psychiatrist": orgs[f"general_{suffix}"], "mhc_staff": orgs[f"mhc_{suffix}"],
        "psychologist": orgs[f"school_room_{suffix}"], "regulator": orgs["commission"],
        "hotline_counsellor": orgs["hotline"], "crisis_lead": orgs["crisis_team"], "sysadmin": orgs["commission"],
    }[role]


def build_accounts(rng: random.Random, townships: list[Region], orgs: dict[str, Organisation]) -> list[tuple[str, str, str, str]]:
    """One account per role in each demo township/county (city-level roles once), passwords reset."""
    groups = {g.name: g for g in Group.objects.all()}
    accounts = []
    for role, level in ROLE_PLACEMENT:
        places = [("a", townships[0]), ("b", townships[1])] if level in ("township", "county") else [("", None)]
        for suffix, town in places:
            if level == "township":
                region = town
            elif level == "county":
                region = Region.objects.get(code=town.county_code)  # type: ignore[union-attr]
            else:
                region = Region.objects.get(code=DEMO_CITY)
            username = f"{role}_{suffix}" if suffix else role
            password = _password(rng)
            user, _created = User.objects.get_or_create(username=username)
            user.display_name = f"演示 {username}"
            user.region = region
            user.organisation = _account_org(role, suffix or "a", orgs)
            user.is_staff = role == "sysadmin"
            user.set_password(password)
            user.save()
            user.groups.set([groups[role]])
            accounts.append((username, password, role, region.code if region else ""))
    regulator_p, _created = User.objects.get_or_create(username="regulator_province")
    regulator_p.region = Region.objects.get(code=DEMO_PROVINCE)
    regulator_p.organisation = orgs["prov_commission"]
    password = _password(rng)
    regulator_p.set_password(password)
    regulator_p.display_name = "演示 regulator_province"
    regulator_p.save()
    regulator_p.groups.set([groups["regulator"]])
    accounts.append(("regulator_province", password, "regulator", DEMO_PROVINCE))
    return accounts


def synth_person(rng: random.Random, town: Region) -> Person:
    """A fictitious person living in ``town`` (valid ID number for the county, mobile, address)."""
    sex = rng.choice((Sex.MALE, Sex.FEMALE))
    birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 55))
    seq = rng.randrange(0, 999)
    seq = seq - (seq % 2) + (1 if sex == Sex.MALE else 0) if seq < 998 else 997
    number = idcard.generate_resident_id(town.county_code, birth, seq)
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return Person(
        name=name, id_type="resident_id", id_number=number, sex=sex, birth_date=birth, region=town,
        phone=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
        address=f"{town.name}{rng.choice(STREETS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}0{rng.randint(1, 4)}房",
    )


def build_persons(rng: random.Random, townships: list[Region]) -> int:
    """Synthetic persons in each demo township, only once (re-runs keep the existing ones)."""
    created = 0
    for town in townships:
        if Person.objects.filter(township_code=town.code).exists():
            continue
        for _ in range(PERSONS_PER_TOWNSHIP):
            person = synth_person(rng, town)
            person.save()
            audit.record(AuditAction.CREATE, obj=person, detail={"via": "demo"})
            created += 1
    return created


def build_demo(seed: int = 2026) -> DemoResult:
    """Build (or refresh) the demo region; deterministic for ``seed``."""
    rng = random.Random(seed)  # noqa: S311  (fictitious demo data, not secrets)
    with transaction.atomic():
        sync_roles()
        townships = demo_townships()
        orgs = build_organisations(rng, townships)
        accounts = build_accounts(rng, townships, orgs)
        persons = build_persons(random.Random(seed + 1), townships)  # noqa: S311
        result = DemoResult(accounts=accounts, organisations=len(orgs), persons=persons, townships=townships,
                            orgs=orgs)
        for extend in demo_extensions():
            extend(random.Random(seed + 2), result)  # noqa: S311
    return result


def demo_extensions() -> list[Any]:
    """``extend_demo(rng, result)`` of every installed app that has a ``demo`` module (not core)."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    found = []
    for config in apps.get_app_configs():
        if config.name.startswith("xinqiao.") and config.label != "core" and find_spec(f"{config.name}.demo"):
            found.append(import_module(f"{config.name}.demo").extend_demo)
    return found
