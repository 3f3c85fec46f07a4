"""Images of imported questions, shown to enrolled learners only, through signed URLs.

Question texts keep `@@PLUGINFILE@@/<asset path>` where Moodle XML had its file references (see
content/packages/moodle_xml.py). When an attempt is shown, those references become signed, expiring URLs of
the stored assets — but only while the learner is actively enrolled in the quiz's course; otherwise (and for
an asset that cannot be found) the reference is emptied, so no stored file is ever reachable without a
signature. Questions without images cost no statement.
"""

import html
import re
import uuid

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.storage import Storage
from app.models.course import Asset, CourseVersion, Lesson
from app.models.learning import AttemptPublic, Enrollment
from app.models.quiz import Quiz

FILE_REFERENCE = re.compile(r"@@PLUGINFILE@@/([^\"'<>\s?#]+)")
MAX_URL_TTL_S = 3600


def _texts(view: AttemptPublic) -> list[str]:
    found = []
    for question in view.questions:
        found += [question.prompt, *(c.text for c in question.choices)]
        if question.review is not None:
            found += [question.review.feedback or "", *question.review.choice_feedback.values()]
    return found


def _replace(view: AttemptPublic, url_of: dict[str, str]) -> None:
    def swap(text: str | None) -> str | None:
        if not text or "@@PLUGINFILE@@/" not in text:
            return text
        return FILE_REFERENCE.sub(lambda m: html.escape(url_of.get(m.group(1), ""), quote=True), text)

    for question in view.questions:
        question.prompt = swap(question.prompt)
        for choice in question.choices:
            choice.text = swap(choice.text)
        if question.review is not None:
            question.review.feedback = swap(question.review.feedback)
            question.review.choice_feedback = {k: swap(v) for k, v in question.review.choice_feedback.items()}


async def sign_files(session: AsyncSession, storage: Storage | None, user_id: uuid.UUID, view: AttemptPublic, *,
                     ttl_s: int) -> AttemptPublic:
    """`view` with its image references signed for `ttl_s` (at most an hour), or emptied when the learner
    is not enrolled in the course any more (or no storage is given)."""
    paths = {path for text in _texts(view) if "@@PLUGINFILE@@/" in text for path in FILE_REFERENCE.findall(text)}
    if not paths:
        return view
    url_of: dict[str, str] = {}
    if storage is not None:
        rows = (await session.execute(
            select(Asset.path, Asset.storage_key, Asset.content_type)
            .join(Lesson, Lesson.version_id == Asset.version_id)
            .join(Quiz, Quiz.lesson_id == Lesson.id)
            .join(CourseVersion, CourseVersion.id == Lesson.version_id)
            .join(Enrollment, and_(Enrollment.course_id == CourseVersion.course_id, Enrollment.user_id == user_id,
                                   Enrollment.left_at.is_(None)))
            .where(Quiz.id == view.quiz_id, Asset.path.in_(paths)))).all()
        for path, key, content_type in rows:
            url_of[path] = await storage.presigned_get(key, ttl_s=min(ttl_s, MAX_URL_TTL_S),
                                                       content_type=content_type)
    _replace(view, url_of)
    return view
