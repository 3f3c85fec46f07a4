"""Catalogue, course outlines and lessons, through the API."""

from datetime import datetime, timedelta
from urllib.parse import urlparse

import httpx
import pytest

from app.core.s3 import S3Storage
from app.core.storage import build_storage
from app.core.text import search_key
from app.models.base import utcnow
from app.models.identity import Role
from app.models.learning import Enrollment
from app.services.content import catalogue
from tests import s3_server
from tests.conftest import make_app
from tests.factories import auth, make_course, make_user, token_for
from tests.factories.packages import SAMPLE_ZIP, import_package

s3_endpoint, s3_settings = s3_server.s3_endpoint, s3_server.s3_settings  # fixtures


@pytest.fixture
async def sample(db, settings):
    """The sample package imported and published, as a learner would find it."""
    job = await import_package(db, build_storage(settings), SAMPLE_ZIP, publish=True)
    assert job.status == "succeeded", job.errors
    return job


async def published(session, title: str, *, audiences=None, language="vi", enrolled=0, days_ago=0):
    rows = await make_course(session, title=title, audiences=audiences, lessons=[])
    rows.version.search_text = search_key(title)
    rows.version.language = language
    rows.course.enrollment_count = enrolled
    rows.course.published_at = utcnow() - timedelta(days=days_ago)
    await session.flush()
    return rows


async def enroll(session, user, job) -> Enrollment:
    enrollment = Enrollment(user_id=user.id, course_id=job.course_id, version_id=job.version_id)
    session.add(enrollment)
    await session.flush()
    return enrollment


# --- GET /api/v1/courses ---

async def test_accent_free_words_find_the_sample_course(client, sample):
    r = await client.get("/api/v1/courses", params={"q": "ky nang so"})
    assert r.status_code == 200
    [item] = r.json()["items"]
    assert item["slug"] == "ky-nang-so-co-ban" and item["title"] == "Kỹ năng số cơ bản"
    assert item["lesson_count"] == 4
    assert item["lessons_by_kind"] == {"video": 1, "document": 1, "text": 1, "quiz": 1, "scorm": 0}
    assert item["version"] == 1 and item["certificate"] is True and item["published_at"]
    assert (await client.get("/api/v1/courses", params={"q": "KỸ NĂNG"})).json()["items"]
    assert (await client.get("/api/v1/courses", params={"q": "dinh danh"})).json()["items"]  # đ → d
    assert not (await client.get("/api/v1/courses", params={"q": "ky nang lai xe"})).json()["items"]


async def test_drafts_and_archived_courses_are_not_listed(client, session):
    await make_course(session, title="Bản nháp", status="draft", lessons=[])
    await make_course(session, title="Đã lưu trữ", status="archived", lessons=[])
    assert (await client.get("/api/v1/courses")).json()["items"] == []


async def test_filters_by_audience_and_language(client, session):
    await published(session, "Dành cho cán bộ", audiences=["official"])
    await published(session, "Digital basics", audiences=["citizen"], language="en")
    official = (await client.get("/api/v1/courses", params={"audience": "official"})).json()["items"]
    assert [c["title"] for c in official] == ["Dành cho cán bộ"]
    english = (await client.get("/api/v1/courses", params={"language": "en"})).json()["items"]
    assert [c["title"] for c in english] == ["Digital basics"]
    assert (await client.get("/api/v1/courses", params={"audience": "alien"})).status_code == 422


@pytest.mark.parametrize(("sort", "expected"), [
    ("newest", ["Cờ", "Bút", "An"]), ("title", ["An", "Bút", "Cờ"]), ("popular", ["Bút", "Cờ", "An"])])
