"""Pages of two-way referral and emergency handling (phone-sized first).

Thin views: ``restrict``/``get_scoped_or_404`` (a record out of scope is a 404), a service call, then
``present()`` into the template. Lists are audited as one list event per page; a record opened is a
view event. Creating forms carry a one-time key (``core.idempotency.run_once``): a double tap stores once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinqiao.core import audit
from xinqiao.core.idempotency import submit_form
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.patients.models import Patient
from xinqiao.referrals import exports, rules, services
from xinqiao.referrals.codes import EmergencyStatus, ReferralState
from xinqiao.referrals.forms import EmergencyForm, ReferralActionForm, ReferralForm
from xinqiao.referrals.models import EmergencyRecord, Referral

PAGE_SIZE = 50
BOXES = ("incoming", "outgoing", "all")


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def page_query(request: HttpRequest) -> str:
    """The list's query string without ``page`` (for the pager links)."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def keyed_create(request: HttpRequest, form: Any, scope: str, create: Any) -> int | None:
    """Run ``create()`` once per form key; the id of the record (new or stored), or None on errors."""
    body = submit_form(request, scope, form, lambda: {"id": create().pk})
    return None if body is None else int(body["id"])


# --------------------------------------------------------------------------------------------------
# Referrals
# --------------------------------------------------------------------------------------------------


def referral_queryset(request: HttpRequest, box: str, overdue_only: bool) -> Any:
    """The user's referrals in ``box`` (incoming / outgoing per their organisation, or all in scope)."""
    user: Any = request.user
    qs = Referral.objects.restrict(user).select_related("patient__person", "from_organisation", "to_organisation")
    if box == "incoming":
        qs = qs.filter(to_organisation_id=user.organisation_id)
    elif box == "outgoing":
        qs = qs.filter(from_organisation_id=user.organisation_id)
    if overdue_only:
        qs = qs.filter(pk__in=services.overdue_referrals(timezone.localdate()).values("pk"))
    return qs.order_by("-sent_at", "-id")


def referral_rows(user: Any, referrals: list[Referral]) -> list[dict[str, Any]]:
    """List rows: the referral, its overdue days and the patient's masked identity."""
    today = timezone.localdate()
    return [{
        "referral": r, "person": present(user, r.patient.person),
        "due": rules.current_due(r.state, r.receive_due, r.complete_due),
        "overdue": rules.days_overdue(r.state, r.receive_due, r.complete_due, today),
    } for r in referrals]


