"""The SCORM player page and the package files: unversioned addresses given to browsers, on the API's origin (a
SCO finds the runtime through `window.parent`, which browsers allow only within one origin). Both work from the
signed tokens that the launch endpoint hands to enrolled learners; an iframe cannot send an Authorization header."""

import html
import json
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse

from app.api.deps import SessionDep, SettingsDep, StorageDep
from app.api.media import parse_byte_range
from app.core.errors import NotFound
from app.core.i18n import current_language, messages, t
from app.services.scorm import content, runtime

messages({
    "scorm_player_title": ("Bài học SCORM", "SCORM lesson"),
    "scorm_player_loading": ("Đang tải bài học…", "Loading the lesson…"),
    "scorm_player_ready": ("Bài học đang mở; kết quả được lưu tự động.",
                           "The lesson is open; results are saved automatically."),
    "scorm_player_saved": ("Đã lưu kết quả.", "Results saved."),
    "scorm_player_completed": ("Đã hoàn thành bài học.", "Lesson completed."),
    "scorm_player_course_completed": ("Đã hoàn thành bài học và cả khóa học.",
                                      "Lesson completed, and with it the course."),
    "scorm_player_closed": ("Bài học đã được mở ở nơi khác hoặc phiên này đã kết thúc; hãy mở lại bài học.",
                            "The lesson was opened elsewhere or this session has ended; launch it again."),
    "scorm_player_failed": ("Không lưu được kết quả; hãy kiểm tra kết nối rồi mở lại bài học.",
                            "Results could not be saved; check the connection and open the lesson again."),
})

PLAYER_LABELS = ("ready", "saved", "completed", "course_completed", "failed", "closed")
router = APIRouter(prefix="/scorm", include_in_schema=False)
STATIC = Path(__file__).resolve().parents[1] / "static"
ASSETS = {"scorm12.js": STATIC / "vendor/scorm-again-3.4.3/scorm12.min.js",
          "scorm2004.js": STATIC / "vendor/scorm-again-3.4.3/scorm2004.min.js",
          "player.js": STATIC / "scorm/player.js"}
# The player runs only its own scripts; the SCO's frame is this origin only.
PLAYER_CSP = ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; "
              "frame-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'")
# Content is what authoring tools export (inline scripts and eval are common), kept to this origin and to its
# frame: it can load nothing from elsewhere, send nothing elsewhere, and only the player may frame it.
CONTENT_CSP = ("default-src 'self' data: blob:; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
               "style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
               "form-action 'self'; frame-ancestors 'self'")
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">
<style>html,body{{margin:0;height:100%;font-family:system-ui,sans-serif}}
body{{display:flex;flex-direction:column}}
header{{padding:.5rem 1rem;background:#0b5394;color:#fff;display:flex;gap:1rem;align-items:baseline}}
header h1{{font-size:1rem;margin:0}} #status{{font-size:.875rem;opacity:.9}}
#status.closed{{background:#fff3cd;color:#5c3c00;padding:.125rem .5rem;border-radius:.25rem;opacity:1}}
iframe{{flex:1;border:0;width:100%}}</style>
<script type="application/json" id="hocso-scorm">{config}</script>
<script src="/scorm/assets/{runtime}"></script><script src="/scorm/assets/player.js" defer></script>
</head><body><header><h1>{title}</h1><span id="status" role="status">{loading}</span></header>
<iframe id="sco" title="{title}" allow="fullscreen; autoplay"></iframe></body></html>
"""


@router.get("/assets/{name}")
async def asset(name: str) -> FileResponse:
    """The pinned runtime (scorm-again) and the player script."""
    path = ASSETS.get(name)
    if path is None:
        raise NotFound()
    return FileResponse(path, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


@router.get("/play/{session_id}", response_class=HTMLResponse)
async def play(session_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
               token: str | None = None) -> HTMLResponse:
    """The player: the SCO in an iframe, with `window.API` / `window.API_1484_11` in this page."""
    url, sco, lesson_title = await runtime.content_url(session, settings, session_id, token)
    # Paths on this origin: the page, the SCO and the runtime endpoints share it whatever host name reached it.
    config = {"token": token, "content_url": url, "state_url": f"/api/v1/scorm/sessions/{session_id}/state",
              "commit_url": f"/api/v1/scorm/sessions/{session_id}/commits",
              "labels": {k: t(f"scorm_player_{k}") for k in PLAYER_LABELS}}
    # "</" cannot end the JSON block early once escaped; the JSON is never executed (CSP allows no inline script).
    raw = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    title = html.escape(lesson_title or t("scorm_player_title"))
    page = PAGE.format(lang=current_language(), title=title, config=raw, loading=html.escape(t(
        "scorm_player_loading")), runtime="scorm12.js" if sco.family == "1.2" else "scorm2004.js")
    return HTMLResponse(page, headers={"Content-Security-Policy": PLAYER_CSP, "Cache-Control": "no-store",
                                       "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"})


async def _serve(token: str, path: str, storage, settings, range_header: str | None,  # noqa: ANN001
                 if_none_match: str | None, head: bool) -> Response:
    key, expires = content.content_key(settings.secret_key, token, path)
    size = await content.file_size(storage, key)
    if size is None:
        raise NotFound()
    tag = content.etag(key, size)
    headers = {"ETag": tag, "Accept-Ranges": "bytes", "Content-Security-Policy": CONTENT_CSP,
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               # Long caching is safe: a key's bytes never change; the URL (token) changes with its expiry window.
               "Cache-Control": "private, max-age=86400, immutable"}
    if if_none_match and tag in [v.strip() for v in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    span = parse_byte_range(range_header, size)
    start, end = span or (0, size - 1)
    length = max(0, end - start + 1)
    headers |= {"Content-Length": str(length), "Content-Type": content.content_type(path)}
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if head:
        return Response(status_code=status, headers=headers)
    return StreamingResponse(content.read_range(storage, key, start, length), status_code=status, headers=headers)


@router.get("/content/{token}/{path:path}")
async def package_file(token: str, path: str, storage: StorageDep, settings: SettingsDep, request: Request,
                       range_header: Annotated[str | None, Header(alias="range")] = None,
                       if_none_match: Annotated[str | None, Header(alias="if-none-match")] = None) -> Response:
    """A file of the package: content type by extension, `Range`, `ETag`; nothing outside the package."""
    return await _serve(token, path, storage, settings, range_header, if_none_match, request.method == "HEAD")


router.add_api_route("/content/{token}/{path:path}", package_file, methods=["HEAD"], include_in_schema=False)
