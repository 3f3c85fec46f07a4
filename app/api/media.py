"""Files of LocalStorage (the embedded default), served and received through HMAC-signed, expiring URLs.

S3 deployments never reach these routes: their signed URLs point at the object store itself. GET honours a
single `Range` so video players can seek; PUT receives direct uploads (course packages) in chunks.
"""

import mimetypes
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.api.deps import SettingsDep, StorageDep
from app.api.problems import problem
from app.core.errors import Forbidden, HocSoError, NotFound, PayloadTooLarge
from app.core.i18n import messages
from app.core.storage import CHUNK, LocalStorage, Storage, StorageKeyError, content_disposition

messages({
    "media_link_invalid": ("Liên kết tệp không hợp lệ hoặc đã hết hạn.",
                           "The file link is invalid or has expired."),
    "range_not_satisfiable": ("Khoảng byte yêu cầu nằm ngoài tệp ({size} byte).",
                              "The requested byte range lies outside the file ({size} bytes)."),
    "upload_too_large": ("Tệp tải lên vượt quá giới hạn {limit} byte.",
                         "The upload exceeds the {limit}-byte limit."),
})

router = APIRouter(prefix="/media", tags=["courses"])
# Bodies sent here are files (signed direct uploads), never JSON: the edge leaves them to the upload's own limit.
RAW_BODY_PREFIXES = (f"{router.prefix}/",)


class RangeNotSatisfiable(HocSoError):
    status, code = 416, "range_not_satisfiable"


_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single `bytes=` range, or None to send the whole file.

    Malformed headers and multi-range requests are ignored (RFC 9110 lets a server answer 200 with
    everything); a well-formed range that misses the file is unsatisfiable (416).
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[len("bytes="):].strip().partition("-")
    # ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses (a 500 before).
    if not sep or not (_DIGITS.fullmatch(first) or _DIGITS.fullmatch(last)) \
            or (first and not _DIGITS.fullmatch(first)) or (last and not _DIGITS.fullmatch(last)):
        return None
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size=size, headers={"Content-Range": f"bytes */{size}"})
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(size=size, headers={"Content-Range": f"bytes */{size}"})
    return start, end


def _local(storage: Storage) -> LocalStorage:
    if not isinstance(storage, LocalStorage):
        raise NotFound()
    return storage


async def _read(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as src:
        await src.seek(start)
        while length > 0:
            chunk = await src.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


@router.get("/{key:path}", summary="Read a stored file through a signed URL",
                  response_class=Response,
                  responses={200: {"description": "The whole file"},
                             206: {"description": "The requested range"},
                             403: problem("Bad or expired signature"),
                             416: problem("Range outside the file")})
async def read_media(
    key: str, request: Request, storage: StorageDep,
    expires: int, sig: str,
    content_type: Annotated[str | None, Query(alias="type")] = None,
    filename: str | None = None,
    range_header: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    """Links come from the lesson endpoint (TTL ≤ 1 h).

    `Range: bytes=0-99` answers 206 with those 100 bytes."""
    local = _local(storage)
    if not local.verify("GET", key, expires=expires, sig=sig, content_type=content_type, filename=filename):
        raise Forbidden("media_link_invalid")
    try:
        path = local.path_of(key)
    except StorageKeyError as exc:
        raise NotFound() from exc

    def size_of() -> int | None:
        return path.stat().st_size if path.is_file() else None
    size = await anyio.to_thread.run_sync(size_of)
    if size is None:
        raise NotFound()
    span = parse_byte_range(range_header, size)
    start, end = span or (0, size - 1)
    length = max(0, end - start + 1)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(length),
        "Content-Type": content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        "Cache-Control": f"private, max-age={max(0, min(expires - int(time.time()), 3600))}",
        "X-Content-Type-Options": "nosniff",
    }
    if filename:
        headers["Content-Disposition"] = content_disposition(filename)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    return StreamingResponse(_read(path, start, length), status_code=status, headers=headers)


# HEAD: the same headers without a body (players probe the size first); documented once, as GET.
router.add_api_route("/{key:path}", read_media, methods=["HEAD"], include_in_schema=False)


async def _limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge("upload_too_large", limit=limit)
        yield chunk


@router.put("/{key:path}", summary="Upload a file through a signed URL", status_code=200,
            response_class=Response,
            responses={200: {"description": "Stored; `ETag` is the SHA-256 of the bytes"},
                       403: problem("Bad or expired signature, or another Content-Type than signed"),
                       413: problem("Larger than HOCSO_PACKAGE_MAX_BYTES")})
async def upload_media(key: str, request: Request, storage: StorageDep, settings: SettingsDep,
                       expires: int, sig: str) -> Response:
    """The URL comes from `POST /api/v1/admin/course-packages/uploads`; send the body with the signed
    `Content-Type`. The body is streamed to disk in chunks, never held in memory."""
    local = _local(storage)
    content_type = request.headers.get("content-type", "")
    if not local.verify("PUT", key, expires=expires, sig=sig, content_type=content_type):
        raise Forbidden("media_link_invalid")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.package_max_bytes:
        raise PayloadTooLarge("upload_too_large", limit=settings.package_max_bytes)
    stored = await local.put_stream(key, _limited(request.stream(), settings.package_max_bytes), content_type)
    return Response(status_code=200, headers={"ETag": f'"{stored.sha256}"'})
