"""Public self-screening: no sign-in, nothing identifying stored (意见 4, 5).

A member of the public picks a scale, reads what it is for, ticks the consent box, names the county
(or city) they live in, answers every question on one page and gets the result: first the crisis
lines when an answer raised an alert, then the score with what it means and does not mean, then
the services near them from the organisation registry.

* Stored through ``services.submit_response`` with ``source=public``, the chosen region and no
  participant fields; the signed-in user (if any) is not recorded either.
* Idempotent: the form carries a random key made when it is rendered (``Submission.key =
  "public:<uuid>"``), so a double tap or a resent form stores one response.
* Rate-limited per client without keeping its address (:mod:`xinqiao.screening.ratelimit`).
* The result URL holds a signed token (``django.core.signing``) with the response id, valid for
  an hour; a guessed, altered or expired token is a 404.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from xinqiao.core.models import Organisation, OrgType, Region, RegionKind, RegionLevel
from xinqiao.core.models.region import SCOPE_COLUMN
from xinqiao.core.regions_data import level_of
from xinqiao.screening import ratelimit, rules, services
from xinqiao.screening.instruments import INSTRUMENT_IDS, Instrument, UnknownInstrumentError, load
from xinqiao.screening.models import ScreeningResponse, Source

#: Organisation types listed as places to get help (the organisation registry).
SERVICE_TYPES: tuple[str, ...] = (
    OrgType.HOTLINE_CENTRE, OrgType.PSYCHIATRIC_HOSPITAL, OrgType.GENERAL_HOSPITAL_PSYCH,
    OrgType.MHC_COUNTY, OrgType.MHC_CITY, OrgType.MHC_PROVINCE, OrgType.COUNSELLING_ROOM,
    OrgType.COUNSELLING_AGENCY, OrgType.COMMUNITY_HEALTH_CENTRE, OrgType.TOWNSHIP_HEALTH_CENTRE,
)  # fmt: skip
MAX_SERVICES = 60
TOKEN_SALT = "xinqiao.screening.public.result"  # noqa: S105  (a signing namespace, not a secret)
TOKEN_MAX_AGE = 3600  # seconds the result page stays reachable
RATE_SCOPE = "screening-public"  # shared with the anonymous API submissions
SECONDS_PER_ITEM = 12  # for the "about N minutes" estimate


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def minutes_for(instrument: Instrument) -> int:
    """About how long the scale takes, in whole minutes."""
    return max(1, math.ceil(len(instrument.items) * SECONDS_PER_ITEM / 60))


def _instrument_or_404(instrument_id: str) -> Instrument:
    try:
        return load(instrument_id)
    except UnknownInstrumentError:
        raise Http404 from None


# --------------------------------------------------------------------------------------------------
# Result tokens
# --------------------------------------------------------------------------------------------------


def result_token(response_id: int) -> str:
    """A signed, timestamped token carrying the response id (not guessable, valid an hour)."""
    return signing.dumps(response_id, salt=TOKEN_SALT)


def response_id_from_token(token: str, *, max_age: int = TOKEN_MAX_AGE) -> int | None:
    """The response id in a valid, unexpired token, else ``None``."""
    try:
        value = signing.loads(token, salt=TOKEN_SALT, max_age=max_age)
    except signing.BadSignature:  # also SignatureExpired
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --------------------------------------------------------------------------------------------------
# Regions and services
# --------------------------------------------------------------------------------------------------


def default_province() -> str:
    """The province preselected in the picker: ``settings.XINQIAO_PUBLIC_DEFAULT_PROVINCE``, else
    the province where the registry lists the most services (the deployment's own), else none."""
    configured = str(getattr(settings, "XINQIAO_PUBLIC_DEFAULT_PROVINCE", "") or "")
    if configured:
        return configured
    top = (Organisation.objects.filter(is_active=True, org_type__in=SERVICE_TYPES)
           .values("province_code").annotate(n=Count("id")).order_by("-n", "province_code").first())
    return str(top["province_code"]) if top else ""


def provinces() -> list[Region]:
    return list(Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code"))


@dataclass
class CityGroup:
    """One ``<optgroup>`` of the county picker: a city (or a placeholder grouping) and its counties."""

    label: str
    city: Region | None  # None for placeholders (市辖区, 省直辖县级行政区划): no "whole city" choice
    counties: list[Region] = field(default_factory=list)


def county_groups(province_code: str) -> list[CityGroup]:
    """The cities and counties of a province, for the picker (one query)."""
    if not province_code or not province_code.isdigit() or len(province_code) != 2:
        return []
    rows = list(Region.objects.filter(province_code=province_code, level__in=(RegionLevel.PREFECTURE,
                                                                               RegionLevel.COUNTY)).order_by("code"))
    province = Region.objects.filter(code=province_code).first()
    groups: dict[str, CityGroup] = {}
    for r in rows:
        if r.level == RegionLevel.PREFECTURE:
            if r.kind == RegionKind.PLACEHOLDER:
                label = province.name if province and r.name == "市辖区" else r.name
                groups[r.code] = CityGroup(label=label, city=None)
            else:
                groups[r.code] = CityGroup(label=r.name, city=r)
        elif r.city_code in groups:
            groups[r.city_code].counties.append(r)
    return [g for g in groups.values() if g.counties or g.city]


def valid_region(code: str) -> Region | None:
    """A city or county the public may choose (placeholders are not places)."""
    if not code or not code.isdigit() or len(code) not in (4, 6):
        return None
    return (Region.objects.filter(code=code, level__in=(RegionLevel.PREFECTURE, RegionLevel.COUNTY))
            .exclude(kind=RegionKind.PLACEHOLDER).first())


def services_near(region_code: str) -> list[Organisation]:
    """Active services in the region (any organisation whose region code starts with it), then the
    ones registered at the region's city and province themselves (they serve the whole area: the
    city mental-health centre, the city hotline), nearest first."""
    if not region_code:
        return []
    try:
        inside = Q(**{SCOPE_COLUMN[level_of(region_code)]: region_code})  # code starts with region_code
    except ValueError:
        return []
    ancestors = [region_code[:n] for n in (2, 4, 6) if n < len(region_code)]
    rows = list(
        Organisation.objects.filter(is_active=True, org_type__in=SERVICE_TYPES)
        .filter(inside | Q(region_id__in=ancestors))
        .select_related("region").order_by("region_id", "name")[: MAX_SERVICES * 2]
    )
    type_order = {t: i for i, t in enumerate(SERVICE_TYPES)}

    def distance(org: Organisation) -> int:  # 0 inside the region, then the city, then the province
        return 0 if org.region_id.startswith(region_code) else len(region_code) - len(org.region_id)

    rows.sort(key=lambda o: (distance(o), type_order.get(o.org_type, 99), o.region_id, o.name))
    return rows[:MAX_SERVICES]


def crisis_line() -> dict[str, str]:
    """The national line from ``alerting.json``: number and name in the active language."""
    line = services.alerting()["crisis_hotline"]
    return {"number": str(line["number"]), "name": str(line["en"] if _lang() == "en" else line["zh"])}


# --------------------------------------------------------------------------------------------------
# The list of scales
# --------------------------------------------------------------------------------------------------


@require_GET
def instrument_list(request: HttpRequest) -> HttpResponse:
    """Every scale: its name, what it screens (its plain-language description), length and time."""
    lang = _lang()
    scales = []
    for iid in INSTRUMENT_IDS:
        inst = load(iid)
        scales.append({"id": inst.id, "name": inst.name.get(lang), "abbreviation": inst.abbreviation,
                       "description": inst.description.get(lang), "items": len(inst.items),
                       "minutes": minutes_for(inst)})
    return render(request, "screening/public/list.html", {"scales": scales, "crisis": crisis_line()})


# --------------------------------------------------------------------------------------------------
# The form
# --------------------------------------------------------------------------------------------------


@dataclass
class ItemView:
    """One question as the template shows it."""

    number: int
    label: str
    text: str
    hint: str
    options: list[tuple[int, str]]
    selected: int | None = None
    error: str = ""
    condition: str = ""  # "answer only if …" for skip logic
    enable_item: int | None = None
    enable_answer: int | None = None


@dataclass
class FormState:
    """What was sent, and what is wrong with it."""

    answers: list[int | None]
    consent: bool = False
    region_code: str = ""
    key: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field id → message, in page order


def _item_views(inst: Instrument, state: FormState | None) -> list[ItemView]:
    lang = _lang()
    views = []
    for item in inst.items:
        condition = ""
        if item.enable_when is not None:
            source = inst.item(item.enable_when.item)
            condition = _("Answer this only if you answered “%(answer)s” to question %(label)s.") % {
                "answer": source.options[item.enable_when.answer].text.get(lang), "label": source.label}
        views.append(ItemView(
            number=item.number, label=item.label, text=item.text.get(lang),
            hint=item.hint.get(lang) if item.hint else "",
            options=[(i, o.text.get(lang)) for i, o in enumerate(item.options)],
            selected=state.answers[item.number - 1] if state else None,
            error=state.errors.get(f"q{item.number}", "") if state else "",
            condition=condition,
            enable_item=item.enable_when.item if item.enable_when else None,
            enable_answer=item.enable_when.answer if item.enable_when else None,
        ))
    return views


def _new_key() -> str:
    return str(uuid.uuid4())


def parse_form(inst: Instrument, data: QueryDict) -> FormState:
    """Read and check the POSTed form. Answers to questions that skip logic skips are dropped."""
    errors: dict[str, str] = {}
    consent = data.get("consent") == "yes"
    if not consent:
        errors["consent"] = _("Consent: please tick the box to show that you have read and agree to the above.")
    region_code = data.get("region", "").strip()
    if valid_region(region_code) is None:
        errors["region"] = _("Where you live: please choose your county or city.")
    raw_key = data.get("submission_key", "")
    try:
        key = str(uuid.UUID(raw_key, version=4))
    except ValueError:
        key = _new_key()  # an old or hand-made form: still stored once from here on
    answers: list[int | None] = []
    for item in inst.items:
        raw = data.get(f"q{item.number}", "").strip()
        if not raw:
            answers.append(None)
        elif raw.isdigit() and int(raw) < len(item.options):
            answers.append(int(raw))
        else:
            answers.append(None)
            errors[f"q{item.number}"] = _("Question %(label)s: that answer is not one of the choices.") % {
                "label": item.label}
    for item in inst.items:
        if not rules.is_enabled(item, answers):
            answers[item.number - 1] = None
            errors.pop(f"q{item.number}", None)
        elif answers[item.number - 1] is None and item.required and f"q{item.number}" not in errors:
            errors[f"q{item.number}"] = _("Question %(label)s: please choose an answer.") % {"label": item.label}
    return FormState(answers=answers, consent=consent, region_code=region_code, key=key, errors=errors)


def _render_form(request: HttpRequest, inst: Instrument, state: FormState | None, *, status: int = 200,
                 notice: str = "") -> HttpResponse:
    lang = _lang()
    region = valid_region(state.region_code) if state else None
    province = (region.province_code if region else request.GET.get("province", "").strip()) or default_province()
    error_list = []
    if state:
        for field_id, message in state.errors.items():
            anchor = {"consent": "consent-fieldset", "region": "region-fieldset"}.get(field_id)
            if anchor is None:
                anchor = f"item-{field_id[1:]}" if field_id.startswith("q") else "screening-form"
            error_list.append({"anchor": anchor, "message": message})
    context = {
        "instrument": inst,
        "name": inst.name.get(lang),
        "description": inst.description.get(lang),
        "instructions": inst.instructions.get(lang),
        "timeframe": inst.timeframe.get(lang),
        "licence": inst.licence.terms.get(lang),
        "items": _item_views(inst, state),
        "minutes": minutes_for(inst),
        "state": state,
        "key": state.key if state else _new_key(),
        "consent_error": state.errors.get("consent", "") if state else "",
        "region_error": state.errors.get("region", "") if state else "",
        "error_list": error_list,
        "notice": notice,
        "provinces": provinces(),
        "province": province,
        "groups": county_groups(province),
        "region_code": region.code if region else "",
        "crisis": crisis_line(),
    }
    return render(request, "screening/public/form.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def instrument_form(request: HttpRequest, instrument: str) -> HttpResponse:
    """GET: the scale on one page. POST: check, score, store once, redirect to the result."""
    inst = _instrument_or_404(instrument)
    if request.method == "GET":
        htmx = getattr(request, "htmx", None)
        if htmx and htmx.target == "region-select":
            province = request.GET.get("province", "").strip()
            return render(request, "screening/public/_region_select.html",
                          {"groups": county_groups(province), "province": province, "region_code": ""})
        return _render_form(request, inst, None)

    verdict = ratelimit.hit(request, RATE_SCOPE, ratelimit.public_rate())
    if not verdict.allowed:
        response = render(request, "screening/public/rate_limited.html",
                          {"crisis": crisis_line(), "minutes": max(1, math.ceil(verdict.retry_after / 60))},
                          status=429)
        response["Retry-After"] = str(verdict.retry_after)
        return response

    state = parse_form(inst, request.POST)
    if state.errors:
        return _render_form(request, inst, state, status=400)
    submission = services.Submission(instrument=inst.id, answers=state.answers, source=Source.PUBLIC,
                                     region_code=state.region_code, key=f"public:{state.key}")
    try:
        stored, _created = services.submit_response(submission, actor=None)  # anonymous, always
    except ValidationError as exc:
        if "Idempotency-Key" in getattr(exc, "message_dict", {}):
            # This form was sent before with other answers (back button, then changed): keep the
            # first response, and offer to send these answers as a new one.
            state.key = _new_key()
            return _render_form(request, inst, state, status=409, notice=_(
                "This form was already sent with different answers. Your answers are kept below: "
                "check them and send again to get a new result."))
        state.errors = {"form": " ".join(exc.messages)}
        return _render_form(request, inst, state, status=400)
    response = HttpResponseRedirect(reverse("screening:public_result", kwargs={"token": result_token(stored.pk)}))
    response.status_code = 303  # POST-redirect-GET
    return response


# --------------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------------


@never_cache
@require_GET
def result(request: HttpRequest, token: str) -> HttpResponse:
    """Crisis lines first when an answer raised an alert, then the score and what it means, then help
    nearby. Reachable only through the signed token for an hour."""
    pk = response_id_from_token(token)
    if pk is None:
        raise Http404
    # An anonymous public response holds no personal data; the signed token is the authorisation.
    stored = ScreeningResponse.objects.filter(pk=pk, source=Source.PUBLIC).select_related("region").first()
    if stored is None:
        raise Http404
    inst = _instrument_or_404(stored.instrument)
    lang = _lang()
    try:
        band = inst.band(stored.band)
        band_label, advice = band.label.get(lang), band.advice.get(lang) if band.advice else ""
    except KeyError:  # scored by an older version whose band is gone
        band_label, advice = stored.band, ""
    nearby = services_near(stored.region_id)
    hotlines = [o for o in nearby if o.org_type == OrgType.HOTLINE_CENTRE and o.phone]
    alert_labels = []
    for code in stored.alerts:
        try:
            rule = inst.alert(code)
        except KeyError:
            continue
        alert_labels.append(rule.label.get(lang))
    basis = inst.scoring.band_basis
    context = {
        "response": stored,
        "instrument": inst,
        "name": inst.name.get(lang),
        "description": inst.description.get(lang),
        "band_label": band_label,
        "advice": advice,
        "positive": stored.positive,
        "alert": bool(stored.alerts),
        "alert_labels": alert_labels,
        "total": stored.total,
        "total_range": inst.scoring.total_range,
        "standard_score": stored.standard_score,
        "standard_basis": basis == "standard_score",
        "region_name": stored.region.full_name() if stored.region_id else "",
        "services": nearby,
        "hotlines": hotlines,
        "crisis": crisis_line(),
        "expires_minutes": TOKEN_MAX_AGE // 60,
    }
    response = render(request, "screening/public/result.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response

