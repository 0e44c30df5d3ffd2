"""Bulk import of institutions and practitioners from an Excel workbook, all or nothing.

The health commission registers its existing network in one go (issue 5, "Bulk import … with a
row-level error report"). The workbook has a sheet ``机构`` (institutions) and a sheet ``人员``
(practitioners with their credentials); ``template_workbook()`` makes an empty one with the
headers and a sheet of instructions. Every row is checked first; if any cell is wrong, nothing is
written and the report names the sheet, row, column and what is wrong. Otherwise everything is
written in one transaction, each record audited, and the batch is stored under the form's key so
that a resent upload imports nothing twice.

Rules of the file:

- an institution row whose name is already an organisation in that region (not yet registered)
  registers that organisation; one already in the registry is refused (changes go through an
  application);
- practitioner rows with the same name, profession, workplace and region are one practitioner
  with several credentials; the workplace is an institution of the file or of the registry.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from xinqiao.core import audit
from xinqiao.core.models import AuditAction, Organisation, Region
from xinqiao.core.scope import in_scope
from xinqiao.registry import rules
from xinqiao.registry.models import (
    Credential,
    ImportBatch,
    Institution,
    InstitutionKind,
    InstitutionVersion,
    LicensingStatus,
    Population,
    Practice,
    Practitioner,
    Profession,
    ServiceCode,
)
from xinqiao.registry.models.people import number_index
from xinqiao.registry.people import credential_problem_message
from xinqiao.registry.services import InstitutionInput, apply_details, record_version, validate_details

INSTITUTION_SHEET = "机构"
PRACTITIONER_SHEET = "人员"
MAX_ROWS = 5000

# (key, Chinese header, required)
INSTITUTION_COLUMNS: list[tuple[str, str, bool]] = [
    ("name", "名称", True), ("kind", "类型", True), ("region_code", "区划代码", True), ("address", "地址", False),
    ("phone", "电话", False), ("latitude", "纬度", False), ("longitude", "经度", False),
    ("open_24h", "24小时开放", False), ("hours", "开放时间", False), ("hours_note", "开放时间说明", False),
    ("services", "服务项目", False), ("populations", "服务人群", False), ("languages", "语言", False),
    ("beds", "床位数", False), ("hospital_level", "医院等级", False), ("students", "学生数", False),
    ("counsellors", "专职心理人员数", False),
    ("business_licence_number", "营业执照号", False), ("licence_scope", "经营范围", False),
    ("licensing_status", "许可状态", False), ("village_code", "村（居）代码", False),
    ("village_name", "村（居）名称", False), ("unified_credit_code", "统一社会信用代码", False),
    ("demonstration_year", "示范单位年份", False),
]
PRACTITIONER_COLUMNS: list[tuple[str, str, bool]] = [
    ("name", "姓名", True), ("profession", "职业", True), ("institution", "执业机构", True),
    ("institution_region", "执业机构区划代码", True), ("post", "岗位", False),
    ("credential_type", "证书类型", False), ("credential_number", "证书编号", False), ("issuer", "发证机关", False),
    ("issue_date", "发证日期", False), ("expiry_date", "有效期至", False), ("scope", "执业范围", False),
]
#: 医院等级 as written in a workbook: 1/2/3, 一级/二级/三级 (三甲, 二乙 … count by their level).
HOSPITAL_LEVELS = {**{str(n): n for n in (1, 2, 3)}, **{f"{zh}级": n for n, zh in ((1, "一"), (2, "二"), (3, "三"))},
                   **{f"{zh}{g}": n for n, zh in ((1, "一"), (2, "二"), (3, "三")) for g in "甲乙丙"},
                   **{f"{zh}级{g}等": n for n, zh in ((1, "一"), (2, "二"), (3, "三")) for g in "甲乙丙"}}
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "24"}
FALSE_WORDS = {"否", "n", "no", "false", "0", ""}
SPLIT = re.compile(r"[、,，;；/]+")


@dataclass(frozen=True)
class RowError:
    """One problem: sheet, row number as Excel shows it, column header, message."""

    sheet: str
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    ok: bool
    errors: list[RowError] = field(default_factory=list)
    institutions: int = 0
    practitioners: int = 0
    credentials: int = 0
    replayed: bool = False


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def _choice_map(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Code, English label and Chinese label → code (case-insensitive)."""
    out: dict[str, str] = {}
    for code, label in choices:
        out[code.lower()] = code
        with translation.override("en"):
            out[str(label).lower()] = code
        with translation.override("zh-hans"):
            out[str(label).lower()] = code
    return out


