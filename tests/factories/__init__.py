"""Builders for test data: each returns a persisted row; tokens are signed like the real ones."""

import uuid
from dataclasses import dataclass
from itertools import count
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import KeyRing, access_claims, hash_secret
from app.core.text import search_key
from app.models.base import utcnow
from app.models.identity import Audience, Role, User

_seq = count(1)
PASSWORD = "Mat-khau-rat-manh-2026"
_PASSWORD_HASH = hash_secret(PASSWORD)  # hashing is slow by design; do it once


async def make_user(session: AsyncSession, *, role: Role = Role.learner, audience: Audience = Audience.citizen,
                    province_code: str | None = "01", full_name: str = "Nguyễn Thị Hồng Nhung",
                    verified: bool = False, agency: str | None = None, email: str | None = None,
                    phone: str | None = None) -> User:
    n = next(_seq)
    user = User(
        email=email or f"user{n}-{uuid.uuid4().hex[:6]}@example.vn",
        phone=phone,
        full_name=full_name,
        search_text=search_key(full_name, phone),
        audience=audience,
        role=role,
        province_code=province_code,
        agency=agency or ("Sở Nội vụ" if audience == Audience.official else None),
        official_verified_at=utcnow() if verified else None,
        password_hash=_PASSWORD_HASH,
    )
    session.add(user)
    await session.flush()
    return user


def token_for(keyring: KeyRing, settings: Settings, user: User, *, ttl_s: int = 900) -> str:
    return keyring.sign(access_claims(settings, subject=str(user.id), role=user.role, ttl_s=ttl_s))


def service_token(keyring: KeyRing, settings: Settings, *, scopes: list[str], province: str | None = None,
                  client_id: str = "test-client") -> str:
    extra = {"scope": " ".join(scopes), **({"province": province} if province else {})}
    return keyring.sign(access_claims(settings, subject=f"client:{client_id}", role="service", ttl_s=900,
                                      extra=extra))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- Courses built directly as rows (learning-flow tests do not wait for the package importer) -------------


def video(key: str, duration_s: float = 120, *, required: bool = True) -> dict:
    return {"key": key, "kind": "video", "duration_s": duration_s, "required": required}


def document(key: str, *, required: bool = True) -> dict:
    return {"key": key, "kind": "document", "required": required}


def text_lesson(key: str, *, required: bool = True) -> dict:
    return {"key": key, "kind": "text", "required": required}


def quiz(key: str, questions: list[dict] | None = None, *, required: bool = True, pass_score: float = 80,
         max_attempts: int | None = None, time_limit_s: int | None = None, draw: int | None = None,
         shuffle: bool = True) -> dict:
    """A quiz lesson; questions are {kind, prompt, choices: [(text, weight)]}; true_false takes `answer`."""
    questions = questions if questions is not None else [
        {"kind": "single", "prompt": "Thủ đô của Việt Nam?", "choices": [("Hà Nội", 100), ("Huế", 0)]},
        {"kind": "true_false", "prompt": "Mật khẩu nên dài ít nhất 8 ký tự.", "answer": True},
    ]
    return {"key": key, "kind": "quiz", "required": required, "questions": questions,
            "pass_score": pass_score, "max_attempts": max_attempts, "time_limit_s": time_limit_s,
            "draw": draw, "shuffle": shuffle}


@dataclass
class CourseRows:
    course: Any
    version: Any
    lessons: dict[str, Any]  # by key
    quizzes: dict[str, Any]  # by lesson key
    questions: dict[str, list[Any]]  # by lesson key, in position order
    choices: dict[Any, list[Any]]  # by question id, in position order


async def make_course(session: AsyncSession, *, slug: str | None = None, title: str = "Kỹ năng số cơ bản",
                      audiences: list[str] | None = None, certificate: bool = False,
                      video_coverage: float = 0.9, lessons: list[dict] | None = None,
                      status: str = "published", version: int = 1,
                      course: Any = None) -> CourseRows:
    """A course (or a new version of `course`) with one module holding `lessons` (default: video, document,
    quiz), as rows, the way the package importer would leave them."""
    from app.models.course import Course, CourseVersion, Lesson, Module
    from app.models.quiz import Choice, Question, Quiz

    if course is None:
        course = Course(slug=slug or f"khoa-hoc-{next(_seq)}-{uuid.uuid4().hex[:6]}",
                        published_at=utcnow() if status == "published" else None)
        session.add(course)
        await session.flush()
    row = CourseVersion(course_id=course.id, version=version, status=status, title=title,
                        search_text=title.lower(), audiences=audiences or ["citizen", "official"],
                        certificate=certificate, video_coverage=video_coverage,
                        published_at=utcnow() if status == "published" else None)
    session.add(row)
    await session.flush()
    module = Module(version_id=row.id, position=1, title="Phần 1")
    session.add(module)
    await session.flush()
    built = CourseRows(course, row, {}, {}, {}, {})
    specs = lessons if lessons is not None else [video("intro"), document("handbook"), quiz("final-quiz")]
    for position, spec in enumerate(specs, 1):
        lesson = Lesson(version_id=row.id, module_id=module.id, position=position, key=spec["key"],
                        kind=spec["kind"], title=f"Bài {position}: {spec['key']}", required=spec["required"],
                        duration_s=spec.get("duration_s"),
                        text_body="Nội dung bài học" if spec["kind"] == "text" else None)
        session.add(lesson)
        await session.flush()
        built.lessons[spec["key"]] = lesson
        if spec["kind"] != "quiz":
            continue
        quiz_row = Quiz(lesson_id=lesson.id, pass_score=spec["pass_score"], max_attempts=spec["max_attempts"],
                        time_limit_s=spec["time_limit_s"], draw=spec["draw"], shuffle=spec["shuffle"])
        session.add(quiz_row)
        await session.flush()
        built.quizzes[spec["key"]] = quiz_row
        built.questions[spec["key"]] = []
        for q_position, q in enumerate(spec["questions"], 1):
            question = Question(quiz_id=quiz_row.id, position=q_position, kind=q["kind"], prompt=q["prompt"],
                                feedback=q.get("feedback", "Xem lại bài học."))
            session.add(question)
            await session.flush()
            built.questions[spec["key"]].append(question)
            pairs = (q["choices"] if q["kind"] != "true_false"
                     else [("Đúng", 100 if q["answer"] else 0), ("Sai", 0 if q["answer"] else 100)])
            built.choices[question.id] = []
            for c_position, (text, weight) in enumerate(pairs, 1):
                choice = Choice(question_id=question.id, position=c_position, text=text, weight=weight,
                                feedback=f"Phản hồi cho {text}")
                session.add(choice)
                built.choices[question.id].append(choice)
            await session.flush()
    return built

