"""SCORM over the API: launch, starting state, commits (validated, idempotent), resume, completion, content
files under signed paths, the player page, results and the admin report."""

import csv as csv_module
import io
import re
import uuid

import httpx
from sqlalchemy import select

from app.core.storage import build_storage
from app.models.course import Lesson
from app.models.identity import Role
from app.models.scorm import ScormInteraction, ScormSco
from app.services import jobs
from app.services.content.packages.importer import import_file
from tests import s3_server
from tests.api import scorm_flow
from tests.conftest import make_app
from tests.factories import auth, make_user, token_for
from tests.factories.packages import write_zip
from tests.factories.scorm_packages import manifest_12, manifest_2004, scorm_zip

golf12, learner = scorm_flow.golf12, scorm_flow.learner  # fixtures
import_course, enrolled, launch, commit = (scorm_flow.import_course, scorm_flow.enrolled, scorm_flow.launch,
                                           scorm_flow.commit)


async def test_only_enrolled_learners_launch(client, golf12, learner):
    course_id, lessons = golf12
    r = await client.post(f"/api/v1/lessons/{lessons['playing_item']}/launch", headers=learner[1])
    assert r.status_code == 403
    r = await client.post(f"/api/v1/lessons/{lessons['playing_item']}/launch")
    assert r.status_code == 401
    await enrolled(client, learner, course_id)
    answer, _ = await launch(client, learner, lessons["playing_item"])
    assert answer["launch_url"].startswith(f"http://test/scorm/play/{answer['session_id']}?token=")
    assert answer["attempt"] == 1


async def test_state_gives_the_lms_decided_elements(client, golf12, learner):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    r = await client.get(f"/api/v1/scorm/sessions/{answer['session_id']}/state", headers=token)
    assert r.status_code == 200, r.text
    state = r.json()
    assert (state["entry"], state["credit"], state["mode"], state["mastery_score"]) == (
        "ab-initio", "credit", "normal", 80)
    assert state["cmi"]["cmi.core.student_name"] == "Trần Văn Bình"
    assert state["cmi"]["cmi.launch_data"] == "golf-playing"
    assert state["cmi"]["cmi.student_data.max_time_allowed"] == "0001:00:00"
    assert state["cmi"]["cmi.core.lesson_status"] == "not attempted"
    bad = await client.get(f"/api/v1/scorm/sessions/{answer['session_id']}/state",
                           headers={"X-Scorm-Token": token["X-Scorm-Token"][:-2] + "xx"})
    assert bad.status_code == 403 and bad.headers["content-type"] == "application/problem+json"


async def test_commits_are_validated_and_idempotent(client, golf12, learner, session):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    r = await commit(client, answer, token, 1, {"cmi.core.lesson_status": "incomplete",
                                                "cmi.core.lesson_location": "p2",
                                                "cmi.core.student_id": "ignored-read-only",
                                                "cmi.interactions.0.id": "q1", "cmi.interactions.0.type": "choice",
                                                "cmi.interactions.0.result": "wrong"})
    assert r.status_code == 200 and r.json()["applied"] and r.json()["lesson_status"] == "incomplete"
    r = await commit(client, answer, token, 3, {"cmi.core.lesson_location": "p4"})
    assert r.json()["applied"]
    for seq in (3, 2):  # a replay, and one overtaken by a later commit: nothing changes
        r = await commit(client, answer, token, seq, {"cmi.core.lesson_location": "p1",
                                                      "cmi.core.lesson_status": "completed"})
        assert r.status_code == 200 and not r.json()["applied"] and r.json()["lesson_status"] == "incomplete"
    r = await client.get(f"/api/v1/scorm/sessions/{answer['session_id']}/state", headers=token)
    assert r.json()["location"] == "p4"
    bad = await commit(client, answer, token, 4, {"cmi.core.lesson_status": "done", "cmi.core.score.raw": "x",
                                                  "cmi.location": "2004 element", "cmi.core.lesson_location": "p5"})
    assert bad.status_code == 200 and bad.json()["applied"]
    fields = {e["field"] for e in bad.json()["refused"]}
    assert fields == {"values.cmi.core.lesson_status", "values.cmi.core.score.raw", "values.cmi.location"}
    assert all(e["message"] for e in bad.json()["refused"])
    r = await client.get(f"/api/v1/scorm/sessions/{answer['session_id']}/state", headers=token)
    assert r.json()["location"] == "p5"  # the valid element of that commit was kept
    interactions = (await session.execute(select(ScormInteraction))).scalars().all()
    assert [(i.identifier, i.type, i.result) for i in interactions] == [("q1", "choice", "wrong")]


