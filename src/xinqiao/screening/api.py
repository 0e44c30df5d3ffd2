"""Screening API: the scale library (public) and response submission (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import get_language
from ninja import Header, Router, Status

from xinqiao.screening import ratelimit, services
from xinqiao.screening.instruments import INSTRUMENT_IDS, load
from xinqiao.screening.models import CampaignGroup, ScreeningResponse, Source
from xinqiao.screening.schemas import InstrumentSummary, ResponseIn, ResponseOut

router = Router(tags=["screening"])
PUBLIC_RATE_SCOPE = "screening-public"  # the same counter as the public self-screening form


def api_response_429(request: HttpRequest, retry_after: int) -> HttpResponse:
    """Too many submissions from this address: say when to retry, and where to get help now."""
    line = services.alerting()["crisis_hotline"]["number"]
    message = (f"提交过于频繁，请稍后再试。如需立即帮助，请拨打 {line}。" if _lang() == "zh"
               else f"Too many submissions; try again later. For help now, call {line}.")
    response = JsonResponse({"detail": [{"field": "", "message": message}]}, status=429,
                            json_dumps_params={"ensure_ascii": False})
    response["Retry-After"] = str(retry_after)
    return response


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


@router.get("/instruments", response=list[InstrumentSummary], url_name="screening_instruments")
def instruments(request: HttpRequest) -> list[dict[str, Any]]:
    """Every scale shipped, with its version and licence line."""
    out = []
    for iid in INSTRUMENT_IDS:
        inst = load(iid)
        out.append({"id": inst.id, "version": inst.version, "name": inst.name.get(_lang()),
                    "items": len(inst.items), "licence": inst.licence.copyright})
    return out


@router.post("/responses", response={201: ResponseOut}, url_name="screening_responses")
def submit(
    request: HttpRequest, payload: ResponseIn, idempotency_key: str = Header(..., alias="Idempotency-Key")
) -> Status | HttpResponse:
    """Score and store a completed scale once per ``Idempotency-Key``; errors name the item."""
    user: Any = request.user
    group = None
    region_code = payload.region_code
    source = Source.API if user.is_authenticated else Source.PUBLIC
    if payload.access_code:
        group = CampaignGroup.objects.select_related("campaign").filter(access_code=payload.access_code.upper()).first()
        now = timezone.now()
        if group is None or not (group.campaign.opens_at <= now <= group.campaign.closes_at):
            raise ValidationError({"access_code": "访问码无效或调查未开放。" if _lang() == "zh"
                                   else "The access code is not valid or the campaign is not open."})
        if payload.instrument not in group.campaign.instrument_ids:
            raise ValidationError({"instrument": "该调查不包含此量表。" if _lang() == "zh"
                                   else "This campaign does not use that scale."})
        region_code, source = group.campaign.region_id, Source.CAMPAIGN
    elif not region_code:
        raise ValidationError({"region_code": "请选择地区。" if _lang() == "zh" else "Choose a region."})
    elif not user.is_authenticated:
        # Anonymous public submissions share the self-screening form's per-address limit (salted hash only).
        verdict = ratelimit.hit(request, PUBLIC_RATE_SCOPE, ratelimit.public_rate())
        if not verdict.allowed:
            return api_response_429(request, verdict.retry_after)
    if group is None or not group.campaign.identified:
        name = number = ""  # nothing identifying is stored unless the campaign is identified
    else:
        name, number = payload.participant_name.strip(), payload.participant_number.strip()
    response, created = services.submit_response(
        services.Submission(instrument=payload.instrument, answers=list(payload.answers), source=source,
                            region_code=region_code, group=group, participant_name=name,
                            participant_number=number, key=submission_key(user, idempotency_key)),
        actor=user,
    )
    return Status(201, created_reply(response, created))


def submission_key(user: Any, idempotency_key: str) -> str:
    """The stored idempotency key: the client's key qualified by who sent it (``anon`` or ``u<id>``)."""
    who = f"u{user.pk}" if user is not None and user.is_authenticated else "anon"
    return f"{who}:{idempotency_key[:100]}"


def created_reply(response: ScreeningResponse, created: bool) -> dict[str, Any]:
    """The body of a 201 (``ResponseOut``): the id, whether it was a replay, the score, the crisis line."""
    crisis = services.alerting()["crisis_hotline"]["number"] if response.alerts else None
    return {"id": response.pk, "replayed": not created, "result": response.result_dict(), "crisis_line": crisis}
