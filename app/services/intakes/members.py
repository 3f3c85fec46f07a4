"""Adding learners to an intake from a CSV file, each row naming an existing learner of the intake's province.

The file contract (docs/intakes.md): UTF-8 with or without a BOM; `,` `;` or tab between columns (read from the
header line); a header row naming at least one of the columns `phone`, `email`, `national_id` (Vietnamese names
such as "Số điện thoại", "CCCD" work too; other columns, such as a name, are ignored). A row may fill several
identifiers, which must then name the same learner. Blank lines are skipped. Row numbers are CSV line numbers.
"""

import csv
import io
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date

import anyio.to_thread
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.dialect import insert_for
from app.core.errors import FieldError, PayloadTooLarge, ValidationFailed
from app.core.i18n import messages
from app.core.multipart import MultipartFile
from app.core.text import search_key
from app.models.base import utcnow
from app.models.identity import Role, User
from app.models.identity_fields import normalise_email, normalise_phone
from app.models.reporting import Intake, IntakeMember, MembersUploadResult
from app.services.geo import Geography, load_geography
from app.services.identity import citizen_ids

messages({
    "intake_csv_too_large": ("Tệp CSV vượt quá giới hạn {limit} byte.", "The CSV file exceeds {limit} bytes."),
    "intake_csv_too_many_rows": ("Tệp CSV có quá {limit} dòng dữ liệu; hãy chia thành nhiều tệp.",
                                 "The CSV file has more than {limit} data rows; split it into several files."),
    "intake_csv_missing": ("Thiếu tệp CSV trong trường “file”.", "The CSV file is missing from “file”."),
    "intake_csv_not_utf8": ("Tệp không phải văn bản UTF-8; trong Excel hãy lưu dạng “CSV UTF-8”.",
                            "The file is not UTF-8 text; in Excel, save it as “CSV UTF-8”."),
    "intake_csv_malformed": ("Tệp CSV không đọc được từ dòng này; hãy kiểm tra dấu ngoặc kép và độ dài ô.",
                             "The CSV file cannot be read from this line; check the quotes and cell lengths."),
    "intake_csv_empty": ("Tệp CSV không có dòng tiêu đề.", "The CSV file has no header row."),
    "intake_csv_no_identifier_column": (
        "Dòng tiêu đề cần ít nhất một cột phone, email hoặc national_id.",
        "The header row needs at least one of the columns phone, email or national_id."),
    "intake_csv_repeated_column": ("Cột {column} xuất hiện nhiều lần trong dòng tiêu đề.",
                                   "The column {column} appears more than once in the header row."),
    "member_identifier_missing": ("Dòng không có số điện thoại, email hay số định danh.",
                                  "The row has no phone, e-mail or national ID."),
    "member_not_found": ("Không có học viên nào với thông tin này.", "No learner has these details."),
    "member_identifiers_disagree": ("Các cột của dòng này chỉ tới những học viên khác nhau.",
                                    "The columns of this row point to different learners."),
    "member_not_a_learner": ("Tài khoản này không phải học viên đang hoạt động.",
                             "This account is not an active learner."),
    "member_duplicate_row": ("Học viên này đã có ở dòng {first_row}.", "This learner is already on row {first_row}."),
    "intake_members_rejected": ("Không thêm học viên nào: {count} dòng có lỗi.",
                                "No learner was added: {count} row(s) have errors."),
})

IDENTIFIERS = ("phone", "email", "national_id")
# Header names as Vietnamese admins type them, folded by search_key (lower-case, no accents, single spaces).
_HEADER_NAMES = {
    "phone": {"phone", "phone number", "mobile", "so dien thoai", "dien thoai", "sdt", "so dt"},
    "email": {"email", "e mail", "thu dien tu", "dia chi email"},
    "national_id": {"national id", "cccd", "so cccd", "can cuoc", "so can cuoc", "can cuoc cong dan",
                    "so dinh danh", "so dinh danh ca nhan", "ma dinh danh"},
}
_MULTIPART_ENVELOPE = 16 * 1024  # boundaries and part headers around the file
_LOOKUP_CHUNK = 500  # keeps IN lists and multi-row inserts far below both databases' parameter limits