async def test_a_refused_element_does_not_drop_the_status_of_the_same_commit(client, golf12, learner):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    # 1.2 scores are JS numbers: 200 / 3 arrives with 14 decimals; the identifier has a space, as scorm-again allows
    values = {"cmi.core.score.raw": "66.66666666666667", "cmi.core.lesson_status": "completed",
              "cmi.interactions.0.id": "question one", "cmi.interactions.0.type": "sequence"}
    r = await commit(client, answer, token, 1, values)
    assert r.status_code == 200, r.text
    assert r.json()["refused"] == [{"field": "values.cmi.interactions.0.type", "message": r.json()["refused"][0][
        "message"]}]
    assert (r.json()["score_raw"], r.json()["lesson_status"]) == (66.66666666666667, "failed")  # mastery 80
    r = await commit(client, answer, token, 2, {**values, "cmi.core.score.raw": "85.33333333333333"})
    assert r.json()["applied"] and r.json()["lesson_status"] == "passed"


async def test_resume_with_suspend_data_and_location_on_another_launch(client, golf12, learner):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["etiquette_item"])
    suspend = "s" * 10_000  # above 1.2's 4,096: accepted (real content overflows it)
    r = await commit(client, answer, token, 1, {"cmi.core.lesson_location": "page-3", "cmi.suspend_data": suspend,
                                                "cmi.core.exit": "suspend", "cmi.core.lesson_status": "incomplete",
                                                "cmi.core.session_time": "00:00:02"}, terminate=True)
    assert r.json()["applied"]
    again, token2 = await launch(client, learner, lessons["etiquette_item"])
    assert again["attempt"] == 1 and again["session_id"] != answer["session_id"]
    state = (await client.get(f"/api/v1/scorm/sessions/{again['session_id']}/state", headers=token2)).json()
    assert (state["entry"], state["location"], state["suspend_data"]) == ("resume", "page-3", suspend)
    assert state["cmi"]["cmi.core.total_time"] == "0000:00:02.00"
    assert "cmi.core.exit" not in state["cmi"] and "cmi.core.session_time" not in state["cmi"]
    # the first session's token does not open the second
    r = await client.get(f"/api/v1/scorm/sessions/{again['session_id']}/state", headers=token)
    assert r.status_code == 403


async def test_mastery_score_decides_and_the_course_completes(client, golf12, learner):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    for n, key in enumerate(("playing_item", "etiquette_item", "handicap_item")):
        answer, token = await launch(client, learner, lessons[key])
        raw = "70" if n == 0 else "90"
        r = await commit(client, answer, token, 1, {"cmi.core.lesson_status": "completed",
                                                    "cmi.core.score.raw": raw}, terminate=True)
        result = r.json()
        if key == "playing_item":  # 70 < mastery 80: failed, which 1.2's completed-or-passed still counts
            assert (result["lesson_status"], result["success_status"]) == ("failed", "failed")
        assert result["lesson_completed"]
    assert result["course_completed"]
    status = (await client.get(f"/api/v1/courses/{course_id}/completion-status", headers=learner[1])).json()
    assert status["completed"]
    scos = {r["lesson_key"]: r["scorm"] for r in status["requirements"]}
    assert scos["playing_item"]["lesson_status"] == "failed" and scos["etiquette_item"]["score_raw"] == 90
    r = await client.post(f"/api/v1/courses/{course_id}/completion", headers=learner[1])
    assert r.status_code == 200  # recorded by the last SCO's commit, through the same server-decided path


