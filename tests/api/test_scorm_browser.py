"""SCORM in a real browser (Debian's Chromium): a learner launches SCOs of a 1.2 and a 2004 package, each SCO
finds the runtime by walking up window.parent and calls Initialize/SetValue/Commit/Terminate; leaving and
launching again resumes with the saved suspend data and location; a value set without Commit reaches the server
by sendBeacon when the page goes away; the course completes on the server (the last commit says so) and the
national figure moves by exactly one."""

import asyncio
import contextlib
import json

import httpx
import pytest
from sqlalchemy import select

from app.core.storage import build_storage
from app.models.course import Lesson
from app.models.scorm import ScormAttempt
from app.services.content.packages.importer import import_file
from tests.browser import live_server, reserve_port, screenshot_path
from tests.conftest import make_app
from tests.factories import auth, make_user, token_for
from tests.factories.scorm_packages import manifest_12, manifest_2004, scorm_zip


async def national(client) -> int:
    return (await client.get("/api/v1/stats/national")).json()["audiences"]["citizen"]["completions"]


async def import_course(db, settings, tmp_path, manifest, name):
    job = await import_file(db, build_storage(settings), scorm_zip(tmp_path / f"{name}.zip", manifest), publish=True)
    assert job.status == "succeeded", job.errors
    async with db.session() as session:
        lessons = (await session.execute(select(Lesson).where(Lesson.version_id == job.version_id))).scalars()
        return job.course_id, {lesson.key: lesson.id for lesson in lessons}


async def open_sco(page, client, headers, lesson_id):
    """Launch through the API and open the player; returns the SCO's frame once it initialised."""
    r = await client.post(f"/api/v1/lessons/{lesson_id}/launch", headers=headers)
    assert r.status_code == 201, r.text
    await page.goto(r.json()["launch_url"])
    frame = page.frame_locator("#sco")
    await frame.locator("#state").filter(has_text="ready").wait_for(timeout=15_000)
    return frame


async def saved_location(db, key: str) -> str | None:
    async with db.session() as session:
        cmi = await session.scalar(select(ScormAttempt.cmi).where(ScormAttempt.lesson_key == key))
    return (cmi or {}).get("cmi.core.lesson_location") or (cmi or {}).get("cmi.location")


async def finish(page, frame):
    await frame.locator("#finish").click()
    await frame.locator("#state").filter(has_text="finished:true:true").wait_for(timeout=10_000)


@pytest.mark.parametrize(("manifest", "name"), [(manifest_12(), "scorm12"), (manifest_2004("3rd"), "scorm2004")])
async def test_a_learner_plays_resumes_and_completes_a_scorm_course(page, settings, committed_db, keyring, tmp_path,
                                                                    manifest, name):
    port = reserve_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}", "stats_cache_ttl_s": 0})
    course_id, lessons = await import_course(committed_db, settings, tmp_path, manifest, name)
    async with committed_db.session() as session:
        user = await make_user(session, full_name="Lê Thị Mai")
    headers = auth(token_for(keyring, settings, user))
    commits: list[dict] = []  # the answers the player got, in order

    async def record(response) -> None:  # noqa: ANN001
        if response.request.method == "POST" and response.url.endswith("/commits") and response.ok:
            from playwright.async_api import Error as PlaywrightError

            # the page navigated away first (a page-hide beacon's answer): its body is gone, and not needed here
            with contextlib.suppress(PlaywrightError):
                commits.append(json.loads(await response.text()))

    page.on("response", record)
    async with live_server(make_app(settings, committed_db, keyring), port) as url, \
            httpx.AsyncClient(base_url=url) as client:
        before = await national(client)
        assert (await client.post(f"/api/v1/courses/{course_id}/enrollments", headers=headers)).status_code == 201

        # First visit: the SCO starts ab-initio, saves a location and 5,000+ characters of suspend data, leaves.
        frame = await open_sco(page, client, headers, lessons["playing_item"])
        assert await frame.locator("#entry").text_content() == "ab-initio"
        assert await frame.locator("#learner").text_content() == "Lê Thị Mai"
        await frame.locator("#save").click()
        await frame.locator("#state").filter(has_text="saved:true:true").wait_for(timeout=10_000)

        # Back later: the same attempt resumes where it stopped.
        frame = await open_sco(page, client, headers, lessons["playing_item"])
        assert await frame.locator("#entry").text_content() == "resume"
        assert await frame.locator("#location").text_content() == "page-3"
        assert (await frame.locator("#suspend").text_content()).startswith("visited=1,2,3;answers=xxxx")
        await page.screenshot(path=screenshot_path(f"{name}-player-resumed"))
        await finish(page, frame)
        mine = (await client.get(f"/api/v1/lessons/{lessons['playing_item']}/scorm", headers=headers)).json()
        assert (mine["completion_status"], mine["score_raw"], mine["attempts"]) == ("completed", 85, 1)
        assert mine["success_status"] == "passed"  # 85 ≥ 80 (1.2 mastery score, 2004 scaled passing score)
        assert await national(client) == before  # two SCOs still to go

        # A value set without Commit, then the learner leaves: the page-hide beacon carries it to the server.
        frame = await open_sco(page, client, headers, lessons["etiquette_item"])
        await frame.locator("body").evaluate("() => set('cmi.core.lesson_location', 'cmi.location', 'beacon-7')")
        stale_url = page.url
        await page.goto("about:blank")
        for _ in range(50):
            if await saved_location(committed_db, "etiquette_item") == "beacon-7":
                break
            await asyncio.sleep(0.1)
        assert await saved_location(committed_db, "etiquette_item") == "beacon-7"

        for key in ("etiquette_item", "handicap_item"):
            await finish(page, await open_sco(page, client, headers, lessons[key]))
            if key == "etiquette_item":  # the page left open elsewhere was superseded by this launch: it says so
                stale = await page.context.new_page()
                await stale.goto(stale_url)
                await stale.locator("#status.closed").filter(has_text="mở lại bài học").wait_for(timeout=5_000)
                await stale.screenshot(path=screenshot_path(f"{name}-player-superseded"))
                await stale.close()
        await page.locator("#status").filter(has_text="khóa học").wait_for(timeout=5_000)
        await page.screenshot(path=screenshot_path(f"{name}-player-finished"))
        assert commits[-1]["course_completed"] and not any(c["course_completed"] for c in commits[:-2])

        status = (await client.get(f"/api/v1/courses/{course_id}/completion-status", headers=headers)).json()
        assert status["completed"] and all(r["met"] for r in status["requirements"])
        assert {r["scorm"]["completion_status"] for r in status["requirements"]} == {"completed"}
        completion = await client.post(f"/api/v1/courses/{course_id}/completion", headers=headers)
        assert completion.status_code == 200  # recorded by the last SCO's commit; this answers the same record
        assert await national(client) == before + 1
        assert page.console_errors == []
