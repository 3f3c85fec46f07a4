"""Importing packages and publishing courses through the admin API; imports run as jobs."""

import uuid
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from app.models.course import Course, CourseVersion
from app.models.identity import Role
from app.models.learning import Enrollment
from app.services import jobs
from tests.factories import auth, make_user, token_for
from tests.factories.packages import SAMPLE_ZIP, package_zip, sample_files, sample_manifest, write_zip
from tests.factories.scorm_packages import manifest_12, scorm_zip

ROUTES = [("post", "/api/v1/admin/course-packages"), ("post", "/api/v1/admin/course-packages/uploads"),
          ("post", "/api/v1/admin/course-packages/uploads/6f1d7d1e-0000-4000-8000-000000000000/import"),
          ("get", "/api/v1/admin/imports/6f1d7d1e-0000-4000-8000-000000000000"),
          ("get", "/api/v1/admin/courses"),
          ("post", "/api/v1/admin/courses/ky-nang-so-co-ban/publish"),
          ("post", "/api/v1/admin/courses/ky-nang-so-co-ban/archive")]


@pytest.fixture
async def admin_headers(session, keyring, settings):
    admin = await make_user(session, role=Role.content_admin)
    return auth(token_for(keyring, settings, admin))


async def upload(client, headers, path, *, publish=False, lang=None):
    extra = {"Accept-Language": lang} if lang else {}
    with path.open("rb") as f:
        return await client.post("/api/v1/admin/course-packages",
                                 params={"publish": publish} if publish else {},
                                 files={"file": (path.name, f, "application/zip")},
                                 headers={**headers, **extra})


async def imported(client, db, headers, response, lang=None):
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/v1/admin/imports/{response.json()['id']}"
    assert response.json()["status"] == "queued"
    await jobs.run_pending(db)
    extra = {"Accept-Language": lang} if lang else {}
    return (await client.get(response.headers["location"], headers={**headers, **extra})).json()


async def course_count(session) -> int:
    return await session.scalar(select(func.count()).select_from(Course))


# --- who may ---

@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_anonymous_is_401(client, method, path):
    assert (await client.request(method, path)).status_code == 401


@pytest.mark.parametrize("role", [Role.learner, Role.province_admin])
@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_learners_and_province_admins_are_403(client, session, keyring, settings, role, method, path):
    user = await make_user(session, role=role)
    r = await client.request(method, path, headers=auth(token_for(keyring, settings, user)))
    assert r.status_code == 403


# --- POST /api/v1/admin/course-packages ---

async def test_upload_imports_a_draft_that_learners_do_not_see_until_published(client, db, session,
                                                                               admin_headers):
    job = await imported(client, db, admin_headers, await upload(client, admin_headers, SAMPLE_ZIP))
    assert job["status"] == "succeeded" and job["percent"] == 100 and job["errors"] == []
    assert job["filename"] == "ky-nang-so-co-ban.zip"
    assert (await client.get("/api/v1/courses")).json()["items"] == []
    listed = (await client.get("/api/v1/admin/courses", headers=admin_headers)).json()
    assert listed["total"] == 1 and listed["items"][0]["versions"][0]["status"] == "draft"
    r = await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/publish", headers=admin_headers)
    assert r.status_code == 200 and r.json()["published_version"] == 1
    assert (await client.get("/api/v1/courses", params={"q": "ky nang so"})).json()["items"]
    r = await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/archive", headers=admin_headers)
    assert r.status_code == 200 and r.json()["versions"][0]["status"] == "archived"
    assert (await client.get("/api/v1/courses")).json()["items"] == []
    assert (await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/archive",
                              headers=admin_headers)).status_code == 409


async def test_publish_flag_publishes_when_the_import_succeeds(client, db, admin_headers):
    response = await upload(client, admin_headers, SAMPLE_ZIP, publish=True)
    job = await imported(client, db, admin_headers, response)
    assert job["status"] == "succeeded"
    [item] = (await client.get("/api/v1/courses", params={"q": "ky nang so"})).json()["items"]
    assert item["id"] == job["course_id"]


async def test_zip_with_a_parent_path_fails_naming_it_and_leaves_no_course(client, db, session, admin_headers,
                                                                          tmp_path):
    evil = write_zip(tmp_path / "evil.zip", {**sample_files(), "../evil.txt": b"gotcha"})
    job = await imported(client, db, admin_headers, await upload(client, admin_headers, evil))
    assert job["status"] == "failed" and job["course_id"] is None
    [error] = job["errors"]
    assert error["file"] == "../evil.txt" and error["line"] is None and "“..”" in error["message"]
    assert await course_count(session) == 0
    assert not (tmp_path / "evil.txt").exists()


