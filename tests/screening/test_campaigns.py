"""Screening campaigns: a psychologist creates one, participants answer by access code on their
phones, and the psychologist sees the results, follows up positives and alerts, and exports them.

Two schools' counselling rooms: school A in township A (county A, psychologist_a) and school B in
township B (county B, psychologist_b). Nothing of school A's campaign reaches psychologist_b.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.helpers import verified_client
from xinqiao.core.models import AuditAction, AuditEvent, Organisation, OrgType
from xinqiao.screening import reports, services
from xinqiao.screening.models import (
    AlertTask,
    Campaign,
    CampaignGroup,
    FollowUpAction,
    ScreeningResponse,
    Source,
)
from xinqiao.screening.services import CampaignInput, Submission, escalate_overdue_alerts, submit_response

pytestmark = pytest.mark.django_db

NAME = "李小明"
NUMBER = "20260131"
PHQ9_CALM = [0, 0, 0, 0, 0, 0, 0, 0, 0]
PHQ9_MODERATE = [2, 2, 2, 2, 2, 0, 0, 0, 0]  # 10: moderate, positive
PHQ9_ITEM9 = [1, 1, 0, 0, 0, 0, 0, 0, 1]  # 3: minimal, but item 9 raises the suicide-risk alert
GAD7_CALM = [0, 0, 0, 0, 0, 0, 0]


@pytest.fixture
def schools(cast: dict[str, Any], towns: list[Any]) -> dict[str, Organisation]:
    """School A's counselling room (psychologist_a) and school B's (psychologist_b)."""
    out = {}
    for suffix, town in zip("ab", towns, strict=True):
        org = Organisation.objects.create(name=f"{suffix.upper()}中学心理辅导室", org_type=OrgType.COUNSELLING_ROOM,
                                          region=town)
        user = cast[f"psychologist_{suffix}"]
        user.organisation = org
        user.save(update_fields=["organisation"])
        out[suffix] = org
    return out


def make_campaign(owner: Any, *, scales: tuple[str, ...] = ("phq9", "gad7"), identified: bool = False,
                  groups: tuple[str, ...] = ("初一（1）班", "初一（2）班"), opens: timedelta = timedelta(days=-1),
                  closes: timedelta = timedelta(days=7)) -> Campaign:
    now = timezone.now()
    return services.create_campaign(owner, CampaignInput(
        name="2026年秋季心理健康筛查", instrument_ids=list(scales), opens_at=now + opens, closes_at=now + closes,
        identified=identified, groups=list(groups), consent_text="本次筛查由学校心理辅导室组织。"))


def group_of(campaign: Campaign, index: int = 0) -> CampaignGroup:
    return list(campaign.groups.order_by("name"))[index]


def stored(group: CampaignGroup, answers: list[int | None], instrument: str = "phq9", name: str = "",
           number: str = "") -> ScreeningResponse:
    response, _created = submit_response(Submission(
        instrument=instrument, answers=answers, source=Source.CAMPAIGN, region_code=group.campaign.region_id,
        group=group, participant_name=name, participant_number=number))
    return response


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def answer(client: Client, url: str, instrument: str, answers: list[int | None], **extra: str) -> Any:
    """GET the page at ``url``, fill it in and POST it back (what a phone does)."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    html = page.content.decode()
    assert hidden(html, "instrument") == instrument
    data = {"submission_key": hidden(html, "submission_key"), "instrument": instrument,
            "progress": hidden(html, "progress"), **extra}
    data.update({f"q{i}": str(a) for i, a in enumerate(answers, start=1) if a is not None})
    return client.post(reverse("screening:participant", kwargs={"code": url.split("/")[3]}), data)


def participant_url(group: CampaignGroup) -> str:
    return reverse("screening:participant", kwargs={"code": group.access_code})


def audit_events(action: str, obj: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk))
                .order_by("id"))


# --- Creating a campaign -------------------------------------------------------------------------


