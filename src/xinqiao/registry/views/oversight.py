"""Staff pages of supervision: evaluations and their findings, complaints, sanctions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from xinqiao.core.forms import UnmaskForm
from xinqiao.core.masks import present, unmaskable_fields
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.core.services import unmask_record, view_record
from xinqiao.registry import oversight, rules
from xinqiao.registry.forms import EvaluationForm, FindingForm, SanctionForm, ScoresForm, TransitionForm
from xinqiao.registry.models import (
    Complaint,
    ComplaintStatus,
    Evaluation,
    Finding,
    Institution,
    Practitioner,
    Sanction,
    SanctionStatus,
)
from xinqiao.registry.models.institutions import own_organisation_only
from xinqiao.registry.views.institutions import _redirect, action_buttons, forbid_unless, lang

# --------------------------------------------------------------------------------------------------
# Evaluations
# --------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Open an evaluation or inspection of an institution (then score it on its page)."""
    user: Any = request.user
    institution = get_scoped_or_404(Institution, user, pk=pk)
    forbid_unless(user.has_perm("registry.add_evaluation"))
    form = EvaluationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            evaluation = oversight.start_evaluation(user, institution, kind=form.cleaned_data["kind"],
                                                    visited_on=form.cleaned_data["visited_on"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _redirect("registry:evaluation_detail", pk=evaluation.pk)
    return render(request, "registry/staff/evaluation_form.html", {"form": form, "institution": institution},
                  status=400 if form.is_bound else 200)


def _evaluation_page(request: HttpRequest, evaluation: Evaluation, *, scores_form: ScoresForm | None = None,
                     finding_form: FindingForm | None = None, status: int = 200) -> HttpResponse:
    user: Any = request.user
    cl = rules.checklist()
    draft = evaluation.status == Evaluation.Status.DRAFT
    can_score = draft and user.has_perm("registry.change_evaluation")
    if scores_form is None and can_score:
        initial = {f"score.{k}": v for k, v in evaluation.scores.items()}
        initial["summary"] = evaluation.summary
        scores_form = ScoresForm(initial=initial, lang=lang())
    findings = []
    today = timezone.localdate()
    for f in evaluation.findings.order_by("id"):
        parties = set()
        if own_organisation_only(user) and user.organisation_id == evaluation.institution.organisation_id:
            parties.add("institution")
        findings.append({"obj": f, "overdue": f.status != Finding.Status.CLOSED and f.rectify_by is not None
                         and f.rectify_by < today, "actions": action_buttons("finding", f.status, user, parties)})
    sections = []
    for code, zh, en in cl.sections:
        items = [{"item": i, "label": i.label(lang()), "score": evaluation.scores.get(i.code),
                  "field": scores_form[f"score.{i.code}"] if scores_form else None}
                 for i in cl.items if i.section == code]
        sections.append({"label": en if lang() == "en" else zh, "items": items})
    grade = ""
    if evaluation.grade:
        try:
            grade = cl.grade(evaluation.grade).label(lang())
        except KeyError:
            grade = evaluation.grade
    return render(request, "registry/staff/evaluation_detail.html", {
        "evaluation": evaluation, "sections": sections, "scores_form": scores_form, "can_score": can_score,
        "findings": findings, "finding_form": finding_form or FindingForm(lang=lang()),
        "can_add_finding": user.has_perm("registry.change_evaluation"), "grade": grade,
        "checklist_current": evaluation.checklist_version == cl.version, "transition_form": TransitionForm(),
    }, status=status)


@login_required
def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The checklist with the scores, the grade once final, and the findings with their follow-up."""
    evaluation = get_scoped_or_404(Evaluation, request.user, pk=pk)
    return _evaluation_page(request, evaluation)


@login_required
@require_POST
def evaluation_score(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    evaluation = get_scoped_or_404(Evaluation, user, pk=pk)
    forbid_unless(user.has_perm("registry.change_evaluation"))
    form = ScoresForm(request.POST, lang=lang())
    if form.is_valid():
        try:
            oversight.record_scores(user, evaluation, form.scores(), summary=form.cleaned_data.get("summary") or "",
                                    finalise=bool(form.cleaned_data.get("finalise")))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Scores saved."))
            return _redirect("registry:evaluation_detail", pk=evaluation.pk)
    evaluation.refresh_from_db()
    return _evaluation_page(request, evaluation, scores_form=form, status=400)


@login_required
@require_POST
def finding_add(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    evaluation = get_scoped_or_404(Evaluation, user, pk=pk)
    forbid_unless(user.has_perm("registry.change_evaluation"))
    form = FindingForm(request.POST, lang=lang())
    if form.is_valid():
        d = form.cleaned_data
        try:
            oversight.add_finding(user, evaluation, oversight.FindingInput(
                description=d["description"], severity=d["severity"], rectify_by=d.get("rectify_by"),
                item_code=d.get("item_code") or ""))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Finding recorded."))
            return _redirect("registry:evaluation_detail", pk=evaluation.pk)
    return _evaluation_page(request, evaluation, finding_form=form, status=400)


@login_required
@require_POST
def finding_transition(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    finding = Finding.objects.filter(pk=pk, evaluation__in=Evaluation.objects.restrict(user)).select_related(
        "evaluation__institution").first()
    if finding is None:
        raise Http404
    form = TransitionForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        oversight.transition_finding(user, finding, form.cleaned_data["action"],
                                     note=form.cleaned_data.get("reason") or "")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done."))
    return _redirect("registry:evaluation_detail", pk=finding.evaluation_id)


# --------------------------------------------------------------------------------------------------
# Complaints
# --------------------------------------------------------------------------------------------------


@login_required
@permission_required("registry.view_complaint", raise_exception=True)
def complaint_list(request: HttpRequest) -> HttpResponse:
    qs = Complaint.objects.restrict(request.user).select_related("institution__organisation", "region")
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=(ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING))
    elif status in ComplaintStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "registry/staff/complaint_list.html",
                  {"page": page, "status": status, "statuses": ComplaintStatus.choices})


def _complaint_page(request: HttpRequest, complaint: Complaint, shown: dict[str, Any], *,
                    status: int = 200, unmask_form: UnmaskForm | None = None) -> HttpResponse:
    user: Any = request.user
    return render(request, "registry/staff/complaint_detail.html", {
        "complaint": complaint, "shown": shown, "actions": action_buttons("complaint", complaint.status, user, set()),
        "form": TransitionForm(), "unmaskable": unmaskable_fields(user, complaint),
        "unmask_form": unmask_form or UnmaskForm(), "can_sanction": user.has_perm("registry.add_sanction"),
    }, status=status)


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One complaint; the complainant's name and phone masked per role; opening it is audited."""
    complaint = get_scoped_or_404(Complaint, request.user, pk=pk)
    return _complaint_page(request, complaint, view_record(request.user, complaint))


@login_required
@require_POST
def complaint_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal the complainant's contact to call them back, stating why (audited)."""
    user: Any = request.user
    complaint = get_scoped_or_404(Complaint, user, pk=pk)
    forbid_unless(bool(unmaskable_fields(user, complaint)))
    form = UnmaskForm(request.POST)
    if form.is_valid():
        try:
            shown = unmask_record(user, complaint, form.cleaned_data["purpose"])
        except ValidationError as exc:
            form.add_error("purpose", " ".join(exc.messages))
        else:
            return _complaint_page(request, complaint, shown)
    return _complaint_page(request, complaint, present(user, complaint), status=400, unmask_form=form)


@login_required
@require_POST
def complaint_transition(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    complaint = get_scoped_or_404(Complaint, user, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        oversight.transition_complaint(user, complaint, form.cleaned_data["action"],
                                       note=form.cleaned_data.get("reason") or "")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done."))
    return _redirect("registry:complaint_detail", pk=complaint.pk)


# --------------------------------------------------------------------------------------------------
# Sanctions
# --------------------------------------------------------------------------------------------------


@login_required
@permission_required("registry.view_sanction", raise_exception=True)
def sanction_list(request: HttpRequest) -> HttpResponse:
    qs = Sanction.objects.restrict(request.user).select_related("institution__organisation", "region")
    status = request.GET.get("status", "")
    if status in SanctionStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "registry/staff/sanction_list.html",
                  {"page": page, "status": status, "statuses": SanctionStatus.choices})


@login_required
@permission_required("registry.add_sanction", raise_exception=True)
@require_http_methods(["GET", "POST"])
def sanction_create(request: HttpRequest) -> HttpResponse:
    """Propose a sanction against ``?institution=`` or ``?practitioner=`` (in scope, else 404)."""
    user: Any = request.user
    source = request.GET if request.method == "GET" else request.POST
    institution = practitioner = None
    if str(source.get("institution", "")).isdigit():
        institution = get_scoped_or_404(Institution, user, pk=int(source["institution"]))
    elif str(source.get("practitioner", "")).isdigit():
        practitioner = get_scoped_or_404(Practitioner, user, pk=int(source["practitioner"]))
    elif request.method == "GET":  # no target yet: say where to start from
        return render(request, "registry/staff/sanction_form.html", {"form": None})
    else:
        raise Http404
    complaint_id = int(source["complaint"]) if str(source.get("complaint", "")).isdigit() else None
    if complaint_id is not None and not Complaint.objects.restrict(user).filter(pk=complaint_id).exists():
        complaint_id = None
    form = SanctionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            sanction = oversight.propose_sanction(user, oversight.SanctionInput(
                kind=d["kind"], grounds=d["grounds"], institution_id=institution.pk if institution else None,
                practitioner_id=practitioner.pk if practitioner else None, public=bool(d.get("public")),
                effective_from=d.get("effective_from"), ends_on=d.get("ends_on"), complaint_id=complaint_id))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Sanction proposed; another person with the authority decides on it."))
            return _redirect("registry:sanction_detail", pk=sanction.pk)
    target = (institution.organisation.name if institution else
              present(user, practitioner).get("name", "") if practitioner else "")
    return render(request, "registry/staff/sanction_form.html", {
        "form": form, "institution": institution, "practitioner": practitioner, "target": target,
        "complaint_id": complaint_id}, status=400 if form.is_bound else 200)


@login_required
def sanction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    sanction = get_scoped_or_404(Sanction, user, pk=pk)
    parties = {"proposer"} if sanction.proposed_by_id == user.pk else set()
    target = (sanction.institution.organisation.name if sanction.institution is not None else
              present(user, sanction.practitioner).get("name", "") if sanction.practitioner else "")
    return render(request, "registry/staff/sanction_detail.html", {
        "sanction": sanction, "target": target,
        "actions": action_buttons("sanction", sanction.status, user, parties, kind=sanction.kind),
        "form": TransitionForm()})


@login_required
@require_POST
def sanction_transition(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    sanction = get_scoped_or_404(Sanction, user, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        oversight.transition_sanction(user, sanction, form.cleaned_data["action"],
                                      note=form.cleaned_data.get("reason") or "")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Done."))
    return _redirect("registry:sanction_detail", pk=sanction.pk)
