"""The benchmark's 50 published courses, written through the models (50 rows need no bulk path).

Each course has what the learning scenarios exercise: a required video (with its duration, so heartbeats are
clamped), a document, a text lesson and a 10-question quiz. Titles are Vietnamese, as in the real catalogue.
"""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from text_unidecode import unidecode

from app.core.config import Settings
from app.core.db import Database
from app.models.course import Asset, Course, CourseVersion, Lesson, LessonKind, Module, VersionStatus
from app.models.quiz import Choice, Question, QuestionKind, Quiz
from bench.database import drop_database, ensure_database, migrate

COURSE_COUNT = 50
VIDEO_SECONDS = 300.0
QUIZ_QUESTIONS = 10
SLUG_PREFIX = "bench-"
TOPICS = [
    "Kỹ năng số cơ bản",
    "An toàn thông tin cá nhân",
    "Dịch vụ công trực tuyến",
    "Thanh toán không dùng tiền mặt",
    "Sử dụng VNeID",
    "Thương mại điện tử",
    "Chữ ký số",
    "Nhận diện lừa đảo qua mạng",
    "Trí tuệ nhân tạo",
    "Chuyển đổi số trong cơ quan nhà nước",
]
LEVELS = ["nhập môn", "cơ bản", "nâng cao", "thực hành", "cho cán bộ"]


@dataclass(frozen=True)
class BenchCourse:
    id: uuid.UUID
    slug: str
    video_lesson_id: uuid.UUID
    quiz_id: uuid.UUID


def course_title(n: int) -> str:
    return f"{TOPICS[n % len(TOPICS)]} {LEVELS[n // len(TOPICS) % len(LEVELS)]}"


def _search_text(*parts: str) -> str:
    return unidecode(" ".join(parts)).lower()


def course_slugs() -> list[str]:
    """The 50 courses' slugs, in the order create_courses returns their ids."""
    return [f"{SLUG_PREFIX}{n:02d}" for n in range(COURSE_COUNT)]


async def create_courses(session: AsyncSession, published_at: datetime) -> list[uuid.UUID]:
    """Create the 50 courses (idempotent on slug); returns their ids in slug order."""
    existing = {
        c.slug: c.id
        for c in (await session.execute(select(Course).where(Course.slug.startswith(SLUG_PREFIX)))).scalars()
    }
    ids = []
    for n, slug in enumerate(course_slugs()):
        if slug in existing:
            ids.append(existing[slug])
            continue
        ids.append(await _create_course(session, n, slug, published_at))
    await session.flush()
    return ids


async def _create_course(session: AsyncSession, n: int, slug: str, published_at: datetime) -> uuid.UUID:
    title = course_title(n)
    description = f"Khóa học {title.lower()} dành cho người dân và cán bộ, học theo nhịp độ của mình."
    course = Course(slug=slug, published_at=published_at, enrollment_count=0)
    session.add(course)
    await session.flush()
    audiences = ["official"] if n % 5 == 4 else ["citizen", "official"]
    version = CourseVersion(
        course_id=course.id,
        version=1,
        status=VersionStatus.published,
        title=title,
        search_text=_search_text(title, description),
        description=description,
        audiences=audiences,
        estimated_minutes=45,
        certificate=n % 2 == 0,
        video_coverage=0.9,
        published_at=published_at,
    )
    session.add(version)
    await session.flush()
    intro = Module(version_id=version.id, position=1, title="Giới thiệu")
    practice = Module(version_id=version.id, position=2, title="Thực hành")
    session.add_all([intro, practice])
    await session.flush()
    video = Asset(
        version_id=version.id,
        path="media/bai-1.mp4",
        storage_key=f"bench/{slug}/v1/bai-1.mp4",
        sha256="0" * 64,
        size=48_000_000,
        content_type="video/mp4",
        duration_s=VIDEO_SECONDS,
    )
    document = Asset(
        version_id=version.id,
        path="docs/tai-lieu.pdf",
        storage_key=f"bench/{slug}/v1/tai-lieu.pdf",
        sha256="1" * 64,
        size=350_000,
        content_type="application/pdf",
    )
    session.add_all([video, document])
    await session.flush()
    lessons = [
        Lesson(
            version_id=version.id,
            module_id=intro.id,
            position=1,
            key="bai-1",
            kind=LessonKind.video,
            title="Bài 1: Tổng quan",
            asset_id=video.id,
            duration_s=VIDEO_SECONDS,
        ),
        Lesson(
            version_id=version.id,
            module_id=intro.id,
            position=2,
            key="tai-lieu",
            kind=LessonKind.document,
            title="Tài liệu tham khảo",
            asset_id=document.id,
        ),
        Lesson(
            version_id=version.id,
            module_id=practice.id,
            position=1,
            key="huong-dan",
            kind=LessonKind.text,
            title="Hướng dẫn thực hành",
            text_body="Làm theo từng bước trong bài.",
        ),
        Lesson(
            version_id=version.id,
            module_id=practice.id,
            position=2,
            key="kiem-tra",
            kind=LessonKind.quiz,
            title="Bài kiểm tra cuối khóa",
        ),
    ]
    session.add_all(lessons)
    await session.flush()
    quiz = Quiz(lesson_id=lessons[-1].id, pass_score=80, max_attempts=None, time_limit_s=1800, shuffle=True)
    session.add(quiz)
    await session.flush()
    for q in range(QUIZ_QUESTIONS):
        question = Question(
            quiz_id=quiz.id,
            position=q + 1,
            kind=QuestionKind.single,
            prompt=f"Câu {q + 1}: chọn đáp án đúng về {title.lower()}.",
        )
        session.add(question)
        await session.flush()
        session.add_all(
            [
                Choice(
                    question_id=question.id,
                    position=c + 1,
                    text=f"Phương án {'ABCD'[c]}",
                    weight=100 if c == q % 4 else 0,
                )
                for c in range(4)
            ]
        )
    return course.id


def now_utc() -> datetime:
    return datetime.now(UTC)


async def fresh_database_with_courses(url: str, published_at: datetime) -> list[uuid.UUID]:
    """A database dropped, created and migrated at `url`, holding the bench courses; their ids."""
    await drop_database(url)
    await ensure_database(url)
    await asyncio.to_thread(migrate, url)
    database = Database(Settings(database_url=url, _env_file=None))
    try:
        async with database.session() as session:
            return await create_courses(session, published_at=published_at)
    finally:
        await database.dispose()