def _header_map(header: list[Any], columns: list[tuple[str, str, bool]]) -> tuple[dict[str, int], list[str]]:
    """Column key → index, from headers written as the Chinese label, the key, or "标签 (key)"."""
    wanted = {}
    for key, zh, _req in columns:
        wanted[key.lower()] = key
        wanted[zh.lower()] = key
        wanted[f"{zh} ({key})".lower()] = key
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        text = str(cell or "").strip().lower()
        if text in wanted and wanted[text] not in found:
            found[wanted[text]] = index
    missing = [zh for key, zh, required in columns if required and key not in found]
    return found, missing


def _rows(sheet: Any, columns: list[tuple[str, str, bool]], sheet_name: str,
          errors: list[RowError]) -> list[tuple[int, dict[str, Any]]]:
    iterator = sheet.iter_rows(values_only=True)
    header = list(next(iterator, []) or [])
    index, missing = _header_map(header, columns)
    for label in missing:
        errors.append(RowError(sheet_name, 1, label, _("This column is missing from the header row.")))
    if missing:
        return []
    out = []
    for number, values in enumerate(iterator, start=2):
        if number > MAX_ROWS + 1:
            errors.append(RowError(sheet_name, number, "", _("At most %(n)s rows per sheet.") % {"n": MAX_ROWS}))
            break
        row = {key: (values[i] if i < len(values) else None) for key, i in index.items()}
        if all(v is None or str(v).strip() == "" for v in row.values()):
            continue
        out.append((number, row))
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _int(value: Any) -> int | None:
    text = _text(value)
    if not text:
        return None
    if not re.fullmatch(r"\d+", text):
        raise ValueError(text)
    return int(text)


def _float(value: Any) -> float | None:
    text = _text(value)
    return float(text) if text else None


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    return date.fromisoformat(text)


def _codes(value: Any, mapping: dict[str, str]) -> list[str]:
    out = []
    for part in SPLIT.split(_text(value)):
        part = part.strip()
        if part:
            out.append(mapping.get(part.lower(), f"?{part}"))
    return out


# --------------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------------

INSTITUTION_FIELD_COLUMN = {key: zh for key, zh, _r in INSTITUTION_COLUMNS}
INSTITUTION_FIELD_COLUMN.update({"target": "名称", "institution": "名称", "own_organisation": "名称"})


@dataclass
class PlannedInstitution:
    row: int
    data: InstitutionInput
    organisation: Organisation | None
    demonstration_year: int | None


@dataclass
class PlannedCredential:
    row: int
    type_code: str
    number: str
    issuer: str
    scope: str
    issue_date: date | None
    expiry_date: date | None


@dataclass
class PlannedPractitioner:
    row: int
    name: str
    profession: str
    workplace: tuple[str, str]  # (region code, institution name)
    post: str
    credentials: list[PlannedCredential] = field(default_factory=list)


