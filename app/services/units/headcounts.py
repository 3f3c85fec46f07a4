"""Yearly headcounts of officials per unit, uploaded as CSV by province and ministry admins.

The file contract (docs/board.md): UTF-8 with or without a BOM; `,` `;` or tab between columns (read from the
header line); a header row with the columns `unit_code` and `officials` (Vietnamese names such as "Mã đơn vị",
"Số cán bộ" work too), and `unit_name` and `kind` (agency | commune, "cơ quan" | "xã") for units the province
does not have yet, which the upload creates. Blank lines are skipped; row numbers are CSV line numbers.

An upload is one province's complete list for one year, stored as a new version with its source and date; the
latest version of a (province, year) is in force. One bad row and nothing is stored (422 naming every bad row):
a version missing some units would silently lower a province's rates.
"""

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldError, PayloadTooLarge, ValidationFailed
from app.core.i18n import messages
from app.core.text import search_key
from app.models.base import utcnow
from app.models.identity import User
from app.models.units import (
    HeadcountUploadResult,
    HeadcountVersion,
    HeadcountVersionPublic,
    OrgUnit,
    UnitHeadcount,
    UnitKind,
)
from app.services.units.scope import admin_province
from app.services.units.tree import new_unit, units_by_code

messages({
    "headcount_csv_not_utf8": ("Tệp không phải văn bản UTF-8; trong Excel hãy lưu dạng “CSV UTF-8”.",
                               "The file is not UTF-8 text; in Excel, save it as “CSV UTF-8”."),
    "headcount_csv_malformed": ("Tệp CSV không đọc được từ dòng này; hãy kiểm tra dấu ngoặc kép.",
                                "The CSV file cannot be read from this line; check the quotes."),
    "headcount_csv_too_many_rows": ("Tệp CSV có quá {limit} dòng dữ liệu.",
                                    "The CSV file has more than {limit} data rows."),
    "headcount_csv_missing_column": ("Dòng tiêu đề thiếu cột {column}.", "The header row lacks the column {column}."),
    "headcount_csv_no_rows": ("Tệp CSV không có dòng dữ liệu nào.", "The CSV file has no data rows."),
    "headcount_code_missing": ("Thiếu mã đơn vị.", "The unit code is missing."),
    "headcount_code_invalid": ("Mã đơn vị chỉ gồm chữ không dấu, số, “.”, “_” và “-” (tối đa 40 ký tự).",
                               "A unit code holds only letters, digits, “.”, “_” and “-” (at most 40)."),
    "headcount_officials_invalid": ("Số cán bộ phải là số nguyên từ 0 đến 1.000.000, không phải “{value}”.",
                                    "The number of officials must be a whole number from 0 to 1,000,000, "
                                    "not “{value}”."),
    "headcount_name_required": ("Đơn vị mã {code} chưa có: hãy ghi tên đơn vị để tạo mới.",
                                "There is no unit {code} yet: give its name to create it."),
    "headcount_kind_invalid": ("Loại đơn vị là “cơ quan” (agency) hoặc “xã” (commune), không phải “{value}”.",
                               "The unit kind is agency or commune, not “{value}”."),
    "headcount_duplicate_row": ("Đơn vị này đã có ở dòng {first_row}.", "This unit is already on row {first_row}."),
    "headcounts_rejected": ("Chưa lưu số liệu: {count} dòng có lỗi.",
                            "Nothing was stored: {count} row(s) have errors."),
    "headcount_source_required": ("Hãy ghi nguồn số liệu (source).", "Give the figures' source (source)."),
})

