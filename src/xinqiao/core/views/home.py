"""The home page per role: who you are, where, and what you may do here."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from xinqiao.core.roles import role_labels

# What a permission lets a user do, and where. Later apps append to this list.
CAPABILITIES: list[tuple[str, str, StrOrPromise]] = [
    ("core.view_person", "core:person_list", _("Look up persons in your region (masked)")),
    ("core.add_person", "core:person_create", _("Register a person")),
    ("core.unmask_person", "core:person_list", _("Reveal identity and contact details, stating a purpose (audited)")),
    ("core.export_person", "core:person_export", _("Export the persons of your region to Excel (audited)")),
    ("core.view_organisation", "core:organisation_list", _("Browse organisations")),
    ("worklists.view_worklist", "worklists:overview", _("Work lists: who is due, overdue, unstable or awaiting a first visit")),
    ("indicators.view_indicatorresult", "indicators:dashboard", _("Monitoring indicators against the national targets: traffic lights, trends, maps, drill-down to sub-regions and patients")),
    ("indicators.refresh_indicators", "indicators:dashboard", _("Recompute a period's indicators on demand (audited)")),
    ("indicators.export_report", "indicators:report", _("Supervision reports (PDF, Excel) per region and period")),
    ("indicators.view_data_quality", "indicators:quality", _("Data quality: late reports, overdue follow-ups, duplicate suspects, implausible records")),
    ("patients.view_patient", "patients:patient_list", _("Registered patients: list, record, status, supplement")),
    ("patients.add_casereport", "patients:case_report_create", _("Enter a hospital case report (发病报告卡)")),
    ("patients.view_casereport", "patients:case_report_list", _("Case reports of your region, late ones marked")),
    ("patients.view_suspectedcase", "patients:suspected_list", _("Suspected cases found in the community")),
    ("patients.view_transfer", "patients:transfer_inbox", _("Transfers of patients who moved: accept or decline")),
    ("patients.merge_patient", "patients:duplicate_list", _("Duplicate records: find and merge (audited)")),
    ("registry.view_institution", "registry:home", _("Service network registry")),
    ("registry.add_registrationapplication", "registry:application_create", _("Apply to register an institution")),
    ("registry.view_registrationapplication", "registry:application_list", _("Registration applications")),
    ("registry.view_complaint", "registry:complaint_list", _("Complaints from the public")),
    ("registry.view_coverage", "registry:coverage", _("Coverage of the service network")),
    ("registry.import_institution", "registry:import_upload", _("Import institutions and practitioners from Excel")),
    ("paperwork.add_importbatch", "paperwork:import_home", _("Import existing patients and follow-ups from Excel (checked row by row, all or nothing)")),
    ("referrals.view_referral", "referrals:referral_list", _("Referrals in and out of your organisation, overdue ones flagged")),
    ("referrals.add_referral", "referrals:referral_create", _("Send a referral (up or down)")),
    ("referrals.view_emergencyrecord", "referrals:emergency_list", _("Emergency board: open emergencies, late records highlighted")),
    ("referrals.add_emergencyrecord", "referrals:emergency_create", _("Record an emergency within 24 hours")),
    ("caregroups.view_managementgroup", "caregroups:group_list", _("Township management groups: members, meetings, joint visits, the patients you may see")),
    ("core.view_auditevent", "core:audit_list", _("Read the audit log of your region")),
    ("core.view_region", "core:region_browser", _("Browse regions")),
    ("screening.view_campaign", "screening:campaign_list", _("Screening campaigns: results, positives and alerts")),
    ("screening.add_campaign", "screening:campaign_create", _("Start a screening campaign")),
    ("screening.view_alerttask", "screening:alert_list", _("Screening alerts to acknowledge")),
]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Organisation, region, roles, and the actions the user's permissions allow."""
    user = request.user
    capabilities: list[tuple[str, StrOrPromise]] = [(reverse(url), label) for perm, url, label in CAPABILITIES if user.has_perm(perm)]
    if user.is_staff:
        capabilities.append((reverse("admin:index"), _("Administration")))
    region = user.region  # type: ignore[union-attr]
    return render(
        request,
        "core/home.html",
        {
            "region_name": region.full_name() if region else "",
            "roles": role_labels(user.role_codes),  # type: ignore[union-attr]
            "capabilities": capabilities,
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for the load balancer (no personal data)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
