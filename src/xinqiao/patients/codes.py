"""The coded options of the national forms for severe mental disorders, shared by every app.

Source: 《国家基本公共卫生服务规范（第三版）》(2017) 严重精神障碍患者管理服务规范, its 个人信息补充表 and
随访服务记录表; 《严重精神障碍管理治疗工作规范（2018年版）》 (danger levels, report types, discharge
and emergency forms); ``shared/DOMAIN.md`` §1, §2 and §4. The integer values are the codes printed
on the paper forms, so that a filled form, an imported spreadsheet and the API all agree.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Diagnosis(models.TextChoices):
    """The six severe mental disorders (六类严重精神障碍), keyed by their ICD-10 block."""

    SCHIZOPHRENIA = "F20", _("schizophrenia")
    SCHIZOAFFECTIVE = "F25", _("schizoaffective disorder")
    DELUSIONAL = "F22", _("persistent delusional disorder")
    BIPOLAR = "F31", _("bipolar affective disorder")
    EPILEPSY = "F06", _("mental disorder due to epilepsy")
    RETARDATION = "F7x", _("mental retardation with mental disorder")


#: ICD-10 codes (prefix match) each diagnosis accepts. F06.x needs a co-occurring G40 epilepsy
#: code; F70–F79 needs the co-occurring disorder recorded (DOMAIN.md §1).
ICD10_PREFIXES: dict[str, tuple[str, ...]] = {
    Diagnosis.SCHIZOPHRENIA: ("F20",),
    Diagnosis.SCHIZOAFFECTIVE: ("F25",),
    Diagnosis.DELUSIONAL: ("F22",),
    Diagnosis.BIPOLAR: ("F31",),
    Diagnosis.EPILEPSY: ("F06",),
    Diagnosis.RETARDATION: ("F70", "F71", "F72", "F73", "F78", "F79"),
}


class ReportType(models.IntegerChoices):
    """发病报告卡 报告类型."""

    ONSET = 1, _("onset report (Mental Health Law Art. 30)")
    REGISTRATION = 2, _("registration of one of the six disorders")


class DangerLevel(models.IntegerChoices):
    """危险性评估 0–5 (DOMAIN.md §2)."""

    NONE = 0, _("0 — none")
    VERBAL = 1, _("1 — verbal threats or shouting, no smashing")
    HOME_SMASHING = 2, _("2 — smashing at home, stops when persuaded")
    SMASHING = 3, _("3 — smashing in any setting, does not stop when persuaded")
    PERSISTENT = 4, _("4 — persistent violence against property or people, incl. self-harm")
    WEAPON = 5, _("5 — violence with a weapon, arson or explosion")


class Symptom(models.IntegerChoices):
    """目前症状 / 既往主要症状 (multiple choice)."""

    HALLUCINATION = 1, _("hallucinations")
    COMMUNICATION = 2, _("difficulty communicating")
    SUSPICION = 3, _("suspiciousness")
    MOOD_SWINGS = 4, _("mood swings")
    ODD_BEHAVIOUR = 5, _("odd behaviour")
    EXCITEMENT = 6, _("excitement, talkativeness")
    VIOLENCE = 7, _("hurting people or smashing things")
    PESSIMISM = 8, _("pessimism, weariness of life")
    WANDERING = 9, _("wandering off without reason")
    SELF_TALK = 10, _("talking or laughing to oneself")
    WITHDRAWAL = 11, _("withdrawal, apathy")
    OTHER = 12, _("other")


class Insight(models.IntegerChoices):
    """自知力."""

    COMPLETE = 1, _("complete")
    PARTIAL = 2, _("partial")
    ABSENT = 3, _("absent")


class Rating(models.IntegerChoices):
    """睡眠、饮食、社会功能各项: 1 良好 2 一般 3 较差."""

    GOOD = 1, _("good")
    FAIR = 2, _("fair")
    POOR = 3, _("poor")


#: 生产劳动及工作 also allows 9 不适用.
NOT_APPLICABLE = 9

#: The five social-function items of the follow-up form, in form order.
SOCIAL_FUNCTION_ITEMS: tuple[str, ...] = ("self_care", "housework", "work", "study", "social")


class FollowUpMethod(models.IntegerChoices):
    """随访方式."""

    CLINIC = 1, _("clinic visit")
    HOME = 2, _("home visit")
    PHONE = 3, _("phone call")


#: Methods that count as face to face (面访率, DOMAIN.md §6).
FACE_TO_FACE_METHODS: frozenset[int] = frozenset({FollowUpMethod.CLINIC, FollowUpMethod.HOME})


class LossReason(models.IntegerChoices):
    """失访原因."""

    MIGRANT_WORK = 1, _("left to work elsewhere")
    MOVED = 2, _("moved elsewhere")
    MISSING = 3, _("missing")
    THREE_FAILED = 4, _("not reached at three attempts in a row")
    OTHER = 5, _("other")


class DeathCause(models.IntegerChoices):
    """死亡原因."""

    PHYSICAL = 1, _("physical illness")
    SUICIDE = 2, _("suicide")
    HOMICIDE = 3, _("homicide")
    ACCIDENT = 4, _("accident")
    MENTAL_COMPLICATION = 5, _("complication of the mental illness")
    OTHER = 6, _("other")


class PhysicalDeathCause(models.IntegerChoices):
    """躯体疾病 sub-codes of 死亡原因 1."""

    INFECTIOUS = 1, _("infectious disease")
    TUMOUR = 2, _("tumour")
    HEART = 3, _("heart disease")
    CEREBROVASCULAR = 4, _("cerebrovascular disease")
    RESPIRATORY = 5, _("respiratory disease")
    DIGESTIVE = 6, _("digestive disease")
    OTHER = 7, _("other physical illness")
    UNKNOWN = 8, _("unknown")


class LockStatus(models.IntegerChoices):
    """关锁情况 / 既往关锁情况."""

    NEVER = 1, _("never locked up")
    LOCKED = 2, _("locked up")
    RELEASED = 3, _("released")


class HospitalStatus(models.IntegerChoices):
    """住院情况."""

    NEVER = 0, _("not hospitalised")
    IN_HOSPITAL = 1, _("in hospital now")
    BEFORE = 2, _("hospitalised before, not now")


class Adherence(models.IntegerChoices):
    """服药依从性."""

    REGULAR = 1, _("regular")
    INTERMITTENT = 2, _("intermittent")
    NONE = 3, _("not taking medication")
    NOT_NEEDED = 4, _("no medication prescribed")


class TreatmentEffect(models.IntegerChoices):
    """治疗效果 (随访表)."""

    CURED = 1, _("cured")
    IMPROVED = 2, _("improved")
    UNCHANGED = 3, _("unchanged")
    WORSE = 4, _("worse")


class LatestTreatmentEffect(models.IntegerChoices):
    """最近一次治疗效果 (个人信息补充表)."""

    CLINICAL_CURE = 1, _("clinically cured")
    IMPROVED = 2, _("improved")
    UNCHANGED = 3, _("unchanged")
    WORSE = 4, _("worse")


class RehabMeasure(models.IntegerChoices):
    """康复措施 (multiple choice)."""

    DAILY_LIVING = 1, _("daily living and work skills")
    VOCATIONAL = 2, _("vocational training")
    LEARNING = 3, _("learning ability")
    SOCIAL = 4, _("social skills")
    OTHER = 5, _("other")


class Classification(models.IntegerChoices):
    """本次随访分类 (DOMAIN.md §3)."""

    UNSTABLE = 1, _("unstable")
    BASICALLY_STABLE = 2, _("basically stable")
    STABLE = 3, _("stable")


#: The Chinese labels of the classification the ``followup-rule`` contract prints, fixed by the
#: standard whatever the user's language.
CLASSIFICATION_LABELS_ZH: dict[int, str] = {1: "不稳定", 2: "基本稳定", 3: "稳定"}


class DangerBehaviour(models.TextChoices):
    """危险行为 counted since the last visit (随访表) or ever (补充表)."""

    MINOR_TROUBLE = "minor_trouble", _("minor trouble-making (轻度滋事)")
    TROUBLE = "trouble", _("causing trouble (肇事)")
    DISASTER = "disaster", _("causing a disaster (肇祸)")
    OTHER_HARM = "other_harm", _("other harmful behaviour")
    SELF_HARM = "self_harm", _("self-harm")
    SUICIDE_ATTEMPT = "suicide_attempt", _("attempted suicide")


#: Behaviours that make a "肇事肇祸 history" (DOMAIN.md §7: shared with police).
INCIDENT_BEHAVIOURS: frozenset[str] = frozenset({DangerBehaviour.TROUBLE, DangerBehaviour.DISASTER})


class Household(models.IntegerChoices):
    """户别."""

    URBAN = 1, _("urban")
    RURAL = 2, _("rural")


class Employment(models.IntegerChoices):
    """就业情况."""

    WORKER = 1, _("employed worker")
    MANAGER = 2, _("employed manager")
    FARMER = 3, _("farmer")
    UNEMPLOYED = 4, _("laid off or unemployed")
    STUDENT = 5, _("student")
    RETIRED = 6, _("retired")
    PROFESSIONAL = 7, _("professional or technical")
    OTHER = 8, _("other")
    UNKNOWN = 9, _("unknown")


class OutpatientHistory(models.IntegerChoices):
    """既往治疗 门诊."""

    UNTREATED = 1, _("never treated")
    INTERMITTENT = 2, _("intermittent")
    CONTINUOUS = 3, _("continuous")


class EconomicStatus(models.IntegerChoices):
    """经济状况."""

    POOR = 1, pgettext_lazy("economic status", "poor")
    NOT_POOR = 2, pgettext_lazy("economic status", "not poor")


class PatientStatus(models.TextChoices):
    """Where a registered patient stands in the register (status lifecycle)."""

    MANAGED = "managed", pgettext_lazy("patient status", "managed")
    IN_HOSPITAL = "in_hospital", pgettext_lazy("patient status", "in hospital")
    LOST = "lost", pgettext_lazy("patient status", "lost to follow-up")
    MOVED_OUT = "moved_out", pgettext_lazy("patient status", "moved out")
    DEAD = "dead", pgettext_lazy("patient status", "dead")
    DEREGISTERED = "deregistered", pgettext_lazy("patient status", "deregistered")


#: Statuses that leave the register: 在册 = 累计建档 − 死亡 − 迁出 (DOMAIN.md §5).
OFF_REGISTER_STATUSES: frozenset[str] = frozenset({PatientStatus.DEAD, PatientStatus.MOVED_OUT})


class RegistrationSource(models.TextChoices):
    """How the patient came onto this region's register."""

    CASE_REPORT = "case_report", _("hospital case report")
    COMMUNITY = "community", _("community discovery, confirmed")
    TRANSFER_IN = "transfer_in", _("transfer from another region")
    IMPORT = "import", _("imported from an earlier system")


