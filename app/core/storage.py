"""Object storage behind one protocol: LocalStorage (embedded default) and S3Storage (S3-compatible stores).

Keys are relative paths like `courses/<course>/v<version>/media/intro.mp4`; callers never see where bytes
live. Bytes move in chunks: no method holds a whole object in memory (except `put_bytes`, for small ones).
"""

import hashlib
import hmac
import os
import shutil
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlencode

import anyio
import anyio.to_thread

from app.core.config import Settings

CHUNK = 1024 * 1024
# Signed media URLs never outlive this, whatever a caller asks for.
MAX_URL_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    method: str
    headers: dict[str, str]


class Storage(Protocol):
    async def put_file(self, key: str, path: Path, content_type: str) -> StoredObject: ...
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> StoredObject: ...
    async def put_bytes(self, key: str, data: bytes, content_type: str) -> StoredObject: ...
    async def download_to(self, key: str, path: Path) -> None: ...
    async def head(self, key: str) -> StoredObject | None: ...
    async def delete(self, key: str) -> None: ...
    async def presigned_get(self, key: str, *, ttl_s: int, content_type: str | None = None,
                            filename: str | None = None) -> str: ...
    async def presigned_put(self, key: str, *, ttl_s: int, content_type: str) -> PresignedUpload: ...
    async def ready(self) -> None: ...  # raises when the store cannot be reached (for /readyz)


class StorageKeyError(ValueError):
    """A key that would leave the storage root or is not a plain relative path."""


def check_key(key: str) -> str:
    bad_part = any(p in ("", ".", "..") for p in key.split("/"))
    if not key or bad_part or "\\" in key or "\x00" in key:
        raise StorageKeyError(f"invalid storage key: {key!r}")
    return key


