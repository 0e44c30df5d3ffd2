"""The demo city's service network (广州市 4401): the core demo's organisations registered, plus more
counselling rooms, schools, a rehabilitation site and agencies; practitioners with credentials; a
final evaluation, an overdue finding, one public warning, one 示范单位, an application waiting for
the county centre, a complaint, the 2020 census populations and synthetic 2025 populations and
survey figures for the indicators (data/statistics/README.md).

Called by ``xinqiao demo`` (``core.demo.build_demo``), deterministic for the seed and created once
(a re-run keeps what exists). Names, numbers and coordinates are fictitious; coordinates are
scattered around the real districts so that "nearest first" looks right on a map of Guangzhou.
Registration goes through the same write path as an approval (``services.apply_details`` and a
version), credentials and sanctions through the services, so everything is audited.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from xinqiao.core.models import Organisation, OrgType, Region, RegionLevel, User
from xinqiao.registry import oversight, services, statistics
from xinqiao.registry.models import (
    Credential,
    Institution,
    InstitutionVersion,
    Practice,
    Practitioner,
    RegionStatistic,
    TrainingRecord,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红梅文辉志海燕"
CENTRES = {"440106": (23.1247, 113.3612), "440111": (23.1575, 113.2730), "4401": (23.1291, 113.2644)}
CENSUS = Path(__file__).resolve().parent / "data" / "statistics" / "guangzhou-census-2020.csv"
#: Synthetic 2025 populations and survey figures for the indicators (data/statistics/README.md).
SYNTHETIC = Path(__file__).resolve().parent / "data" / "statistics" / "demo-synthetic-figures.csv"
WEEKDAYS_CLINIC = "1-5 08:00-12:00,14:30-17:30; 6 08:00-12:00"
WEEKDAYS_ROOM = "1-5 09:00-12:00,14:00-17:30"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _near(rng: random.Random, code: str, spread: float = 0.025) -> tuple[float, float]:
    lat, lon = CENTRES.get(code[:6], CENTRES.get(code[:4], CENTRES["4401"]))
    return round(lat + rng.uniform(-spread, spread), 5), round(lon + rng.uniform(-spread, spread), 5)


def _register(rng: random.Random, org: Organisation | None, *, kind: str, name: str = "", region: Region | None = None,
              parent: Organisation | None = None, **details: Any) -> Institution:
    """Register ``org`` (or a new organisation) as an approved institution, version 1 (audited)."""
    region_code = org.region_id if org is not None else region.code  # type: ignore[union-attr]
    existing = Institution.objects.filter(organisation=org).first() if org is not None else None
    if existing is not None:
        return existing
    lat, lon = _near(rng, region_code)
    data = services.InstitutionInput(
        name=org.name if org is not None else name, kind=kind, region_code=region_code,
        address=(org.address if org is not None and org.address else f"{Region.objects.get(code=region_code).name}"
                 f"示范路{rng.randint(1, 300)}号"),
        phone=(org.phone if org is not None and org.phone else f"020-{rng.randint(30000000, 89999999)}"),
        latitude=lat, longitude=lon, **details)
    data = services.validate_details(data)
    institution = services.apply_details(data, actor=None, organisation=org, parent=parent)
    institution.approved_at = timezone.now() - timedelta(days=rng.randint(60, 900))
    institution.save(update_fields=["approved_at"])
    services.record_version(institution, source=InstitutionVersion.Source.IMPORT, actor=None, before=None)
    return institution


def _practitioner(rng: random.Random, institution: Institution, profession: str, *, name: str | None = None,
                  credential: tuple[str, str, date, date | None] | None = None, post: str = "") -> Practitioner:
    p = Practitioner.objects.create(name=name or _name(rng), profession=profession, region_id=institution.region_id)
    Practice.objects.create(practitioner=p, institution=institution, post=post, is_primary=True,
                            started_on=date(2026, 1, 1) - timedelta(days=rng.randint(200, 4000)))
    if credential is not None:
        code, number, issued, expires = credential
        Credential.objects.create(practitioner=p, type_code=code, number=number, issue_date=issued,
                                  expiry_date=expires, issuer="")
    TrainingRecord.objects.create(practitioner=p, kind=TrainingRecord.Kind.CONTINUING, title="精神卫生继续教育",
                                  provider="广州市精神卫生中心", completed_on=date(2025, rng.randint(1, 11), 15),
                                  hours=rng.choice((6, 12, 18, 24)))
    return p


def extend_demo(rng: random.Random, result: Any) -> None:
    """Build the registry part of the demo (see the module docstring)."""
    orgs: dict[str, Organisation] = result.orgs
    if Institution.objects.filter(organisation=orgs["psych_hospital"]).exists():
        result.notes.append("registry: the demo network exists already (kept)")
        return
    statistics.load_csv(CENSUS.read_text(encoding="utf-8"))
    statistics.load_csv(SYNTHETIC.read_text(encoding="utf-8"))
    city = Region.objects.get(code="4401")
    towns: list[Region] = list(result.townships)
    # Registered institutions: the core demo's network.
    reg: dict[str, Institution] = {}
    reg["hospital"] = _register(rng, orgs["psych_hospital"], kind="psychiatric_hospital", beds=800, open_24h=True,
                                services=["emergency", "psychiatric_outpatient", "psychology_outpatient", "inpatient",
                                          "child_adolescent", "elderly"], populations=["everyone"],
                                hours_note="急诊24小时；门诊周一至周六")
    reg["mhc_city"] = _register(rng, orgs["mhc_city"], kind="mental_health_centre", hours=WEEKDAYS_CLINIC,
                                services=["psychiatric_outpatient", "psychology_outpatient", "smd_management"],
                                populations=["everyone"])
    reg["hotline"] = _register(rng, orgs["hotline"], kind="hotline", open_24h=True, languages=["普通话", "粤语", "English"],
                               services=["hotline", "crisis_intervention"], populations=["everyone"])
    reg["crisis_team"] = _register(rng, orgs["crisis_team"], kind="crisis_team", services=["crisis_intervention"])
    reg["university"] = _register(rng, orgs["university_room"], kind="university_centre", students=32000,
                                  counsellors=9, hours=WEEKDAYS_ROOM, services=["counselling", "crisis_intervention"],
                                  populations=["students"])
    reg["agency"] = _register(rng, orgs["agency"], kind="counselling_agency", hours="1-6 09:00-21:00",
                              business_licence_number="91440101MA5DEMO01X", licensing_status="licensed",
                              licence_scope="心理咨询服务（不含诊疗）", services=["counselling"],
                              populations=["adults", "adolescents"])
    for suffix, town in zip("ab", towns, strict=True):
        reg[f"mhc_{suffix}"] = _register(rng, orgs[f"mhc_{suffix}"], kind="mental_health_centre", hours=WEEKDAYS_CLINIC,
                                         services=["psychiatric_outpatient", "smd_management"])
        reg[f"general_{suffix}"] = _register(rng, orgs[f"general_{suffix}"], kind="general_hospital_clinic", beds=40,
                                             hours=WEEKDAYS_CLINIC, hospital_level=3 if suffix == "a" else 2,
                                             services=["psychiatric_outpatient", "psychology_outpatient", "elderly"])
        health_kind = ("community_health_centre" if orgs[f"chc_{suffix}"].org_type == OrgType.COMMUNITY_HEALTH_CENTRE
                       else "township_health_centre")
        reg[f"chc_{suffix}"] = _register(rng, orgs[f"chc_{suffix}"], kind=health_kind, hours=WEEKDAYS_CLINIC,
                                         services=["smd_management", "counselling"])
        reg[f"school_room_{suffix}"] = _register(rng, orgs[f"school_room_{suffix}"], kind="school_room", students=2100,
                                                 counsellors=1, hours="1-5 08:00-17:00",
                                                 services=["counselling", "child_adolescent"])
        reg[f"employer_{suffix}"] = _register(rng, orgs[f"employer_{suffix}"], kind="eap", hours="1-5 09:00-18:00",
                                              services=["eap", "counselling"], populations=["employees"])
        reg[f"room_{suffix}"] = _register(rng, orgs[f"room_{suffix}"], kind="counselling_room", hours=WEEKDAYS_ROOM,
                                          village_code=f"{town.code}001", village_name=f"{town.name}第一社区",
                                          services=["counselling", "social_work", "elderly"],
                                          populations=["everyone"])
    # More of the network: counselling rooms in other townships, schools (one without a room), a
    # rehabilitation site, a children's clinic, a second agency.
    extra = 0
    for county_code in ("440106", "440111"):
        townships = list(Region.objects.filter(parent_id=county_code, level=RegionLevel.TOWNSHIP).order_by("code")[1:5])
        for i, town in enumerate(townships):
            _register(rng, None, kind="counselling_room", name=f"{town.name}社区心理服务站", region=town,
                      hours=WEEKDAYS_ROOM, village_code=f"{town.code}00{1 + i % 3}", village_name=f"{town.name}社区",
                      services=["counselling", "social_work"], populations=["everyone"])
            extra += 1
        county = Region.objects.get(code=county_code)
        for n in (2, 3):
            school, _created = Organisation.objects.get_or_create(
                region=county, name=f"{county.name}第{n}中学", defaults={"org_type": OrgType.SCHOOL})
            if n == 2:
                _register(rng, None, kind="school_room", name=f"{school.name}心理辅导室", region=county, parent=school,
                          students=1500, counsellors=1, hours="1-5 08:00-17:00",
                          services=["counselling", "child_adolescent"])
                extra += 1
    _register(rng, None, kind="rehabilitation_site", name="天河区阳光家园精神康复站", region=Region.objects.get(code="440106"),
              hours="1-5 09:00-16:30", services=["rehabilitation", "social_work"], populations=["patients"])
    _register(rng, None, kind="general_hospital_clinic", name="广州示范妇女儿童医院儿童心理门诊", region=city,
              hospital_level=3, hours=WEEKDAYS_CLINIC, services=["psychiatric_outpatient", "child_adolescent", "psychology_outpatient"],
              populations=["children", "adolescents"])
    second_agency = _register(rng, None, kind="counselling_agency", name="白云区心晴心理咨询工作室",
                              region=Region.objects.get(code="440111"), hours="2-7 10:00-20:00",
                              business_licence_number="91440111MA5DEMO02Y", licensing_status="licensed",
                              services=["counselling", "child_adolescent"], populations=["adolescents", "adults"])
    extra += 3

    # Practitioners and credentials (fictitious numbers; one expired, one revoked, one old national
    # counsellor certificate from before the 2017 end of that qualification).
    seq = iter(range(1, 10_000))

    def number(prefix: str) -> str:
        return f"{prefix}{rng.randint(100000, 999999)}{next(seq):04d}"

    for _ in range(8):
        _practitioner(rng, reg["hospital"], "psychiatrist", post="精神科医师",
                      credential=("physician_licence", number("110440100"), date(2008 + rng.randint(0, 14), 7, 1), None))
    for key in ("general_a", "general_b", "mhc_a", "mhc_b", "mhc_city"):
        _practitioner(rng, reg[key], "psychiatrist", post="精神科医师",
                      credential=("physician_licence", number("110440100"), date(2012 + rng.randint(0, 10), 7, 1), None))
    for i in range(4):
        issued = date(2019 + i, 3, 1)
        _practitioner(rng, reg["hospital"], "nurse", post="精神科护士",
                      credential=("nurse_licence", number("2024440"), issued, date(issued.year + 5, 2, 28)))
    _practitioner(rng, reg["hospital"], "psychotherapist", post="心理治疗师",
                  credential=("psychotherapist", number("PT4401"), date(2018, 10, 1), None))
    demo_counsellor = _practitioner(rng, reg["agency"], "counsellor", name="林晓岚", post="心理咨询师",
                                    credential=("counsellor_national", "1511000000123456", date(2015, 12, 20), None))
    Credential.objects.create(practitioner=demo_counsellor, type_code="cps_registered", number="X-22-031",
                              issue_date=date(2022, 5, 1), expiry_date=date(2027, 4, 30), issuer="中国心理学会")
    expired = _practitioner(rng, second_agency, "counsellor", post="心理咨询师",
                            credential=("counsellor_skill_level", number("S4401"), date(2021, 6, 1),
                                        date(2024, 5, 31)))
    revoked = _practitioner(rng, second_agency, "counsellor", post="心理咨询师",
                            credential=("counsellor_skill_level", number("S4401"), date(2022, 6, 1), None))
    Credential.objects.filter(practitioner=revoked).update(revoked_at=timezone.now() - timedelta(days=40),
                                                           revoke_reason="发证机构撤销（演示）")
    for key in ("room_a", "room_b"):
        _practitioner(rng, reg[key], "social_worker", post="社会工作者",
                      credential=("social_worker", number("SW4401"), date(2017 + rng.randint(0, 5), 6, 1), None))
    for key in ("chc_a", "chc_b"):
        _practitioner(rng, reg[key], "jingfang_staff", post="精防医生",
                      credential=("jingfang_training", number("JF4401"), date(2023, 4, 1), None))
    del expired

    # Supervision: a final evaluation of the hospital (grade A); the agency scored C with an overdue
    # finding and a public warning in force; the community room of township A a 示范单位.
    regulator = User.objects.filter(username="regulator").first()
    province = User.objects.filter(username="regulator_province").first()
    from xinqiao.registry import rules

    cl = rules.checklist()
    if regulator is not None and province is not None:
        full = {i.code: float(i.points) for i in cl.items}
        for institution, scores, visited in (
                (reg["hospital"], full, date(2025, 11, 12)),
                (reg["agency"], {**full, "staff.supervision": 2, "premises.privacy": 4, "management.records": 1,
                                 "practice.consent": 2, "management.complaints": 2, "staff.training": 4},
                 date(2025, 12, 3))):
            evaluation = oversight.start_evaluation(regulator, institution, kind="evaluation", visited_on=visited)
            oversight.record_scores(regulator, evaluation, scores, summary="年度评估（演示）", finalise=True)
            if institution == reg["agency"]:
                oversight.add_finding(regulator, evaluation, oversight.FindingInput(
                    description="咨询室隔音不足，来访者隐私无法保障", severity="major",
                    rectify_by=date(2026, 1, 31), item_code="premises.privacy"))
        sanction = oversight.propose_sanction(regulator, oversight.SanctionInput(
            kind="warning", institution_id=reg["agency"].pk, public=True,
            grounds="年度评估不合格项逾期未整改（咨询室隐私保护），依据评估办法给予警告（演示）"))
        oversight.transition_sanction(province, sanction, "impose", note="演示")
        services.designate_demonstration(regulator, reg["room_a"], year=2025)
        # An application waiting for the county centre's review.
        doctor = User.objects.filter(username="community_doctor_a").first()
        if doctor is not None and doctor.organisation_id:
            town = towns[0]
            services.submit_application(doctor, services.validate_details(services.InstitutionInput(
                name=f"{town.name}第二社区社会工作室", kind="counselling_room", region_code=town.code,
                address=f"{town.name}示范路88号", hours=WEEKDAYS_ROOM, village_code=f"{town.code}002",
                village_name=f"{town.name}第二社区", services=["counselling", "social_work"], populations=["everyone"],
                latitude=CENTRES["440106"][0] + 0.004, longitude=CENTRES["440106"][1] - 0.006)))
    oversight.submit_complaint(oversight.ComplaintInput(
        category="quality", institution_id=reg["agency"].pk,
        description="咨询过程中多次被打断，咨询室外能听到谈话内容（演示投诉）。"), key="demo:complaint:1")
    # Villages and communities of the two demo townships (fictitious demo figures).
    for town, villages in zip(towns, (12, 18), strict=True):
        RegionStatistic.objects.update_or_create(region_id=town.code, year=2020, measure="villages",
                                                 defaults={"value": villages, "source": "演示数据"})
    result.notes.append(
        f"registry: {len(reg) + extra} registered institutions, "
        f"{Practitioner.objects.filter(city_code='4401').count()} practitioners; "
        "public look-up example: 林晓岚 / 1511000000123456 (/services/credentials/); finder: /services/")
