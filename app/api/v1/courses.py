"""The catalogue (anyone), course outlines, and lessons for enrolled learners."""

import uuid
from typing import Annotated, Literal

from fastapi import Header, Query, Request, Response
from pydantic import BaseModel

from app.api.conditional import NOT_MODIFIED, body_etag, not_modified
from app.api.deps import CurrentUser, SessionDep, SettingsDep, StorageDep
from app.api.problems import problem
from app.api.v1 import v1_router
from app.core.text import search_key
from app.models.course import CourseDetail, CoursePage, LessonContent
from app.models.identity import Audience
from app.services.content import catalogue

router = v1_router(tags=["courses"])
CATALOGUE_CACHE = "public, max-age=60"


def _cached(model: BaseModel, response: Response, if_none_match: str | None) -> BaseModel | Response:
    """ETag and public Cache-Control on the answer; 304 when the client already holds it."""
    etag = body_etag(model.model_dump_json().encode())
    headers = {"ETag": etag, "Cache-Control": CATALOGUE_CACHE}
    if not_modified(etag, if_none_match):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return model


def forget_catalogue(request: Request) -> None:
    """Called by the routes that publish or archive a course, so this worker shows the change at once."""
    request.app.state.per_worker.catalogue.clear()


@router.get("/courses", summary="Browse the catalogue", response_model=CoursePage,
            responses=NOT_MODIFIED)
async def list_courses(
    request: Request, session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="Words to find; accents are ignored")] = None,
    audience: Audience | None = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    sort: Literal["newest", "title", "popular"] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> CoursePage | Response:
    """Published courses. `q=ky nang so` finds “Kỹ năng số”; pages by `cursor` (pass `next_cursor` back).

    Each worker keeps the rendered page for `HOCSO_CATALOGUE_CACHE_TTL_S` (5 s) per query. Publishing or
    archiving a course clears the cache of the worker that did it; other workers show the change within the
    TTL (and browsers, which may keep a page for `max-age=60`, revalidate it with `If-None-Match`)."""
    audience_word = audience.value if audience else None
    # q as its folded words: the search uses only those, so “Kỹ năng” and “ky  nang” share one entry.
    key = (tuple(search_key(q).split()), audience_word, language, sort, limit, cursor)

    async def render() -> tuple[bytes, str]:
        page = await catalogue.list_catalogue(session, q=q, audience=audience_word, language=language,
                                              sort=sort, limit=limit, cursor=cursor)
        body = page.model_dump_json().encode()
        return body, body_etag(body)

    body, etag = await request.app.state.per_worker.catalogue.get(key, render)
    headers = {"ETag": etag, "Cache-Control": CATALOGUE_CACHE}
    if not_modified(etag, if_none_match):
        return Response(status_code=304, headers=headers)
    # Already rendered from a CoursePage: returned as bytes so FastAPI does not validate and dump it again.
    return Response(content=body, media_type="application/json", headers=headers)


@router.get("/courses/{course}", summary="A course and its outline", response_model=CourseDetail,
            responses={**NOT_MODIFIED, 404: problem("Unknown")})
async def get_course(course: str, session: SessionDep, response: Response,
                     if_none_match: Annotated[str | None, Header()] = None) -> CourseDetail | Response:
    """By id or slug: modules, lessons (key, kind, title, duration, required) and quiz summaries — never
    the questions."""
    return _cached(await catalogue.course_detail(session, course), response, if_none_match)


@router.get("/lessons/{lesson_id}", summary="Open a lesson", response_model=LessonContent,
            responses={403: problem("Not enrolled"), 404: problem("Unknown lesson")})
async def open_lesson(lesson_id: uuid.UUID, session: SessionDep, storage: StorageDep, settings: SettingsDep,
                      user: CurrentUser, response: Response) -> LessonContent:
    """For learners enrolled in the course: the text, the quiz summary, or a signed media URL (TTL ≤ 1 h)
    that supports `Range` requests for seeking. Videos also get `hls_url` (adaptive, for weak networks) and
    `download_url` (a small 360p MP4 for offline viewing, with `Range`) once their renditions are ready,
    and `captions`."""
    response.headers["Cache-Control"] = "private, no-store"
    return await catalogue.open_lesson(session, storage, user, lesson_id, url_ttl_s=settings.media_url_ttl_s,
                                       settings=settings)