async def test_2004_needs_completed_and_passed_when_a_passing_score_is_given(client, db, settings, session,
                                                                            tmp_path, learner):
    course_id, lessons = await import_course(db, settings, session, tmp_path, manifest_2004("4th"), "g2004")
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    r = await commit(client, answer, token, 1, {"cmi.completion_status": "completed",
                                                "cmi.success_status": "passed", "cmi.score.scaled": "0.5"})
    assert (r.json()["success_status"], r.json()["lesson_completed"]) == ("failed", False)
    r = await commit(client, answer, token, 2, {"cmi.score.scaled": "0.9"})
    assert (r.json()["success_status"], r.json()["lesson_completed"]) == ("passed", True)
    again, _ = await launch(client, learner, lessons["playing_item"], new_attempt=True)
    assert again["attempt"] == 2
    mine = (await client.get(f"/api/v1/lessons/{lessons['playing_item']}/scorm", headers=learner[1])).json()
    # the fresh attempt 2 does not hide the result that met the lesson: attempt 1 counts
    assert (mine["attempts"], mine["attempt"], mine["counted"], mine["completion_status"]) == (
        2, 1, "best_met", "completed")


async def test_2004_state_carries_the_manifest_limits_and_the_attempt_limit_holds(client, db, settings, session,
                                                                                 tmp_path, learner):
    manifest = manifest_2004(passing=None, limits='attemptLimit="1" attemptAbsoluteDurationLimit="PT45M"',
                             item_extra="<adlcp:dataFromLMS>d=1</adlcp:dataFromLMS>"
                                        "<adlcp:timeLimitAction>exit,no message</adlcp:timeLimitAction>")
    course_id, lessons = await import_course(db, settings, session, tmp_path, manifest, "limits")
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    cmi = (await client.get(f"/api/v1/scorm/sessions/{answer['session_id']}/state", headers=token)).json()["cmi"]
    assert (cmi["cmi.max_time_allowed"], cmi["cmi.time_limit_action"], cmi["cmi.launch_data"]) == (
        "PT45M", "exit,no message", "d=1")
    r = await commit(client, answer, token, 1, {"cmi.completion_status": "completed"}, terminate=True)
    assert r.json()["lesson_completed"]
    r = await client.post(f"/api/v1/lessons/{lessons['playing_item']}/launch", headers=learner[1],
                          json={"new_attempt": True})
    assert r.status_code == 409 and r.json()["type"] == "/problems/scorm-attempt-limit", r.text
    again, _ = await launch(client, learner, lessons["playing_item"])  # reviewing the attempt stays possible
    assert again["attempt"] == 1


async def test_minimum_time_is_checked_when_set(client, app, golf12, learner, settings):
    app.state.settings = settings.model_copy(update={"scorm_min_time_s": 600})
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["handicap_item"])
    # the SCO claims an hour, but only seconds passed since launch: the wall clock caps it
    r = await commit(client, answer, token, 1, {"cmi.core.lesson_status": "completed",
                                                "cmi.core.session_time": "01:00:00"}, terminate=True)
    assert r.json()["total_time_s"] < 60 and not r.json()["lesson_completed"]


async def content_path(client, learner, lesson_id):
    answer, token = await launch(client, learner, lesson_id)
    page = await client.get(f"/scorm/play/{answer['session_id']}?token={token['X-Scorm-Token']}")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    for script in re.findall(r'<script src="([^"]+)"', page.text):  # the vendored runtime and the player
        assert (await client.get(script)).status_code == 200, script
    return re.search(r'"content_url": "([^"]+)"', page.text).group(1)