# --- Registration: the case report (发病报告卡) and community discovery --------------------------

class ReportEntry(models.TextChoices):
    """How a case report reached the system (《严重精神障碍发病报告管理办法（试行）》2013, Art. 9–10)."""

    ONLINE = "online", _("entered by the hospital")
    WRITTEN = "written", _("written report entered by the county centre")


class CaseReportStatus(models.TextChoices):
    """Whether a case report is entered (a registration) or still pending.

    A draft (草稿) is what the system knows of a confirmed case before the card is entered: a
    hospital's own draft (diagnosis and date known, card not finished), a written card the county
    centre has received but not yet entered, or the card a confirmed suspected case still needs. Its
    working-day clock runs from the diagnosis (``rules.pending_case_report_due``).
    """

    DRAFT = "draft", pgettext_lazy("case report", "draft")
    ENTERED = "entered", pgettext_lazy("case report", "entered")


class BroughtBy(models.IntegerChoices):
    """发病报告卡 送诊主体: who brought the patient to the hospital."""

    SELF = 1, _("came on their own")
    FAMILY = 2, _("brought by family")
    POLICE = 3, _("brought by police")
    CIVIL_AFFAIRS = 4, _("brought by civil affairs")
    COMMUNITY = 5, _("brought by the community")
    OTHER = 6, _("other")