def test_psychologist_creates_a_campaign_with_a_code_and_qr_code_per_group(cast: Any, schools: Any) -> None:
    client = verified_client(cast["psychologist_a"])
    page = client.get(reverse("screening:campaign_create"))
    assert page.status_code == 200
    assert 'name="instrument_ids" value="phq9"' in page.content.decode()
    got = client.post(reverse("screening:campaign_create"), {
        "name": "初一年级筛查", "instrument_ids": ["phq9", "gad7"], "groups": "初一（1）班\n初一（2）班\n",
        "opens_at": "2026-09-01T08:00", "closes_at": "2026-09-08T18:00", "identified": "on",
        "consent_text": "自愿参加。",
    })
    assert got.status_code == 302
    campaign = Campaign.objects.get()
    assert got["Location"] == reverse("screening:campaign_detail", kwargs={"pk": campaign.pk})
    assert (campaign.organisation, campaign.owner, campaign.identified) == (schools["a"], cast["psychologist_a"], True)
    assert campaign.instrument_ids == ["phq9", "gad7"]
    codes = [g.access_code for g in campaign.groups.all()]
    assert len(codes) == len(set(codes)) == 2
    assert audit_events(AuditAction.CREATE, campaign)

    detail = client.get(reverse("screening:campaign_detail", kwargs={"pk": campaign.pk})).content.decode()
    assert detail.count('src="data:image/svg+xml;base64,') == 2
    for code in codes:
        assert f"http://testserver/screening/c/{code}/" in detail


@pytest.mark.parametrize(("change", "field"), [
    ({"closes_at": "2026-08-31T08:00"}, "closes_at"),
    ({"instrument_ids": []}, "instrument_ids"),
    ({"instrument_ids": ["nosuchscale"]}, "instrument_ids"),
    ({"groups": "初一（1）班\n初一（1）班"}, "groups"),
    ({"groups": ""}, "groups"),
    ({"opens_at": "not a date"}, "opens_at"),
    ({"name": ""}, "name"),
])
def test_campaign_form_errors_name_the_field(cast: Any, schools: Any, change: dict[str, Any], field: str) -> None:
    data = {"name": "筛查", "instrument_ids": ["phq9"], "groups": "初一（1）班", "opens_at": "2026-09-01T08:00",
            "closes_at": "2026-09-08T18:00", **change}
    got = verified_client(cast["psychologist_a"]).post(reverse("screening:campaign_create"), data)
    assert got.status_code == 400
    assert list(got.context["form"].errors) == [field]
    html = got.content.decode()
    assert f'id="id_{field}-error"' in html or f'id="id_{field}_0"' in html
    assert str(got.context["form"].fields[field].label) in html
    assert not Campaign.objects.exists()


def test_a_psychologist_without_an_organisation_is_told_so(cast: Any) -> None:
    got = verified_client(cast["psychologist_a"]).post(reverse("screening:campaign_create"), {
        "name": "筛查", "instrument_ids": ["phq9"], "groups": "初一（1）班", "opens_at": "2026-09-01T08:00",
        "closes_at": "2026-09-08T18:00"})
    assert got.status_code == 400
    assert got.context["form"].non_field_errors()
    assert not Campaign.objects.exists()


def test_only_psychologists_create_campaigns(cast: Any, schools: Any) -> None:
    for user in ("mhc_staff_a", "regulator", "community_doctor_a"):
        assert verified_client(cast[user]).get(reverse("screening:campaign_create")).status_code == 403


# --- Participants ----------------------------------------------------------------------------------