async def test_keyset_pages_follow_each_sort(client, session, sort, expected):
    await published(session, "An", enrolled=1, days_ago=3)
    await published(session, "Bút", enrolled=30, days_ago=2)
    await published(session, "Cờ", enrolled=20, days_ago=1)
    seen, cursor = [], None
    while True:
        params = {"sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/courses", params=params)).json()
        seen += [c["title"] for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == expected


async def test_a_forged_cursor_is_422(client):
    r = await client.get("/api/v1/courses", params={"cursor": "bm90LWpzb24"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


async def test_catalogue_carries_etag_and_answers_304(client, sample):
    first = await client.get("/api/v1/courses")
    assert first.headers["cache-control"].startswith("public") and first.headers["etag"]
    again = await client.get("/api/v1/courses", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""



@pytest.fixture
def renders(monkeypatch):
    """How many times the catalogue page was built from the database."""
    calls = []
    build = catalogue.list_catalogue

    async def counting(*args, **kwargs):
        calls.append(kwargs)
        return await build(*args, **kwargs)
    monkeypatch.setattr(catalogue, "list_catalogue", counting)
    return calls


async def test_catalogue_serves_a_repeated_query_from_the_worker_cache(client, session, renders):
    await published(session, "Kỹ năng số")
    first = await client.get("/api/v1/courses", params={"q": "Kỹ năng"})
    await published(session, "Kỹ năng mềm")  # not visible until the cached page expires or is cleared
    again = await client.get("/api/v1/courses", params={"q": "ky  nang"})  # same folded words
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["etag"] == first.headers["etag"] and len(renders) == 1
    assert again.headers["content-type"] == "application/json"
    other = await client.get("/api/v1/courses", params={"q": "Kỹ năng", "sort": "title"})
    assert len(renders) == 2 and len(other.json()["items"]) == 2
    not_modified = await client.get("/api/v1/courses", params={"q": "Kỹ năng"},
                                    headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304 and len(renders) == 2


async def test_publishing_or_archiving_clears_the_catalogue_cache(client, session, keyring, settings, sample,
                                                                  renders):
    admin = auth(token_for(keyring, settings, await make_user(session, role=Role.content_admin)))
    slugs = [c["slug"] for c in (await client.get("/api/v1/courses")).json()["items"]]
    assert "ky-nang-so-co-ban" in slugs
    r = await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/archive", headers=admin)
    assert r.status_code == 200
    assert (await client.get("/api/v1/courses")).json()["items"] == [] and len(renders) == 2
    r = await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/publish", json={"version": 1}, headers=admin)
    assert r.status_code == 200
    slugs = [c["slug"] for c in (await client.get("/api/v1/courses")).json()["items"]]
    assert slugs == ["ky-nang-so-co-ban"] and len(renders) == 3


async def test_catalogue_cache_ttl_0_builds_every_page(session, settings, db, keyring, renders):
    settings.catalogue_cache_ttl_s = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(settings, db, keyring)),
                                 base_url="http://test") as client:
        await published(session, "Kỹ năng số")
        await client.get("/api/v1/courses")
        await published(session, "Kỹ năng mềm")
        assert len((await client.get("/api/v1/courses")).json()["items"]) == 2 and len(renders) == 2


# --- GET /api/v1/courses/{course} ---

async def test_outline_by_slug_or_id_never_shows_questions(client, sample):
    by_slug = await client.get("/api/v1/courses/ky-nang-so-co-ban")
    assert by_slug.status_code == 200
    body = by_slug.json()
    assert (await client.get(f"/api/v1/courses/{sample.course_id}")).json() == body
    lessons = [lesson for module in body["modules"] for lesson in module["lessons"]]
    assert [(lsn["key"], lsn["kind"]) for lsn in lessons] == [
        ("gioi-thieu", "video"), ("so-tay", "document"), ("bao-ve-tai-khoan", "text"),
        ("kiem-tra-cuoi-khoa", "quiz")]
    assert lessons[0]["duration_s"] == 4.0 and lessons[2]["required"] is False
    quiz = lessons[3]["quiz"]
    assert quiz["question_count"] == 4 and quiz["pass_score"] == 80 and quiz["max_attempts"] == 3
    assert quiz["time_limit_s"] == 1200
    assert "Mật khẩu" not in by_slug.text and "choices" not in by_slug.text


async def test_outline_etag_and_304(client, sample):
    first = await client.get("/api/v1/courses/ky-nang-so-co-ban")
    etag = first.headers["etag"]
    r = await client.get("/api/v1/courses/ky-nang-so-co-ban", headers={"If-None-Match": f'W/{etag}, "x"'})
    assert r.status_code == 304 and r.headers["etag"] == etag
    other = await client.get("/api/v1/courses/ky-nang-so-co-ban", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200


async def test_unknown_or_unpublished_course_is_404(client, session):
    await make_course(session, slug="ban-nhap", status="draft", lessons=[])
    assert (await client.get("/api/v1/courses/khong-co")).status_code == 404
    assert (await client.get("/api/v1/courses/ban-nhap")).status_code == 404


# --- GET /api/v1/lessons/{id} ---

async def lesson_ids(client) -> dict[str, str]:
    body = (await client.get("/api/v1/courses/ky-nang-so-co-ban")).json()
    return {lsn["key"]: lsn["id"] for module in body["modules"] for lsn in module["lessons"]}


async def test_anonymous_is_401(client, sample):
    ids = await lesson_ids(client)
    assert (await client.get(f"/api/v1/lessons/{ids['so-tay']}")).status_code == 401


@pytest.mark.parametrize("role", [Role.learner, Role.province_admin, Role.content_admin])
async def test_anyone_not_enrolled_is_403(client, session, keyring, settings, sample, role):
    user = await make_user(session, role=role)
    ids = await lesson_ids(client)
    headers = auth(token_for(keyring, settings, user))
    r = await client.get(f"/api/v1/lessons/{ids['gioi-thieu']}", headers=headers)
    assert r.status_code == 403 and "url" not in r.text


async def test_a_learner_who_left_is_403(client, session, keyring, settings, sample):
    learner = await make_user(session)
    enrollment = await enroll(session, learner, sample)
    enrollment.left_at = utcnow()
    await session.flush()
    ids = await lesson_ids(client)
    headers = auth(token_for(keyring, settings, learner))
    r = await client.get(f"/api/v1/lessons/{ids['so-tay']}", headers=headers)
    assert r.status_code == 403


async def test_unknown_lesson_is_404(client, session, keyring, settings):
    learner = await make_user(session)
    r = await client.get("/api/v1/lessons/6f1d7d1e-0000-4000-8000-000000000000",
                         headers=auth(token_for(keyring, settings, learner)))
    assert r.status_code == 404


async def test_enrolled_learner_gets_text_quiz_and_a_short_lived_video_url(client, session, keyring, settings,
                                                                           sample):
    learner = await make_user(session)
    await enroll(session, learner, sample)
    headers = auth(token_for(keyring, settings, learner))
    ids = await lesson_ids(client)
    text = (await client.get(f"/api/v1/lessons/{ids['bao-ve-tai-khoan']}", headers=headers)).json()
    assert "Ba thói quen an toàn" in text["text"] and text["url"] is None
    quiz = (await client.get(f"/api/v1/lessons/{ids['kiem-tra-cuoi-khoa']}", headers=headers)).json()
    assert quiz["quiz"]["question_count"] == 4 and "prompt" not in str(quiz)
    video = await client.get(f"/api/v1/lessons/{ids['gioi-thieu']}", headers=headers)
    body = video.json()
    assert video.headers["cache-control"] == "private, no-store"
    assert body["content_type"] == "video/mp4" and body["duration_s"] == 4.0
    assert utcnow() < datetime.fromisoformat(body["url_expires_at"]) <= utcnow() + timedelta(hours=1)
    url = urlparse(body["url"])
    streamed = await client.get(f"{url.path}?{url.query}", headers={"Range": "bytes=0-99"})
    assert streamed.status_code == 206 and len(streamed.content) == 100
    assert streamed.content[4:8] == b"ftyp"


async def test_lesson_url_ttl_is_capped_at_one_hour(client, app, session, keyring, settings, sample):
    app.state.settings = settings.model_copy(update={"media_url_ttl_s": 86400})
    learner = await make_user(session)
    await enroll(session, learner, sample)
    ids = await lesson_ids(client)
    body = (await client.get(f"/api/v1/lessons/{ids['so-tay']}",
                             headers=auth(token_for(keyring, settings, learner)))).json()
    assert datetime.fromisoformat(body["url_expires_at"]) <= utcnow() + timedelta(seconds=3601)
    expires = int(dict(p.split("=") for p in urlparse(body["url"]).query.split("&"))["expires"])
    assert expires <= utcnow().timestamp() + 3601


async def test_with_s3_storage_the_video_url_streams_a_range_from_the_store(app, client, db, session, keyring,
                                                                          s3_settings):
    storage = S3Storage(s3_settings)
    await storage.ensure_bucket()
    app.state.storage = storage
    job = await import_package(db, storage, SAMPLE_ZIP, publish=True)
    assert job.status == "succeeded", job.errors
    learner = await make_user(session)
    await enroll(session, learner, job)
    ids = await lesson_ids(client)
    body = (await client.get(f"/api/v1/lessons/{ids['gioi-thieu']}",
                             headers=auth(token_for(keyring, s3_settings, learner)))).json()
    assert body["url"].startswith(s3_settings.s3_endpoint_url)
    async with httpx.AsyncClient() as http:
        r = await http.get(body["url"], headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and len(r.content) == 100 and r.headers["content-type"] == "video/mp4"