def _check_institutions(actor: Any, rows: list[tuple[int, dict[str, Any]]],
                        errors: list[RowError]) -> list[PlannedInstitution]:
    kinds = _choice_map(InstitutionKind.choices)
    services = _choice_map(ServiceCode.choices)
    populations = _choice_map(Population.choices)
    licensing = _choice_map(LicensingStatus.choices)
    codes = {_text(r.get("region_code")) for _n, r in rows}
    names = {_text(r.get("name")) for _n, r in rows}
    existing = {(o.region_id, o.name): o for o in Organisation.objects.filter(region_id__in=codes, name__in=names)
                .select_related("registry_entry")}
    seen: set[tuple[str, str]] = set()
    planned = []
    for number, row in rows:
        def err(key: str, message: str, number: int = number) -> None:
            errors.append(RowError(INSTITUTION_SHEET, number, INSTITUTION_FIELD_COLUMN.get(key, key), message))

        try:
            numbers = {k: _int(row.get(k)) for k in ("beds", "students", "counsellors", "demonstration_year")}
        except ValueError:
            numbers = {}
            err("beds", _("Enter whole numbers in the number columns."))
        try:
            lat, lon = _float(row.get("latitude")), _float(row.get("longitude"))
        except ValueError:
            lat = lon = None
            err("latitude", _("Coordinates: enter decimal degrees, e.g. 23.1291 and 113.2644."))
        flag = _text(row.get("open_24h")).lower()
        if flag not in TRUE_WORDS | FALSE_WORDS:
            err("open_24h", _("Open 24 hours: write 是 or 否."))
        kind = kinds.get(_text(row.get("kind")).lower(), _text(row.get("kind")))
        level_text = _text(row.get("hospital_level"))
        hospital_level = HOSPITAL_LEVELS.get(level_text, -1) if level_text else None
        status_text = _text(row.get("licensing_status"))
        data = InstitutionInput(
            name=_text(row.get("name")), kind=kind, region_code=_text(row.get("region_code")),
            address=_text(row.get("address")), phone=_text(row.get("phone")), latitude=lat, longitude=lon,
            open_24h=flag in TRUE_WORDS, hours=_text(row.get("hours")), hours_note=_text(row.get("hours_note")),
            services=_codes(row.get("services"), services) or list(rules.kinds().get(kind, {}).get("services", [])),
            populations=_codes(row.get("populations"), populations),
            languages=[x for x in SPLIT.split(_text(row.get("languages"))) if x],
            beds=numbers.get("beds"), hospital_level=hospital_level, students=numbers.get("students"),
            counsellors=numbers.get("counsellors"),
            business_licence_number=_text(row.get("business_licence_number")),
            licence_scope=_text(row.get("licence_scope")),
            licensing_status=licensing.get(status_text.lower(), status_text) if status_text else "",
            village_code=_text(row.get("village_code")), village_name=_text(row.get("village_name")),
            unified_credit_code=_text(row.get("unified_credit_code")),
        )
        try:
            data = validate_details(data)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    err(key, message)
            continue
        if not in_scope(actor, data.region_code):
            err("region_code", _("Region: outside your own region."))
            continue
        ident = (data.region_code, data.name)
        if ident in seen:
            err("name", _("Name: the same institution appears twice in this file."))
            continue
        seen.add(ident)
        org = existing.get(ident)
        if org is not None and hasattr(org, "registry_entry"):
            err("name", _("Name: already in the registry; change it through an application."))
            continue
        planned.append(PlannedInstitution(number, data, org, numbers.get("demonstration_year")))
    return planned