def test_participants_answer_each_scale_in_turn_and_responses_are_stored_per_group(cast: Any, schools: Any) -> None:
    campaign = make_campaign(cast["psychologist_a"])
    first, second = group_of(campaign, 0), group_of(campaign, 1)

    phone = Client()
    page = phone.get(participant_url(first)).content.decode()
    assert 'id="consent-fieldset"' in page and "本次筛查由学校心理辅导室组织。" in page
    assert 'id="identity-fieldset"' not in page  # anonymous campaign: no name asked

    refused = answer(phone, participant_url(first), "phq9", PHQ9_MODERATE)  # no consent ticked
    assert refused.status_code == 400
    assert list(refused.context["form"].errors) == ["consent"]
    missing = answer(phone, participant_url(first), "phq9", PHQ9_MODERATE[:8], consent="on")
    assert missing.status_code == 400
    assert list(missing.context["form"].errors) == ["q9"]
    assert not ScreeningResponse.objects.exists()

    step1 = answer(phone, participant_url(first), "phq9", PHQ9_MODERATE, consent="on")
    assert step1.status_code == 303
    assert step1["Location"].startswith(participant_url(first) + "?p=")
    second_page = phone.get(step1["Location"]).content.decode()
    assert 'id="consent-fieldset"' not in second_page
    step2 = answer(phone, step1["Location"], "gad7", GAD7_CALM)
    assert step2.status_code == 303
    assert step2["Location"].startswith(reverse("screening:participant_done", kwargs={"code": first.access_code}))
    done = phone.get(step2["Location"])
    assert done.status_code == 200
    html = done.content.decode()
    assert 'id="thanks"' in html and 'id="crisis"' not in html
    assert "moderate" not in html and "中度" not in html and ">10<" not in html  # no score for participants

    other_phone = Client()
    step1 = answer(other_phone, participant_url(second), "phq9", PHQ9_CALM, consent="on")
    answer(other_phone, step1["Location"], "gad7", GAD7_CALM)

    rows = sorted(ScreeningResponse.objects.values_list("group__name", "instrument", "band", "source"))
    assert rows == [("初一（1）班", "gad7", "minimal", "campaign"), ("初一（1）班", "phq9", "moderate", "campaign"),
                    ("初一（2）班", "gad7", "minimal", "campaign"), ("初一（2）班", "phq9", "minimal", "campaign")]
    assert set(ScreeningResponse.objects.values_list("campaign_id", flat=True)) == {campaign.pk}
    assert set(ScreeningResponse.objects.values_list("participant_name", flat=True)) == {""}