@dataclass
class _Row:
    line: int
    keys: list[tuple[str, str]] = field(default_factory=list)  # (column, value as stored on the account)
    errors: list[FieldError] = field(default_factory=list)


async def add_members_from_csv(session: AsyncSession, settings: Settings, intake: Intake,
                               body: AsyncIterator[bytes], content_type: str | None,
                               content_length: str | None, *, strict: bool) -> MembersUploadResult:
    """Add the learners a CSV file names to an intake. Each row must name an existing, active learner of the
    intake's province (a former province code rolling into it counts) by phone, e-mail or national ID, once.
    Lenient (default): valid rows are added and bad ones reported with their line and column; strict: one bad
    row and nothing is added (422). Learners already in the intake are left as they are."""
    data = await _read_file(body, content_type, content_length, settings.intake_csv_max_bytes)
    geo = await load_geography(session)
    rows = await anyio.to_thread.run_sync(
        _parse, data, settings.intake_csv_max_rows, settings.secret_key, geo, utcnow().date())
    learners = await _find_learners(session, rows)

    first_row: dict[uuid.UUID, int] = {}
    for row in rows:
        user = _resolve(row, learners, geo, intake.province_code)
        if user is None:
            continue
        if user.id in first_row:
            row.errors.append(FieldError("member_duplicate_row", field=row.keys[0][0], row=row.line,
                                         first_row=first_row[user.id]))
        else:
            first_row[user.id] = row.line
    errors = [error for row in rows for error in row.errors]
    rejected = sum(bool(row.errors) for row in rows)
    if strict and errors:
        raise ValidationFailed("intake_members_rejected", errors=errors, count=rejected)

    # A learner's first row is always a valid one: duplicates are reported on the later rows.
    added = await _insert_members(session, intake.id, list(first_row))
    return MembersUploadResult(rows=len(rows), added=added, already_members=len(first_row) - added,
                               rejected=rejected, errors=[error.render() for error in errors])


async def _read_file(body: AsyncIterator[bytes], content_type: str | None, content_length: str | None,
                     limit: int) -> bytes:
    """The multipart `file` field, read as it arrives and refused (413) as soon as it passes `limit`."""
    if content_length and content_length.isdigit() and int(content_length) > limit + _MULTIPART_ENVELOPE:
        raise PayloadTooLarge("intake_csv_too_large", limit=limit)
    upload = MultipartFile(body, content_type, field="file", limit=limit, too_large="intake_csv_too_large")
    chunks = []
    try:
        async for chunk in upload.chunks():
            chunks.append(chunk)
    except ValidationFailed as exc:
        if any(error["message"] == "upload_file_missing" for error in exc.errors):
            raise ValidationFailed(errors=[FieldError("intake_csv_missing", field="file")]) from None
        raise
    return b"".join(chunks)


def _file_error(message: str, **params: object) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(message, field="file", **params)])