def _check_practitioners(actor: Any, rows: list[tuple[int, dict[str, Any]]], planned_institutions: set[tuple[str, str]],
                         errors: list[RowError]) -> list[PlannedPractitioner]:
    professions = _choice_map(Profession.choices)
    ctypes = {}
    for t in rules.credential_types().values():
        ctypes[t.code.lower()] = t.code
        ctypes[t.zh.lower()] = t.code
        ctypes[t.en.lower()] = t.code
    column = {key: zh for key, zh, _r in PRACTITIONER_COLUMNS}
    workplaces = {(_text(r.get("institution_region")), _text(r.get("institution"))) for _n, r in rows}
    registered = {(i.region_id, i.organisation.name): i for i in Institution.objects.restrict(actor)
                  .filter(organisation__name__in={w[1] for w in workplaces}).select_related("organisation")}
    people: dict[tuple[str, str, str, str], PlannedPractitioner] = {}
    numbers_seen: set[tuple[str, str]] = set()
    today = timezone.localdate()
    for number, row in rows:
        def err(key: str, message: str, number: int = number) -> None:
            errors.append(RowError(PRACTITIONER_SHEET, number, column.get(key, key), message))

        name = _text(row.get("name"))
        profession = professions.get(_text(row.get("profession")).lower(), "")
        workplace = (_text(row.get("institution_region")), _text(row.get("institution")))
        bad = False
        if not name or len(name) > 64:
            err("name", _("Name: between 1 and 64 characters."))
            bad = True
        if not profession:
            err("profession", _("Profession: choose one of the listed professions."))
            bad = True
        if workplace not in planned_institutions and workplace not in registered:
            err("institution", _("Workplace: no institution of this name in this region, in the file or in the "
                                 "registry within your region."))
            bad = True
        type_text = _text(row.get("credential_type"))
        number_text = _text(row.get("credential_number"))
        credential = None
        if type_text or number_text:
            code = ctypes.get(type_text.lower())
            try:
                issue, expiry = _date(row.get("issue_date")), _date(row.get("expiry_date"))
            except (ValueError, TypeError):
                err("issue_date", _("Dates: write them as YYYY-MM-DD."))
                bad = True
                issue = expiry = None
            if code is None:
                err("credential_type", _("Credential type: choose one of the listed types."))
                bad = True
            elif not rules.normalise_number(number_text):
                err("credential_number", _("Certificate number: required with a credential type."))
                bad = True
            else:
                ctype = rules.credential_types()[code]
                for key, problem in rules.credential_problems(ctype, profession=profession or "-",
                                                              issue_date=issue, expiry_date=expiry, today=today):
                    if key == "type_code" and not profession:
                        continue
                    err({"type_code": "credential_type"}.get(key, key), credential_problem_message(problem))
                    bad = True
                pair = (code, rules.normalise_number(number_text))
                if pair in numbers_seen:
                    err("credential_number", _("Certificate number: appears twice in this file."))
                    bad = True
                numbers_seen.add(pair)
                if Credential.objects.filter(type_code=code, number_index=number_index(code, number_text)).exists():
                    err("credential_number", _("Certificate number: a credential of this type with this number is "
                                               "already registered."))
                    bad = True
                credential = PlannedCredential(number, code, number_text, _text(row.get("issuer")) or ctype.issuer,
                                               _text(row.get("scope")), issue,
                                               expiry or (rules.default_expiry(ctype, issue) if issue else None))
        if bad:
            continue
        ident = (rules.normalise_name(name), profession, *workplace)
        person = people.setdefault(ident, PlannedPractitioner(number, name, profession, workplace,
                                                            _text(row.get("post"))))
        if credential is not None:
            person.credentials.append(credential)
    return list(people.values())


# --------------------------------------------------------------------------------------------------
# The import
# --------------------------------------------------------------------------------------------------


