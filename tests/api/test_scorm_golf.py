"""Packages shaped like the public golf examples (`tests/factories/golf_packages.py`): SCORM 1.2 "Multi SCO" and
SCORM 2004 3rd edition sequencing import as courses with one lesson per SCO in the organization's order, through
the admin upload and the CLI; in a real browser the nested-frame content reaches the runtime, resumes where the
learner left and reports completion, score and interactions to the server."""

import asyncio
import uuid

import anyio.to_thread
import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app as hocso
from app.core.storage import build_storage
from app.models.course import Asset, Course, CourseVersion, Lesson, Module
from app.models.identity import Role
from app.models.scorm import ScormAttempt, ScormInteraction, ScormSco
from app.services import jobs
from app.services.content.packages.importer import import_file
from tests.browser import live_server, reserve_port, screenshot_path
from tests.conftest import make_app
from tests.factories import auth, make_user, token_for
from tests.factories.golf_content import QUESTIONS
from tests.factories.golf_packages import ATTEMPTS_2004, PASSING_2004, golf_package_files, golf_zip

TOPIC_ITEMS = [("playing_item", "Playing the Game", "playing"), ("etiquette_item", "Etiquette", "etiquette"),
               ("handicapping_item", "Handicapping", "handicapping"), ("havingfun_item", "Having Fun", "havingfun")]


async def upload(client, db, session, keyring, settings, path):
    admin = await make_user(session, role=Role.content_admin)
    headers = {**auth(token_for(keyring, settings, admin)), "Accept-Language": "en"}
    with path.open("rb") as f:
        r = await client.post("/api/v1/admin/course-packages?publish=true", headers=headers,
                              files={"file": (path.name, f, "application/zip")})
    assert r.status_code == 202, r.text
    await jobs.run_pending(db)
    job = (await client.get(r.headers["location"], headers=headers)).json()
    assert job["status"] == "succeeded", job["errors"]
    return job


async def lessons_in_order(session, version_id):
    """(module title, lesson key, kind, title, launch path + query), in the course's order."""
    rows = await session.execute(
        select(Module.title, Lesson.key, Lesson.kind, Lesson.title, ScormSco.launch_path, ScormSco.launch_query,
               ScormSco.scorm_type).join(Lesson, Lesson.module_id == Module.id)
        .join(ScormSco, ScormSco.lesson_id == Lesson.id).where(Module.version_id == version_id)
        .order_by(Module.position, Lesson.position))
    return [(m, key, kind, title, path + query, kind_sco) for m, key, kind, title, path, query, kind_sco in rows]


async def test_the_12_multi_sco_golf_package_is_one_lesson_per_sco_in_order(client, db, session, keyring, settings,
                                                                           tmp_path):
    job = await upload(client, db, session, keyring, settings, golf_zip(tmp_path / "golf12.zip", "1.2"))
    version_id = uuid.UUID(job["version_id"])
    title = "Golf Explained - Multi SCO"
    assert await lessons_in_order(session, version_id) == [
        (title, key, "scorm", item_title, f"shared/launchpage.html?content={content}", "sco")
        for key, item_title, content in TOPIC_ITEMS]  # common_files, an asset no item points at, is no lesson
    course = (await client.get("/api/v1/courses/golf-explained-multi-sco")).json()
    assert (course["title"], course["lessons_by_kind"]["scorm"], sum(course["lessons_by_kind"].values())) == (
        title, 4, 4)
    stored = set((await session.execute(select(Asset.path).where(Asset.version_id == version_id))).scalars())
    assert stored == set(golf_package_files("1.2"))
    assert {"Playing/playing.png", "Playing/playing_green.jpg", "shared/background.jpg", "shared/scormfunctions.js",
            "shared/contentfunctions.js", "adlcp_rootv1p2.xsd", "ims_xml.xsd"} <= stored
    scos = (await session.execute(select(ScormSco).where(ScormSco.version_id == version_id))).scalars().all()
    assert {(s.scorm_version, s.mastery_score, s.completion_rule) for s in scos} == {
        ("1.2", None, "completed_or_passed")}
    assert job["notices"] == []  # a plain 1.2 manifest: nothing ignored, nothing assumed


