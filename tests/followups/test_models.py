"""The followups models: region columns, ``str()`` without personal data, encryption at rest, masks, catalogue."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from tests.followups.factories import make_patient
from xinqiao.core.masks import Visibility, policy, role_visibility
from xinqiao.followups.catalogue import read_catalogue
from xinqiao.followups.models import (
    DischargeMedication,
    DischargeRecord,
    FollowUp,
    FollowUpMedication,
    FollowUpParticipant,
    HealthCheck,
    MedicationCatalogue,
)

pytestmark = pytest.mark.django_db
MODELS = (FollowUp, FollowUpParticipant, FollowUpMedication, HealthCheck, DischargeRecord, DischargeMedication)


def test_followup_sits_in_the_patients_township_and_str_has_no_personal_data(towns: Any) -> None:
    patient = make_patient(towns[0])
    fu = FollowUp.objects.create(patient=patient, region=towns[0], followup_date=date(2025, 3, 3), outcome="not_reached",
                                 method=3, not_reached_reason="王某家属称外出打工")
    assert (fu.township_code, fu.county_code) == (towns[0].code, towns[0].county_code)
    assert str(fu) == f"随访 #{fu.pk}" or str(fu).endswith(f"#{fu.pk}")
    assert "王" not in str(fu)
    with connection.cursor() as cur:
        cur.execute("SELECT not_reached_reason FROM followups_followup WHERE id = %s", [fu.pk])
        raw = cur.fetchone()[0]
    assert raw.startswith("v1.") and "外出" not in raw
    assert FollowUp.objects.get(pk=fu.pk).not_reached_reason == "王某家属称外出打工"


@pytest.mark.parametrize("model", MODELS)
def test_every_mask_category_is_declared(model: Any) -> None:
    categories = policy()["categories"]
    for field, category in model.PII_FIELDS.items():
        assert category in categories, (model, field, category)
        model._meta.get_field(field)  # the field exists


def test_partner_roles_see_no_clinical_follow_up_content() -> None:
    for role in ("police", "civil_affairs", "zongzhi", "grid_worker", "disabled_federation"):
        assert role_visibility(role, "clinical.followup") == Visibility.HIDDEN
        assert role_visibility(role, "clinical.medication") == Visibility.HIDDEN
    for role in ("community_doctor", "mhc_staff", "psychiatrist"):
        assert role_visibility(role, "clinical.followup") == Visibility.FULL
        assert role_visibility(role, "clinical.medication") == Visibility.FULL
    assert role_visibility("regulator", "clinical.followup") == Visibility.FULL
    assert role_visibility("regulator", "clinical.medication") == Visibility.HIDDEN


def test_followup_roles_hold_the_permissions_they_need() -> None:
    roles = {r["code"]: set(r["permissions"]) for r in json.loads(
        (Path(__file__).resolve().parents[2] / "src/xinqiao/core/data/roles.json").read_text(encoding="utf-8"))["roles"]}
    assert "followups.add_followup" in roles["community_doctor"] & roles["mhc_staff"] & roles["psychiatrist"]
    assert "followups.add_dischargerecord" in roles["psychiatrist"] & roles["mhc_staff"]
    assert "followups.add_dischargerecord" not in roles["community_doctor"]
    assert "followups.view_followup" in roles["regulator"] and "followups.add_followup" not in roles["regulator"]
    for partner in ("police", "civil_affairs", "zongzhi", "grid_worker", "disabled_federation"):
        assert not any(p.startswith("followups.") for p in roles[partner])


# --- Catalogue ---------------------------------------------------------------------------------------

def test_catalogue_is_seeded_with_the_common_drugs() -> None:
    names = set(MedicationCatalogue.objects.values_list("generic_name_zh", flat=True))
    for name in ("利培酮", "奥氮平", "喹硫平", "阿立哌唑", "氯氮平", "帕利哌酮", "齐拉西酮", "氨磺必利", "氟哌啶醇", "奋乃静",
                 "舒必利", "碳酸锂", "丙戊酸钠", "帕利哌酮棕榈酸酯注射液", "阿立哌唑长效注射剂", "氟哌啶醇癸酸酯注射液",
                 "氟奋乃静癸酸酯注射液", "利培酮微球"):
        assert name in names
    injectables = MedicationCatalogue.objects.filter(long_acting=True)
    assert injectables.count() >= 5 and set(injectables.values_list("default_period", flat=True)) == {"month"}
    assert MedicationCatalogue.objects.get(generic_name_zh="碳酸锂").atc_code == "N05AN01"


def test_load_medications_is_idempotent_and_retires_removed_rows() -> None:
    MedicationCatalogue.objects.create(generic_name_zh="已停用药", generic_name_en="retired", atc_code="N05AA99",
                                       drug_class="antipsychotic")
    before = MedicationCatalogue.objects.count()
    out = StringIO()
    call_command("load_medications", stdout=out)
    assert MedicationCatalogue.objects.count() == before
    assert not MedicationCatalogue.objects.get(generic_name_zh="已停用药").active
    assert f"{len(read_catalogue())} drugs" in out.getvalue()


@pytest.mark.parametrize(("row", "message"), [
    ({"zh": "某药", "en": "x", "atc": "N05", "class": "antipsychotic"}, "ATC"),
    ({"zh": "某药", "en": "x", "atc": "N05AX08", "class": "vitamin"}, "class"),
    ({"zh": "", "en": "x", "atc": "N05AX08", "class": "antipsychotic"}, "zh"),
])
def test_catalogue_file_errors_name_the_row(tmp_path: Path, row: dict[str, Any], message: str) -> None:
    path = tmp_path / "medications.json"
    path.write_text(json.dumps({"drugs": [row]}), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_catalogue(path)
