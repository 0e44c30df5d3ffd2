"""Registered institutions, their service points, versions and registration applications.

意见 19: "建立健全心理健康服务机构和人员信息管理体系 … 登记、评价、信息公开"; 意见 12-18 and 规划
三(一)-(三) name the kinds. An ``Institution`` is core's ``Organisation`` once the responsible
health authority has approved its registration; ``ServicePoint`` is where (or on which line) the
public reaches it, with coordinates, opening hours and the services offered there. Nothing here is
personal data: the finder and the disclosure page read these tables without sign-in.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinqiao.core.models import InRegion, Organisation
from xinqiao.core.scope import ScopedManager

#: Roles that see every institution of their region; other roles see only their own organisation's.
OVERSIGHT_ROLES = frozenset({"regulator", "mhc_staff", "sysadmin"})


def own_organisation_only(user: Any) -> bool:
    """Institution staff (no oversight role) reach only their own organisation's records."""
    return not (set(user.role_codes) & OVERSIGHT_ROLES)


class InstitutionKind(models.TextChoices):
    """Kinds of registered institution (意见 12-18; 规划 三). Mapping to core's OrgType: kinds.json."""

    PSYCHIATRIC_HOSPITAL = "psychiatric_hospital", _("psychiatric hospital")
    GENERAL_HOSPITAL_CLINIC = "general_hospital_clinic", _("general hospital psychiatry or psychology clinic")
    MENTAL_HEALTH_CENTRE = "mental_health_centre", _("mental-health centre")
    COMMUNITY_HEALTH_CENTRE = "community_health_centre", _("community health service centre")
    TOWNSHIP_HEALTH_CENTRE = "township_health_centre", _("township health centre")
    COUNSELLING_ROOM = "counselling_room", _("village or community counselling room")
    SCHOOL_ROOM = "school_room", _("school counselling room")
    UNIVERSITY_CENTRE = "university_centre", _("university counselling centre")
    EAP = "eap", _("employee assistance programme")
    COUNSELLING_AGENCY = "counselling_agency", _("social counselling agency")
    HOTLINE = "hotline", _("psychological-assistance hotline")
    REHABILITATION_SITE = "rehabilitation_site", _("community rehabilitation site")
    CRISIS_TEAM = "crisis_team", _("crisis-intervention team")
    MANAGEMENT_GROUP = "management_group", _("township management group")


class InstitutionStatus(models.TextChoices):
    """Registration status. ``removed`` is 退出 (意见 19: 优胜劣汰), by a sanction."""

    ACTIVE = "active", _("active")
    SUSPENDED = "suspended", _("suspended")
    CLOSED = "closed", _("closed")
    REMOVED = "removed", _("removed from the register")


class ServiceCode(models.TextChoices):
    """What a service point offers (the public finder filters on groups of these: kinds.json)."""

    EMERGENCY = "emergency", _("psychiatric emergency")
    PSYCHIATRIC_OUTPATIENT = "psychiatric_outpatient", _("psychiatric outpatient clinic")
    PSYCHOLOGY_OUTPATIENT = "psychology_outpatient", _("psychology clinic")
    INPATIENT = "inpatient", _("inpatient care")
    COUNSELLING = "counselling", _("psychological counselling")
    PSYCHOTHERAPY = "psychotherapy", _("psychotherapy")
    CHILD_ADOLESCENT = "child_adolescent", _("child and adolescent services")
    ELDERLY = "elderly", _("services for older people")
    HOTLINE = "hotline", _("telephone hotline")
    CRISIS_INTERVENTION = "crisis_intervention", _("crisis intervention")
    REHABILITATION = "rehabilitation", _("community rehabilitation")
    SOCIAL_WORK = "social_work", _("social work")
    EAP = "eap", _("employee assistance")
    SMD_MANAGEMENT = "smd_management", _("severe mental disorder management (精防)")


class HospitalLevel(models.IntegerChoices):
    """医院等级 (《医院分级管理办法》): the "二级以上综合医院" of 意见 13 are levels 2 and 3."""

    PRIMARY = 1, _("level 1 hospital (一级)")
    SECONDARY = 2, _("level 2 hospital (二级)")
    TERTIARY = 3, _("level 3 hospital (三级)")


