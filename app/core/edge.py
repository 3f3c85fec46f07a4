"""The edge: what every request must be before any router, parser or database sees it (issue 18).

- No control characters in the path, the query or the fields of a JSON or form body. PostgreSQL cannot store
  NUL in text or jsonb, and a NUL reaching it was a 500 on 22 routes; lone UTF-16 surrogates (`"\\ud800"`)
  cannot be encoded for the database either. Refused once here (422 naming the field), not route by route.
  Line breaks and tabs stay allowed inside JSON strings (descriptions, answers); not in paths and queries.
- JSON and form bodies are bounded (`HOCSO_JSON_BODY_MAX_BYTES`): a declared `Content-Length` above the bound
  is refused before a byte is read, a body that grows past it is refused as soon as it does (413), so a 50 MB
  JSON body is never buffered or parsed. Uploads (multipart, direct PUTs) keep their own, larger, limits.
  Which bodies are files is said once, by the paths their routers hand the edge (`raw_body_prefixes`: the
  signed direct uploads of `app/api/media.py`): those are never taken for JSON, whatever their content type
  or lack of one, so a package PUT without a Content-Type meets the package limit and the signature's
  content-type rule, not the JSON bound.
- Headers are bounded (`HOCSO_HEADER_MAX_BYTES`, 431) and a JSON or form body must arrive within
  `HOCSO_BODY_TIMEOUT_S` (408): a byte every 2 s, or a `Content-Length` longer than the body, no longer holds a
  request open for ever. The server has already read the headers by then: its protocol
  (`app/core/request_head.py`) and the reverse proxy in front bound them, and their pace, while they arrive.

Pure ASGI, so the body is read once and handed on unchanged.
"""

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_response
from app.core.i18n import messages, t
from app.core.text import has_control_characters

messages({
    "control_characters": ("Không được chứa ký tự điều khiển (như NUL).",
                           "Must not contain control characters (such as NUL)."),
    "headers_too_large": ("Phần đầu yêu cầu quá lớn: tối đa {limit} byte.",
                          "The request headers are too large: at most {limit} bytes."),
    "body_too_slow": ("Nội dung yêu cầu đến quá chậm (quá {seconds} giây).",
                      "The request body took too long to arrive (over {seconds} seconds)."),
    "body_too_large": ("Nội dung yêu cầu quá lớn: tối đa {limit} byte.",
                       "The request body is too large: at most {limit} bytes."),
})

# A JSON escape of a C0 control other than tab, LF and CR, or of a UTF-16 surrogate, not itself escaped.
_SUSPECT_ESCAPE = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u(?:00[01][0-8bBcCeEfF]|001[0-9a-fA-F]|007[fF]|[dD][89a-fA-F][0-9a-fA-F]{2})")
_FORM = b"application/x-www-form-urlencoded"
log = logging.getLogger("hocso.edge")
MAX_FIELDS_NAMED = 20


def _body_kind(headers: dict[bytes, bytes]) -> str | None:
    """Which bodies are checked here: JSON (FastAPI parses a body without a content type as JSON, and the SCORM
    player's `sendBeacon` commits JSON as text/plain, which its route reads as JSON) and forms."""
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if not content_type or content_type in (b"application/json", b"text/plain") or content_type.endswith(b"+json"):
        return "json"
    if content_type == _FORM:
        return "form"
    return None


def _bad_text(value: str, *, allow_whitespace: bool) -> bool:
    if has_control_characters(value, allow_whitespace=allow_whitespace):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return False


def _bad_json_fields(value: Any, path: str = "") -> list[str]:
    """The dotted path of every string (key or value) holding a control character or a lone surrogate."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _bad_text(str(key), allow_whitespace=False):
                found.append(here)
            found += _bad_json_fields(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _bad_json_fields(item, f"{path}.{index}" if path else str(index))
    elif isinstance(value, str) and _bad_text(value, allow_whitespace=True):
        found.append(path)
    return found[:MAX_FIELDS_NAMED]


def bad_query_fields(query_string: bytes) -> list[str]:
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                          errors="surrogateescape")
    except ValueError:
        return []
    return [name for name, value in pairs
            if _bad_text(name, allow_whitespace=False) or _bad_text(value, allow_whitespace=False)]


class EdgeGuard:
    def __init__(self, app: ASGIApp, *, json_body_max_bytes: int, header_max_bytes: int = 32 * 1024,
                 body_timeout_s: float = 30.0, raw_body_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.json_body_max_bytes = json_body_max_bytes
        self.raw_body_prefixes = raw_body_prefixes  # paths whose bodies are files: never read here
        self.header_max_bytes = header_max_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(name) + len(value) + 4 for name, value in scope["headers"]) > self.header_max_bytes:
            await self._answer(scope, send, 431, "headers_too_large", limit=self.header_max_bytes)
            return
        if _bad_text(scope["path"], allow_whitespace=False):
            await self._refuse(scope, send, ["path"])
            return
        if bad := bad_query_fields(scope.get("query_string", b"")):
            await self._refuse(scope, send, bad)
            return
        headers = dict(scope["headers"])
        kind = None if scope["method"] in ("GET", "HEAD", "OPTIONS") or self._raw_body(scope) \
            else _body_kind(headers)
        if kind is None:
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.json_body_max_bytes:
            await self._too_large(scope, send)
            return
        body = bytearray()
        with anyio.move_on_after(self.body_timeout_s) as slow:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    log.info("client disconnected before sending its body", extra={"path": scope["path"]})
                    return  # the client left: nothing to answer
                body += message.get("body", b"")
                if len(body) > self.json_body_max_bytes:
                    await self._too_large(scope, send)
                    return
                if not message.get("more_body", False):
                    break
        if slow.cancelled_caught:
            await self._answer(scope, send, 408, "body_too_slow", seconds=self.body_timeout_s,
                               headers={"Connection": "close"})
            return
        if bad := self._bad_body_fields(kind, bytes(body)):
            await self._refuse(scope, send, bad)
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _raw_body(self, scope: Scope) -> bool:
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # mounted under a prefix: the routes' own paths follow it
            path = path[len(root):]
        return path.startswith(self.raw_body_prefixes)

    @staticmethod
    def _bad_body_fields(kind: str, body: bytes) -> list[str]:
        if kind == "form":
            return bad_query_fields(body)
        if not _SUSPECT_ESCAPE.search(body):
            return []  # the common case: no escape worth a second parse
        try:
            return _bad_json_fields(json.loads(body))
        except (ValueError, RecursionError):
            return []  # not JSON: the route's own parsing answers 422

    @staticmethod
    async def _refuse(scope: Scope, send: Send, fields: list[str]) -> None:
        errors = [{"field": f, "message": t("control_characters")} for f in fields]
        response = problem_response(scope["path"], _request_id(scope), 422, "validation_failed",
                                    t("validation_failed"), errors=errors)
        await response(scope, _nothing, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await self._answer(scope, send, 413, "body_too_large", limit=self.json_body_max_bytes)

    @staticmethod
    async def _answer(scope: Scope, send: Send, status: int, code: str, *, headers: dict[str, str] | None = None,
                      **params: object) -> None:
        response = problem_response(scope["path"], _request_id(scope), status, code, t(code, **params),
                                    headers=headers)
        await response(scope, _nothing, send)


def _request_id(scope: Scope) -> str | None:
    return scope.get("state", {}).get("request_id")


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read here, then whatever the connection says next (a disconnect, for streaming responses)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return replay