async def test_the_2004_sequencing_golf_package_keeps_order_and_lists_the_ignored_sequencing(
        client, db, session, keyring, settings, tmp_path):
    job = await upload(client, db, session, keyring, settings, golf_zip(tmp_path / "golf2004.zip", "2004"))
    version_id = uuid.UUID(job["version_id"])
    title = "Golf Explained - Sequencing"
    assert await lessons_in_order(session, version_id) == [
        (title, key, "scorm", item_title, f"shared/launchpage.html?content={content}", "sco")
        for key, item_title, content in [*TOPIC_ITEMS, ("assessment_item", "Knowledge Check", "assessment")]]
    stored = set((await session.execute(select(Asset.path).where(Asset.version_id == version_id))).scalars())
    assert stored == set(golf_package_files("2004")) and {"imsss_v1p0.xsd", "adlnav_v1p3.xsd"} <= stored
    scos = {s.identifier: s for s in (await session.execute(
        select(ScormSco).where(ScormSco.version_id == version_id))).scalars()}
    quiz = scos["assessment_item"]  # passing score and attempt limit live in the sequencingCollection (IDRef)
    assert (quiz.scorm_version, quiz.scaled_passing_score, quiz.attempt_limit, quiz.completion_rule) == (
        "2004-3", PASSING_2004, ATTEMPTS_2004, "completed_and_passed")
    assert (scos["playing_item"].scaled_passing_score, scos["playing_item"].completion_rule) == (
        None, "completed_or_passed")
    manifest = golf_package_files("2004")["imsmanifest.xml"].decode().splitlines()
    line_of = {text.strip(): n + 1 for n, text in enumerate(manifest)}
    collection = line_of["<imsss:sequencingCollection>"]
    notices = [(n["line"], n["message"]) for n in job["notices"]]
    assert all(n["file"] == "imsmanifest.xml" for n in job["notices"])
    objectives = [n + 1 for n, text in enumerate(manifest) if text.strip() == "<imsss:objectives>"][:4]
    assert [line for line, _ in notices] == [
        *objectives,  # each topic's objective maps to a global objective: not run
        line_of["<adlnav:presentation>"], line_of["<imsss:sequencing>"],  # the organization's rollup
        collection + 2, collection + 3, collection + 4, collection + 7, collection + 9, collection + 15]
    said = [message for _, message in notices]
    assert said[4] == "Ignored <presentation>: HocSo plays items in the organization's order."
    assert said[-6:] == [f"Ignored <imsss:{name}>: HocSo plays items in the organization's order." for name in (
        "controlMode", "rollupRules", "deliveryControls", "controlMode", "rollupRules", "deliveryControls")]


async def test_the_cli_imports_the_golf_packages(operator_env, committed_db, tmp_path):
    for version, slug, count in (("1.2", "golf-cli-12", 4), ("2004", "golf-cli-2004", 5)):
        path = golf_zip(tmp_path / f"golf-{version}.zip", version)
        result = await anyio.to_thread.run_sync(lambda p=path, s=slug: CliRunner().invoke(
            hocso, ["courses", "import", str(p), "--slug", s, "--publish"]))
        assert result.exit_code == 0, result.output
        async with committed_db.session() as session:
            keys = (await session.execute(
                select(Lesson.key).join(Module, Module.id == Lesson.module_id)
                .join(CourseVersion, CourseVersion.id == Module.version_id)
                .join(Course, Course.id == CourseVersion.course_id).where(Course.slug == slug)
                .order_by(Module.position, Lesson.position))).scalars().all()
        assert keys == [key for key, _, _ in TOPIC_ITEMS] + (["assessment_item"] if count == 5 else [])


# A real browser: the player hosts shared/launchpage.html, which frames the topic's pages.

async def import_golf(db, settings, tmp_path, version):
    job = await import_file(db, build_storage(settings), golf_zip(tmp_path / f"g{version}.zip", version),
                            publish=True)
    assert job.status == "succeeded", job.errors
    async with db.session() as session:
        lessons = (await session.execute(select(Lesson).where(Lesson.version_id == job.version_id))).scalars()
        return job.course_id, {lesson.key: lesson.id for lesson in lessons}


async def open_launch_page(page, client, headers, lesson_id, counter):
    r = await client.post(f"/api/v1/lessons/{lesson_id}/launch", headers=headers)
    assert r.status_code == 201, r.text
    await page.goto(r.json()["launch_url"])
    launch = page.frame_locator("#sco")
    await launch.locator("#counter").filter(has_text=counter).wait_for(timeout=15_000)
    return launch, launch.frame_locator("#contentFrame")


async def attempt_cmi(db, key):
    async with db.session() as session:
        return await session.scalar(select(ScormAttempt.cmi).where(ScormAttempt.lesson_key == key)) or {}


async def eventually(check, timeout_s=10.0):
    for _ in range(int(timeout_s / 0.1)):
        if await check():
            return True
        await asyncio.sleep(0.1)
    return await check()


