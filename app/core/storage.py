"""Object storage behind one protocol: LocalStorage (embedded default) and S3Storage (any S3-compatible store).

Keys are relative paths like `courses/<course>/<version>/media/intro.mp4`; callers never see where bytes live.
"""

import hashlib
import hmac
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlencode

import anyio
import anyio.to_thread

from app.core.config import Settings


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


CHUNK = 1024 * 1024


class LocalStorage:
    """Files under `<data_dir>/media`; the app serves them through HMAC-signed, expiring URLs."""

    def __init__(self, root: Path, *, secret: str, base_url: str) -> None:
        self.root = root
        self.secret = secret
        self.base_url = base_url.rstrip("/")

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the media root: {key!r}")
        return path

    async def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        def copy() -> StoredObject:
            target = self.path_of(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest, size = hashlib.sha256(), 0
            tmp = target.with_suffix(target.suffix + ".part")
            with path.open("rb") as src, tmp.open("wb") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
            tmp.replace(target)
            return StoredObject(key, size, digest.hexdigest(), content_type)
        return await anyio.to_thread.run_sync(copy)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> StoredObject:
        target = self.path_of(key)
        await anyio.to_thread.run_sync(lambda: target.parent.mkdir(parents=True, exist_ok=True))
        tmp = target.with_suffix(target.suffix + ".part")
        digest, size = hashlib.sha256(), 0
        async with await anyio.open_file(tmp, "wb") as dst:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                await dst.write(chunk)
        await anyio.to_thread.run_sync(tmp.replace, target)
        return StoredObject(key, size, digest.hexdigest(), content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> StoredObject:
        async def once() -> AsyncIterator[bytes]:
            yield data
        return await self.put_stream(key, once(), content_type)

    async def download_to(self, key: str, path: Path) -> None:
        await anyio.to_thread.run_sync(shutil.copyfile, self.path_of(key), path)

    async def head(self, key: str) -> StoredObject | None:
        path = self.path_of(key)
        try:
            stat = await anyio.to_thread.run_sync(path.stat)
        except FileNotFoundError:
            return None
        return StoredObject(key, stat.st_size)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self.path_of(key).unlink(missing_ok=True))

    def sign(self, key: str, expires: int, content_type: str | None, filename: str | None) -> str:
        message = "\n".join([key, str(expires), content_type or "", filename or ""]).encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()

    async def presigned_get(self, key: str, *, ttl_s: int, content_type: str | None = None,
                            filename: str | None = None) -> str:
        expires = int(time.time()) + ttl_s
        query = {"expires": expires, "sig": self.sign(key, expires, content_type, filename)}
        if content_type:
            query["type"] = content_type
        if filename:
            query["filename"] = filename
        return f"{self.base_url}/media/{quote(key)}?{urlencode(query)}"

    async def presigned_put(self, key: str, *, ttl_s: int, content_type: str) -> PresignedUpload:
        expires = int(time.time()) + ttl_s
        sig = self.sign("PUT:" + key, expires, content_type, None)
        url = f"{self.base_url}/media/{quote(key)}?{urlencode({'expires': expires, 'sig': sig})}"
        return PresignedUpload(url=url, method="PUT", headers={"Content-Type": content_type})


def build_storage(settings: Settings) -> Storage:
    if settings.storage == "s3":
        from app.core.s3 import S3Storage  # boto3 is only imported when S3 is configured

        return S3Storage(settings)
    return LocalStorage(settings.media_dir, secret=settings.secret_key, base_url=settings.public_base_url)