@login_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    """Incoming and outgoing referrals of the user's organisation (or all in scope), overdue flagged."""
    _require(request, "referrals.view_referral")
    user: Any = request.user
    default = "incoming" if user.organisation_id else "all"
    box = request.GET.get("box", default)
    box = box if box in BOXES else default
    overdue_only = request.GET.get("overdue") == "1"
    page = Paginator(referral_queryset(request, box, overdue_only), PAGE_SIZE).get_page(request.GET.get("page"))
    referrals = list(page.object_list)
    if referrals:
        audit.record_many(AuditAction.LIST, referrals, detail={"box": box, "page": page.number})
    return render(request, "referrals/referral_list.html", {
        "page": page, "query": page_query(request), "rows": referral_rows(user, referrals), "box": box,
        "overdue_only": overdue_only,
        "can_add": user.has_perm("referrals.add_referral"), "can_export": user.has_perm("referrals.export_referral"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def referral_create(request: HttpRequest) -> HttpResponse:
    """Send a referral from the user's organisation (``?patient=<id>`` fills the register number)."""
    _require(request, "referrals.add_referral")
    initial: dict[str, Any] = {}
    if request.GET.get("patient", "").isdigit():
        patient = Patient.objects.restrict(request.user).filter(pk=int(request.GET["patient"])).first()
        if patient is not None:
            initial["patient"] = patient.register_number
    form = ReferralForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        pk = keyed_create(request, form, "referrals.send",
                           lambda: services.send_referral(request.user, form.to_input()))
        if pk is not None:
            messages.success(request, _("The referral was sent; the receiving organisation has been notified."))
            return redirect("referrals:referral_detail", pk=pk)
    return render(request, "referrals/referral_form.html", {"form": form}, status=400 if form.errors else 200)


def _scoped_referral(request: HttpRequest, pk: int) -> Referral:
    """One referral the user may see, with what its page shows, or 404."""
    referral = (Referral.objects.restrict(request.user)
                .select_related("patient__person", "from_organisation", "to_organisation").filter(pk=pk).first())
    if referral is None:
        raise Http404
    return referral


def _referral_page(request: HttpRequest, referral: Referral, *, form: ReferralActionForm | None = None,
                   status: int = 200) -> HttpResponse:
    user: Any = request.user
    shown = services.view_referral(user, referral)
    side = services.referral_side(user, referral)
    actions = rules.allowed_actions(referral.state, side) if user.has_perm("referrals.change_referral") else []
    events = list(referral.events.select_related("by", "organisation"))
    return render(request, "referrals/referral_detail.html", {
        "referral": referral, "shown": shown, "person": present(user, referral.patient.person),
        "events": [(e, present(user, e)) for e in events], "actions": actions, "form": form or ReferralActionForm(),
        "due": rules.current_due(referral.state, referral.receive_due, referral.complete_due),
        "overdue": rules.days_overdue(referral.state, referral.receive_due, referral.complete_due,
                                      timezone.localdate()),
    }, status=status)


@login_required
@require_GET
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One referral (404 out of scope): its text per mask, its history, the steps the user may take."""
    return _referral_page(request, _scoped_referral(request, pk))


@login_required
@require_POST
def referral_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Receive, decline or complete (the receiving organisation only; others 403)."""
    referral = _scoped_referral(request, pk)
    form = ReferralActionForm(request.POST)
    if form.is_valid():
        try:
            services.act_on_referral(request.user, referral, form.cleaned_data["action"],
                                     form.cleaned_data.get("note") or "")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("The referral is now %(state)s.") % {
                "state": ReferralState(referral.state).label})
            return redirect("referrals:referral_detail", pk=referral.pk)
    elif not request.user.has_perm("referrals.change_referral") or services.referral_side(request.user, referral) is None:
        raise PermissionDenied
    return _referral_page(request, referral, form=form, status=400)


@login_required
@require_GET
def referral_export(request: HttpRequest) -> HttpResponse:
    """The referrals in scope as Excel, masked per role (audited)."""
    _require(request, "referrals.export_referral")
    return exports.export_referrals(request.user, Referral.objects.restrict(request.user, "export"))


# --------------------------------------------------------------------------------------------------
# Emergencies
# --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def emergency_list(request: HttpRequest) -> HttpResponse:
    """The county centre's board: open emergencies in scope, late records first-highlighted;
    ``?status=all`` includes the closed ones."""
    _require(request, "referrals.view_emergencyrecord")
    user: Any = request.user
    show_all = request.GET.get("status") == "all"
    qs = EmergencyRecord.objects.restrict(user).select_related("patient", "region")
    if not show_all:
        qs = qs.filter(status=EmergencyStatus.OPEN)
    page = Paginator(qs.order_by("-occurred_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    records = list(page.object_list)
    if records:
        audit.record_many(AuditAction.LIST, records, detail={"board": not show_all, "page": page.number})
    return render(request, "referrals/emergency_list.html", {
        "page": page, "query": page_query(request), "rows": [(e, services.emergency_shown(user, e)) for e in records],
        "show_all": show_all,
        "late_count": sum(1 for e in records if e.recorded_late),
        "can_add": user.has_perm("referrals.add_emergencyrecord"),
        "can_export": user.has_perm("referrals.export_emergencyrecord"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def emergency_create(request: HttpRequest) -> HttpResponse:
    """Record an emergency (应急处置记录单) within 24 hours of the event."""
    _require(request, "referrals.add_emergencyrecord")
    user: Any = request.user
    initial: dict[str, Any] = {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)}
    if user.region_id and len(user.region_id) == 9:
        initial["region_code"] = user.region_id
    form = EmergencyForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        pk = keyed_create(request, form, "referrals.emergency",
                           lambda: services.record_emergency(user, form.to_input()))
        if pk is not None:
            messages.success(request, _("The emergency was recorded."))
            return redirect("referrals:emergency_detail", pk=pk)
    return render(request, "referrals/emergency_form.html", {"form": form}, status=400 if form.errors else 200)


def _emergency_page(request: HttpRequest, record: EmergencyRecord) -> HttpResponse:
    user: Any = request.user
    return render(request, "referrals/emergency_detail.html", {
        "record": record, "shown": services.view_emergency(user, record),
        "person": present(user, record.person) if record.person else None,
        "can_close": user.has_perm("referrals.change_emergencyrecord") and record.status == EmergencyStatus.OPEN,
        "police_threshold": services.police_threshold(),
    })


@login_required
@require_GET
def emergency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One emergency record (404 out of scope; police only at or above the sharing threshold)."""
    return _emergency_page(request, get_scoped_or_404(EmergencyRecord, request.user, pk=pk))


@login_required
@require_POST
def emergency_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Take an emergency off the board."""
    record = get_scoped_or_404(EmergencyRecord, request.user, pk=pk)
    services.close_emergency(request.user, record)
    messages.success(request, _("The emergency was closed."))
    return redirect("referrals:emergency_detail", pk=record.pk)


@login_required
@require_GET
def emergency_export(request: HttpRequest) -> HttpResponse:
    """Emergency records in scope as Excel, masked per role (audited)."""
    _require(request, "referrals.export_emergencyrecord")
    return exports.export_emergencies(request.user, EmergencyRecord.objects.restrict(request.user, "export"))
