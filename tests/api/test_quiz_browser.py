"""Imported questions in a real browser (Debian's Chromium): the texts of a hostile Moodle XML bank, inserted
as the front end would, run no script, and its images load through their signed URLs for the enrolled
learner."""

import html
import re
from pathlib import Path

import httpx

from app.core.storage import build_storage
from tests.browser import live_server, screenshot_path
from tests.conftest import make_app
from tests.factories import auth, make_user, token_for
from tests.factories.packages import import_package, package_zip, sample_manifest

BANK = Path(__file__).parents[1] / "fixtures" / "moodle" / "bank.xml"
GIFT_QUIZ = "quiz: {gift: quizzes/cuoi-khoa.gift, pass_score: 80, max_attempts: 3, time_limit_s: 1200, draw: 4"
HOSTILE = """<question type="truefalse"><name><text>Thử tấn công</text></name>
<questiontext format="html"><text><![CDATA[<p>Câu hỏi <img src="x" onerror="window.pwned = 'onerror'">
<script>window.pwned = 'script'</script><a href="javascript:window.pwned = 'link'">liên kết</a>
<svg onload="window.pwned = 'svg'"></svg><iframe src="javascript:parent.pwned = 'iframe'"></iframe>
<style>body { display: none }</style><span style="background:url(javascript:alert(1))">kiểu</span></p>]]></text>
</questiontext><answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer>
</question>
</quiz>"""


def page_of(attempt: dict, base_url: str) -> str:
    """The attempt laid out the way a front end would: HTML texts as markup, plain texts as text."""
    sections = []
    for q in attempt["questions"]:
        as_markup = q["text_format"] == "html"
        show = (lambda t: t) if as_markup else html.escape
        items = "".join(f"<li>{show(c['text'])}</li>" for c in q["choices"] + q["options"])
        sections.append(f"<section><h3>{q['kind']}</h3><div>{show(q['prompt'])}</div><ul>{items}</ul></section>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Bài kiểm tra</title></head><body>"
            + "".join(sections).replace("http://test/", base_url + "/") + "</body></html>")


async def test_a_hostile_bank_runs_no_script_and_its_images_load_for_the_learner(page, settings, committed_db,
                                                                                  keyring, tmp_path):
    bank = BANK.read_text(encoding="utf-8").replace("</quiz>", HOSTILE)
    manifest = sample_manifest().replace(GIFT_QUIZ, "quiz: {moodle_xml: quizzes/bank.xml, pass_score: 80")
    path = package_zip(tmp_path / "p.zip", manifest=manifest, drop=("quizzes/cuoi-khoa.gift",),
                       extra={"quizzes/bank.xml": bank.encode()})
    job = await import_package(committed_db, build_storage(settings), path, publish=True)
    assert job.status == "succeeded", job.errors
    async with committed_db.session() as session:
        headers = auth(token_for(keyring, settings, await make_user(session)))
    async with live_server(make_app(settings, committed_db, keyring)) as url:
        async with httpx.AsyncClient(base_url=url, headers=headers) as http:
            assert (await http.post(f"/api/v1/courses/{job.course_id}/enrollments")).status_code == 201
            course = (await http.get(f"/api/v1/courses/{job.course_id}")).json()
            quiz = next(lesson["quiz"]["quiz_id"] for module in course["modules"] for lesson in module["lessons"]
                        if lesson["kind"] == "quiz")
            attempt = (await http.post(f"/api/v1/quizzes/{quiz}/attempts")).json()
        assert len(re.findall(r'<img src="http://test/[^"]*sig=', str(attempt))) == 2
        await page.goto(f"{url}/healthz")  # the page's origin: the app's, as a front end served with it
        await page.set_content(page_of(attempt, url), wait_until="load")
        await page.click("text=liên kết")  # its javascript: href is gone; clicking does nothing
        await page.wait_for_timeout(300)
        assert await page.evaluate("window.pwned") is None
        assert await page.evaluate("document.querySelectorAll('script, iframe, svg, style').length") == 0
        loaded = await page.evaluate("Array.from(document.images).filter(i => i.src.includes('sig='))"
                                     ".map(i => [i.naturalWidth, i.naturalHeight])")
        assert sorted(loaded) == [[4, 4], [6, 4]]  # both embedded PNGs, served by the app through signed URLs
        assert await page.is_visible("text=Lá cờ trong hình là quốc kỳ của nước nào?")
        await page.screenshot(path=screenshot_path("quiz-imported-moodle-bank"), full_page=True)
