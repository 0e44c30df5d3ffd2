"""Public pages of the registry (no sign-in): the service finder, a service's page, the credential
look-up, the disclosure page per region, and complaints.

Phone first, and every page works without JavaScript: the finder is a GET form whose results are a
plain list; "use my location" (finder.js) only fills two hidden fields and sends the same form.
There is no map view: a map of China needs an approved standard map (审图号, 《地图管理条例》) and
tiles we may redistribute, neither of which ships with the project (docs/domain/registry.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from xinqiao.core.models import Region, RegionKind, RegionLevel
from xinqiao.registry import finder, lookup, oversight, rules
from xinqiao.registry.forms import ComplaintForm, ComplaintStatusForm, LookupForm
from xinqiao.registry.models import (
    Complaint,
    Institution,
    InstitutionKind,
    InstitutionStatus,
    LookupCount,
    Population,
    Sanction,
    SanctionKind,
    SanctionStatus,
    ServiceCode,
    ServicePoint,
)
from xinqiao.registry.views.institutions import lang
from xinqiao.screening import ratelimit

FILTER_LABELS = {
    "emergency": gettext_lazy("Emergency"),
    "psychiatric_outpatient": gettext_lazy("Psychiatric outpatient"),
    "counselling": gettext_lazy("Counselling"),
    "child_adolescent": gettext_lazy("Children and adolescents"),
    "elderly": gettext_lazy("Older people"),
    "hotline": gettext_lazy("Hotline"),
}
WEEKDAYS = {1: gettext_lazy("Mon"), 2: gettext_lazy("Tue"), 3: gettext_lazy("Wed"), 4: gettext_lazy("Thu"),
            5: gettext_lazy("Fri"), 6: gettext_lazy("Sat"), 7: gettext_lazy("Sun")}


def crisis_line() -> dict[str, str]:
    """The national psychological-assistance line (screening/alerting.json), in the active language."""
    from xinqiao.screening.services import alerting

    line = alerting()["crisis_hotline"]
    return {"number": str(line["number"]), "name": str(line["en"] if lang() == "en" else line["zh"])}


def _limited(request: HttpRequest, scope: str, setting: str) -> ratelimit.Verdict:
    return ratelimit.hit(request, scope, ratelimit.parse_rate(str(rules.public_settings()[setting])))


def _too_many(request: HttpRequest, verdict: ratelimit.Verdict) -> HttpResponse:
    response = render(request, "registry/public/rate_limited.html",
                      {"crisis": crisis_line(), "minutes": max(1, math.ceil(verdict.retry_after / 60))}, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


def hours_lines(point: ServicePoint) -> list[str]:
    """Opening hours as short lines ("Mon–Fri 08:00–12:00, 14:00–17:30") from prefetched rows."""
    if point.open_24h:
        return [_("Open 24 hours, every day")]
    intervals = [rules.Interval(h.weekday, h.opens, h.closes) for h in point.hours.all()]
    lines = []
    for segment in rules.format_hours(intervals).split("; ") if intervals else []:
        days, spans = segment.split(" ", 1)
        first, _sep, last = days.partition("-")
        label = str(WEEKDAYS[int(first)]) + (f"–{WEEKDAYS[int(last)]}" if last else "")
        lines.append(f"{label} {spans.replace('-', '–').replace(',', ', ')}")
    return lines


@dataclass
class Card:
    """One service as the finder shows it."""

    point: ServicePoint
    kind: str
    distance: str
    open_now: bool
    hours: list[str]
    services: list[str]
    map_link: str


def _card(point: ServicePoint) -> Card:
    distance_km = getattr(point, "distance_km", None)
    if distance_km is None:
        distance = ""
    elif distance_km < 1:
        distance = _("%(m)s m") % {"m": int(round(distance_km * 1000, -1))}
    else:
        distance = _("%(km)s km") % {"km": f"{distance_km:.1f}"}
    labels = dict(ServiceCode.choices)
    map_link = (f"geo:{point.latitude:.6f},{point.longitude:.6f}?q={point.latitude:.6f},{point.longitude:.6f}"
                if point.latitude is not None and point.longitude is not None else "")
    return Card(point=point, kind=str(InstitutionKind(point.institution.kind).label), distance=distance,
                open_now=finder.is_open_now(point), hours=hours_lines(point),
                services=[str(labels.get(s.code, s.code)) for s in point.services.all()], map_link=map_link)


def default_province() -> str:
    """The province with the most public services (the deployment's own), for the picker."""
    top = (ServicePoint.objects.filter(public=True, is_active=True).values("province_code")
           .annotate(n=Count("id")).order_by("-n", "province_code").first())
    return str(top["province_code"]) if top else ""


def _float(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_query(params: Any) -> finder.Query:
    """The finder's GET parameters → a query (unknown values are dropped, never an error)."""
    region = finder.valid_region(str(params.get("region", "")).strip())
    q = finder.Query(
        region_code=region.code if region else "",
        latitude=_float(params.get("lat", "")), longitude=_float(params.get("lon", "")),
        filters=[f for f in params.getlist("f") if f in rules.finder_filters()],
        open_now=params.get("open") == "1", urgent=params.get("urgent") == "1",
        text=str(params.get("q", ""))[:40],
    )
    if not q.located:
        q.latitude = q.longitude = None
    return q


@never_cache
@require_GET
def finder_page(request: HttpRequest) -> HttpResponse:
    """Find help near you: by location or region, filtered; "urgent" puts 24-hour services first."""
    params = request.GET.copy()
    province = str(params.get("province", "")).strip()
    if province and not str(params.get("region", "")).startswith(province):
        params["region"] = ""  # the province was changed: the old region no longer applies
    q = parse_query(params)
    if q.region_code:
        province = q.region_code[:2]
    elif not (province.isdigit() and len(province) == 2):
        province = default_province()
    cards: list[Card] = []
    hotlines: list[ServicePoint] = []
    if q.asked:
        verdict = _limited(request, "registry-finder", "finder_rate")
        if not verdict.allowed:
            return _too_many(request, verdict)
        rows = finder.search(q)
        cards = [_card(p) for p in rows]
        hotlines = finder.hotlines_for(q.region_code or finder.region_of_hits(rows))
    region = Region.objects.filter(code=q.region_code).first() if q.region_code else None
    response = render(request, "registry/public/finder.html", {
        "q": q, "cards": cards, "hotlines": hotlines, "asked": q.asked, "crisis": crisis_line(),
        "filters": [(k, FILTER_LABELS.get(k, k)) for k in rules.finder_filters()],
        "provinces": Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code"),
        "province": province, "regions": finder.choosable_regions(province),
        "region_name": region.full_name() if region else "",
        "lat": f"{q.latitude:.5f}" if q.latitude is not None else "",
        "lon": f"{q.longitude:.5f}" if q.longitude is not None else "",
    })
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def point_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One public service: how to reach it, when it is open, what it offers and for whom."""
    point = (ServicePoint.objects.filter(pk=pk, public=True, is_active=True,
                                         institution__status=InstitutionStatus.ACTIVE)
             .select_related("institution__organisation", "region").prefetch_related("services", "hours").first())
    if point is None:
        raise Http404
    populations = dict(Population.choices)
    institution = point.institution
    return render(request, "registry/public/point_detail.html", {
        "card": _card(point), "point": point, "institution": institution,
        "populations": [populations.get(p, p) for p in point.populations],
        "grade": _grade(institution.grade), "region_name": point.region.full_name(), "crisis": crisis_line(),
    })


def _grade(code: str) -> str:
    if not code:
        return ""
    try:
        return rules.checklist().grade(code).label(lang())
    except KeyError:
        return code


# --------------------------------------------------------------------------------------------------
# Credential look-up
# --------------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def lookup_page(request: HttpRequest) -> HttpResponse:
    """Check a practitioner: name + certificate number → valid/expired/revoked, workplaces, public
    sanctions. Counted per day, never logged; rate-limited per client (salted hash)."""
    if request.method == "GET":
        return render(request, "registry/public/lookup.html", {"form": LookupForm(), "crisis": crisis_line()})
    verdict = _limited(request, lookup.RATE_SCOPE, "lookup_rate")
    if not verdict.allowed:
        lookup.count(LookupCount.Channel.PAGE, LookupCount.Outcome.LIMITED)
        return _too_many(request, verdict)
    form = LookupForm(request.POST)
    if not form.is_valid():
        lookup.count(LookupCount.Channel.PAGE, LookupCount.Outcome.INVALID)
        return render(request, "registry/public/lookup.html", {"form": form, "crisis": crisis_line()}, status=400)
    answer = lookup.lookup(form.cleaned_data["name"], form.cleaned_data["number"], lang=lang())
    lookup.count(LookupCount.Channel.PAGE, lookup.outcome_of(answer))
    sanction_labels = dict(SanctionKind.choices)
    status_labels = {"valid": _("valid"), "expired": _("expired"), "revoked": _("revoked")}
    # A fresh, empty form: the name and number are not echoed back into the page.
    response = render(request, "registry/public/lookup.html", {
        "form": LookupForm(), "answer": answer, "crisis": crisis_line(),
        "status_label": status_labels.get(answer["status"] or "", ""),
        "sanctions": [{**s, "label": sanction_labels.get(s["kind"], s["kind"]),
                       "lifted": s["status"] == SanctionStatus.LIFTED} for s in answer["sanctions"]],
    })
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --------------------------------------------------------------------------------------------------
# Disclosure
# --------------------------------------------------------------------------------------------------


@require_GET
def disclosure_index(request: HttpRequest) -> HttpResponse:
    """Choose a province, then a city or county, to see its registered services."""
    province = str(request.GET.get("province", "")).strip() or default_province()
    return render(request, "registry/public/disclosure_index.html", {
        "provinces": Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code"), "province": province,
        "regions": finder.choosable_regions(province)})


@require_GET
def disclosure(request: HttpRequest, code: str) -> HttpResponse:
    """The region's registered institutions: status, evaluation grade, 示范单位, public sanctions."""
    region = Region.objects.filter(code=code).exclude(kind=RegionKind.PLACEHOLDER).first()
    if region is None:
        raise Http404
    kind = request.GET.get("kind", "")
    qs = (Institution.objects.filter(**{region.scope_column: region.code})
          .exclude(status=InstitutionStatus.CLOSED).select_related("organisation", "region")
          .order_by("kind", "organisation__name"))
    if kind in InstitutionKind.values:
        qs = qs.filter(kind=kind)
    from django.core.paginator import Paginator

    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    ids = [i.pk for i in page.object_list]
    sanctions: dict[int, list[Sanction]] = {}
    for s in Sanction.objects.filter(institution_id__in=ids, public=True, status=SanctionStatus.IN_FORCE
                                     ).order_by("-effective_from"):
        sanctions.setdefault(s.institution_id or 0, []).append(s)  # one query for the page
    kinds = dict(InstitutionKind.choices)
    rows = [{"institution": i, "kind": kinds.get(i.kind, i.kind), "grade": _grade(i.grade),
             "sanctions": sanctions.get(i.pk, [])} for i in page.object_list]
    summary = qs.aggregate(total=Count("id"), demonstration=Count("id", filter=Q(demonstration=True)),
                           sanctioned=Count("id", filter=Q(status__in=(InstitutionStatus.SUSPENDED,
                                                                        InstitutionStatus.REMOVED))))
    return render(request, "registry/public/disclosure.html", {
        "region": region, "region_name": region.full_name(), "page": page, "rows": rows, "summary": summary,
        "kinds": InstitutionKind.choices, "kind": kind})


# --------------------------------------------------------------------------------------------------
# Complaints
# --------------------------------------------------------------------------------------------------


def _complaint_regions(province: str) -> list[tuple[str, str]]:
    return [(r.code, r.name if r.level == RegionLevel.PREFECTURE else f"· {r.name}")
            for r in finder.choosable_regions(province)]


@never_cache
@require_http_methods(["GET", "POST"])
def complaint_create(request: HttpRequest) -> HttpResponse:
    """Complain about a service (from its page, or naming it); stored once per form; you get a reference."""
    source = request.GET if request.method == "GET" else request.POST
    institution = None
    if str(source.get("institution", "")).isdigit():
        institution = Institution.objects.filter(pk=int(source["institution"])).exclude(
            status=InstitutionStatus.REMOVED).select_related("organisation").first()
    province = institution.province_code if institution else default_province()
    regions = _complaint_regions(province)
    choices = [(institution.pk, institution.organisation.name)] if institution else []
    if request.method == "GET":
        form = ComplaintForm(initial={"institution": institution.pk if institution else None}, institutions=choices,
                             regions=regions)
        return render(request, "registry/public/complaint_form.html",
                      {"form": form, "institution": institution, "crisis": crisis_line()})
    verdict = _limited(request, "registry-complaint", "complaint_rate")
    if not verdict.allowed:
        return _too_many(request, verdict)
    form = ComplaintForm(request.POST, institutions=choices, regions=regions)
    if form.is_valid():
        d = form.cleaned_data
        try:
            complaint, _created = oversight.submit_complaint(oversight.ComplaintInput(
                category=d["category"], description=d["description"], region_code=d.get("region_code") or "",
                institution_id=d.get("institution"), subject=d.get("subject") or "",
                complainant_name=d.get("complainant_name") or "", complainant_phone=d.get("complainant_phone") or ""),
                key=f"public:{d['form_key']}")
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return render(request, "registry/public/complaint_done.html",
                          {"reference": complaint.reference, "crisis": crisis_line()}, status=201)
    return render(request, "registry/public/complaint_form.html",
                  {"form": form, "institution": institution, "crisis": crisis_line()}, status=400)


@never_cache
@require_http_methods(["GET", "POST"])
def complaint_status(request: HttpRequest) -> HttpResponse:
    """The handling status of a complaint, by its reference (sent by POST, not in the URL)."""
    if request.method == "GET":
        return render(request, "registry/public/complaint_status.html", {"form": ComplaintStatusForm()})
    verdict = _limited(request, "registry-complaint-status", "lookup_rate")
    if not verdict.allowed:
        return _too_many(request, verdict)
    form = ComplaintStatusForm(request.POST)
    complaint = None
    if form.is_valid():
        complaint = Complaint.objects.filter(reference=form.cleaned_data["reference"].upper()).first()
    return render(request, "registry/public/complaint_status.html", {
        "form": ComplaintStatusForm(), "asked": form.is_valid(), "complaint": complaint,
        "errors": form.errors if not form.is_valid() else None}, status=200 if form.is_valid() else 400)
