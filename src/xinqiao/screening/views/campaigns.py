"""Screening campaigns (意见 7, 8, 12): a school or employer psychologist runs one, participants
answer on their phones by access code, and the psychologist follows up who needs it.

* Psychologist pages: thin views in the pattern restrict → present → audit. Every record comes
  through ``restrict``/``get_scoped_or_404`` (another school's campaign is a 404); participants'
  identity is shown masked (``core.masks.present``) and revealed only with a purpose (audited).
* Participant pages (``c/<access code>/``, no sign-in): one page per scale, consent (and, in an
  identified campaign, name and school/work number) first. Where the participant is in the
  campaign travels in a signed token in the form and the URL, not in a session, so a slow answer
  or a closed browser tab never loses more than the page at hand. Each page carries a random
  submission key: a double tap stores one response. Participants never see a score; if an answer
  raised an alert, the thank-you page shows the crisis line first.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinqiao.core import audit
from xinqiao.core import services as core_services
from xinqiao.core.forms import UnmaskForm
from xinqiao.core.masks import present, unmaskable_fields
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.screening import reports, services
from xinqiao.screening.forms import ActionForm, CampaignForm, ScaleForm, lang
from xinqiao.screening.instruments import Instrument, UnknownInstrumentError, load
from xinqiao.screening.models import (
    AlertTask,
    Campaign,
    CampaignGroup,
    FollowUpAction,
    ScreeningResponse,
    Source,
)

PAGE_SIZE = 50
FLAGGED_PAGE_SIZE = 100
PROGRESS_SALT = "xinqiao.screening.campaign.progress"
PROGRESS_MAX_AGE = int(timedelta(days=2).total_seconds())


def qr_data_url(data: str) -> str:
    """An SVG QR code as a ``data:`` URL (the CSP allows ``img-src data:``)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def crisis_line() -> dict[str, str]:
    line = services.alerting()["crisis_hotline"]
    return {"number": str(line["number"]), "name": str(line["en"] if lang() == "en" else line["zh"])}


def campaign_state(campaign: Campaign) -> str:
    """``upcoming``, ``open`` or ``closed`` now."""
    now = timezone.now()
    if now < campaign.opens_at:
        return "upcoming"
    return "open" if now <= campaign.closes_at else "closed"


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


