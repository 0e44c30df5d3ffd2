"""Pages of the township management groups (phone-sized first).

The group page lists the patients the signed-in member may see: ``Patient.objects.restrict`` narrows
partner roles to danger ≥3 or a 肇事肇祸 history (DOMAIN.md §7), ``masks.present`` shows only the
fields their role allows (police: identity masked, danger level and responsible doctor; never a
diagnosis or medication), and every list and every patient opened is an audit event. A group,
member, meeting or visit outside the user's region is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinqiao.caregroups import exports, services
from xinqiao.caregroups.forms import GroupForm, MeetingForm, MemberForm, VisitForm
from xinqiao.caregroups.models import GroupMember, JointVisit, ManagementGroup, Meeting
from xinqiao.core import audit
from xinqiao.core import services as core_services
from xinqiao.core.forms import UnmaskForm
from xinqiao.core.masks import present, unmaskable_fields
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.patients.models import Patient
from xinqiao.referrals.views import keyed_create, page_query

PAGE_SIZE = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _group(request: HttpRequest, pk: int) -> ManagementGroup:
    return get_scoped_or_404(ManagementGroup, request.user, pk=pk)


# --------------------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    """The groups of the user's region, with their active members and meetings counted."""
    _require(request, "caregroups.view_managementgroup")
    qs = (ManagementGroup.objects.restrict(request.user).select_related("region")
          .annotate(n_members=Count("members", filter=Q(members__active=True), distinct=True),
                    n_meetings=Count("meetings", distinct=True))
          .order_by("region_id", "kind", "name"))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "caregroups/group_list.html", {
        "page": page, "query": page_query(request),
        "can_add": request.user.has_perm("caregroups.add_managementgroup"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    """Set up a group in a township of the user's region."""
    _require(request, "caregroups.add_managementgroup")
    user: Any = request.user
    initial = {"region_code": user.region_id} if user.region_id and len(user.region_id) == 9 else {}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        pk = keyed_create(request, form, "caregroups.group", lambda: services.create_group(user, form.to_input()))
        if pk is not None:
            messages.success(request, _("The group was set up. Add its members next."))
            return redirect("caregroups:group_detail", pk=pk)
    return render(request, "caregroups/group_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The group: members (outsiders masked), recent meetings and joint visits, links to act."""
    group = _group(request, pk)
    user: Any = request.user
    members = services.member_rows(user, group)
    meetings = list(Meeting.objects.restrict(user).filter(group=group).order_by("-held_on", "-id")[:20])
    visits = list(JointVisit.objects.restrict(user).filter(group=group).select_related("patient")
                  .order_by("-visited_on", "-id")[:20])
    audit.record(AuditAction.VIEW, obj=group, detail={"members": len(members), "visits": len(visits)})
    return render(request, "caregroups/group_detail.html", {
        "group": group, "members": members, "meetings": meetings,
        "visits": [(v, present(user, v)) for v in visits], "unmask_form": UnmaskForm(),
        "can_unmask": user.has_perm("caregroups.unmask_groupmember"),
        "can_add_member": user.has_perm("caregroups.add_groupmember"),
        "can_add_meeting": user.has_perm("caregroups.add_meeting"),
        "can_add_visit": user.has_perm("caregroups.add_jointvisit"),
        "can_export_visits": user.has_perm("caregroups.export_jointvisit"),
        "can_see_patients": user.has_perm("patients.view_patient"),
    })


# --------------------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def member_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a platform account or a named outsider a seat of the group."""
    group = _group(request, pk)
    _require(request, "caregroups.add_groupmember")
    form = MemberForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        created = keyed_create(request, form, "caregroups.member",
                                lambda: services.add_member(request.user, group, form.to_input()))
        if created is not None:
            messages.success(request, _("The member was added."))
            return redirect("caregroups:group_detail", pk=group.pk)
    return render(request, "caregroups/member_form.html", {"form": form, "group": group},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def member_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal an outside member's name and phone for a stated purpose (audited)."""
    member = get_scoped_or_404(GroupMember, request.user, pk=pk)
    form = UnmaskForm(request.POST)
    if not unmaskable_fields(request.user, member):
        raise PermissionDenied
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("caregroups:group_detail", pk=member.group_id)
    shown = core_services.unmask_record(request.user, member, form.cleaned_data["purpose"])
    return render(request, "caregroups/member_unmasked.html", {
        "member": member, "shown": shown, "seat": services.seat_label(member.role)})


# --------------------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a meeting and its minutes (register numbers only)."""
    group = _group(request, pk)
    _require(request, "caregroups.add_meeting")
    form = MeetingForm(request.POST or None, group=group, user=request.user)
    if request.method == "POST" and form.is_valid():
        created = keyed_create(request, form, "caregroups.meeting",
                                lambda: services.record_meeting(request.user, group, form.to_input()))
        if created is not None:
            messages.success(request, _("The meeting was recorded."))
            return redirect("caregroups:meeting_detail", pk=created)
    return render(request, "caregroups/meeting_form.html", {"form": form, "group": group},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One meeting: attendees, topics, decisions."""
    meeting = get_scoped_or_404(Meeting, request.user, pk=pk)
    user: Any = request.user
    attendees = [(m, services.seat_label(m.role), str(m.user) if m.user else present(user, m).get("outsider_name"))
                 for m in meeting.attendees.select_related("user")]
    audit.record(AuditAction.VIEW, obj=meeting, detail={"group": meeting.group_id})
    return render(request, "caregroups/meeting_detail.html", {"meeting": meeting, "attendees": attendees})


# --------------------------------------------------------------------------------------------------
# Joint visits
# --------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def visit_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a joint visit to a patient the user may see (``?patient=<id>`` fills the number)."""
    group = _group(request, pk)
    _require(request, "caregroups.add_jointvisit")
    initial: dict[str, Any] = {}
    if request.GET.get("patient", "").isdigit():
        patient = services.group_patients(request.user, group).filter(pk=int(request.GET["patient"])).first()
        if patient is not None:
            initial["patient"] = patient.register_number
    form = VisitForm(request.POST or None, group=group, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        created = keyed_create(request, form, "caregroups.visit",
                                lambda: services.record_visit(request.user, group, form.to_input()))
        if created is not None:
            messages.success(request, _("The joint visit was recorded."))
            return redirect("caregroups:group_detail", pk=group.pk)
    return render(request, "caregroups/visit_form.html", {"form": form, "group": group},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def visit_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The group's joint visits the user may see, as Excel (masked, audited)."""
    group = _group(request, pk)
    _require(request, "caregroups.export_jointvisit")
    return exports.export_visits(request.user, group, JointVisit.objects.restrict(request.user, "export")
                                 .filter(group=group))


# --------------------------------------------------------------------------------------------------
# The group's patients
# --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def group_patients(request: HttpRequest, pk: int) -> HttpResponse:
    """The patients of the group's township the user may see, with only the fields their mask allows."""
    group = _group(request, pk)
    _require(request, "patients.view_patient")
    qs = services.group_patients(request.user, group).select_related("person", "responsible_doctor")
    page = Paginator(qs.order_by("-danger_level", "register_number"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = services.list_group_patients(request.user, group, page.object_list)
    return render(request, "caregroups/group_patients.html", {
        "group": group, "page": page, "query": page_query(request), "rows": rows,
        "can_add_visit": request.user.has_perm("caregroups.add_jointvisit"),
    })


def _group_patient(request: HttpRequest, group: ManagementGroup, patient_pk: int) -> Patient:
    patient = (services.group_patients(request.user, group).select_related("person", "responsible_doctor")
               .filter(pk=patient_pk).first())
    if patient is None:
        raise Http404
    return patient


def _patient_page(request: HttpRequest, group: ManagementGroup, patient: Patient, row: dict[str, Any], *,
                  unmasked: bool = False, form: UnmaskForm | None = None, status: int = 200) -> HttpResponse:
    user: Any = request.user
    visits = list(JointVisit.objects.restrict(user).filter(group=group, patient=patient).order_by("-visited_on"))
    return render(request, "caregroups/group_patient.html", {
        "group": group, "row": row, "unmasked": unmasked, "unmask_form": form or UnmaskForm(),
        "can_unmask": bool(unmaskable_fields(user, patient.person)),
        "visits": [(v, present(user, v)) for v in visits],
        "can_add_visit": user.has_perm("caregroups.add_jointvisit"),
    }, status=status)


@login_required
@require_GET
def group_patient(request: HttpRequest, pk: int, patient_pk: int) -> HttpResponse:
    """One patient opened from the group page (404 when the user may not see them); audited."""
    group = _group(request, pk)
    patient = _group_patient(request, group, patient_pk)
    return _patient_page(request, group, patient, services.view_group_patient(request.user, group, patient))


@login_required
@require_POST
def group_patient_unmask(request: HttpRequest, pk: int, patient_pk: int) -> HttpResponse:
    """Reveal the patient's masked identity and contact for a stated purpose (e.g. a home visit; audited)."""
    group = _group(request, pk)
    patient = _group_patient(request, group, patient_pk)
    form = UnmaskForm(request.POST)
    row = services.patient_row(request.user, patient)
    if not form.is_valid():
        return _patient_page(request, group, patient, row, form=form, status=400)
    row["person"] = core_services.unmask_record(request.user, patient.person, form.cleaned_data["purpose"])
    return _patient_page(request, group, patient, row, unmasked=True)