class Population(models.TextChoices):
    """Who a service point serves."""

    EVERYONE = "everyone", _("everyone")
    CHILDREN = "children", _("children")
    ADOLESCENTS = "adolescents", _("adolescents")
    STUDENTS = "students", _("students")
    ADULTS = "adults", _("adults")
    OLDER_PEOPLE = "older_people", _("older people")
    WOMEN = "women", _("women")
    EMPLOYEES = "employees", _("employees")
    PATIENTS = "patients", _("patients with severe mental disorders and their families")


class LicensingStatus(models.TextChoices):
    """Business licensing of a social counselling agency."""

    LICENSED = "licensed", _("licensed")
    PENDING = "pending", _("licence pending")
    REVOKED = "revoked", _("licence revoked")
    NOT_REQUIRED = "not_required", _("not required")


class Institution(InRegion):
    """An organisation admitted to the service registry by the responsible health authority.

    The name, address and switchboard stay on ``core.Organisation``; everything the registry adds
    (kind, status, grade, capacity figures, licence) is here. Every change after approval makes
    an ``InstitutionVersion`` (with the application or sanction that caused it) and an audit event.
    ``region`` is kept equal to the organisation's region (scoping and roll-ups stay one-table).
    """

    organisation = models.OneToOneField(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                        related_name="registry_entry")
    kind = models.CharField(_("kind"), max_length=32, choices=InstitutionKind.choices, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=InstitutionStatus.choices,
                              default=InstitutionStatus.ACTIVE, db_index=True)
    registration_number = models.CharField(_("registration number"), max_length=32, unique=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    grade = models.CharField(_("evaluation grade"), max_length=4, blank=True)
    graded_on = models.DateField(_("graded on"), null=True, blank=True)
    demonstration = models.BooleanField(_("demonstration unit (示范单位)"), default=False)
    demonstration_year = models.PositiveSmallIntegerField(_("demonstration year"), null=True, blank=True)
    beds = models.PositiveIntegerField(_("beds"), null=True, blank=True)
    hospital_level = models.PositiveSmallIntegerField(
        _("hospital level"), choices=HospitalLevel.choices, null=True, blank=True,
        help_text=_("For hospitals: 一级, 二级 or 三级 (the general-hospital indicator counts 二级 and above)."))
    students = models.PositiveIntegerField(_("students"), null=True, blank=True)
    counsellors = models.PositiveIntegerField(_("full-time counselling staff"), null=True, blank=True)
    business_licence_number = models.CharField(_("business licence number"), max_length=32, blank=True)
    licence_scope = models.CharField(_("licensed business scope"), max_length=255, blank=True)
    licensing_status = models.CharField(_("licensing status"), max_length=16, choices=LicensingStatus.choices,
                                        blank=True)
    village_code = models.CharField(_("village or community code"), max_length=12, blank=True, db_index=True)
    village_name = models.CharField(_("village or community"), max_length=64, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("registered institution")
        verbose_name_plural = _("registered institutions")
        ordering: ClassVar = ["region_id", "registration_number"]
        permissions: ClassVar = [
            ("import_institution", "Can import institutions and practitioners from Excel (audited)"),
            ("view_coverage", "Can read the service-network coverage figures"),
        ]

    def __str__(self) -> str:
        return self.registration_number

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        if own_organisation_only(user):
            return qs.filter(organisation_id=user.organisation_id)
        return qs

    @property
    def name(self) -> str:
        return str(self.organisation.name)


class InstitutionVersion(models.Model):
    """One approved state of an institution: the full snapshot and the fields that changed."""

    class Source(models.TextChoices):
        APPLICATION = "application", _("registration application")
        IMPORT = "import", _("Excel import")
        SANCTION = "sanction", _("sanction")
        EVALUATION = "evaluation", _("evaluation")
        DESIGNATION = "designation", _("demonstration designation")

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    data = models.JSONField(_("snapshot"))
    changed = models.JSONField(_("changed fields"), default=list)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    application = models.ForeignKey("RegistrationApplication", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    sanction = models.ForeignKey("Sanction", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("institution version")
        verbose_name_plural = _("institution versions")
        ordering: ClassVar = ["institution_id", "-number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "number"], name="registry_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} v{self.number}"


class ServicePoint(InRegion):
    """Where, or on which line, the public reaches an institution: the unit of the service finder.

    ``latitude``/``longitude`` are WGS-84 degrees as a phone's location gives them (GCJ-02 map
    coordinates differ by a few hundred metres: acceptable for "nearest first"). Hotlines may
    have none. ``public`` is false for kinds that serve only their own members (kinds.json).
    """

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="points")
    code = models.SlugField(_("code"), max_length=32, default="main")
    name = models.CharField(pgettext_lazy("title of a thing", "name"), max_length=128)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True, db_index=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True, db_index=True)
    open_24h = models.BooleanField(_("open 24 hours"), default=False)
    hours_text = models.CharField(_("opening hours"), max_length=255, blank=True)
    hours_note = models.CharField(_("note on opening hours"), max_length=255, blank=True)
    populations = models.JSONField(_("populations served"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    public = models.BooleanField(_("listed in the public finder"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service point")
        verbose_name_plural = _("service points")
        ordering: ClassVar = ["institution_id", "code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["institution", "code"], name="registry_point_unique_code"),
        ]
        indexes: ClassVar = [models.Index(fields=["latitude", "longitude"], name="registry_point_latlon")]

    def __str__(self) -> str:
        return self.name


class PointService(models.Model):
    """One service offered at a point (a row each, so the finder filters with an indexed join)."""

    point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="services")
    code = models.CharField(_("service"), max_length=32, choices=ServiceCode.choices, db_index=True)

    class Meta:
        verbose_name = _("service offered")
        verbose_name_plural = _("services offered")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["point", "code"], name="registry_pointservice_unique"),
        ]

    def __str__(self) -> str:
        return self.code


class OpeningHours(models.Model):
    """Open on ISO ``weekday`` from ``opens`` to ``closes`` (minutes past midnight, never across it)."""

    point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    opens = models.PositiveSmallIntegerField(_("opens (minute of day)"))
    closes = models.PositiveSmallIntegerField(_("closes (minute of day)"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering: ClassVar = ["point_id", "weekday", "opens"]
        # The finder's "open now" probes one point's rows for one weekday.
        indexes: ClassVar = [models.Index(fields=["point", "weekday", "opens"], name="registry_hours_point_day")]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens}-{self.closes}"


class ApplicationKind(models.TextChoices):
    NEW = "new", _("new registration")
    CHANGE = "change", _("change of registered details")


class ApplicationStatus(models.TextChoices):
    """States of ``workflow.json`` ``application``."""

    SUBMITTED = "submitted", _("submitted")
    REVIEWED = "reviewed", _("reviewed")
    RETURNED = "returned", _("returned for correction")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Recommendation(models.TextChoices):
    APPROVE = "approve", _("recommend approval")
    REJECT = "reject", _("recommend rejection")


class RegistrationApplication(InRegion):
    """An institution's application to be registered, or to change its registered details.

    The institution (one of its staff) applies; the county mental-health centre (精防机构) reviews;
    the health commission approves or rejects with a reason (workflow.json). ``data`` holds the
    proposed details; they take effect only on approval. ``region`` is the institution's region,
    so the authority of that region sees it.
    """

    kind = models.CharField(_("kind"), max_length=8, choices=ApplicationKind.choices, default=ApplicationKind.NEW)
    institution = models.ForeignKey(Institution, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.PROTECT,
                                  related_name="+")
    applicant_organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                               related_name="+", verbose_name=_("applying organisation"))
    data = models.JSONField(_("proposed details"))
    status = models.CharField(_("status"), max_length=16, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.SUBMITTED, db_index=True)
    recommendation = models.CharField(_("recommendation"), max_length=8, choices=Recommendation.choices, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True, help_text=_("The last reason given (return or rejection)."))
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    form_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("registration application")
        verbose_name_plural = _("registration applications")
        ordering: ClassVar = ["-submitted_at", "-id"]
        permissions: ClassVar = [
            ("review_registrationapplication", "Can review registration applications (county centre)"),
            ("decide_registrationapplication", "Can approve or reject registration applications"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        if own_organisation_only(user):
            return qs.filter(applicant_organisation_id=user.organisation_id)
        return qs

    @property
    def proposed_name(self) -> str:
        return str(self.data.get("name", ""))


class ApplicationEvent(models.Model):
    """One step of an application's history (the audit log has the same, hash-chained)."""

    application = models.ForeignKey(RegistrationApplication, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")
        ordering: ClassVar = ["application_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.action}"
