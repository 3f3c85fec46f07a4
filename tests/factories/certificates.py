"""Builders for certificate tests: a learner who completed a course that grants a certificate, issued the
way production issues it (record_completion enqueues the job; the job runner runs it)."""

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Database
from app.models.certificate import Certificate
from app.models.completion import Completion
from app.models.identity import User
from app.services import jobs
from app.services.certificates.issuing import certificate_for_completion, issue_certificate
from app.services.completion.completions import record_completion
from tests.factories import make_course, make_user, text_lesson

NAME = "Nguyễn Thị Hồng Nhung"
COURSE = "Kỹ năng số cơ bản"


@dataclass
class Issued:
    user: User
    completion: Completion
    certificate: Certificate | None
    course: Any


async def complete_course(session: AsyncSession, *, user: User | None = None, title: str = COURSE,
                          certificate: bool = True, estimated_minutes: int = 90, province_code: str = "01",
                          completed_at: datetime | None = None) -> tuple[User, Completion, Any]:
    """A learner (default: Nguyễn Thị Hồng Nhung, Hà Nội) completes a new course; the certificate job is
    queued, not yet run."""
    user = user or await make_user(session, full_name=NAME, province_code=province_code)
    rows = await make_course(session, title=title, certificate=certificate, lessons=[text_lesson("intro")])
    rows.version.estimated_minutes = estimated_minutes
    await session.flush()
    completion, _ = await record_completion(session, user=user, course=rows.course, course_version=1,
                                            completed_at=completed_at)
    return user, completion, rows


async def issue(session: AsyncSession, db: Database, **kwargs: Any) -> Issued:
    """complete_course, then run the queued jobs as the worker would (this renders the PDF)."""
    user, completion, rows = await complete_course(session, **kwargs)
    await jobs.run_pending(db)
    return Issued(user, completion, await certificate_for_completion(session, completion.id), rows)


async def issue_without_pdf(session: AsyncSession, settings: Settings, **kwargs: Any) -> Issued:
    """complete_course and issue the certificate row directly, for tests that never look at the PDF (the
    PDF routes render a missing PDF on demand)."""
    user, completion, rows = await complete_course(session, **kwargs)
    cert = await issue_certificate(session, completion.id, settings=settings)
    return Issued(user, completion, cert, rows)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
