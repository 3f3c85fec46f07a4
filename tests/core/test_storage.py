"""Both storages keep one contract; S3Storage runs over HTTP against a moto server on a loopback port."""

import hashlib
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from botocore.exceptions import ClientError

from app.core.s3 import S3Storage, build_client
from app.core.storage import LocalStorage, StorageKeyError, build_storage, content_disposition, shared_storage

MiB = 1024 * 1024


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media", secret="s" * 40, base_url="http://test")


@pytest.fixture
async def s3(s3_settings) -> S3Storage:
    storage = S3Storage(s3_settings)
    await storage.ensure_bucket()
    return storage


async def chunks_of(*parts: bytes):
    for part in parts:
        yield part


async def failing_after(data: bytes):
    yield data
    raise ConnectionResetError("client went away")


# --- LocalStorage ---

async def test_local_round_trip_keeps_bytes_size_and_sha256(local, tmp_path):
    stored = await local.put_stream("a/b/file.bin", chunks_of(b"hello ", b"world"), "text/plain")
    assert (stored.size, stored.sha256) == (11, hashlib.sha256(b"hello world").hexdigest())
    assert (await local.head("a/b/file.bin")).size == 11
    target = tmp_path / "copy.bin"
    await local.download_to("a/b/file.bin", target)
    assert target.read_bytes() == b"hello world"
    await local.delete("a/b/file.bin")
    assert await local.head("a/b/file.bin") is None


