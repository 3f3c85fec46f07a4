"""The real-browser fixtures themselves: a page served by the app over loopback opens in headless Chromium."""

from tests.browser import live_server, screenshot_path
from tests.conftest import make_app


async def test_headless_chromium_opens_a_page_served_by_the_app(page, settings, committed_db, keyring):
    async with live_server(make_app(settings, committed_db, keyring)) as url:
        response = await page.goto(f"{url}/healthz")
        assert response.status == 200
        assert "ok" in (await page.content())
        await page.screenshot(path=screenshot_path("healthz"))
