"""Permission-matrix declarations of the paperwork pages (loaded by ``test_permission_matrix``).

Record routes use, per scope (``in``: township A, ``sibling``: township B of county B, ``out``:
Beijing), one import batch uploaded there and one registered patient (danger level 0, no 肇事肇祸
history: partner agencies do not see them) with a supplement and one follow-up visit.

Who holds what (roles.json), written out:

* ``paperwork.view_importbatch`` / ``add_importbatch`` / ``print_forms``: the county centre
  (mhc_staff_a, county A) and the community doctor (township A). Importing patients also needs
  ``patients.add_patient``, which both hold.
* A patient or follow-up record is reached by whoever may view it in scope: the regulators (city,
  province: township B too), the county centre, the psychiatrist (county A) and the community
  doctor; of those only the two printers get the PDF, the others 403. Partner roles do not see a
  danger-0 patient (404); sysadmin holds no patient permission (404).
* Blank forms carry no personal data: any signed-in user.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.security.test_permission_matrix import CITY_OR_ABOVE, EVERYONE, Route, by_role, record

PRINTERS = frozenset({"mhc_staff_a", "community_doctor_a"})
IMPORTERS = frozenset({"mhc_staff_a", "community_doctor_a"})
BATCH_VIEWERS = frozenset({"mhc_staff_a", "community_doctor_a"})
RECORD_VIEWERS = frozenset({"regulator", "regulator_province", "mhc_staff_a", "psychiatrist_a", "community_doctor_a"})

assert CITY_OR_ABOVE - {"sysadmin"} <= RECORD_VIEWERS


def paperwork_objects(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per scope: an import batch, a patient (on ``ctx['persons'][scope]``) and a follow-up; made once per ctx."""
    if "paperwork" not in ctx:
        from tests.patients.factories import PatientFactory
        from xinqiao.core.models import Region
        from xinqiao.followups.models import FollowUp
        from xinqiao.paperwork.models import ImportBatch
        from xinqiao.patients.models import PersonalSupplement

        cast = ctx["cast"]
        uploaders = {"in": cast["community_doctor_a"], "sibling": cast["community_doctor_b"],
                     "out": cast["community_doctor_b"]}
        objects: dict[str, dict[str, Any]] = {}
        for scope in ("in", "sibling", "out"):
            person = ctx["persons"][scope]
            region = Region.objects.get(code=person.region_id)
            batch = ImportBatch.objects.create(kind="patients", status="rejected", file_name="矩阵.xlsx",
                                               file_format="xlsx", sha256=f"{scope:0<64}"[:64], region=region,
                                               created_by=uploaders[scope], rows_total=1, error_count=1,
                                               errors=[[2, "证件号码", "证件号码校验位不正确"]])
            patient = PatientFactory(person=person, region=region, danger_level=0)
            PersonalSupplement.objects.create(patient=patient, region=region, guardian_name="矩阵监护人",
                                              household=1, filled_on=date(2026, 1, 5))
            followup = FollowUp.objects.create(
                patient=patient, region=region, followup_date=date(2026, 1, 10), method=2, danger_level=0,
                insight=1, sleep=1, diet=1, self_care=1, housework=1, work=9, study=1, social=1, lock_status=1,
                hospital_status=0, lab_tests=1, adherence=1, adverse_reaction=1, treatment_effect=2, referral=1,
                classification=3, next_followup_date=date(2026, 4, 10))
            objects[scope] = {"batch": batch, "patient": patient, "followup": followup}
        ctx["paperwork"] = objects
    out: dict[str, dict[str, Any]] = ctx["paperwork"]
    return out


def _pk(kind: str) -> Any:
    return lambda ctx, scope: {"pk": paperwork_objects(ctx)[scope][kind].pk}


ROUTES: dict[str, Route] = {
    "paperwork:import_home": Route(by_role(BATCH_VIEWERS, 200, 403), anon=302),
    "paperwork:import_upload": Route(by_role(IMPORTERS, 200, 403), anon=302,
                                     kwargs=lambda ctx, s: {"kind": "patients"}),
    "paperwork:import_template": Route(by_role(IMPORTERS, 200, 403), anon=302,
                                       kwargs=lambda ctx, s: {"kind": "followups"}),
    "paperwork:batch_detail": Route(record(BATCH_VIEWERS), anon=302, kwargs=_pk("batch"), per_scope=True),
    "paperwork:batch_report": Route(record(BATCH_VIEWERS), anon=302, kwargs=_pk("batch"), per_scope=True),
    "paperwork:patient_print": Route(record(RECORD_VIEWERS, capable=PRINTERS), anon=302, kwargs=_pk("patient"),
                                     per_scope=True),
    "paperwork:supplement_pdf": Route(record(RECORD_VIEWERS, capable=PRINTERS), anon=302, kwargs=_pk("patient"),
                                      per_scope=True),
    "paperwork:followup_pdf": Route(record(RECORD_VIEWERS, capable=PRINTERS), anon=302, kwargs=_pk("followup"),
                                    per_scope=True),
    "paperwork:blank_pdf": Route(by_role(EVERYONE, 200, 200), anon=302, kwargs=lambda ctx, s: {"form": "supplement"}),
}