async def test_a_learner_plays_golf_content_in_nested_frames_resumes_and_scores(page, settings, committed_db,
                                                                                keyring, tmp_path):
    port = reserve_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    course12, lessons12 = await import_golf(committed_db, settings, tmp_path, "1.2")
    course2004, lessons2004 = await import_golf(committed_db, settings, tmp_path, "2004")
    async with committed_db.session() as session:
        user = await make_user(session, full_name="Lê Thị Mai")
    headers = auth(token_for(keyring, settings, user))
    async with live_server(make_app(settings, committed_db, keyring), port) as url, \
            httpx.AsyncClient(base_url=url) as client:
        for course in (course12, course2004):
            assert (await client.post(f"/api/v1/courses/{course}/enrollments", headers=headers)).status_code == 201

        # 1.2 "Playing the Game": the page two frames below the player finds the runtime; the learner reads
        # the second page and leaves (the launch page terminates on pagehide with exit=suspend).
        launch, content = await open_launch_page(page, client, headers, lessons12["playing_item"], "Page 1 of 3")
        assert await launch.locator("#entry").text_content() == "entry: ab-initio"
        runtime = content.locator("#runtime").filter(has_text="frames up")
        await runtime.wait_for()
        assert await runtime.text_content() == "SCORM 1.2 runtime 2 frames up; learner: Lê Thị Mai"
        await launch.locator("#next").click()
        await content.locator("h1").filter(has_text="Par").wait_for()
        await page.goto("about:blank")

        async def left_on_page_two() -> bool:  # the player's beacon and the SCO's Terminate (exit) both landed
            async with committed_db.session() as session:
                attempt = await session.scalar(select(ScormAttempt).where(ScormAttempt.lesson_key == "playing_item"))
            return attempt is not None and (attempt.cmi.get("cmi.core.lesson_location"), attempt.cmi.get(
                "cmi.suspend_data"), attempt.exit) == ("1", "topic=playing;page=1", "suspend")
        assert await eventually(left_on_page_two)

        # Back later: the same attempt resumes on the page it left, and the last page completes the SCO.
        launch, content = await open_launch_page(page, client, headers, lessons12["playing_item"], "Page 2 of 3")
        assert await launch.locator("#entry").text_content() == "entry: resume"
        await content.locator("h1").filter(has_text="Par").wait_for()
        await content.locator("img").evaluate("img => img.decode()")  # a real image, served and decoded
        await page.screenshot(path=screenshot_path("scorm12-golf-resumed"))
        await launch.locator("#next").click()
        await launch.locator("#state").filter(has_text="completed:true").wait_for(timeout=10_000)
        mine = (await client.get(f"/api/v1/lessons/{lessons12['playing_item']}/scorm", headers=headers)).json()
        assert (mine["lesson_status"], mine["completion_status"], mine["attempts"]) == ("completed", "completed", 1)
        status = (await client.get(f"/api/v1/courses/{course12}/completion-status", headers=headers)).json()
        assert {r["lesson_key"]: r["met"] for r in status["requirements"]} == {
            "playing_item": True, "etiquette_item": False, "handicapping_item": False, "havingfun_item": False}

        # 2004 assessment: the nested page reads the passing score (from the manifest's sequencingCollection),
        # answers three of four right, writes the interactions and the score, commits; the launch page terminates.
        launch, content = await open_launch_page(page, client, headers, lessons2004["assessment_item"],
                                                 "Page 1 of 1")
        await content.locator("#runtime").filter(has_text="SCORM 2004 runtime 2 frames up").wait_for()
        assert await content.locator("#passing").text_content() == str(PASSING_2004)
        picks = {qid: answer for qid, _, _, answer in QUESTIONS} | {"bunker_care": "a"}
        for qid, key in picks.items():
            await content.locator(f"#{qid}_{key}").check()
        await content.locator("#submit").click()
        await launch.locator("#state").filter(has_text="finished:true").wait_for(timeout=10_000)
        assert await content.locator("#result").text_content() == "Score 75% (passed), saved: true"
        await page.screenshot(path=screenshot_path("scorm2004-golf-assessment"))
        mine = (await client.get(f"/api/v1/lessons/{lessons2004['assessment_item']}/scorm", headers=headers)).json()
        assert (mine["completion_status"], mine["success_status"], mine["score_raw"], mine["score_scaled"]) == (
            "completed", "passed", 75, 0.75)
        status = (await client.get(f"/api/v1/courses/{course2004}/completion-status", headers=headers)).json()
        quiz = next(r for r in status["requirements"] if r["lesson_key"] == "assessment_item")
        assert quiz["met"] and not status["completed"]  # four topic SCOs still to go
        cmi = await attempt_cmi(committed_db, "assessment_item")
        assert [cmi[f"cmi.interactions.{n}.correct_responses.0.pattern"] for n in range(4)] == ["b", "a", "b", "b"]
        assert (cmi["cmi.score.min"], cmi["cmi.score.max"]) == ("0", "100")
        async with committed_db.session() as session:
            exits = dict((await session.execute(select(ScormAttempt.lesson_key, ScormAttempt.exit))).all())
            # the completed 1.2 SCO terminated with exit "" when the learner went on to the assessment
            assert exits == {"playing_item": None, "assessment_item": "normal"}
            rows = (await session.execute(select(ScormInteraction).order_by(ScormInteraction.position))).scalars()
            assert [(i.identifier, i.type, i.learner_response, i.result) for i in rows] == [
                ("par_meaning", "choice", "b", "correct"), ("fewest_strokes", "choice", "a", "correct"),
                ("bunker_care", "choice", "a", "incorrect"), ("handicap_use", "choice", "b", "correct")]
        assert page.console_errors == []