def _parse(data: bytes, max_rows: int, secret_key: str, geo: Geography, today: date) -> list[_Row]:
    """Every non-blank data row with its identifiers normalised as accounts store them, or its errors.
    CPU work (phone parsing) for up to `max_rows` rows: runs in a worker thread."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error("intake_csv_not_utf8") from None
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        columns = _identifier_columns(header or [])
        rows = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) == max_rows:
                raise PayloadTooLarge("intake_csv_too_many_rows", limit=max_rows)
            rows.append(_parse_row(reader.line_num, record, columns, secret_key, geo, today))
    except csv.Error:
        raise _file_error("intake_csv_malformed", line=reader.line_num) from None
    return rows


def _identifier_columns(header: list[str]) -> dict[str, int]:
    if not any(cell.strip() for cell in header):
        raise _file_error("intake_csv_empty")
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = search_key(cell.replace("_", " ").replace("-", " "))
        kind = next((k for k, names in _HEADER_NAMES.items() if name in names), None)
        if kind is None:
            continue
        if kind in columns:
            raise ValidationFailed(errors=[FieldError("intake_csv_repeated_column", row=1, column=kind)])
        columns[kind] = index
    if not columns:
        raise ValidationFailed(errors=[FieldError("intake_csv_no_identifier_column", row=1)])
    return columns


def _parse_row(line: int, record: list[str], columns: dict[str, int], secret_key: str, geo: Geography,
               today: date) -> _Row:
    row = _Row(line)
    for kind in IDENTIFIERS:
        raw = record[columns[kind]].strip() if kind in columns and columns[kind] < len(record) else ""
        if not raw:
            continue
        try:
            row.keys.append((kind, _normalise(kind, raw, secret_key, geo, today)))
        except PydanticCustomError as exc:
            row.errors.append(FieldError(exc.type, field=kind, row=line))
    if not row.keys and not row.errors:
        row.errors.append(FieldError("member_identifier_missing", field="/".join(columns), row=line))
    return row


def _normalise(kind: str, raw: str, secret_key: str, geo: Geography, today: date) -> str:
    if kind == "phone":
        return normalise_phone(raw)
    if kind == "email":
        return normalise_email(raw)
    number = citizen_ids.clean(raw)
    if len(number) == 11 and number.isdigit():
        number = "0" + number  # Excel stores the number as a number and drops the leading zero every ID has
    if not citizen_ids.is_citizen_id(number, geo.former, today):
        raise PydanticCustomError("national_id_invalid", "Not a citizen identity number")
    return citizen_ids.hash_citizen_id(secret_key, number)


_LOOKUP_COLUMNS = {"phone": User.phone, "email": User.email, "national_id": User.national_id_hash}


async def _find_learners(session: AsyncSession, rows: list[_Row]) -> dict[tuple[str, str], User]:
    """Accounts by (column, value) for every identifier in the file, a few IN queries per column."""
    found: dict[tuple[str, str], User] = {}
    for kind, column in _LOOKUP_COLUMNS.items():
        values = sorted({value for row in rows for k, value in row.keys if k == kind})
        for chunk in _chunks(values, _LOOKUP_CHUNK):
            for user in (await session.execute(select(User).where(column.in_(chunk)))).scalars():
                found[(kind, getattr(user, column.key))] = user
    return found


def _resolve(row: _Row, learners: dict[tuple[str, str], User], geo: Geography, province: str) -> User | None:
    """The learner a row names, if it names exactly one who may join; otherwise the row gets its errors."""
    if row.errors:
        return None
    users = []
    for kind, value in row.keys:
        user = learners.get((kind, value))
        # An account outside the intake's province answers exactly as no account: the upload must not tell
        # a province admin who is registered elsewhere.
        if user is None or user.province_code is None or geo.current_code(user.province_code) != province:
            row.errors.append(FieldError("member_not_found", field=kind, row=row.line))
        users.append(user)
    if row.errors:
        return None
    user, kind = users[0], row.keys[0][0]
    if any(other.id != user.id for other in users):
        row.errors.append(FieldError("member_identifiers_disagree", field=kind, row=row.line))
    elif user.role != Role.learner or not user.is_active:
        row.errors.append(FieldError("member_not_a_learner", field=kind, row=row.line))
    return None if row.errors else user


async def _insert_members(session: AsyncSession, intake_id: uuid.UUID, user_ids: list[uuid.UUID]) -> int:
    """Insert new members, skipping those already in (also when another upload adds them concurrently);
    returns how many were new."""
    added = 0
    now = utcnow()
    for chunk in _chunks(user_ids, _LOOKUP_CHUNK):
        inserted = await session.execute(
            insert_for(session, IntakeMember)
            .values([{"intake_id": intake_id, "user_id": user_id, "added_at": now} for user_id in chunk])
            .on_conflict_do_nothing().returning(IntakeMember.user_id))
        added += len(inserted.all())
    await session.flush()
    return added


def _chunks(values: list, size: int) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
