"""The server's own bound on request heads: how big, and how slowly they may come (issue 18, item 5).

uvicorn reads the request line and headers before the app sees anything, and bounds neither: a 200 MB header was
buffered in full (server memory 172 → 371 MB), and a connection that sends a header line every 2 s — or nothing
at all — was held for ever. The app's edge (`app/core/edge.py`) can only answer once the head is complete, so this
protocol, uvicorn's own httptools protocol with two bounds added, cuts such connections while they read:

- a head larger than `HOCSO_HEADER_MAX_BYTES` plus room for the request line is answered 431 and closed as soon
  as the bytes read for it pass the bound (at most one socket read past it is held);
- a head that is not complete within `HOCSO_HEADER_TIMEOUT_S` of its first byte (or of the connection's opening)
  is answered 408 and closed. Between requests, uvicorn's keep-alive timeout applies, as before.

The reverse proxy in front bounds the same things (docs/operations.md); this holds when it is missing or
misconfigured. The answers are problem+json in Vietnamese: a head that never completed has no `Accept-Language`.
"""

import asyncio
import json
import logging
from http import HTTPStatus

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.config import get_settings
from app.core.errors import PROBLEM_JSON
from app.core.i18n import messages, t

messages({
    "head_too_large": ("Dòng yêu cầu và phần đầu quá lớn: tối đa {limit} byte.",
                       "The request line and headers are too large: at most {limit} bytes."),
    "head_too_slow": ("Phần đầu yêu cầu đến quá chậm (quá {seconds} giây).",
                      "The request headers took too long to arrive (over {seconds} seconds)."),
})

REQUEST_LINE_ROOM = 16 * 1024  # what nginx's large_client_header_buffers allows one request line
log = logging.getLogger("hocso.edge")


class BoundedHeadProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing heads that are too large or too slow before they are complete."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 (uvicorn's own signature)
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.head_limit = settings.header_max_bytes + REQUEST_LINE_ROOM
        self.head_timeout_s = settings.header_timeout_s
        self.head_bytes = 0
        self.in_body = False  # between a head's end and its message's end: bytes read are body, not head
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is a slow head too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.in_body:
            self.head_bytes += len(data)
        super().data_received(data)
        if not self.in_body and self.head_bytes > self.head_limit and not self.transport.is_closing():
            self._refuse(431, "head_too_large", limit=self.head_limit)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.head_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self.in_body = True
        self.head_bytes = 0
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.in_body = False
        super().on_message_complete()

    def _arm(self) -> None:
        self.head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _disarm(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm()  # a response is still being written: the next head waits for it, not for the client
            return
        if self.head_bytes == 0 and self.cycle is None:
            self.transport.close()  # opened and never used: nothing to answer
            return
        self._refuse(408, "head_too_slow", seconds=self.head_timeout_s)

    def _refuse(self, status: int, code: str, **params: object) -> None:
        log.info("request head refused", extra={"status": status, "problem": code})
        reason = HTTPStatus(status).phrase
        body = json.dumps({"type": f"/problems/{code.replace('_', '-')}", "title": reason, "status": status,
                           "detail": t(code, "vi", **params)}, ensure_ascii=False).encode()
        head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {len(body)}\r\n"
                "connection: close\r\n\r\n")
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()
        self._disarm()