async def test_gift_syntax_error_fails_with_file_line_and_title_in_english_too(client, db, session,
                                                                              admin_headers, tmp_path):
    gift = sample_files()["quizzes/cuoi-khoa.gift"].decode().replace("{T}", "{T", 1)
    broken = package_zip(tmp_path / "broken.zip", extra={"quizzes/cuoi-khoa.gift": gift.encode()})
    line = gift.splitlines().index(next(x for x in gift.splitlines() if "{T" in x and "Xác thực" in x)) + 1
    job = await imported(client, db, admin_headers, await upload(client, admin_headers, broken), lang="en")
    assert job["status"] == "failed" and job["step"] == "validating"
    assert job["errors"] == [{"file": "quizzes/cuoi-khoa.gift", "line": line,
                              "message": "Question “Xác thực hai lớp”: GIFT syntax error — “{” without a "
                                         "matching “}”."}]
    assert await course_count(session) == 0


async def test_a_body_without_the_file_field_or_not_multipart_is_422(client, admin_headers):
    r = await client.post("/api/v1/admin/course-packages",
                          files={"other": ("a.zip", b"PK", "application/zip")}, headers=admin_headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await client.post("/api/v1/admin/course-packages", content=b"PK", headers={
        **admin_headers, "Content-Type": "application/zip"})
    assert r.status_code == 422


async def test_a_package_over_the_limit_is_413_and_nothing_is_kept(client, app, admin_headers, settings):
    app.state.settings = settings.model_copy(update={"package_max_bytes": 10_000})
    r = await upload(client, admin_headers, SAMPLE_ZIP)
    assert r.status_code == 413
    uploads = settings.media_dir / "uploads"
    assert not uploads.exists() or not list(uploads.iterdir())


# --- direct uploads ---

async def test_direct_upload_then_import(client, db, admin_headers):
    ticket = await client.post("/api/v1/admin/course-packages/uploads", headers=admin_headers)
    assert ticket.status_code == 201
    body = ticket.json()
    assert body["method"] == "PUT" and body["headers"] == {"Content-Type": "application/zip"}
    url = urlparse(body["url"])
    put = await client.put(f"{url.path}?{url.query}", content=SAMPLE_ZIP.read_bytes(),
                           headers=body["headers"])
    assert put.status_code == 200
    r = await client.post(f"/api/v1/admin/course-packages/uploads/{body['upload_id']}/import",
                          params={"publish": True}, headers=admin_headers)
    job = await imported(client, db, admin_headers, r)
    assert job["status"] == "succeeded"
    again = await client.post(f"/api/v1/admin/course-packages/uploads/{body['upload_id']}/import",
                              headers=admin_headers)
    assert again.status_code == 404  # the upload is consumed by its import


async def test_importing_an_unknown_upload_is_404(client, admin_headers):
    r = await client.post("/api/v1/admin/course-packages/uploads/6f1d7d1e-0000-4000-8000-000000000000/import",
                          headers=admin_headers)
    assert r.status_code == 404


async def test_unknown_import_is_404(client, admin_headers):
    r = await client.get("/api/v1/admin/imports/6f1d7d1e-0000-4000-8000-000000000000", headers=admin_headers)
    assert r.status_code == 404


# --- versions and publishing ---

async def test_reimport_is_a_new_draft_and_publishing_it_moves_enrolled_learners(client, db, session,
                                                                               admin_headers, tmp_path):
    first = await imported(client, db, admin_headers, await upload(client, admin_headers, SAMPLE_ZIP,
                                                                   publish=True))
    learner = await make_user(session)
    session.add(Enrollment(user_id=learner.id, course_id=uuid.UUID(first["course_id"]),
                           version_id=uuid.UUID(first["version_id"])))
    await session.flush()
    renamed = package_zip(tmp_path / "v2.zip", manifest=sample_manifest().replace(
        "title: Giới thiệu khóa học", "title: Giới thiệu (bản mới)"))
    second = await imported(client, db, admin_headers, await upload(client, admin_headers, renamed))
    assert second["course_id"] == first["course_id"] and second["version_id"] != first["version_id"]
    outline = (await client.get("/api/v1/courses/ky-nang-so-co-ban")).json()
    assert outline["version"] == 1  # learners keep the published version until the draft is published

    r = await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/publish", headers=admin_headers)
    assert [(v["version"], v["status"]) for v in r.json()["versions"]] == [(2, "published"), (1, "archived")]
    outline = (await client.get("/api/v1/courses/ky-nang-so-co-ban")).json()
    assert outline["version"] == 2 and outline["modules"][0]["lessons"][0]["title"] == "Giới thiệu (bản mới)"
    query = select(Enrollment).where(Enrollment.user_id == learner.id)
    enrollment = (await session.execute(query)).scalar_one()
    await session.refresh(enrollment)
    assert str(enrollment.version_id) == second["version_id"]
    assert (await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/publish",
                              headers=admin_headers)).status_code == 409  # no draft left

    rollback = await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/publish", json={"version": 1},
                                 headers=admin_headers)
    assert rollback.json()["published_version"] == 1
    published = await session.scalar(select(func.count()).select_from(CourseVersion).where(
        CourseVersion.status == "published"))
    assert published == 1


