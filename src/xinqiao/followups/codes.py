"""Coded options of the follow-up forms that ``patients.codes`` does not hold (it holds the shared ones).

Source: 《国家基本公共卫生服务规范（第三版）》(2017) 随访服务记录表 (实验室检查 1 无 2 有, 药物不良反应
1 无 2 有, 是否转诊 1 否 2 是, 用药情况 用法 每日(月) 次 每次剂量), its 健康体检 (annual health check), and
the national system's 出院单 (discharge form). The integer values are the codes printed on the forms.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Presence(models.IntegerChoices):
    """实验室检查 / 药物不良反应: 1 无 2 有."""

    NO = 1, pgettext_lazy("presence", "none")
    YES = 2, pgettext_lazy("presence", "present")


class YesNo(models.IntegerChoices):
    """是否转诊: 1 否 2 是."""

    NO = 1, pgettext_lazy("yes or no", "no")
    YES = 2, pgettext_lazy("yes or no", "yes")


class Outcome(models.TextChoices):
    """What came of a follow-up: a visit, a failed attempt (未访到), or the patient was found dead."""

    VISITED = "visited", pgettext_lazy("follow-up outcome", "visited")
    NOT_REACHED = "not_reached", pgettext_lazy("follow-up outcome", "not reached")
    DEAD = "dead", pgettext_lazy("follow-up outcome", "patient has died")


class ParticipantRole(models.TextChoices):
    """Who took part in a joint follow-up (联合随访: doctor, police, village cadre, family)."""

    DOCTOR = "doctor", pgettext_lazy("participant", "doctor")
    POLICE = "police", pgettext_lazy("participant", "police officer")
    VILLAGE_CADRE = "village_cadre", pgettext_lazy("participant", "village cadre")
    FAMILY = "family", pgettext_lazy("participant", "family member")
    OTHER = "other", pgettext_lazy("participant", "other")


class FrequencyPeriod(models.TextChoices):
    """用法 每日(月) X 次: per day for tablets, per month for long-acting injections."""

    DAY = "day", pgettext_lazy("dosing period", "per day")
    MONTH = "month", pgettext_lazy("dosing period", "per month")


class DoseUnit(models.TextChoices):
    """Unit of one dose."""

    MG = "mg", "mg"
    G = "g", "g"
    ML = "ml", "ml"
    TABLET = "tablet", pgettext_lazy("dose unit", "tablet")


class DrugClass(models.TextChoices):
    """Kinds of drug in the medication catalogue."""

    ANTIPSYCHOTIC = "antipsychotic", _("antipsychotic")
    MOOD_STABILISER = "mood_stabiliser", _("mood stabiliser")
    OTHER = "other", _("other psychotropic")


class EcgResult(models.IntegerChoices):
    """心电图: 1 正常 2 异常."""

    NORMAL = 1, pgettext_lazy("test result", "normal")
    ABNORMAL = 2, pgettext_lazy("test result", "abnormal")