def import_workbook(actor: Any, content: bytes, *, form_key: str, file_name: str = "") -> ImportResult:
    """Check every row, then write everything or nothing (see the module docstring)."""
    if not actor.has_perm("registry.import_institution"):
        raise PermissionDenied
    done = ImportBatch.objects.filter(form_key=form_key).first()
    if done is not None:
        return ImportResult(ok=True, institutions=done.institutions, practitioners=done.practitioners,
                            credentials=done.credentials, replayed=True)
    errors: list[RowError] = []
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        return ImportResult(ok=False, errors=[RowError("", 0, "", _("The file is not an Excel workbook (.xlsx)."))])
    if INSTITUTION_SHEET not in book.sheetnames and PRACTITIONER_SHEET not in book.sheetnames:
        return ImportResult(ok=False, errors=[RowError("", 0, "", _("The workbook has neither a sheet “%(a)s” nor "
                                                                    "a sheet “%(b)s”.") % {
            "a": INSTITUTION_SHEET, "b": PRACTITIONER_SHEET})])
    inst_rows = _rows(book[INSTITUTION_SHEET], INSTITUTION_COLUMNS, INSTITUTION_SHEET, errors) \
        if INSTITUTION_SHEET in book.sheetnames else []
    prac_rows = _rows(book[PRACTITIONER_SHEET], PRACTITIONER_COLUMNS, PRACTITIONER_SHEET, errors) \
        if PRACTITIONER_SHEET in book.sheetnames else []
    book.close()
    institutions = _check_institutions(actor, inst_rows, errors)
    planned_keys = {(p.data.region_code, p.data.name) for p in institutions}
    practitioners = _check_practitioners(actor, prac_rows, planned_keys, errors)
    if errors:
        errors.sort(key=lambda e: (e.sheet != INSTITUTION_SHEET, e.row))
        return ImportResult(ok=False, errors=errors)
    if not institutions and not practitioners:
        return ImportResult(ok=False, errors=[RowError("", 0, "", _("The workbook has no rows to import."))])
    credentials = 0
    with transaction.atomic():
        by_key: dict[tuple[str, str], Institution] = {}
        now = timezone.now()
        for plan in institutions:
            institution = apply_details(plan.data, actor=actor, organisation=plan.organisation)
            institution.approved_at, institution.approved_by = now, actor
            if plan.demonstration_year:
                institution.demonstration, institution.demonstration_year = True, plan.demonstration_year
            institution.save(update_fields=["approved_at", "approved_by", "demonstration", "demonstration_year"])
            record_version(institution, source=InstitutionVersion.Source.IMPORT, actor=actor, before=None)
            by_key[(plan.data.region_code, plan.data.name)] = institution
        missing = {p.workplace for p in practitioners} - set(by_key)
        for inst in Institution.objects.restrict(actor).filter(
                organisation__name__in={w[1] for w in missing}).select_related("organisation"):
            by_key.setdefault((inst.region_id, inst.organisation.name), inst)
        for person in practitioners:
            workplace = by_key[person.workplace]
            practitioner = Practitioner.objects.create(name=person.name, profession=person.profession,
                                                       region_id=workplace.region_id)
            Practice.objects.create(practitioner=practitioner, institution=workplace, post=person.post[:64],
                                    is_primary=True)
            audit.record(AuditAction.CREATE, obj=practitioner, detail={"via": "import", "institution": workplace.pk})
            for c in person.credentials:
                credential = Credential.objects.create(practitioner=practitioner, type_code=c.type_code,
                                                       number=c.number, issuer=c.issuer[:128], scope=c.scope[:128],
                                                       issue_date=c.issue_date, expiry_date=c.expiry_date)
                audit.record(AuditAction.CREATE, obj=credential, region_code=practitioner.region_id,
                             detail={"via": "import", "type": c.type_code})
                credentials += 1
        ImportBatch.objects.create(form_key=form_key, file_sha256=hashlib.sha256(content).hexdigest(),
                                   file_name=file_name[:255], user=actor, institutions=len(institutions),
                                   practitioners=len(practitioners), credentials=credentials)
    return ImportResult(ok=True, institutions=len(institutions), practitioners=len(practitioners),
                        credentials=credentials)


def template_workbook() -> bytes:
    """An empty workbook with both sheets' headers and a sheet of instructions."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = INSTITUTION_SHEET
    sheet.append([f"{zh} ({key})" for key, zh, _r in INSTITUTION_COLUMNS])
    people = book.create_sheet(PRACTITIONER_SHEET)
    people.append([f"{zh} ({key})" for key, zh, _r in PRACTITIONER_COLUMNS])
    notes = book.create_sheet("说明")
    with translation.override("zh-hans"):
        notes.append(["列", "说明"])
        notes.append(["类型 (kind)", "、".join(f"{c} {label}" for c, label in InstitutionKind.choices)])
        notes.append(["服务项目 (services)", "、".join(f"{c} {label}" for c, label in ServiceCode.choices)])
        notes.append(["服务人群 (populations)", "、".join(f"{c} {label}" for c, label in Population.choices)])
        notes.append(["职业 (profession)", "、".join(f"{c} {label}" for c, label in Profession.choices)])
        notes.append(["证书类型 (credential_type)", "、".join(f"{t.code} {t.zh}" for t in rules.credential_types().values())])
        notes.append(["开放时间 (hours)", "1-5 08:00-12:00,14:00-17:30; 6 09:00-12:00（1=周一 … 7=周日）"])
        notes.append(["医院等级 (hospital_level)", "1/2/3 或 一级/二级/三级（三甲等亦可）"])
        notes.append(["区划代码 (region_code)", "统计用区划代码，县级 6 位或乡级 9 位"])
        notes.append(["必填", "、".join(zh for _k, zh, r in INSTITUTION_COLUMNS + PRACTITIONER_COLUMNS if r)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def region_names(codes: Iterable[str]) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=set(codes)).values_list("code", "name"))