class Consent(models.IntegerChoices):
    """个人信息补充表 知情同意: 1 同意参加管理, 0 不同意参加管理."""

    DISAGREE = 0, _("does not agree to take part in management")
    AGREE = 1, _("agrees to take part in management")


class DisabilityGrade(models.IntegerChoices):
    """精神残疾等级 on the disability card (GB/T 26341-2010 残疾人残疾分类和分级: 一级 most severe)."""

    GRADE_1 = 1, _("grade 1")
    GRADE_2 = 2, _("grade 2")
    GRADE_3 = 3, _("grade 3")
    GRADE_4 = 4, _("grade 4")


class SuspectedSource(models.TextChoices):
    """Who found a suspected case in the community (《严重精神障碍管理治疗工作规范（2018年版）》 患者发现)."""

    VILLAGE_COMMITTEE = "village_committee", _("village or residents' committee")
    DOCTOR = "doctor", _("community doctor")


class SuspectedStatus(models.TextChoices):
    """Where a suspected case stands: reported → referred for diagnosis → confirmed or closed."""

    REPORTED = "reported", pgettext_lazy("suspected case", "reported")
    REFERRED = "referred", pgettext_lazy("suspected case", "referred for diagnosis")
    CONFIRMED = "confirmed", pgettext_lazy("suspected case", "confirmed and registered")
    CLOSED = "closed", pgettext_lazy("suspected case", "closed: not a case")


class TransferStatus(models.TextChoices):
    """A hand-over to the region a patient moved to; the receiving region must accept."""

    PENDING = "pending", pgettext_lazy("transfer", "waiting for the receiving region")
    ACCEPTED = "accepted", pgettext_lazy("transfer", "accepted")
    DECLINED = "declined", pgettext_lazy("transfer", "declined")