async def test_package_files_are_served_under_a_signed_path(client, golf12, learner):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    url = await content_path(client, learner, lessons["playing_item"])
    assert url.endswith("/Playing/index.html?lang=vi")
    r = await client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"] and "Playing the Game" in r.text
    base = url.rsplit("/Playing/", 1)[0]
    image = await client.get(f"{base}/shared/golf.png", headers={"Range": "bytes=0-7"})
    assert image.status_code == 206 and image.content == b"\x89PNG\r\n\x1a\n"
    assert image.headers["content-range"].startswith("bytes 0-7/")
    cached = await client.get(f"{base}/shared/golf.png", headers={"If-None-Match": image.headers["etag"]})
    assert cached.status_code == 304
    script = await client.get(f"{base}/shared/sco.js")
    assert script.headers["content-type"].startswith("text/javascript")
    for escape in ("..%2F..%2Fkeys", "%2e%2e/%2e%2e/%2e%2e/keys", "Playing/..%2F..%2F..%2Fx", "%2Fetc/passwd"):
        r = await client.get(f"{base}/{escape}")
        assert r.status_code == 404, (escape, r.status_code)
    token = base.rsplit("/", 1)[1]
    assert (await client.get(f"/scorm/content/{token[:-3]}abc/shared/sco.js")).status_code == 403


async def test_admin_report_json_and_csv(client, golf12, learner, session, keyring, settings):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    await commit(client, answer, token, 1, {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "85",
                                            "cmi.core.session_time": "00:00:01"})
    admin = await make_user(session, role=Role.content_admin)
    headers = auth(token_for(keyring, settings, admin))
    assert (await client.get(f"/api/v1/admin/courses/{course_id}/scorm-report", headers=learner[1])
            ).status_code == 403
    report = (await client.get(f"/api/v1/admin/courses/{course_id}/scorm-report", headers=headers)).json()
    (row,) = report["rows"]
    assert (row["full_name"], row["lesson_key"], row["lesson_status"], row["score_raw"], row["attempts"]) == (
        "Trần Văn Bình", "playing_item", "passed", 85, 1)
    assert [lesson["key"] for lesson in report["lessons"]] == ["playing_item", "etiquette_item", "handicap_item"]
    csv = await client.get(f"/api/v1/admin/courses/{course_id}/scorm-report?format=csv", headers=headers)
    assert csv.content.startswith("\ufeff".encode()) and "Trần Văn Bình" in csv.content.decode("utf-8-sig")


