"""Coded options of two-way referral (双向转诊) and of the emergency handling record (应急处置记录单).

Sources: 《严重精神障碍管理治疗工作规范（2018年版）》 — 双向转诊 between 基层医疗卫生机构 and
精神卫生专业机构, and 应急处置 with its four situations (伤害自身行为或危险; 危害公共安全或他人安全的
行为或危险; 病情复发、精神状况明显恶化; 与精神疾病药物相关的急性不良反应) and its record form with the
fields 报告人身份, 处置缘由, 主要处置措施, 公安人员, 精防医生, 精神科医师, 诊断, 处置效果, 处置对象类别
(``shared/DOMAIN.md`` §4). The field names are the form's. The coded options of 报告人身份, 处置效果 and
处置对象类别 were reconstructed from the 规范's text: no official copy of the form's option list was
at hand (searched 2026-11-24 without result), so they are data here, in one place, to be checked
against the printed form; the integers are what a filled form, an export and the API share.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# --------------------------------------------------------------------------------------------------
# Two-way referral
# --------------------------------------------------------------------------------------------------


class Direction(models.TextChoices):
    """上转 community → psychiatric institution; 下转 institution → community (with a discharge summary)."""

    UP = "up", pgettext_lazy("referral direction", "up: community to psychiatric institution")
    DOWN = "down", pgettext_lazy("referral direction", "down: institution to community")


class ReferralState(models.TextChoices):
    """Where a referral stands; ``referrals.rules.TRANSITIONS`` says how it moves."""

    SENT = "sent", pgettext_lazy("referral state", "sent")
    RECEIVED = "received", pgettext_lazy("referral state", "received")
    COMPLETED = "completed", pgettext_lazy("referral state", "completed")
    DECLINED = "declined", pgettext_lazy("referral state", "declined")


class ReferralAction(models.TextChoices):
    """What a user does to a referral (each is one transition of ``rules.TRANSITIONS``)."""

    SEND = "send", pgettext_lazy("referral action", "send")
    RECEIVE = "receive", pgettext_lazy("referral action", "receive")
    DECLINE = "decline", pgettext_lazy("referral action", "decline")
    COMPLETE = "complete", pgettext_lazy("referral action", "complete")


class Urgency(models.TextChoices):
    """紧急程度: an unstable patient (随访分类 1) is referred 立即 (DOMAIN.md §3)."""

    ROUTINE = "routine", pgettext_lazy("urgency", "routine")
    URGENT = "urgent", pgettext_lazy("urgency", "urgent")


# --------------------------------------------------------------------------------------------------
# Emergency handling record 应急处置记录单
# --------------------------------------------------------------------------------------------------


class ReporterRole(models.IntegerChoices):
    """报告人身份."""

    PATIENT = 1, _("the patient")
    FAMILY = 2, _("family member or guardian")
    COMMITTEE = 3, _("village or residents' committee")
    POLICE = 4, _("police")
    HEALTH_WORKER = 5, _("health worker")
    OTHER = 6, _("other")


class EmergencyReason(models.IntegerChoices):
    """处置缘由: the four situations of the 2018 规范's 应急处置."""

    SELF_HARM = 1, _("harm to self, or its risk")
    PUBLIC_DANGER = 2, _("danger to public safety or to others, or its risk")
    RELAPSE = 3, _("relapse or marked worsening of the mental state")
    DRUG_REACTION = 4, _("acute adverse reaction to psychiatric medication")


class EmergencyMeasure(models.IntegerChoices):
    """主要处置措施 (multiple choice)."""

    CRISIS_INTERVENTION = 1, _("psychological crisis intervention")
    RESTRAINT = 2, _("protective restraint")
    MEDICATION = 3, _("medication (injection or oral)")
    OBSERVATION = 4, _("observation at an outpatient department")
    ADMISSION = 5, _("sent to a psychiatric hospital for admission")
    ON_SITE = 6, _("temporary handling on site")
    OTHER = 7, _("other")


class EmergencyEffect(models.IntegerChoices):
    """处置效果."""

    EFFECTIVE = 1, _("effective")
    PARTLY = 2, _("partly effective")
    INEFFECTIVE = 3, _("not effective")


class SubjectCategory(models.IntegerChoices):
    """处置对象类别."""

    REGISTERED = 1, _("patient on the register")
    KNOWN_UNREGISTERED = 2, _("diagnosed patient not on the register")
    SUSPECTED = 3, _("suspected patient")
    OTHER = 4, _("other person")


class EmergencyStatus(models.TextChoices):
    """Whether the county centre's board still lists the emergency."""

    OPEN = "open", pgettext_lazy("emergency status", "open")
    CLOSED = "closed", pgettext_lazy("emergency status", "closed")
