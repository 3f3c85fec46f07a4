"""HLS playlists of video lessons, for the players of enrolled learners (the `hls_url` of a lesson)."""

import uuid
from typing import Annotated

from fastapi import Path, Query, Request, Response

from app.api.deps import SessionDep, SettingsDep, StorageDep
from app.api.problems import problem
from app.api.v1 import v1_router
from app.services.video import links

router = v1_router("/lessons/{lesson_id}/hls", tags=["courses"])
Access = Annotated[str, Query(max_length=200, description="The token in the lesson's `hls_url`")]
_ANSWERS = {200: {"content": {links.PLAYLIST_TYPE: {}}, "description": "The playlist"},
            403: problem("Bad or expired token, or not enrolled (any more)"),
            404: problem("No such lesson, rendition or track, or no renditions yet")}


def _playlist(text: str) -> Response:
    # Private: each URL inside is signed for one learner; short-lived: the signatures expire.
    return Response(text, media_type=links.PLAYLIST_TYPE, headers={"Cache-Control": "private, max-age=60"})


@router.get("/master.m3u8", summary="A video lesson's master playlist", response_class=Response,
            responses=_ANSWERS)
async def master_playlist(lesson_id: uuid.UUID, access: Access, session: SessionDep,
                          settings: SettingsDep) -> Response:
    """Variants (240p ≈ 300 kbps, 360p ≈ 700 kbps, 720p ≈ 2.5 Mbps; never above the source) and subtitle
    tracks. Open `hls_url` from `GET /api/v1/lessons/{id}` as is; no `Authorization` header is needed."""
    return _playlist(await links.master(session, settings, lesson_id, access))


@router.get("/subtitles/{language}.m3u8", summary="A caption track as a subtitle playlist",
            response_class=Response, responses=_ANSWERS)
async def subtitle_playlist(lesson_id: uuid.UUID, language: Annotated[str, Path(max_length=10)],
                            access: Access, session: SessionDep, storage: StorageDep,
                            settings: SettingsDep) -> Response:
    return _playlist(await links.subtitles(session, storage, settings, lesson_id, language, access))


@router.get("/{rendition}.m3u8", summary="One rendition's media playlist", response_class=Response,
            responses=_ANSWERS)
async def rendition_playlist(lesson_id: uuid.UUID, rendition: Annotated[str, Path(max_length=10)],
                             access: Access, request: Request, session: SessionDep, storage: StorageDep,
                             settings: SettingsDep) -> Response:
    """Every segment is a signed URL (S3 presigned GET, or the embedded storage's) valid for at least twice
    the video's length plus `HOCSO_MEDIA_URL_TTL_S`."""
    cache = request.app.state.per_worker.playlists
    return _playlist(await links.rendition(session, storage, settings, lesson_id, rendition, access, cache))
