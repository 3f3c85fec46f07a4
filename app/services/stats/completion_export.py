"""The completion export in three formats: NDJSON (the feed's items), CSV for machines and XLSX for people.

CSV keeps the feed's field names as headers (scripts read it by name) and adds `completed_at_local`, the same
moment in Asia/Ho_Chi_Minh, since a completion at 06:30 on 4 December in Hà Nội is 23:30 on 3 December in UTC.
XLSX has Vietnamese headers (English on request), the local time as a real date, province and course names
beside their codes. Both go through app.core.spreadsheets, so no learner's name can become a formula.
"""

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.localtime import LOCAL_TZ
from app.core.spreadsheets import Column, Sheet, csv_stream, xlsx_stream
from app.models.course import Course
from app.services.completion.feed_items import FIELDS
from app.services.geo import Geography, load_geography
from app.services.stats import feed as completion_feed
from app.services.stats.feed import FeedFilter
from app.services.stats.figures import course_titles
from app.services.stats.workbook import ASSURANCE_NAMES

Format = Literal["csv", "ndjson", "xlsx"]
CSV_HEADERS = [*FIELDS, "completed_at_local"]
CSV_COLUMNS = [Column(name, name, "integer" if name == "course_version" else "code" if name.endswith(("id", "code"))
                      else "text") for name in CSV_HEADERS]

XLSX_COLUMNS = [
    Column("Thời điểm hoàn thành (giờ Việt Nam)", "Completed at (Vietnam time)", "datetime", 18),
    Column("Họ và tên", "Full name", "text", 28),
    Column("Khóa học", "Course", "text", 32),
    Column("Mã khóa học", "Course code", "code", 20),
    Column("Phiên bản khóa học", "Course version", "integer", 10),
    Column("Đối tượng", "Audience", "text", 24),
    Column("Mức bảo đảm", "Assurance", "text", 24),
    Column("Tỉnh, thành phố hiện nay", "Current province", "text", 20),
    Column("Mã tỉnh hiện nay", "Current province code", "code", 10),
    Column("Tỉnh, thành phố khi hoàn thành", "Province at completion", "text", 20),
    Column("Mã tỉnh khi hoàn thành", "Province code at completion", "code", 10),
    Column("Nguồn", "Source", "text", 16),
    Column("Hệ thống đối tác", "Partner system", "code", 20),
    Column("Mã tham chiếu của đối tác", "Partner reference", "code", 20),
    Column("Mã học viên", "Learner id", "code", 38),
    Column("Mã lượt hoàn thành", "Completion id", "code", 38),
]
AUDIENCES = {"citizen": ("Người dân", "Citizen"), "official": ("Cán bộ, công chức, viên chức", "Official")}
SOURCES = {"platform": ("Học trên nền tảng", "Platform"), "partner": ("Đối tác báo cáo", "Partner")}


@dataclass(frozen=True)
class Names:
    """Province and course names for the XLSX columns beside the codes, read once per export."""

    geography: Geography
    courses: dict[uuid.UUID, tuple[str, str | None]]

    def province(self, code: str | None) -> str | None:
        if code is None:
            return None
        unit = self.geography.current.get(code) or self.geography.former.get(code)
        return unit.name if unit else None


async def load_names(session: AsyncSession) -> Names:
    """Every province and every course title (a few hundred courses at most: cheaper than one per row)."""
    ids = list(await session.scalars(select(Course.id)))
    return Names(await load_geography(session), await course_titles(session, ids))


def _local(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(LOCAL_TZ)


def _csv_row(item: dict) -> list[object]:
    return [*item.values(), _local(item["completed_at"]).isoformat()]


def _xlsx_row(item: dict, names: Names, english: bool) -> list[object]:
    lang = 1 if english else 0
    course = names.courses.get(uuid.UUID(item["course_id"]))
    audience, source = AUDIENCES.get(item["audience"]), SOURCES.get(item["source"])
    assurance = ASSURANCE_NAMES.get(item["assurance"])
    return [
        datetime.fromisoformat(item["completed_at"]), item["full_name"], course[1] if course else None,
        item["course_slug"], item["course_version"], audience[lang] if audience else item["audience"],
        assurance[lang] if assurance else item["assurance"],
        names.province(item["current_province_code"]), item["current_province_code"],
        names.province(item["province_code"]), item["province_code"],
        source[lang] if source else item["source"], item["client_id"], item["external_ref"],
        item["user_id"], item["id"],
    ]


async def export(db: Database, f: FeedFilter, fmt: Format, *, names: Names | None = None, english: bool = False,
                 delimiter: str = ",") -> AsyncIterator[bytes]:
    """Every completion matching `f`, streamed in the asked format in constant memory (XLSX via a temporary
    file). `names` is needed for XLSX only."""
    batches = completion_feed.export(db, f)
    if fmt == "ndjson":
        async for items in batches:
            yield "".join(item + "\n" for item in items).encode()
        return

    async def rows() -> AsyncIterator[list[list[object]]]:
        async for items in batches:
            parsed = [json.loads(item) for item in items]
            if fmt == "csv":
                yield [_csv_row(item) for item in parsed]
            else:
                yield [_xlsx_row(item, names, english) for item in parsed]

    if fmt == "csv":
        stream = csv_stream(Sheet("completions", CSV_COLUMNS, rows()), delimiter=delimiter, headers=CSV_HEADERS)
    else:
        stream = xlsx_stream([Sheet("Completions" if english else "Lượt hoàn thành", XLSX_COLUMNS, rows())],
                             english=english)
    async for chunk in stream:
        yield chunk