# --------------------------------------------------------------------------------------------------
# Campaigns (psychologists; regulators and the county centre read)
# --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    """The campaigns the user may see: a psychologist their organisation's, others their region's."""
    _require(request, "screening.view_campaign")
    qs = (Campaign.objects.restrict(request.user).select_related("organisation")
          .annotate(n_groups=Count("groups", distinct=True)).order_by("-opens_at", "-id"))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(c, campaign_state(c)) for c in page.object_list]
    return render(request, "screening/campaigns/list.html", {"page": page, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    """A new campaign at the psychologist's organisation, one access code per group."""
    _require(request, "screening.add_campaign")
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = CampaignForm(request.POST or None, initial={
        "opens_at": now, "closes_at": now + timedelta(days=7), "instrument_ids": ["phq9", "gad7"],
    })
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.create_campaign(request.user, form.to_input())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The campaign was created. Print or show the QR code of each group."))
            return redirect("screening:campaign_detail", pk=campaign.pk)
    return render(request, "screening/campaigns/form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The campaign, its groups with access codes and QR codes, and how many have answered."""
    campaign = get_scoped_or_404(Campaign, request.user, pk=pk)
    first_scale = campaign.instrument_ids[0] if campaign.instrument_ids else ""
    answered = {
        row["group_id"]: row["n"]
        for row in ScreeningResponse.objects.restrict(request.user).filter(campaign=campaign, instrument=first_scale)
        .order_by().values("group_id").annotate(n=Count("id"))
    }
    manage = request.user.has_perm("screening.change_campaign")
    groups = []
    for group in campaign.groups.all():
        url = request.build_absolute_uri(reverse("screening:participant", kwargs={"code": group.access_code}))
        groups.append({"group": group, "url": url, "qr": qr_data_url(url) if manage else "",
                       "answered": answered.get(group.pk, 0)})
    return render(request, "screening/campaigns/detail.html", {
        "campaign": campaign, "state": campaign_state(campaign), "groups": groups, "manage": manage,
        "scales": [reports.scale_name(i) for i in campaign.instrument_ids],
        "can_results": request.user.has_perm("screening.view_screeningresponse"),
        "can_export": request.user.has_perm("screening.export_campaign")
        and request.user.has_perm("screening.export_screeningresponse"),
    })


def _results_scope(request: HttpRequest, pk: int) -> tuple[Campaign, Any]:
    """The campaign (404 out of scope) and its responses the user may see (403 without the permission)."""
    campaign = get_scoped_or_404(Campaign, request.user, pk=pk)
    _require(request, "screening.view_screeningresponse")
    return campaign, ScreeningResponse.objects.restrict(request.user).filter(campaign=campaign)


@login_required
@require_GET
def campaign_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Bands per group and scale (chart and table), then the positives and alerts to follow up."""
    campaign, responses = _results_scope(request, pk)
    stats = reports.campaign_stats(campaign, responses)
    flagged = (responses.filter(Q(positive=True) | ~Q(alerts=[])).select_related("group")
               .annotate(open_tasks=Count("alert_tasks", filter=Q(alert_tasks__status=AlertTask.Status.OPEN)))
               .order_by("-open_tasks", "-submitted_at", "-id"))
    page = Paginator(flagged, FLAGGED_PAGE_SIZE).get_page(request.GET.get("page"))
    objs = list(page.object_list)
    latest: dict[int, Any] = {}
    for action in (FollowUpAction.objects.filter(response__in=[r.pk for r in objs])
                   .order_by("response_id", "at", "id")):
        latest[action.response_id] = action
    rows = [{
        "response": r, "shown": present(request.user, r), "scale": reports.scale_name(r.instrument),
        "band": reports.band_label(r.instrument, r.band),
        "alerts": [reports.alert_label(r.instrument, a) for a in r.alerts], "action": latest.get(r.pk),
    } for r in objs]
    if objs:
        audit.record_many(AuditAction.LIST, objs, detail={"campaign": campaign.pk, "page": page.number})
    return render(request, "screening/campaigns/results.html", {
        "campaign": campaign, "state": campaign_state(campaign), "stats": stats,
        "chart": reports.chart_payload(stats), "page": page, "rows": rows,
        "alerts": reports.alert_summary(campaign, AlertTask.objects.restrict(request.user)),
        "can_export": request.user.has_perm("screening.export_campaign")
        and request.user.has_perm("screening.export_screeningresponse"),
    })


@login_required
@require_GET
def campaign_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The campaign's responses as an Excel file, masked per role; audited with the count."""
    campaign = get_scoped_or_404(Campaign, request.user, pk=pk)
    _require(request, "screening.export_campaign")
    _require(request, "screening.export_screeningresponse")
    responses = ScreeningResponse.objects.restrict(request.user, "export").filter(campaign=campaign)
    content, count = reports.build_campaign_workbook(request.user, campaign, responses)
    audit.record(AuditAction.EXPORT, obj=campaign, detail={"records": "screening.screeningresponse", "count": count,
                                                           "format": "xlsx", "masked": True})
    response = HttpResponse(content, content_type=reports.XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-{stamp}.xlsx"'
    return response


@login_required
@require_GET
def campaign_summary(request: HttpRequest, pk: int) -> HttpResponse:
    """A PDF summary: counts by band, positives and alerts. No names; audited as an export."""
    campaign, responses = _results_scope(request, pk)
    stats = reports.campaign_stats(campaign, responses)
    alerts = reports.alert_summary(campaign, AlertTask.objects.restrict(request.user))
    content = reports.build_campaign_pdf(campaign, stats, alerts)
    audit.record(AuditAction.EXPORT, obj=campaign, detail={"records": "screening.screeningresponse",
                                                           "count": sum(s.total for s in stats), "format": "pdf",
                                                           "names": False})
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="campaign-{campaign.pk}-summary.pdf"'
    return response


# --------------------------------------------------------------------------------------------------
# One response: detail, reveal, follow-up actions
# --------------------------------------------------------------------------------------------------


def _answer_rows(response: ScreeningResponse) -> list[dict[str, Any]]:
    try:
        inst = load(response.instrument)
    except UnknownInstrumentError:
        return []
    if inst.version != response.instrument_version or len(response.answers) != len(inst.items):
        return []  # answered on another version: the stored indices may not match these texts
    out = []
    for item, answer in zip(inst.items, response.answers, strict=True):
        out.append({"label": item.label, "text": item.text.get(lang()),
                    "answer": item.options[answer].text.get(lang()) if answer is not None else "—",
                    "points": item.points[answer] if answer is not None else None})
    return out


def _response_page(request: HttpRequest, response: ScreeningResponse, shown: dict[str, Any], *,
                   unmasked: bool = False, unmask_form: UnmaskForm | None = None,
                   action_form: ActionForm | None = None, status: int = 200) -> HttpResponse:
    campaign = response.campaign
    assert campaign is not None
    return render(request, "screening/campaigns/response_detail.html", {
        "response": response, "campaign": campaign, "shown": shown, "unmasked": unmasked,
        "scale": reports.scale_name(response.instrument), "band": reports.band_label(response.instrument, response.band),
        "alerts": [reports.alert_label(response.instrument, a) for a in response.alerts],
        "answers": _answer_rows(response),
        "tasks": [(t, reports.alert_label(response.instrument, t.alert)) for t in response.alert_tasks.all()],
        "actions": response.actions.select_related("by"),
        "can_unmask": campaign.identified and bool(unmaskable_fields(request.user, response)),
        "unmask_form": unmask_form or UnmaskForm(),
        "can_act": request.user.has_perm("screening.add_followupaction"),
        "action_form": action_form or ActionForm(),
        "can_ack": request.user.has_perm("screening.change_alerttask"),
        "now": timezone.now(),
    }, status=status)


def _campaign_response_or_404(request: HttpRequest, pk: int) -> ScreeningResponse:
    return get_scoped_or_404(ScreeningResponse, request.user, pk=pk, campaign__isnull=False)


@login_required
@require_GET
def response_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One campaign response (404 out of scope), identity masked; audited as a view."""
    response = _campaign_response_or_404(request, pk)
    return _response_page(request, response, core_services.view_record(request.user, response))


@login_required
@require_POST
def response_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal the participant's name and number after a stated purpose (audited); shown once."""
    response = _campaign_response_or_404(request, pk)
    form = UnmaskForm(request.POST)
    if not form.is_valid():
        return _response_page(request, response, present(request.user, response), unmask_form=form, status=400)
    shown = core_services.unmask_record(request.user, response, form.cleaned_data["purpose"])  # 403 if not allowed
    return _response_page(request, response, shown, unmasked=True)


@login_required
@require_POST
def response_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an interview, a referral or closing the case (audited)."""
    response = _campaign_response_or_404(request, pk)
    _require(request, "screening.add_followupaction")
    form = ActionForm(request.POST)
    if form.is_valid():
        try:
            services.record_action(request.user, response, form.cleaned_data["action"], form.cleaned_data["note"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("The action was recorded."))
            return redirect("screening:response_detail", pk=response.pk)
    return _response_page(request, response, present(request.user, response), action_form=form, status=400)


# --------------------------------------------------------------------------------------------------
# Alert tasks
# --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    """The user's alert tasks: open ones first, soonest due first; overdue ones highlighted."""
    _require(request, "screening.view_alerttask")
    now = timezone.now()
    qs = (AlertTask.objects.restrict(request.user).select_related("response__campaign", "response__group")
          .annotate(open_first=Case(When(status=AlertTask.Status.OPEN, then=Value(0)), default=Value(1),
                                    output_field=IntegerField()))
          .order_by("open_first", "due_at", "id"))
    page = Paginator(qs, FLAGGED_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"task": t, "label": reports.alert_label(t.response.instrument, t.alert),
             "overdue": t.status == AlertTask.Status.OPEN and t.due_at < now} for t in page.object_list]
    return render(request, "screening/campaigns/alerts.html", {
        "page": page, "rows": rows, "can_ack": request.user.has_perm("screening.change_alerttask"),
    })


@login_required
@require_POST
def alert_ack(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge an alert task: it is being handled, its escalation clock stops (audited)."""
    task = get_scoped_or_404(AlertTask, request.user, pk=pk)
    _require(request, "screening.change_alerttask")
    if task.status == AlertTask.Status.OPEN:
        services.acknowledge_alert(request.user, task)
        messages.success(request, _("The alert was acknowledged. Record what you do about it on the response."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("screening:alert_list")
    return HttpResponseRedirect(target)


# --------------------------------------------------------------------------------------------------
# Participants (no sign-in)
# --------------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Where a participant is in a campaign: scales done, the first response (its identity is reused
    for the later scales of an identified campaign), and whether an alert fired."""

    code: str
    step: int = 0
    first: int | None = None
    alert: bool = False

    def token(self) -> str:
        return signing.dumps({"c": self.code, "s": self.step, "f": self.first, "a": self.alert}, salt=PROGRESS_SALT)

    @classmethod
    def from_token(cls, token: str | None, code: str) -> Progress:
        """The progress in a valid token for this access code, else a fresh start."""
        if token:
            try:
                data = signing.loads(token, salt=PROGRESS_SALT, max_age=PROGRESS_MAX_AGE)
            except signing.BadSignature:
                data = None
            if isinstance(data, dict) and data.get("c") == code and isinstance(data.get("s"), int):
                first = data.get("f")
                return cls(code, data["s"], first if isinstance(first, int) else None, bool(data.get("a")))
        return cls(code)


def _group_or_none(code: str) -> CampaignGroup | None:
    code = code.strip().upper()
    if not code.isalnum() or len(code) > 12:
        return None
    return CampaignGroup.objects.select_related("campaign__organisation").filter(access_code=code).first()


def _participant_url(name: str, group: CampaignGroup, progress: Progress | None = None) -> str:
    url = reverse(name, kwargs={"code": group.access_code})
    return f"{url}?{urlencode({'p': progress.token()})}" if progress else url


def _unavailable(request: HttpRequest, group: CampaignGroup | None, state: str) -> HttpResponse:
    response = render(request, "screening/campaigns/participant_closed.html", {
        "group": group, "campaign": group.campaign if group else None, "state": state, "crisis": crisis_line(),
    }, status=404 if group is None else 200)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _item_views(inst: Instrument, form: ScaleForm) -> list[dict[str, Any]]:
    language = lang()
    out = []
    for item in inst.items:
        condition = ""
        if item.enable_when is not None:
            source = inst.item(item.enable_when.item)
            condition = _("Answer this only if you answered “%(answer)s” to question %(label)s.") % {
                "answer": source.options[item.enable_when.answer].text.get(language), "label": source.label}
        raw = form.data.get(f"q{item.number}", "") if form.is_bound else ""
        errors = form.errors.get(f"q{item.number}") if form.is_bound else None
        out.append({
            "number": item.number, "label": item.label, "text": item.text.get(language),
            "hint": item.hint.get(language) if item.hint else "",
            "options": [(str(i), o.text.get(language)) for i, o in enumerate(item.options)],
            "selected": raw, "error": " ".join(str(e) for e in errors) if errors else "", "condition": condition,
            "enable_item": item.enable_when.item if item.enable_when else None,
            "enable_answer": item.enable_when.answer if item.enable_when else None,
        })
    return out


def _scale_page(request: HttpRequest, group: CampaignGroup, progress: Progress, inst: Instrument,
                form: ScaleForm, *, status: int = 200, notice: str = "") -> HttpResponse:
    campaign = group.campaign
    language = lang()
    error_list: list[dict[str, str]] = []
    if form.is_bound:
        for field, errors in form.errors.items():
            anchor = {"consent": "consent-fieldset", "participant_name": "identity-fieldset",
                      "participant_number": "identity-fieldset"}.get(field)
            if anchor is None:
                anchor = f"item-{field[1:]}" if field.startswith("q") else "screening-form"
            error_list.extend({"anchor": anchor, "message": str(m)} for m in errors)
    response = render(request, "screening/campaigns/participant.html", {
        "group": group, "campaign": campaign, "form": form, "progress": progress.token(),
        "step": progress.step + 1, "steps": len(campaign.instrument_ids), "first": progress.step == 0,
        "instrument": inst, "name": inst.name.get(language), "instructions": inst.instructions.get(language),
        "licence": inst.licence.terms.get(language), "items": _item_views(inst, form),
        "key": form.data.get("submission_key") if form.is_bound else str(uuid.uuid4()),
        "error_list": error_list, "notice": notice, "crisis": crisis_line(),
    }, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _identity(group: CampaignGroup, progress: Progress, form: ScaleForm) -> tuple[str, str]:
    """Name and number to store: given on the first scale, copied from the first response after."""
    if not group.campaign.identified:
        return "", ""
    if form.asks_identity:
        return form.cleaned_data["participant_name"].strip(), form.cleaned_data["participant_number"].strip()
    first = ScreeningResponse.objects.filter(pk=progress.first, group=group).first() if progress.first else None
    return (first.participant_name, first.participant_number) if first else ("", "")


@never_cache
@require_http_methods(["GET", "POST"])
def participant(request: HttpRequest, code: str) -> HttpResponse:
    """The next scale of the campaign for this class or department; POST stores it once."""
    group = _group_or_none(code)
    if group is None:
        return _unavailable(request, None, "unknown")
    campaign = group.campaign
    state = campaign_state(campaign)
    if state != "open":
        return _unavailable(request, group, state)
    progress = Progress.from_token(request.POST.get("progress") or request.GET.get("p"), group.access_code)
    scales = list(campaign.instrument_ids)
    if progress.step >= len(scales):
        return redirect(_participant_url("screening:participant_done", group, progress))
    inst = load(scales[progress.step])

    def scale_form(data: Any = None) -> ScaleForm:
        return ScaleForm(data, initial={"instrument": inst.id}, instrument=inst, first=progress.step == 0,
                         identified=campaign.identified)

    if request.method == "GET":
        return _scale_page(request, group, progress, inst, scale_form())
    if request.POST.get("instrument") != inst.id:
        # A page sent again after the participant moved on (back button, double tap): show where they are.
        return HttpResponseRedirect(_participant_url("screening:participant", group, progress), status=303)
    form = scale_form(request.POST)
    if form.is_valid():
        name, number = _identity(group, progress, form)
        submission = services.Submission(
            instrument=inst.id, answers=form.answers(), source=Source.CAMPAIGN, region_code=campaign.region_id,
            group=group, participant_name=name, participant_number=number,
            key=f"campaign:{form.cleaned_data['submission_key']}")
        try:
            stored, _created = services.submit_response(submission, actor=None)
        except ValidationError as exc:
            if "Idempotency-Key" in getattr(exc, "message_dict", {}):
                data = request.POST.copy()
                data["submission_key"] = str(uuid.uuid4())
                return _scale_page(request, group, progress, inst, scale_form(data), status=409, notice=_(
                    "This page was already sent with different answers. Your answers are kept below: "
                    "check them and send again."))
            form.add_service_errors(exc)
        else:
            progress.step += 1
            progress.alert = progress.alert or bool(stored.alerts)
            if progress.first is None:
                progress.first = stored.pk
            name = "screening:participant" if progress.step < len(scales) else "screening:participant_done"
            return HttpResponseRedirect(_participant_url(name, group, progress), status=303)
    return _scale_page(request, group, progress, inst, form, status=400)


@never_cache
@require_GET
def participant_done(request: HttpRequest, code: str) -> HttpResponse:
    """Thank you. No score; the crisis line first if an answer raised an alert."""
    group = _group_or_none(code)
    if group is None:
        return _unavailable(request, None, "unknown")
    progress = Progress.from_token(request.GET.get("p"), group.access_code)
    if progress.step < len(group.campaign.instrument_ids):
        return redirect(_participant_url("screening:participant", group, progress if progress.step else None))
    response = render(request, "screening/campaigns/participant_done.html", {
        "group": group, "campaign": group.campaign, "alert": progress.alert, "crisis": crisis_line(),
    })
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response