async def test_the_csv_report_never_turns_a_learner_name_into_a_formula(client, golf12, session, keyring,
                                                                        settings):
    course_id, lessons = golf12
    user = await make_user(session, full_name='=HYPERLINK("http://x")')
    learner = (user, auth(token_for(keyring, settings, user)))
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    await commit(client, answer, token, 1, {"cmi.core.lesson_status": "incomplete"})
    admin = await make_user(session, role=Role.content_admin)
    r = await client.get(f"/api/v1/admin/courses/{course_id}/scorm-report?format=csv",
                         headers=auth(token_for(keyring, settings, admin)))
    assert r.content.startswith("\ufeff".encode())
    (row,) = list(csv_module.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
    assert row[1] == "'=HYPERLINK(\"http://x\")"


s3_endpoint, s3_settings = s3_server.s3_endpoint, s3_server.s3_settings  # fixtures


async def test_package_files_stream_from_s3_with_ranges(db, s3_settings, session, keyring, tmp_path, learner):
    storage = build_storage(s3_settings)
    await storage.ensure_bucket()
    job = await import_file(db, storage, scorm_zip(tmp_path / "g.zip", manifest_12()), publish=True)
    assert job.status == "succeeded", job.errors
    lesson_id = (await session.execute(select(Lesson.id).where(Lesson.version_id == job.version_id,
                                                               Lesson.key == "playing_item"))).scalar_one()
    app = make_app(s3_settings, db, keyring)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await enrolled(client, learner, job.course_id)
        url = await content_path(client, learner, lesson_id)
        page = await client.get(url)
        assert page.status_code == 200 and "Playing the Game" in page.text
        base = url.rsplit("/Playing/", 1)[0]
        image = await client.get(f"{base}/shared/golf.png", headers={"Range": "bytes=1-3"})
        assert (image.status_code, image.content) == (206, b"PNG")
        assert (await client.get(f"{base}/shared/missing.png")).status_code == 404


async def test_heartbeats_cannot_complete_a_scorm_lesson(client, golf12, learner):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    r = await client.post(f"/api/v1/lessons/{lessons['playing_item']}/progress", headers=learner[1],
                          json={"event_id": "hb-1", "viewed": True})
    assert r.status_code == 409 and r.json()["type"] == "/problems/scorm-progress-by-runtime"


async def test_an_asset_is_met_when_launched(client, db, settings, session, tmp_path, learner):
    sco = 'adlcp:scormtype="sco"\n              href="index.html" xml:base="Handicapping/"'
    manifest = manifest_12().replace(sco, sco.replace('"sco"', '"asset"'))
    course_id, lessons = await import_course(db, settings, session, tmp_path, manifest, "asset")
    await enrolled(client, learner, course_id)
    await launch(client, learner, lessons["handicap_item"])
    mine = (await client.get(f"/api/v1/lessons/{lessons['handicap_item']}/scorm", headers=learner[1])).json()
    assert mine["completion_status"] == "completed" and mine["completed_at"]
    status = (await client.get(f"/api/v1/courses/{course_id}/completion-status", headers=learner[1])).json()
    assert {r["lesson_key"]: r["met"] for r in status["requirements"]} == {
        "playing_item": False, "etiquette_item": False, "handicap_item": True}


async def test_admin_upload_takes_scorm_import_options_and_shows_notices(client, db, session, keyring, settings,
                                                                         tmp_path):
    admin = await make_user(session, role=Role.content_admin)
    headers = {**auth(token_for(keyring, settings, admin)), "Accept-Language": "en"}
    path = scorm_zip(tmp_path / "golf.zip", manifest_2004("3rd"))
    with path.open("rb") as f:
        r = await client.post("/api/v1/admin/course-packages", headers=headers,
                              params=[("publish", "true"), ("slug", "golf-2004"), ("audiences", "official"),
                                      ("certificate", "true"), ("estimated_minutes", "20"),
                                      ("completion", "completed")],
                              files={"file": (path.name, f, "application/zip")})
    assert r.status_code == 202, r.text
    await jobs.run_pending(db)
    job = (await client.get(r.headers["location"], headers=headers)).json()
    assert job["status"] == "succeeded", job["errors"]
    assert any("imsss:deliveryControls" in n["message"] and n["line"] for n in job["notices"])
    course = (await client.get("/api/v1/courses/golf-2004")).json()
    assert (course["audiences"], course["certificate"], course["estimated_minutes"]) == (["official"], True, 20)
    assert course["lessons_by_kind"]["scorm"] == 3
    rules = set((await session.execute(select(ScormSco.completion_rule).where(
        ScormSco.version_id == uuid.UUID(job["version_id"])))).scalars())
    assert rules == {"completed"}  # the admin's choice over the default completed_and_passed (passing score 0.8)
    for query in ("slug=Not%20a%20slug", "completion=finished"):
        bad = await client.post(f"/api/v1/admin/course-packages?{query}", headers=headers,
                                files={"file": (path.name, b"x", "application/zip")})
        assert bad.status_code == 422, query


async def test_a_zip_of_neither_format_names_both_in_english_and_vietnamese(client, db, session, keyring, settings,
                                                                           tmp_path):
    admin = await make_user(session, role=Role.content_admin)
    headers = auth(token_for(keyring, settings, admin))
    path = write_zip(tmp_path / "web.zip", {"index.html": b"<p>hi</p>"})
    with path.open("rb") as f:
        r = await client.post("/api/v1/admin/course-packages", headers=headers,
                              files={"file": (path.name, f, "application/zip")})
    await jobs.run_pending(db)
    for lang, words in (("vi", "gói SCORM"), ("en", "a SCORM package")):
        job = (await client.get(r.headers["location"], headers={**headers, "Accept-Language": lang})).json()
        (error,) = job["errors"]
        assert "course.yaml" in error["message"] and "imsmanifest.xml" in error["message"] and words in error["message"]