def content_disposition(filename: str, *, inline: bool = True) -> str:
    """RFC 6266 header with an ASCII fallback and the exact UTF-8 name (Vietnamese file names survive)."""
    fallback = filename.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class LocalStorage:
    """Files under `<data_dir>/media`, served by the app through HMAC-signed, expiring `/media/{key}` URLs.

    A signature covers the method, key, expiry, and the content type and file name the response will carry,
    so none of them can be changed in the URL without invalidating it.
    """

    def __init__(self, root: Path, *, secret: str, base_url: str) -> None:
        self.root = root
        # A key of its own, so a media signature can never be replayed as any other HMAC the service makes.
        self.secret = hmac.new(secret.encode(), b"hocso-media-url", hashlib.sha256).digest()
        self.base_url = base_url.rstrip("/")

    async def ready(self) -> None:
        def check() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise OSError(f"{self.root} is not writable")
        await anyio.to_thread.run_sync(check)

    def path_of(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StorageKeyError(f"storage key escapes the media root: {key!r}")
        return path

    @staticmethod
    def _partial(target: Path) -> Path:
        return target.with_name(target.name + ".part")

    async def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        def copy() -> StoredObject:
            target = self.path_of(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest, size = hashlib.sha256(), 0
            tmp = self._partial(target)
            try:
                with path.open("rb") as src, tmp.open("wb") as dst:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        dst.write(chunk)
                tmp.replace(target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return StoredObject(key, size, digest.hexdigest(), content_type)
        return await anyio.to_thread.run_sync(copy)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> StoredObject:
        target = self.path_of(key)
        await anyio.to_thread.run_sync(lambda: target.parent.mkdir(parents=True, exist_ok=True))
        tmp = self._partial(target)
        digest, size = hashlib.sha256(), 0
        try:
            async with await anyio.open_file(tmp, "wb") as dst:
                async for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    await dst.write(chunk)
            await anyio.to_thread.run_sync(tmp.replace, target)
        except BaseException:
            # A broken or refused stream leaves nothing behind, not even the partial file.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lambda: tmp.unlink(missing_ok=True))
            raise
        return StoredObject(key, size, digest.hexdigest(), content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> StoredObject:
        async def once() -> AsyncIterator[bytes]:
            yield data
        return await self.put_stream(key, once(), content_type)

    async def download_to(self, key: str, path: Path) -> None:
        source = self.path_of(key)
        if not await anyio.to_thread.run_sync(source.is_file):
            raise FileNotFoundError(key)
        await anyio.to_thread.run_sync(shutil.copyfile, source, path)

    async def head(self, key: str) -> StoredObject | None:
        path = self.path_of(key)

        def size() -> int | None:
            return path.stat().st_size if path.is_file() else None
        found = await anyio.to_thread.run_sync(size)
        return None if found is None else StoredObject(key, found)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self.path_of(key).unlink(missing_ok=True))

    def sign(self, method: str, key: str, expires: int, content_type: str | None,
             filename: str | None) -> str:
        message = "\n".join([method, key, str(expires), content_type or "", filename or ""]).encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def verify(self, method: str, key: str, *, expires: int, sig: str, content_type: str | None = None,
               filename: str | None = None) -> bool:
        """True when we signed the URL for this method and these response headers, and it has not expired."""
        if expires < time.time():
            return False
        expected = self.sign(method, key, expires, content_type, filename)
        # compare_digest refuses str with non-ASCII characters (a TypeError, a 500 before): compare bytes.
        return hmac.compare_digest(expected.encode(), sig.encode("utf-8", "surrogatepass"))

    def _expiry(self, ttl_s: int) -> int:
        return int(time.time()) + max(1, min(ttl_s, MAX_URL_TTL_S))

    async def presigned_get(self, key: str, *, ttl_s: int, content_type: str | None = None,
                            filename: str | None = None) -> str:
        expires = self._expiry(ttl_s)
        sig = self.sign("GET", check_key(key), expires, content_type, filename)
        query: dict[str, str | int] = {"expires": expires, "sig": sig}
        if content_type:
            query["type"] = content_type
        if filename:
            query["filename"] = filename
        return f"{self.base_url}/media/{quote(key)}?{urlencode(query)}"

    async def presigned_put(self, key: str, *, ttl_s: int, content_type: str) -> PresignedUpload:
        expires = self._expiry(ttl_s)
        sig = self.sign("PUT", check_key(key), expires, content_type, None)
        url = f"{self.base_url}/media/{quote(key)}?{urlencode({'expires': expires, 'sig': sig})}"
        return PresignedUpload(url=url, method="PUT", headers={"Content-Type": content_type})


def build_storage(settings: Settings) -> Storage:
    if settings.storage == "s3":
        from app.core.s3 import S3Storage  # boto3 is only imported when S3 is configured

        return S3Storage(settings)
    return LocalStorage(settings.media_dir, secret=settings.secret_key, base_url=settings.public_base_url)


_STORAGE_FIELDS = ("storage", "media_dir", "secret_key", "public_base_url", "s3_endpoint_url", "s3_region",
                   "s3_bucket", "s3_access_key_id", "s3_secret_access_key", "s3_path_style",
                   "s3_multipart_threshold", "s3_part_size")
_shared: OrderedDict[tuple, Storage] = OrderedDict()
SHARED_KEPT = 8  # configurations kept (one in production; tests make many)


def shared_storage(settings: Settings) -> Storage:
    """The process's one storage for these settings, built on first use: what jobs use.

    A boto3 client is costly to build: 230–390 ms of CPU each on a loaded 2-core machine, and the first hundred
    built raise the process's memory by ~43 MB for good (docs/benchmarks.md, "Certificate PDFs and memory").
    The certificate, import and transcode jobs built one per job. boto3 clients are thread-safe, and
    LocalStorage holds no state, so one per configuration serves every job of the process.
    """
    key = tuple(getattr(settings, name) for name in _STORAGE_FIELDS)
    storage = _shared.get(key)
    if storage is None:
        storage = _shared[key] = build_storage(settings)
        while len(_shared) > SHARED_KEPT:
            _shared.popitem(last=False)
    _shared.move_to_end(key)
    return storage
