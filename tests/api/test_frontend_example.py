"""docs/examples/frontend.html, served from another origin, drives the API in headless Chromium the way an SPA
does: provinces, registration (with its error), sign-in, refresh, enrollment, a Range read of a signed media URL
whose Content-Range CORS exposes, and the first heartbeat."""

from pathlib import Path

from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from app.commands.courses import seed_sample_course
from tests.browser import live_server, reserve_port, screenshot_path
from tests.conftest import make_app

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


async def test_the_example_page_works_cross_origin(page, settings, committed_db, keyring):
    api_port, page_port = reserve_port(), reserve_port()
    api, origin = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{page_port}"
    settings = settings.model_copy(update={"public_base_url": api, "cors_origins": [origin]})
    committed_db.settings = settings
    assert "ky-nang-so-co-ban" in await seed_sample_course(committed_db)
    static = Starlette()
    static.mount("/", StaticFiles(directory=EXAMPLES))
    async with live_server(make_app(settings, committed_db, keyring), port=api_port), \
            live_server(static, port=page_port):
        await page.goto(f"{origin}/frontend.html?api={api}")
        await page.wait_for_selector("body[data-ready=yes]")
        assert await page.locator("#province option").count() == 34

        await page.fill("#phone", "12345")
        await page.fill("#password", "hoc-so-moi-ngay-2026")
        await page.click("#register")
        await page.wait_for_selector("#register-result.error")
        assert "phone:" in await page.inner_text("#register-result")  # the field named, in Vietnamese

        await page.fill("#phone", "0912 345 678")
        await page.select_option("#province", "19")
        await page.click("#register")
        await page.wait_for_selector("#register-result.ok")
        await page.click("#login")
        await page.wait_for_selector("#me.ok")
        assert "Nguyễn Thị Hồng Nhung" in await page.inner_text("#me")
        await page.click("#refresh")
        await page.wait_for_function("document.querySelector('#me').textContent.includes('làm mới')")

        await page.click("#courses")
        await page.click("button[data-slug=ky-nang-so-co-ban]")
        await page.wait_for_selector("#lesson.ok", timeout=20_000)
        lesson = await page.inner_text("#lesson")
        await page.screenshot(path=screenshot_path("frontend-example"), full_page=True)
    assert "206 bytes 0-1023/" in lesson and "coverage 0" in lesson  # Content-Range readable cross-origin
    # Chromium logs each 4xx answer as "Failed to load resource": the 422 above is expected; nothing else.
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []
