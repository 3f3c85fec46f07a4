"""LocalStorage files served and received through signed URLs, with HTTP Range for video seeking."""

import time
from urllib.parse import urlencode, urlparse

import pytest

BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
async def stored(app):
    storage = app.state.storage
    await storage.put_bytes("courses/c1/v1/media/intro.mp4", BODY, "video/mp4")
    return storage


async def signed(storage, key="courses/c1/v1/media/intro.mp4", **kwargs) -> str:
    url = await storage.presigned_get(key, ttl_s=300, **kwargs)
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


# --- GET /media/{key} ---

async def test_whole_file_with_signed_type_and_name(client, stored):
    r = await client.get(await signed(stored, content_type="video/mp4", filename="Giới thiệu.mp4"))
    assert r.status_code == 200 and r.content == BODY
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["content-length"] == str(len(BODY))
    assert "filename*=UTF-8''Gi%E1%BB%9Bi" in r.headers["content-disposition"]


async def test_range_returns_206_with_exactly_those_bytes(client, stored):
    r = await client.get(await signed(stored), headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == BODY[:100]
    assert r.headers["content-range"] == f"bytes 0-99/{len(BODY)}"
    assert r.headers["content-length"] == "100"


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=10000-", 10000, 10239),   # open-ended: to the end
    ("bytes=-40", 10200, 10239),      # suffix: the last 40 bytes
    ("bytes=10200-99999", 10200, 10239),  # an end past the file is clamped
])
async def test_open_suffix_and_clamped_ranges(client, stored, header, first, last):
    r = await client.get(await signed(stored), headers={"Range": header})
    assert r.status_code == 206 and r.content == BODY[first:last + 1]
    assert r.headers["content-range"] == f"bytes {first}-{last}/{len(BODY)}"


@pytest.mark.parametrize("header", ["bytes=20000-", "bytes=50-10", "bytes=-0"])
async def test_unsatisfiable_range_is_416_with_the_size(client, stored, header):
    r = await client.get(await signed(stored), headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(BODY)}"
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=abc"])
async def test_unsupported_range_forms_get_the_whole_file(client, stored, header):
    r = await client.get(await signed(stored), headers={"Range": header})
    assert r.status_code == 200 and len(r.content) == len(BODY)


async def test_head_answers_headers_only(client, stored):
    r = await client.head(await signed(stored), headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.headers["content-length"] == "10" and r.content == b""


async def test_tampered_type_or_name_is_refused(client, stored):
    url = await signed(stored, content_type="video/mp4")
    r = await client.get(url.replace("type=video%2Fmp4", "type=text%2Fhtml"))
    assert r.status_code == 403 and r.json()["type"] == "/problems/media-link-invalid"
    url = await signed(stored, filename="a.mp4")
    assert (await client.get(url.replace("filename=a.mp4", "filename=b.mp4"))).status_code == 403


async def test_expired_or_unsigned_link_is_refused(client, stored):
    past = int(time.time()) - 5
    sig = stored.sign("GET", "courses/c1/v1/media/intro.mp4", past, None, None)
    r = await client.get(f"/media/courses/c1/v1/media/intro.mp4?{urlencode({'expires': past, 'sig': sig})}")
    assert r.status_code == 403
    assert (await client.get("/media/courses/c1/v1/media/intro.mp4")).status_code == 422


async def test_signed_link_to_a_deleted_file_is_404(client, stored):
    url = await signed(stored)
    await stored.delete("courses/c1/v1/media/intro.mp4")
    assert (await client.get(url)).status_code == 404


# --- PUT /media/{key} ---

async def put_url(storage, key="uploads/abc.zip", content_type="application/zip") -> str:
    upload = await storage.presigned_put(key, ttl_s=300, content_type=content_type)
    parsed = urlparse(upload.url)
    return f"{parsed.path}?{parsed.query}"


async def test_signed_put_stores_the_body(client, stored):
    zip_type = {"Content-Type": "application/zip"}
    r = await client.put(await put_url(stored), content=b"PK-data", headers=zip_type)
    assert r.status_code == 200 and r.headers["etag"]
    assert (await stored.head("uploads/abc.zip")).size == 7


async def test_put_with_another_content_type_or_a_get_link_is_refused(client, stored):
    url = await put_url(stored)
    r = await client.put(url, content=b"x", headers={"Content-Type": "text/html"})
    assert r.status_code == 403
    get_link = await signed(stored, key="uploads/abc.zip")
    r = await client.put(get_link, content=b"x", headers={"Content-Type": "application/zip"})
    assert r.status_code == 403
    assert await stored.head("uploads/abc.zip") is None


async def test_put_above_the_package_limit_is_413_and_keeps_nothing(client, app, stored):
    app.state.settings = app.state.settings.model_copy(update={"package_max_bytes": 1000})

    async def body():
        for _ in range(5):
            yield b"x" * 400

    r = await client.put(await put_url(stored), content=body(), headers={"Content-Type": "application/zip"})
    assert r.status_code == 413
    assert await stored.head("uploads/abc.zip") is None
    assert not [p for p in (stored.root / "uploads").iterdir()]


FIVE_MB = b"PK" + b"\0" * (5 * 1024 * 1024)  # above HOCSO_JSON_BODY_MAX_BYTES (4 MiB)


async def test_a_put_is_a_file_whatever_its_content_type_never_a_json_body(client, stored, settings):
    """The edge bounds JSON at 4 MiB and takes a body without a content type for JSON; an upload is neither."""
    assert len(FIVE_MB) > settings.json_body_max_bytes
    r = await client.put(await put_url(stored, key="uploads/untyped.zip", content_type=""), content=FIVE_MB)
    assert r.status_code == 200, r.text
    assert (await stored.head("uploads/untyped.zip")).size == len(FIVE_MB)

    json_type = {"Content-Type": "application/json"}
    r = await client.put(await put_url(stored, key="uploads/typed.bin", content_type="application/json"),
                         content=FIVE_MB, headers=json_type)
    assert r.status_code == 200 and (await stored.head("uploads/typed.bin")).size == len(FIVE_MB)

    # A URL signed for a zip wants that Content-Type: without one it is the signature's 403, not the JSON 413.
    r = await client.put(await put_url(stored), content=FIVE_MB)
    assert r.status_code == 403 and await stored.head("uploads/abc.zip") is None


async def test_a_json_body_of_5_mb_is_still_413_with_or_without_its_content_type(client):
    big = b'{"full_name": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    for headers in ({"Content-Type": "application/json"}, {}):
        r = await client.post("/api/v1/auth/register", content=big, headers=headers)
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    r = await client.put("/mediafiles/k", content=big)  # only the upload paths are files
    assert r.status_code == 413


async def test_media_routes_are_absent_when_storage_is_s3(client, app, stored):
    url = await signed(stored)
    app.state.storage = object()
    assert (await client.get(url)).status_code == 404
