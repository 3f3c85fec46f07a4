"""S3Storage: any S3-compatible store (AWS S3, MinIO, Ceph RGW) through boto3.

The client is built once, with timeouts and bounded retries. boto3 is blocking, so every call runs in a
worker thread. Uploads above `s3_multipart_threshold` go up in `s3_part_size` parts, so memory stays at about
one part whatever the object's size; clients read media straight from the store through presigned URLs.
"""

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from app.core.config import Settings
from app.core.storage import (
    CHUNK,
    MAX_URL_TTL_S,
    PresignedUpload,
    StoredObject,
    check_key,
    content_disposition,
)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's floor for every part but the last
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
MAX_ATTEMPTS = 5


def build_client(settings: Settings) -> Any:
    config = Config(
        region_name=settings.s3_region,
        signature_version="s3v4",
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        s3={"addressing_style": "path" if settings.s3_path_style else "auto"},
        # Newer botocore adds CRC checksums to every upload by default; several S3-compatible stores reject
        # them, and they would also be baked into presigned PUT URLs that browsers cannot satisfy.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=config,
    )


def _is_not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class S3Storage:
    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.bucket = settings.s3_bucket
        self.threshold = max(settings.s3_multipart_threshold, MIN_PART_SIZE)
        self.part_size = max(settings.s3_part_size, MIN_PART_SIZE)
        self.client = client or build_client(settings)

    async def _call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(lambda: fn(**kwargs))

    async def ready(self) -> None:
        """The bucket answers (one HEAD; botocore's retries bound how long an outage takes to say so)."""
        await self._call(self.client.head_bucket, Bucket=self.bucket)

    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing (development and tests; production buckets are provisioned)."""
        try:
            await self._call(self.client.head_bucket, Bucket=self.bucket)
        except ClientError:
            await self._call(self.client.create_bucket, Bucket=self.bucket)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> StoredObject:
        """Buffer up to the threshold; beyond it switch to a multipart upload and send each full part."""
        check_key(key)
        digest, size = hashlib.sha256(), 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []

        async def send_part(data: bytes) -> None:
            number = len(parts) + 1
            answer = await self._call(self.client.upload_part, Bucket=self.bucket, Key=key,
                                      UploadId=upload_id, PartNumber=number, Body=data)
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})

        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                if upload_id is None and len(buffer) > self.threshold:
                    started = await self._call(self.client.create_multipart_upload, Bucket=self.bucket,
                                               Key=key, ContentType=content_type)
                    upload_id = started["UploadId"]
                while upload_id is not None and len(buffer) >= self.part_size:
                    part = bytes(buffer[: self.part_size])
                    del buffer[: self.part_size]
                    await send_part(part)
            if upload_id is None:
                await self._call(self.client.put_object, Bucket=self.bucket, Key=key, Body=bytes(buffer),
                                 ContentType=content_type)
            else:
                if buffer or not parts:
                    await send_part(bytes(buffer))
                await self._call(self.client.complete_multipart_upload, Bucket=self.bucket, Key=key,
                                 UploadId=upload_id, MultipartUpload={"Parts": parts})
        except BaseException:
            if upload_id is not None:
                # An abandoned multipart upload keeps its parts (and costs) until aborted.
                with anyio.CancelScope(shield=True):
                    await self._call(self.client.abort_multipart_upload, Bucket=self.bucket, Key=key,
                                     UploadId=upload_id)
            raise
        return StoredObject(key, size, digest.hexdigest(), content_type)

    async def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        async def read() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as src:
                while chunk := await src.read(CHUNK):
                    yield chunk
        return await self.put_stream(key, read(), content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> StoredObject:
        await self._call(self.client.put_object, Bucket=self.bucket, Key=check_key(key), Body=data,
                         ContentType=content_type)
        return StoredObject(key, len(data), hashlib.sha256(data).hexdigest(), content_type)

    async def download_to(self, key: str, path: Path) -> None:
        def fetch() -> None:
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            except ClientError as exc:
                if _is_not_found(exc):
                    raise FileNotFoundError(key) from exc
                raise
            with path.open("wb") as dst:
                for chunk in body.iter_chunks(CHUNK):
                    dst.write(chunk)
        await anyio.to_thread.run_sync(fetch)

    async def head(self, key: str) -> StoredObject | None:
        try:
            answer = await self._call(self.client.head_object, Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if _is_not_found(exc):
                return None
            raise
        return StoredObject(key, answer["ContentLength"], content_type=answer.get("ContentType"))

    async def delete(self, key: str) -> None:
        await self._call(self.client.delete_object, Bucket=self.bucket, Key=check_key(key))

    async def presigned_get(self, key: str, *, ttl_s: int, content_type: str | None = None,
                            filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": check_key(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        return await self._call(self.client.generate_presigned_url, ClientMethod="get_object", Params=params,
                                ExpiresIn=max(1, min(ttl_s, MAX_URL_TTL_S)))

    async def presigned_put(self, key: str, *, ttl_s: int, content_type: str) -> PresignedUpload:
        params = {"Bucket": self.bucket, "Key": check_key(key), "ContentType": content_type}
        url = await self._call(self.client.generate_presigned_url, ClientMethod="put_object", Params=params,
                               ExpiresIn=max(1, min(ttl_s, MAX_URL_TTL_S)))
        return PresignedUpload(url=url, method="PUT", headers={"Content-Type": content_type})
