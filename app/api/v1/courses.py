"""The catalogue (anyone), course outlines, and lessons for enrolled learners."""

import hashlib
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel

from app.api.deps import CurrentUser, SessionDep, SettingsDep, StorageDep
from app.models.course import CourseDetail, CoursePage, LessonContent
from app.models.identity import Audience
from app.services import catalogue

router = APIRouter(prefix="/api/v1", tags=["courses"])
CATALOGUE_CACHE = "public, max-age=60"


def _cached(model: BaseModel, response: Response, if_none_match: str | None) -> BaseModel | Response:
    """ETag from the body itself, so any change to the course or its counters changes it; 304 on a match."""
    etag = '"' + hashlib.sha256(model.model_dump_json().encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CATALOGUE_CACHE}
    if if_none_match:
        candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        if etag in candidates or "*" in candidates:
            return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return model


@router.get("/courses", summary="Browse the catalogue", response_model=CoursePage,
            responses={304: {"description": "Not modified (If-None-Match)"}})
async def list_courses(
    session: SessionDep, response: Response,
    q: Annotated[str | None, Query(max_length=200, description="Words to find; accents are ignored")] = None,
    audience: Audience | None = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    sort: Literal["newest", "title", "popular"] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> CoursePage | Response:
    """Published courses. `q=ky nang so` finds “Kỹ năng số”; pages by `cursor` (pass `next_cursor` back)."""
    page = await catalogue.list_catalogue(session, q=q, audience=audience.value if audience else None,
                                          language=language, sort=sort, limit=limit, cursor=cursor)
    return _cached(page, response, if_none_match)


@router.get("/courses/{course}", summary="A course and its outline", response_model=CourseDetail,
            responses={304: {"description": "Not modified (If-None-Match)"}, 404: {"description": "Unknown"}})
async def get_course(course: str, session: SessionDep, response: Response,
                     if_none_match: Annotated[str | None, Header()] = None) -> CourseDetail | Response:
    """By id or slug: modules, lessons (key, kind, title, duration, required) and quiz summaries — never
    the questions."""
    return _cached(await catalogue.course_detail(session, course), response, if_none_match)


@router.get("/lessons/{lesson_id}", summary="Open a lesson", response_model=LessonContent,
            responses={403: {"description": "Not enrolled"}, 404: {"description": "Unknown lesson"}})
async def open_lesson(lesson_id: uuid.UUID, session: SessionDep, storage: StorageDep, settings: SettingsDep,
                      user: CurrentUser, response: Response) -> LessonContent:
    """For learners enrolled in the course: the text, the quiz summary, or a signed media URL (TTL ≤ 1 h)
    that supports `Range` requests for seeking."""
    response.headers["Cache-Control"] = "private, no-store"
    return await catalogue.open_lesson(session, storage, user, lesson_id, url_ttl_s=settings.media_url_ttl_s)