def test_a_page_sent_twice_is_stored_once(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"]))
    phone = Client()
    html = phone.get(participant_url(group)).content.decode()
    data = {"submission_key": hidden(html, "submission_key"), "instrument": "phq9",
            "progress": hidden(html, "progress"), "consent": "on",
            **{f"q{i}": str(a) for i, a in enumerate(PHQ9_CALM, start=1)}}
    first = phone.post(participant_url(group), data)
    again = phone.post(participant_url(group), data)  # a double tap, or a resend after a lost answer
    assert first.status_code == again.status_code == 303
    # Both lead to the same next step. The progress token is signed with a timestamp (it expires),
    # so two answers in different seconds differ in their bytes: compare what they say.
    assert _next_step(first["Location"]) == _next_step(again["Location"])
    assert ScreeningResponse.objects.count() == 1


def _next_step(location: str) -> tuple[str, dict[str, Any]]:
    from urllib.parse import parse_qs, urlsplit

    from django.core import signing

    from xinqiao.screening.views.campaigns import PROGRESS_SALT

    url = urlsplit(location)
    return url.path, signing.loads(parse_qs(url.query)["p"][0], salt=PROGRESS_SALT)


def test_identified_campaign_stores_name_and_number_encrypted(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"], identified=True))
    phone = Client()
    assert 'id="identity-fieldset"' in phone.get(participant_url(group)).content.decode()
    nameless = answer(phone, participant_url(group), "phq9", PHQ9_CALM, consent="on")
    assert nameless.status_code == 400
    assert sorted(nameless.context["form"].errors) == ["participant_name", "participant_number"]

    step1 = answer(phone, participant_url(group), "phq9", PHQ9_CALM, consent="on", participant_name=NAME,
                   participant_number=NUMBER)
    assert step1.status_code == 303
    assert 'id="identity-fieldset"' not in phone.get(step1["Location"]).content.decode()
    assert answer(phone, step1["Location"], "gad7", GAD7_CALM).status_code == 303

    responses = list(ScreeningResponse.objects.order_by("id"))
    assert [(r.instrument, r.participant_name, r.participant_number) for r in responses] == [
        ("phq9", NAME, NUMBER), ("gad7", NAME, NUMBER)]  # the second scale carries the first's identity
    with connection.cursor() as cursor:
        cursor.execute("SELECT participant_name, participant_number FROM screening_screeningresponse")
        raw = cursor.fetchall()
    assert len(raw) == 2
    for name, number in raw:
        assert name.startswith("v1.") and number.startswith("v1.")
        assert NAME not in name and NUMBER not in number
    assert audit_events(AuditAction.CREATE, responses[0])


def test_anonymous_campaign_ignores_a_name_sent_anyway(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"], scales=("phq9",)))
    answer(Client(), participant_url(group), "phq9", PHQ9_CALM, consent="on", participant_name=NAME)
    assert ScreeningResponse.objects.get().participant_name == ""


@pytest.mark.parametrize(("opens", "closes", "shown"), [
    (timedelta(days=1), timedelta(days=8), "not open yet"),
    (timedelta(days=-8), timedelta(days=-1), "closed"),
])
def test_closed_or_upcoming_campaign_shows_a_friendly_page(cast: Any, schools: Any, opens: timedelta,
                                                           closes: timedelta, shown: str) -> None:
    group = group_of(make_campaign(cast["psychologist_a"], opens=opens, closes=closes))
    phone = Client(headers={"accept-language": "en"})
    page = phone.get(participant_url(group))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="unavailable"' in html and shown in html and 'id="screening-form"' not in html
    assert "12356" in html
    posted = phone.post(participant_url(group), {"instrument": "phq9", "consent": "on",
                                                 **{f"q{i}": "0" for i in range(1, 10)}})
    assert posted.status_code == 200
    assert not ScreeningResponse.objects.exists()


def test_an_unknown_access_code_is_a_404(db: Any) -> None:
    got = Client().get(reverse("screening:participant", kwargs={"code": "ZZZZZZZZ"}))
    assert got.status_code == 404
    assert 'id="unavailable"' in got.content.decode()


def test_a_forged_progress_token_starts_from_the_first_scale(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"]))
    page = Client().get(participant_url(group) + "?p=forged").content.decode()
    assert hidden(page, "instrument") == "phq9"
    done = Client().get(reverse("screening:participant_done", kwargs={"code": group.access_code}) + "?p=x")
    assert done.status_code == 302


# --- Alerts ----------------------------------------------------------------------------------------


def test_phq9_item_9_opens_an_alert_task_due_in_one_hour(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"], scales=("phq9",), identified=True))
    phone = Client()
    before = timezone.now()
    sent = answer(phone, participant_url(group), "phq9", PHQ9_ITEM9, consent="on", participant_name=NAME,
                  participant_number=NUMBER)
    after = timezone.now()
    task = AlertTask.objects.get()
    assert (task.alert, task.status, task.level, task.assignee) == ("suicide_risk", "open", 1, cast["psychologist_a"])
    assert before + timedelta(hours=1) <= task.due_at <= after + timedelta(hours=1)
    html = phone.get(sent["Location"]).content.decode()
    assert 'id="crisis"' in html and "12356" in html
    assert 'id="contact-notice"' in html  # identified: the psychologist will get in touch
    assert html.index('id="crisis"') < html.index('id="thanks"')


def test_anonymous_campaign_alert_shows_the_crisis_line_without_a_promise_of_contact(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"], scales=("phq9",)))
    phone = Client()
    sent = answer(phone, participant_url(group), "phq9", PHQ9_ITEM9, consent="on")
    html = phone.get(sent["Location"]).content.decode()
    assert "12356" in html and 'id="crisis"' in html and 'id="contact-notice"' not in html
    assert AlertTask.objects.count() == 1


def test_overdue_alert_escalates_to_the_county_centre(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"], scales=("phq9",), identified=True))
    response = stored(group, PHQ9_ITEM9, name=NAME, number=NUMBER)
    task = AlertTask.objects.get(response=response)
    centre_a, centre_b = verified_client(cast["mhc_staff_a"]), verified_client(cast["mhc_staff_b"])
    alerts = reverse("screening:alert_list")
    assert f'id="task-{task.pk}"' not in centre_a.get(alerts).content.decode()  # level 1: the school's own

    assert escalate_overdue_alerts(task.due_at - timedelta(minutes=1)) == 0
    assert escalate_overdue_alerts(task.due_at + timedelta(minutes=1)) == 1
    task.refresh_from_db()
    assert (task.level, task.assignee, task.escalated_at is not None) == (2, None, True)
    page = centre_a.get(alerts).content.decode()
    assert f'id="task-{task.pk}"' in page
    assert f'id="task-{task.pk}"' not in centre_b.get(alerts).content.decode()  # another county
    # The centre can open the response (masked) and acknowledge it.
    detail = centre_a.get(reverse("screening:response_detail", kwargs={"pk": response.pk})).content.decode()
    assert NAME not in detail and "李**" in detail
    assert centre_a.post(reverse("screening:alert_ack", kwargs={"pk": task.pk})).status_code == 302
    task.refresh_from_db()
    assert (task.status, task.acknowledged_by) == ("acknowledged", cast["mhc_staff_a"])


def test_acknowledging_stops_the_escalation(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"], scales=("phq9",)))
    task = AlertTask.objects.get(response=stored(group, PHQ9_ITEM9))
    client = verified_client(cast["psychologist_a"])
    got = client.post(reverse("screening:alert_ack", kwargs={"pk": task.pk}))
    assert got.status_code == 302 and got["Location"] == reverse("screening:alert_list")
    task.refresh_from_db()
    assert (task.status, task.acknowledged_by) == ("acknowledged", cast["psychologist_a"])
    assert audit_events(AuditAction.CHANGE, task)
    assert escalate_overdue_alerts(task.due_at + timedelta(hours=5)) == 0
    task.refresh_from_db()
    assert task.level == 1


def test_alert_list_puts_open_tasks_first_and_highlights_overdue_ones(cast: Any, schools: Any) -> None:
    group = group_of(make_campaign(cast["psychologist_a"], scales=("phq9",)))
    handled = AlertTask.objects.get(response=stored(group, PHQ9_ITEM9))
    services.acknowledge_alert(cast["psychologist_a"], handled)
    AlertTask.objects.filter(pk=handled.pk).update(due_at=timezone.now() - timedelta(hours=3))
    late = AlertTask.objects.get(response=stored(group, PHQ9_ITEM9))
    AlertTask.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(minutes=5))
    fresh = AlertTask.objects.get(response=stored(group, PHQ9_ITEM9))
    html = verified_client(cast["psychologist_a"]).get(reverse("screening:alert_list")).content.decode()
    order = [int(pk) for pk in re.findall(r'id="task-(\d+)"', html)]
    assert order == [late.pk, fresh.pk, handled.pk]
    row = re.search(rf'<tr class="([^"]*)" id="task-{late.pk}"', html)
    assert row and "overdue" in row.group(1)
    row = re.search(rf'<tr class="([^"]*)" id="task-{fresh.pk}"', html)
    assert row and "overdue" not in row.group(1)


# --- Results, follow-up, export --------------------------------------------------------------------


@pytest.fixture
def results(cast: Any, schools: Any) -> dict[str, Any]:
    """An identified PHQ-9 campaign: class 1 has two calm and one moderate, class 2 one item-9 alert."""
    campaign = make_campaign(cast["psychologist_a"], scales=("phq9",), identified=True)
    first, second = group_of(campaign, 0), group_of(campaign, 1)
    stored(first, PHQ9_CALM, name="张三丰", number="1001")
    stored(first, PHQ9_CALM, name="张四", number="1002")
    moderate = stored(first, PHQ9_MODERATE, name="王五", number="1003")
    alerted = stored(second, PHQ9_ITEM9, name=NAME, number=NUMBER)
    return {"campaign": campaign, "moderate": moderate, "alerted": alerted}


def test_results_page_shows_counts_per_group_and_band(cast: Any, results: dict[str, Any]) -> None:
    campaign = results["campaign"]
    got = verified_client(cast["psychologist_a"]).get(reverse("screening:campaign_results",
                                                              kwargs={"pk": campaign.pk}))
    assert got.status_code == 200
    (phq9,) = got.context["stats"]
    bands = [b.code for b in phq9.bands]
    assert bands == ["minimal", "mild", "moderate", "moderately_severe", "severe"]
    assert [(r.name, r.counts, r.positives, r.alerts) for r in phq9.rows] == [
        ("初一（1）班", [2, 0, 1, 0, 0], 1, 0), ("初一（2）班", [1, 0, 0, 0, 0], 0, 1)]
    assert (phq9.totals, phq9.total) == ([3, 0, 1, 0, 0], 4)
    chart = got.context["chart"]["scales"][0]
    assert chart["groups"] == ["初一（1）班", "初一（2）班"]
    assert chart["series"][0]["data"] == [2, 1]

    html = got.content.decode()
    assert '<script id="chart-data" type="application/json">' in html
    assert "vendor/echarts/echarts.min.js" in html and "screening/campaigns/results.js" in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)  # nothing inline
    assert ' style="' not in html
    # Positives and alerts, masked: the moderate one and the alerted one, not the calm ones.
    assert {r["response"].pk for r in got.context["rows"]} == {results["moderate"].pk, results["alerted"].pk}
    assert "王*" in html and "李**" in html and "王五" not in html and NAME not in html and "张四" not in html
    assert AuditEvent.objects.filter(action=AuditAction.LIST, object_type="screening.screeningresponse").exists()


def test_another_schools_psychologist_gets_404_everywhere(cast: Any, results: dict[str, Any]) -> None:
    campaign, response = results["campaign"], results["alerted"]
    task = AlertTask.objects.get(response=response)
    other = verified_client(cast["psychologist_b"])
    for name in ("campaign_detail", "campaign_results", "campaign_export", "campaign_summary"):
        assert other.get(reverse(f"screening:{name}", kwargs={"pk": campaign.pk})).status_code == 404, name
    assert other.get(reverse("screening:response_detail", kwargs={"pk": response.pk})).status_code == 404
    assert other.post(reverse("screening:response_unmask", kwargs={"pk": response.pk}),
                      {"purpose": "想看一看这个人"}).status_code == 404
    assert other.post(reverse("screening:response_action", kwargs={"pk": response.pk}),
                      {"action": "closed"}).status_code == 404
    assert other.post(reverse("screening:alert_ack", kwargs={"pk": task.pk})).status_code == 404
    assert campaign.name not in other.get(reverse("screening:campaign_list")).content.decode()
    assert f'id="task-{task.pk}"' not in other.get(reverse("screening:alert_list")).content.decode()
    task.refresh_from_db()
    assert task.status == "open" and not FollowUpAction.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.UNMASK).exists()


def test_a_psychologist_sees_only_their_organisations_campaigns_in_the_same_county(
        cast: Any, results: dict[str, Any], towns: list[Any]) -> None:
    other = cast["psychologist_b"]
    other.region_id = cast["psychologist_a"].region_id  # same county, another school
    other.save(update_fields=["region"])
    client = verified_client(other)
    assert client.get(reverse("screening:campaign_detail", kwargs={"pk": results["campaign"].pk})).status_code == 404
    assert client.get(reverse("screening:response_detail", kwargs={"pk": results["alerted"].pk})).status_code == 404


def test_excel_export_opens_and_is_masked(cast: Any, results: dict[str, Any]) -> None:
    campaign = results["campaign"]
    got = verified_client(cast["psychologist_a"]).get(reverse("screening:campaign_export", kwargs={"pk": campaign.pk}))
    assert got.status_code == 200
    assert got["Content-Type"] == reports.XLSX
    assert "attachment" in got["Content-Disposition"]
    wb = load_workbook(BytesIO(got.content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 4
    name_col = header.index(str(ScreeningResponse._meta.get_field("participant_name").verbose_name))
    number_col = header.index(str(ScreeningResponse._meta.get_field("participant_number").verbose_name))
    assert sorted(r[name_col] for r in body) == sorted(["张**", "张*", "李**", "王*"])
    assert all(r[number_col] == "****" for r in body)
    everything = " ".join(str(c) for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True) for c in row)
    for secret in ("张三丰", "王五", NAME, NUMBER, "1001"):
        assert secret not in everything
    assert "初一（1）班" in everything  # the summary sheet has the counts per group
    events = audit_events(AuditAction.EXPORT, campaign)
    assert len(events) == 1
    assert events[0].detail["count"] == 4 and events[0].detail["format"] == "xlsx"


def test_only_the_psychologist_exports(cast: Any, results: dict[str, Any]) -> None:
    url = reverse("screening:campaign_export", kwargs={"pk": results["campaign"].pk})
    assert verified_client(cast["mhc_staff_a"]).get(url).status_code == 403
    assert verified_client(cast["regulator"]).get(url).status_code == 403


def _pdf_text(pdf: bytes) -> str:
    """The text of an uncompressed reportlab PDF: its ``(…) Tj`` strings, in UTF-16BE (the CID font's
    encoding) or Latin-1, unescaped."""
    out = []
    for literal in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", pdf):
        raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                     else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1)), literal)
        try:
            out.append(raw.decode("utf-16-be") if len(raw) % 2 == 0 else raw.decode("latin-1"))
        except UnicodeDecodeError:
            out.append(raw.decode("latin-1"))
    return " ".join(out)


def test_pdf_summary_has_the_counts_and_no_names(cast: Any, results: dict[str, Any]) -> None:
    campaign = results["campaign"]
    got = verified_client(cast["psychologist_a"]).get(reverse("screening:campaign_summary",
                                                              kwargs={"pk": campaign.pk}))
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    assert got.content.startswith(b"%PDF")
    for secret in ("张三丰", "王五", NAME, NUMBER):
        assert secret.encode("utf-8") not in got.content and secret.encode("utf-16-be") not in got.content
    events = audit_events(AuditAction.EXPORT, campaign)
    assert [e.detail["format"] for e in events] == ["pdf"]

    # The same summary without compression, read back: the campaign and its groups are there, names are not.
    stats = reports.campaign_stats(campaign, ScreeningResponse.objects.filter(campaign=campaign))
    alerts = reports.alert_summary(campaign, AlertTask.objects.all())
    text = _pdf_text(reports.build_campaign_pdf(campaign, stats, alerts, compress=False))
    assert campaign.name in text and "初一（1）班" in text and "初一（2）班" in text
    for secret in ("张三丰", "王五", NAME, NUMBER):
        assert secret not in text


def test_response_detail_is_masked_and_audited_and_reveal_needs_a_purpose(cast: Any, results: dict[str, Any]) -> None:
    response = results["alerted"]
    client = verified_client(cast["psychologist_a"])
    page = client.get(reverse("screening:response_detail", kwargs={"pk": response.pk}))
    assert page.status_code == 200
    html = page.content.decode()
    assert "李**" in html and NAME not in html and NUMBER not in html
    assert audit_events(AuditAction.VIEW, response)

    url = reverse("screening:response_unmask", kwargs={"pk": response.pk})
    short = client.post(url, {"purpose": "看"})
    assert short.status_code == 400 and NAME not in short.content.decode()
    shown = client.post(url, {"purpose": "约谈学生，核对身份"})
    assert shown.status_code == 200
    assert NAME in shown.content.decode() and NUMBER in shown.content.decode()
    (event,) = audit_events(AuditAction.UNMASK, response)
    assert event.purpose == "约谈学生，核对身份"
    assert sorted(event.detail["fields"]) == ["participant_name", "participant_number"]
    assert verified_client(cast["regulator"]).post(url, {"purpose": "抽查核对身份"}).status_code == 403


def test_follow_up_actions_are_recorded_and_audited(cast: Any, results: dict[str, Any]) -> None:
    response = results["alerted"]
    client = verified_client(cast["psychologist_a"])
    url = reverse("screening:response_action", kwargs={"pk": response.pk})
    bad = client.post(url, {"action": "teleport"})
    assert bad.status_code == 400 and list(bad.context["action_form"].errors) == ["action"]

    for action in ("interview_done", "referred_hospital", "referred_hotline"):
        got = client.post(url, {"action": action, "note": "已约谈"})
        assert got.status_code == 302
        assert got["Location"] == reverse("screening:response_detail", kwargs={"pk": response.pk})
    assert AlertTask.objects.get(response=response).status == "open"
    assert client.post(url, {"action": "closed"}).status_code == 302
    assert list(FollowUpAction.objects.filter(response=response).order_by("id").values_list("action", "by")) == [
        ("interview_done", cast["psychologist_a"].pk), ("referred_hospital", cast["psychologist_a"].pk),
        ("referred_hotline", cast["psychologist_a"].pk), ("closed", cast["psychologist_a"].pk)]
    assert AlertTask.objects.get(response=response).status == "closed"
    events = audit_events(AuditAction.CHANGE, response)
    assert [e.detail["action"] for e in events] == ["interview_done", "referred_hospital", "referred_hotline", "closed"]
    page = client.get(reverse("screening:campaign_results", kwargs={"pk": results["campaign"].pk})).content.decode()
    assert "已约谈" not in page  # notes stay on the response page
    detail = client.get(reverse("screening:response_detail", kwargs={"pk": response.pk})).content.decode()
    assert "已约谈" in detail
    assert verified_client(cast["regulator"]).post(url, {"action": "closed"}).status_code == 403


def test_regulators_and_the_county_centre_read_results_but_sysadmin_does_not(cast: Any, results: dict[str, Any]) -> None:
    url = reverse("screening:campaign_results", kwargs={"pk": results["campaign"].pk})
    for user in ("regulator", "mhc_staff_a"):
        got = verified_client(cast[user]).get(url)
        assert got.status_code == 200, user
        assert NAME not in got.content.decode()
    assert verified_client(cast["mhc_staff_b"]).get(url).status_code == 404  # another county
    assert verified_client(cast["sysadmin"]).get(url).status_code == 403