MAX_OFFICIALS = 1_000_000
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_THOUSANDS = re.compile(r"^\d{1,3}([.,\s]\d{3})+$")  # "1.234" as Vietnamese Excel writes 1,234
_HEADER_NAMES = {
    "code": {"unit code", "code", "ma don vi", "ma", "ma dv"},
    "name": {"unit name", "name", "ten don vi", "ten", "don vi", "ten co quan"},
    "kind": {"kind", "loai", "loai don vi"},
    "officials": {"officials", "headcount", "so can bo", "so luong", "bien che", "so nguoi", "tong so",
                  "so can bo cong chuc vien chuc", "so ccvc"},
}
_KINDS = {"agency": UnitKind.agency, "co quan": UnitKind.agency, "don vi": UnitKind.agency,
          "commune": UnitKind.commune, "xa": UnitKind.commune, "phuong": UnitKind.commune,
          "dac khu": UnitKind.commune}


@dataclass
class Row:
    line: int
    code: str = ""
    name: str = ""
    kind: UnitKind | None = None
    officials: int = 0
    errors: list[FieldError] = field(default_factory=list)


def parse_headcounts(data: bytes, max_rows: int) -> list[Row]:
    """Every non-blank data row, read and checked on its own (known units are checked later)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(errors=[FieldError("headcount_csv_not_utf8", field="file")]) from None
    delimiter = max((",", ";", "\t"), key=text.split("\n", 1)[0].count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = _columns(next(reader, None) or [])
        rows: list[Row] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) == max_rows:
                raise PayloadTooLarge("headcount_csv_too_many_rows", limit=max_rows)
            rows.append(_row(reader.line_num, record, columns))
    except csv.Error:
        raise ValidationFailed(errors=[FieldError("headcount_csv_malformed", field="file",
                                                  line=reader.line_num)]) from None
    if not rows:
        raise ValidationFailed(errors=[FieldError("headcount_csv_no_rows", field="file")])
    return rows


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = search_key(cell.replace("_", " ").replace("-", " "))
        kind = next((k for k, names in _HEADER_NAMES.items() if name in names), None)
        if kind is not None and kind not in columns:
            columns[kind] = index
    missing = [c for c, label in (("code", "unit_code"), ("officials", "officials")) if c not in columns]
    if missing:
        raise ValidationFailed(errors=[FieldError("headcount_csv_missing_column", row=1,
                                                  column={"code": "unit_code"}.get(c, c)) for c in missing])
    return columns


def _row(line: int, record: list[str], columns: dict[str, int]) -> Row:
    def cell(kind: str) -> str:
        index = columns.get(kind)
        return record[index].strip() if index is not None and index < len(record) else ""

    row = Row(line, code=cell("code").upper(), name=" ".join(cell("name").split()))
    if not row.code:
        row.errors.append(FieldError("headcount_code_missing", field="unit_code", row=line))
    elif not _CODE.match(row.code):
        row.errors.append(FieldError("headcount_code_invalid", field="unit_code", row=line))
    raw = cell("officials")
    digits = re.sub(r"[.,\s]", "", raw) if _THOUSANDS.match(raw) else raw
    if digits.isdigit() and int(digits) <= MAX_OFFICIALS:
        row.officials = int(digits)
    else:
        row.errors.append(FieldError("headcount_officials_invalid", field="officials", row=line, value=raw[:20]))
    kind = cell("kind")
    if kind:
        row.kind = _KINDS.get(search_key(kind))
        if row.kind is None:
            row.errors.append(FieldError("headcount_kind_invalid", field="kind", row=line, value=kind[:20]))
    return row


async def upload_headcounts(session: AsyncSession, admin: User, data: bytes, *, province: str | None, year: int,
                            source: str, source_date: date, max_rows: int) -> HeadcountUploadResult:
    """Store a province's headcounts for a year as a new version (in force from now), creating the units the
    file names that the province lacks. Every row must be valid, or nothing is stored (422, every row's errors)."""
    province = await admin_province(session, admin, province)
    if not source.strip():
        raise ValidationFailed(errors=[FieldError("headcount_source_required", field="source")])
    rows = await anyio.to_thread.run_sync(parse_headcounts, data, max_rows)
    known = await units_by_code(session, province)
    first_row: dict[str, int] = {}
    for row in rows:
        if row.code in first_row:
            row.errors.append(FieldError("headcount_duplicate_row", field="unit_code", row=row.line,
                                         first_row=first_row[row.code]))
        elif row.code:
            first_row[row.code] = row.line
        if row.code and row.code not in known and not row.name and not row.errors:
            row.errors.append(FieldError("headcount_name_required", field="unit_name", row=row.line, code=row.code))
    errors = [error for row in rows for error in row.errors]
    if errors:
        raise ValidationFailed("headcounts_rejected", errors=errors, count=sum(bool(r.errors) for r in rows))

    created = [new_unit(province, row.code, row.name, row.kind or UnitKind.agency)
               for row in rows if row.code not in known]
    session.add_all(created)
    known.update({unit.code: unit for unit in created})
    version = HeadcountVersion(province_code=province, year=year, source=source.strip()[:300],
                               source_date=source_date, units=len(rows),
                               officials=sum(row.officials for row in rows),
                               uploaded_by=admin.id, uploaded_at=utcnow())
    session.add(version)
    await session.flush()
    session.add_all([UnitHeadcount(version_id=version.id, unit_id=known[row.code].id, officials=row.officials)
                     for row in rows])
    await session.flush()
    return HeadcountUploadResult(version=_public(version, in_force=True), rows=len(rows),
                                 units_created=len(created))


def _public(version: HeadcountVersion, *, in_force: bool) -> HeadcountVersionPublic:
    return HeadcountVersionPublic(**version.model_dump(exclude={"uploaded_by"}), in_force=in_force)


async def list_versions(session: AsyncSession, admin: User, province: str | None,
                        year: int | None) -> list[HeadcountVersionPublic]:
    """Every headcount version of the admin's province (a year, or all), newest first, the one in force marked."""
    province = await admin_province(session, admin, province)
    query = select(HeadcountVersion).where(HeadcountVersion.province_code == province)
    if year is not None:
        query = query.where(HeadcountVersion.year == year)
    versions = list((await session.execute(query.order_by(
        HeadcountVersion.year.desc(), HeadcountVersion.uploaded_at.desc()))).scalars())
    seen: set[int] = set()
    public = []
    for version in versions:
        public.append(_public(version, in_force=version.year not in seen))
        seen.add(version.year)
    return public


async def versions_in_force(session: AsyncSession, year: int, provinces: list[str] | None, *,
                            uploaded_by: datetime | None = None) -> dict[str, HeadcountVersion]:
    """The latest headcount version of each province (or of the given ones) for a year; with `uploaded_by`,
    the latest uploaded at or before that moment (the version that was in force then)."""
    query = select(HeadcountVersion).where(HeadcountVersion.year == year)
    if uploaded_by is not None:
        query = query.where(HeadcountVersion.uploaded_at <= uploaded_by)
    if provinces is not None:
        query = query.where(HeadcountVersion.province_code.in_(provinces))
    latest: dict[str, HeadcountVersion] = {}
    for version in (await session.execute(query.order_by(HeadcountVersion.uploaded_at.desc()))).scalars():
        latest.setdefault(version.province_code, version)
    return latest


async def headcounts_in_force(session: AsyncSession, versions: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Officials per unit in the given versions."""
    if not versions:
        return {}
    rows = await session.execute(select(UnitHeadcount.unit_id, UnitHeadcount.officials)
                                 .where(UnitHeadcount.version_id.in_(versions)))
    return {unit_id: officials for unit_id, officials in rows.all()}


async def units_of(session: AsyncSession, unit_ids: list[uuid.UUID] | None,
                   provinces: list[str] | None) -> list[OrgUnit]:
    query = select(OrgUnit)
    if provinces is not None:
        query = query.where(OrgUnit.province_code.in_(provinces))
    if unit_ids is not None:
        query = query.where(OrgUnit.id.in_(unit_ids))
    return list((await session.execute(query)).scalars())
