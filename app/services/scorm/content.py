"""Package files served on the API's origin (a SCO reaches the runtime through `window.parent`, which browsers
allow only within one origin) under a path that carries a signed, short-lived token, streamed from storage.

The content token names the package folder in storage and an expiry, HMAC-signed with the service secret: the
route needs no database read per file, and only a learner the launch endpoint let in (enrolled) gets one.
Expiries are rounded up to a 15-minute window, so launches close together give the same URLs and the browser's
cache serves the files again (they never change: each import stores its files under its own prefix).
"""

import base64
import hashlib
import hmac
import json
import mimetypes
import time
import uuid
from collections.abc import AsyncIterator
from posixpath import normpath

import anyio
import anyio.to_thread

from app.core.errors import Forbidden, NotFound
from app.core.i18n import messages
from app.core.storage import CHUNK, LocalStorage, Storage, StorageKeyError, check_key

messages({
    "scorm_link_invalid": ("Liên kết nội dung SCORM không hợp lệ hoặc đã hết hạn; hãy mở lại bài học.",
                           "The SCORM content link is invalid or has expired; open the lesson again."),
})

WINDOW_S = 900
# Types the standard table lacks or gets wrong on some systems; content pages need them right to run.
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".svg": "image/svg+xml",
          ".woff": "font/woff", ".woff2": "font/woff2", ".webp": "image/webp", ".mp4": "video/mp4",
          ".vtt": "text/vtt", ".xml": "application/xml", ".xsd": "application/xml", ".wasm": "application/wasm"}


def content_type(path: str) -> str:
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    guessed = _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed == "application/json" else guessed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, payload: str) -> str:
    return _b64(hmac.new(f"scorm-{purpose}:{secret}".encode(), payload.encode(), hashlib.sha256).digest()[:20])


def sign(secret: str, purpose: str, claims: dict, *, ttl_s: int, now: float | None = None) -> tuple[str, int]:
    """A token `payload.mac` carrying `claims` and an expiry rounded up to the next window; (token, expiry)."""
    moment = time.time() if now is None else now
    expires = (int(moment + ttl_s) // WINDOW_S + 1) * WINDOW_S
    payload = _b64(json.dumps({**claims, "exp": expires}, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(secret, purpose, payload)}", expires


def verify(secret: str, purpose: str, token: str | None, *, now: float | None = None) -> dict:
    """The claims of a valid, unexpired token; 403 `scorm_link_invalid` otherwise."""
    try:
        payload, mac = (token or "").split(".")
        if not hmac.compare_digest(mac, _mac(secret, purpose, payload)):
            raise ValueError("signature")
        claims = json.loads(_unb64(payload))
        if int(claims["exp"]) < (time.time() if now is None else now):
            raise ValueError("expired")
        return claims
    except (ValueError, KeyError, TypeError):
        raise Forbidden("scorm_link_invalid") from None


def session_token(secret: str, session_id: uuid.UUID, *, ttl_s: int) -> tuple[str, int]:
    return sign(secret, "session", {"sid": session_id.hex}, ttl_s=ttl_s)


def verify_session(secret: str, token: str | None, session_id: uuid.UUID) -> None:
    if verify(secret, "session", token).get("sid") != session_id.hex:
        raise Forbidden("scorm_link_invalid")


def content_token(secret: str, prefix: str, *, ttl_s: int) -> tuple[str, int]:
    return sign(secret, "content", {"p": prefix}, ttl_s=ttl_s)


def content_key(secret: str, token: str, path: str) -> tuple[str, int]:
    """The storage key of `path` inside the token's package folder, and the token's expiry; a path that would
    leave the folder is not found."""
    claims = verify(secret, "content", token)
    cleaned = normpath(path) if path else ""
    if not cleaned or cleaned.startswith(("../", "/")) or cleaned in ("..", ".") or "\\" in path or "\x00" in path:
        raise NotFound()
    try:
        return check_key(f"{claims['p']}{cleaned}"), int(claims["exp"])
    except StorageKeyError:
        raise NotFound() from None


def etag(key: str, size: int) -> str:
    """Files under a key never change (each import has its own prefix): the key and size identify the bytes."""
    return '"' + hashlib.sha256(f"{key}:{size}".encode()).hexdigest()[:32] + '"'


async def file_size(storage: Storage, key: str) -> int | None:
    if isinstance(storage, LocalStorage):
        path = storage.path_of(key)
        return await anyio.to_thread.run_sync(lambda: path.stat().st_size if path.is_file() else None)
    stored = await storage.head(key)
    return stored.size if stored else None


async def read_range(storage: Storage, key: str, start: int, length: int) -> AsyncIterator[bytes]:
    """`length` bytes of a stored file from `start`, in chunks: from disk, or a ranged GET on S3."""
    if length <= 0:
        return
    if isinstance(storage, LocalStorage):
        async with await anyio.open_file(storage.path_of(key), "rb") as src:
            await src.seek(start)
            while length > 0 and (chunk := await src.read(min(CHUNK, length))):
                length -= len(chunk)
                yield chunk
        return
    client, bucket = storage.client, storage.bucket  # S3Storage
    answer = await anyio.to_thread.run_sync(lambda: client.get_object(
        Bucket=bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"))
    body = answer["Body"]
    try:
        while chunk := await anyio.to_thread.run_sync(body.read, CHUNK):
            yield chunk
    finally:
        body.close()