async def test_publishing_an_unknown_version_or_course_is_404(client, db, admin_headers):
    await imported(client, db, admin_headers, await upload(client, admin_headers, SAMPLE_ZIP))
    r = await client.post("/api/v1/admin/courses/ky-nang-so-co-ban/publish", json={"version": 9},
                          headers=admin_headers)
    assert r.status_code == 404
    r = await client.post("/api/v1/admin/courses/khong-co/publish", headers=admin_headers)
    assert r.status_code == 404


async def test_admin_list_searches_titles_without_accents(client, db, admin_headers):
    await imported(client, db, admin_headers, await upload(client, admin_headers, SAMPLE_ZIP))
    found = (await client.get("/api/v1/admin/courses", params={"q": "ky nang"}, headers=admin_headers)).json()
    assert [c["slug"] for c in found["items"]] == ["ky-nang-so-co-ban"]
    none = (await client.get("/api/v1/admin/courses", params={"q": "lai xe"}, headers=admin_headers)).json()
    assert none == {"items": [], "next_cursor": None, "total": 0}


async def test_a_yaml_mistake_is_explained_in_vietnamese_with_line_column_and_hint(client, db, admin_headers,
                                                                                  tmp_path):
    manifest = sample_manifest().replace("title: Kỹ năng số cơ bản", "title: Kỹ năng số: cơ bản", 1)
    broken = package_zip(tmp_path / "broken.zip", manifest=manifest)
    line = manifest.splitlines().index("title: Kỹ năng số: cơ bản") + 1
    job = await imported(client, db, admin_headers, await upload(client, admin_headers, broken))
    [error] = job["errors"]
    assert (error["file"], error["line"], error["column"]) == ("course.yaml", line, len("title: Kỹ năng số:"))
    assert error["message"] == (f"Dòng {line}, cột {len('title: Kỹ năng số:')}: giá trị có dấu hai chấm “: ” nên "
                                "bị hiểu nhầm là một trường mới.")
    assert error["hint"] == "Đặt cả giá trị trong ngoặc kép, ví dụ: title: \"Kỹ năng số: cơ bản\"."
    assert "mapping values are not allowed here" in error["detail"]
    english = (await client.get(f"/api/v1/admin/imports/{job['id']}",
                                headers={**admin_headers, "Accept-Language": "en"})).json()["errors"][0]
    assert english["message"].startswith(f"Line {line}, column") and "double quotes" in english["hint"]


async def test_an_xml_syntax_error_carries_its_line_and_column(client, db, admin_headers, tmp_path):
    bank = '<?xml version="1.0"?>\n<quiz>\n  <question type="essay">\n</quiz>\n'
    manifest = sample_manifest().replace("{gift: quizzes/cuoi-khoa.gift,", "{moodle_xml: quizzes/bank.xml,")
    broken = package_zip(tmp_path / "bank.zip", manifest=manifest, drop=("quizzes/cuoi-khoa.gift",),
                         extra={"quizzes/bank.xml": bank.encode()})
    job = await imported(client, db, admin_headers, await upload(client, admin_headers, broken), lang="en")
    assert job["errors"] == [{"file": "quizzes/bank.xml", "line": 4, "column": len("</") + 1,
                              "message": "The XML is not well-formed (column 3 of the line given)."}]
    scorm = manifest_12().replace("<title>Golf Basics</title>", "<title>Golf Basics</titel>")
    line, source = next((n, s) for n, s in enumerate(scorm.splitlines(), 1) if "</titel>" in s)
    job = await imported(client, db, admin_headers, await upload(client, admin_headers,
                                                                 scorm_zip(tmp_path / "golf.zip", scorm)))
    [error] = job["errors"]
    assert (error["file"], error["line"], error["column"]) == ("imsmanifest.xml", line, source.index("titel>") + 1)
