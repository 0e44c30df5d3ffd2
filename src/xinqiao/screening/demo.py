"""Demo screening data: a school campaign of the demo psychologist with two classes of answers.

Called by ``xinqiao demo`` (``core.demo.build_demo``) with a seeded RNG; created once (re-runs keep it).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from xinqiao.core.models import User
from xinqiao.screening import services
from xinqiao.screening.instruments import load
from xinqiao.screening.models import Campaign, CampaignGroup, Source

CAMPAIGN_NAME = "2026年秋季学期初一年级心理健康筛查"
GROUPS = ("初一（1）班", "初一（2）班")
PER_GROUP = 20


def _answers(rng: random.Random, instrument_id: str, distress: float) -> list[int | None]:
    """Plausible answers: mostly low, some distressed students (``distress`` 0..1)."""
    inst = load(instrument_id)
    out: list[int | None] = []
    for item in inst.items:
        top = len(item.options) - 1
        out.append(min(top, int(rng.random() * (top + 1) * distress + rng.random() * 0.6)))
    return out


def extend_demo(rng: random.Random, result: Any) -> None:
    """Create the demo campaign and its responses once."""
    school_room = result.orgs.get("school_room_a")
    owner = User.objects.filter(username="psychologist_a").first()
    if school_room is None or owner is None or Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return
    now = timezone.now()
    campaign = Campaign.objects.create(
        name=CAMPAIGN_NAME, organisation=school_room, owner=owner, instrument_ids=["phq9", "gad7"],
        opens_at=now - timedelta(days=3), closes_at=now + timedelta(days=27), identified=False,
        consent_text="本次筛查匿名进行，结果仅用于学校心理健康服务。", region=school_room.region,
    )
    codes = []
    for i, name in enumerate(GROUPS):
        code = "DEMO" + "".join(rng.choice("23456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4)) + str(i)
        group = CampaignGroup.objects.create(campaign=campaign, name=name, access_code=code)
        codes.append(f"{name} {code}")
        for n in range(PER_GROUP):
            distress = 0.9 if rng.random() < 0.12 else 0.12
            for instrument_id in campaign.instrument_ids:
                services.submit_response(services.Submission(
                    instrument=instrument_id, answers=_answers(rng, instrument_id, distress), source=Source.CAMPAIGN,
                    region_code=campaign.region_id, group=group, key=f"demo:{group.pk}:{n}:{instrument_id}",
                ))
    result.notes.append(f"Demo screening campaign “{CAMPAIGN_NAME}” (psychologist_a); access codes: {'; '.join(codes)}")