async def test_local_put_file_copies_in_chunks(local, tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(b"x" * (3 * MiB + 5))
    stored = await local.put_file("k/src.bin", source, "application/octet-stream")
    assert stored.size == 3 * MiB + 5
    assert local.path_of("k/src.bin").read_bytes() == source.read_bytes()


async def test_local_broken_stream_leaves_no_file(local):
    with pytest.raises(ConnectionResetError):
        await local.put_stream("up/broken.zip", failing_after(b"partial"), "application/zip")
    assert await local.head("up/broken.zip") is None
    assert not list((local.root / "up").iterdir())


async def test_local_download_of_missing_key_raises(local, tmp_path):
    with pytest.raises(FileNotFoundError):
        await local.download_to("nope.bin", tmp_path / "x")


@pytest.mark.parametrize("key", ["../escape.txt", "/etc/passwd", "a/../../b", "a\\b", "", "a//b"])
async def test_local_refuses_keys_outside_the_root(local, key):
    with pytest.raises(StorageKeyError):
        local.path_of(key)


async def test_local_signed_get_covers_key_expiry_and_response_headers(local):
    url = await local.presigned_get("v/intro.mp4", ttl_s=60, content_type="video/mp4", filename="Bài 1.mp4")
    q = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    assert urlparse(url).path == "/media/v/intro.mp4"
    good = dict(expires=int(q["expires"]), sig=q["sig"], content_type="video/mp4", filename="Bài 1.mp4")
    assert local.verify("GET", "v/intro.mp4", **good)
    assert not local.verify("GET", "v/other.mp4", **good)
    assert not local.verify("GET", "v/intro.mp4", **{**good, "content_type": "text/html"})
    assert not local.verify("GET", "v/intro.mp4", **{**good, "expires": good["expires"] + 1})
    assert not local.verify("PUT", "v/intro.mp4", **good)


async def test_local_signed_url_expires(local):
    url = await local.presigned_get("v/intro.mp4", ttl_s=1)
    q = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    past = int(time.time()) - 1
    old_sig = local.sign("GET", "v/intro.mp4", past, None, None)
    assert not local.verify("GET", "v/intro.mp4", expires=past, sig=old_sig)
    assert local.verify("GET", "v/intro.mp4", expires=int(q["expires"]), sig=q["sig"])


async def test_local_presigned_put_names_method_and_content_type(local):
    upload = await local.presigned_put("uploads/x.zip", ttl_s=600, content_type="application/zip")
    assert upload.method == "PUT" and upload.headers == {"Content-Type": "application/zip"}
    q = {k: v[0] for k, v in parse_qs(urlparse(upload.url).query).items()}
    assert local.verify("PUT", "uploads/x.zip", expires=int(q["expires"]), sig=q["sig"],
                        content_type="application/zip")
    assert not local.verify("GET", "uploads/x.zip", expires=int(q["expires"]), sig=q["sig"],
                            content_type="application/zip")


def test_content_disposition_keeps_vietnamese_names():
    header = content_disposition("Sổ tay kỹ năng số.pdf")
    assert header.startswith('inline; filename="S tay k nng s.pdf"')
    assert "filename*=UTF-8''S%E1%BB%95%20tay" in header


def test_build_storage_picks_local_by_default(settings):
    assert isinstance(build_storage(settings), LocalStorage)


# --- S3Storage over HTTP (moto) ---

def test_s3_client_has_timeouts_retries_and_path_style(s3_settings):
    config = build_client(s3_settings).meta.config
    assert config.connect_timeout and config.read_timeout
    assert config.retries["mode"] == "standard" and config.retries["total_max_attempts"] > 1
    assert config.s3["addressing_style"] == "path"
    assert isinstance(build_storage(s3_settings), S3Storage)


async def test_s3_small_object_round_trip(s3, tmp_path):
    stored = await s3.put_bytes("a/hello.txt", b"xin chao", "text/plain")
    assert stored.sha256 == hashlib.sha256(b"xin chao").hexdigest()
    head = await s3.head("a/hello.txt")
    assert (head.size, head.content_type) == (8, "text/plain")
    await s3.download_to("a/hello.txt", tmp_path / "h.txt")
    assert (tmp_path / "h.txt").read_bytes() == b"xin chao"
    await s3.delete("a/hello.txt")
    assert await s3.head("a/hello.txt") is None
    with pytest.raises(FileNotFoundError):
        await s3.download_to("a/hello.txt", tmp_path / "gone.txt")


async def test_s3_file_above_threshold_goes_up_in_parts(s3, tmp_path):
    source = tmp_path / "big.bin"
    with source.open("wb") as f:
        for i in range(11):
            f.write(bytes([i]) * MiB)
    stored = await s3.put_file("big/big.bin", source, "application/octet-stream")
    assert stored.size == 11 * MiB
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    etag = s3.client.head_object(Bucket=s3.bucket, Key="big/big.bin")["ETag"]
    assert etag.strip('"').endswith("-3")  # 5 + 5 + 1 MiB: a multipart upload's ETag counts its parts


async def test_s3_broken_stream_aborts_the_multipart_upload(s3):
    with pytest.raises(ConnectionResetError):
        await s3.put_stream("big/broken.bin", failing_after(b"z" * (6 * MiB)), "application/octet-stream")
    assert await s3.head("big/broken.bin") is None
    assert not s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads")


async def test_s3_presigned_get_streams_bytes_with_range_type_and_name(s3):
    body = bytes(range(256)) * 4
    await s3.put_bytes("m/intro.mp4", body, "video/mp4")
    url = await s3.presigned_get("m/intro.mp4", ttl_s=300, content_type="video/mp4",
                                 filename="Giới thiệu.mp4")
    async with httpx.AsyncClient() as http:
        whole = await http.get(url)
        part = await http.get(url, headers={"Range": "bytes=0-99"})
    assert whole.status_code == 200 and whole.content == body
    assert whole.headers["content-type"] == "video/mp4"
    assert "Gi%E1%BB%9Bi" in whole.headers["content-disposition"]
    assert part.status_code == 206 and part.content == body[:100]


async def test_s3_presigned_urls_carry_a_short_ttl(s3):
    url = await s3.presigned_get("m/short.txt", ttl_s=900)
    assert parse_qs(urlparse(url).query)["X-Amz-Expires"] == ["900"]
    url = await s3.presigned_get("m/short.txt", ttl_s=10**9)
    assert int(parse_qs(urlparse(url).query)["X-Amz-Expires"][0]) <= 7 * 24 * 3600


async def test_s3_presigned_put_accepts_a_direct_upload(s3):
    upload = await s3.presigned_put("uploads/p.zip", ttl_s=300, content_type="application/zip")
    async with httpx.AsyncClient() as http:
        empty_zip = b"PK\x05\x06" + b"\0" * 18
        r = await http.request(upload.method, upload.url, headers=upload.headers, content=empty_zip)
    assert r.status_code == 200
    head = await s3.head("uploads/p.zip")
    assert head.size == 22 and head.content_type == "application/zip"


async def test_s3_calls_run_off_the_event_loop_thread(s3):
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = s3.client.put_object

    def spy(**kwargs):
        seen.append(threading.get_ident())
        return original(**kwargs)

    s3.client.put_object = spy
    await s3.put_bytes("t/x.txt", b"x", "text/plain")
    assert seen and loop_thread not in seen


async def test_s3_errors_other_than_not_found_propagate(s3_settings):
    storage = S3Storage(s3_settings.model_copy(update={"s3_bucket": "missing-bucket-xyz"}))
    with pytest.raises(ClientError):
        await storage.put_bytes("a.txt", b"x", "text/plain")


# --- the S3 server refuses what a real S3 refuses (tests/s3_server.py checks SigV4 in front of moto) ---


def s3_error(response: httpx.Response) -> str:
    assert response.status_code == 403, response.text
    return response.text.split("<Code>")[1].split("</Code>")[0]


async def test_s3_refuses_unsigned_requests_and_a_wrong_secret(s3, s3_settings):
    await s3.put_bytes("m/a.txt", b"a", "text/plain")
    async with httpx.AsyncClient() as http:
        assert s3_error(await http.get(f"{s3_settings.s3_endpoint_url}/{s3.bucket}/m/a.txt")) == "AccessDenied"
    wrong = S3Storage(s3_settings.model_copy(update={"s3_secret_access_key": "not-the-secret"}))
    with pytest.raises(ClientError) as refused:
        await wrong.put_bytes("m/b.txt", b"b", "text/plain")
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert await s3.head("m/b.txt") is None


async def test_s3_refuses_a_presigned_url_whose_signature_key_or_type_was_changed(s3):
    await s3.put_bytes("m/a.txt", b"a", "text/plain")
    await s3.put_bytes("m/other.txt", b"other", "text/plain")
    url = await s3.presigned_get("m/a.txt", ttl_s=300, content_type="text/plain")
    signature = parse_qs(urlparse(url).query)["X-Amz-Signature"][0]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == b"a"
        assert s3_error(await http.get(url.replace(signature, flipped))) == "SignatureDoesNotMatch"
        assert s3_error(await http.get(url.replace("m/a.txt", "m/other.txt"))) == "SignatureDoesNotMatch"
        assert s3_error(await http.get(url.replace("text%2Fplain", "text%2Fhtml"))) == "SignatureDoesNotMatch"
        upload = await s3.presigned_put("uploads/p.zip", ttl_s=300, content_type="application/zip")
        r = await http.put(upload.url, headers={"Content-Type": "text/html"}, content=b"<script>")
        assert s3_error(r) == "SignatureDoesNotMatch"
    assert await s3.head("uploads/p.zip") is None


async def test_s3_refuses_an_expired_presigned_url(s3, monkeypatch):
    import botocore.auth

    await s3.put_bytes("m/a.txt", b"a", "text/plain")
    signed_at = botocore.auth.get_current_datetime() - timedelta(seconds=301)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: signed_at)
    expired = await s3.presigned_get("m/a.txt", ttl_s=300)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: signed_at + timedelta(seconds=60))
    still_valid = await s3.presigned_get("m/a.txt", ttl_s=300)
    async with httpx.AsyncClient() as http:
        r = await http.get(expired)
        assert s3_error(r) == "AccessDenied" and "expired" in r.text
        assert (await http.get(still_valid)).content == b"a"


def test_jobs_share_one_storage_per_configuration(settings, tmp_path):
    """A boto3 client per job made an S3 worker grow with every certificate: one per configuration instead."""
    s3 = settings.model_copy(update={"storage": "s3", "s3_endpoint_url": "http://127.0.0.1:9",
                                     "s3_access_key_id": "k", "s3_secret_access_key": "s"})
    first = shared_storage(s3)
    assert shared_storage(s3.model_copy()) is first  # equal settings, another object: the same client
    assert shared_storage(s3.model_copy(update={"s3_bucket": "other"})) is not first
    assert shared_storage(settings) is shared_storage(settings.model_copy()) is not first
