"""Builders for intake tests: officials of a province, intakes as rows, enrollments and completions the way the
platform records them."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.base import utcnow
from app.models.identity import Audience, Role, User
from app.models.learning import Enrollment
from app.models.reporting import Intake, IntakeCourse, IntakeMember
from app.services.completion.completions import record_completion
from tests.factories import make_course, make_user, text_lesson

INTAKES = "/api/v1/intakes"


async def official(session: AsyncSession, agency: str, *, province_code: str = "19",
                   full_name: str = "Nguyễn Văn An", **fields: Any) -> User:
    return await make_user(session, audience=Audience.official, verified=True, agency=agency,
                           province_code=province_code, full_name=full_name, **fields)


async def province_admin(session: AsyncSession, province_code: str = "19") -> User:
    return await make_user(session, role=Role.province_admin, province_code=province_code)


async def course(session: AsyncSession, title: str = "Kỹ năng số cơ bản", **fields: Any) -> Any:
    """A published course with one text lesson (the report does not care how a course is completed)."""
    return await make_course(session, title=title, lessons=[text_lesson("intro")], **fields)


async def make_intake(session: AsyncSession, courses: list[Any], members: list[User], *,
                      province_code: str = "19", name: str = "Đợt 1/2026 – cán bộ cấp xã",
                      opens_at: datetime | None = None, deadline: datetime | None = None) -> Intake:
    """An intake as rows (the API path is tested on its own): opened yesterday, due in 30 days by default."""
    opens_at = opens_at or utcnow() - timedelta(days=1)
    intake = Intake(province_code=province_code, name=name, opens_at=opens_at,
                    deadline=deadline or opens_at + timedelta(days=31))
    session.add(intake)
    await session.flush()
    session.add_all(IntakeCourse(intake_id=intake.id, course_id=rows.course.id) for rows in courses)
    session.add_all(IntakeMember(intake_id=intake.id, user_id=user.id) for user in members)
    await session.flush()
    return intake


async def enroll(session: AsyncSession, user: User, rows: Any, *, left: bool = False) -> Enrollment:
    enrollment = Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id,
                            left_at=utcnow() if left else None)
    session.add(enrollment)
    await session.flush()
    return enrollment


async def complete(session: AsyncSession, user: User, rows: Any, completed_at: datetime | None = None) -> None:
    """Enrolled, then completed through record_completion, as the platform does it."""
    await enroll(session, user, rows)
    await record_completion(session, user=user, course=rows.course, course_version=rows.version.version,
                            completed_at=completed_at)


def csv_file(text: str, *, bom: bool = False) -> dict:
    """An httpx `files=` argument holding `text` as a UTF-8 CSV upload."""
    data = ("\ufeff" if bom else "") + text
    return {"file": ("hoc-vien.csv", data.encode("utf-8"), "text/csv")}
