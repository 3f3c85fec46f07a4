"""The progress board in headless Chromium: it loads with no console error, its chart shows the 34 provinces,
it reads the same in print, and a screenshot is kept (var/screenshots/dashboard*.png)."""

from tests.api.test_dashboard import YEAR, arrange
from tests.browser import live_server, screenshot_path
from tests.conftest import make_app


async def test_dashboard_in_a_real_browser_shows_34_provinces_without_errors(page, settings, committed_db,
                                                                             keyring):
    async with committed_db.session() as session:
        await arrange(session)
    async with live_server(make_app(settings, committed_db, keyring)) as url:
        response = await page.goto(f"{url}/dashboard?year={YEAR}")
        assert response.status == 200
        assert await page.locator("#province-chart g.bar").count() == 34
        assert await page.locator("#province-table tbody tr").count() == 34
        assert await page.locator("#month-chart g.col").count() == 12
        # The chart's labels are text a reader can select and search, not pixels.
        assert "Hà Nội" in await page.locator("#province-chart").text_content()
        first_bar = await page.locator("#province-chart g.bar rect").first.bounding_box()
        assert first_bar and first_bar["width"] > 100  # the longest bar is drawn, not collapsed
        await page.screenshot(path=screenshot_path("dashboard"), full_page=True)

        await page.emulate_media(media="print")
        assert not await page.locator("nav").is_visible()  # links and controls drop out of print
        assert await page.locator("#province-chart").is_visible()
        await page.screenshot(path=screenshot_path("dashboard-print"), full_page=True)
        await page.emulate_media(media="screen")

        english = await page.goto(f"{url}/dashboard?year={YEAR}&lang=en&units=former")
        assert english.status == 200
        assert await page.locator("#province-chart g.bar").count() == 63
        assert "Completions by the 63 former provinces" in await page.locator("h2").all_inner_texts()

        await page.goto(f"{url}/")
        await page.click("text=Bảng tiến độ quốc gia")
        assert page.url.startswith(f"{url}/dashboard")
        await page.click("nav >> text=Xếp hạng")  # the rankings view, reached from the board's navigation
        assert page.url.startswith(f"{url}/dashboard/rankings")
        assert await page.locator("select[name=province] option").count() == 35  # the nation and 34 provinces
        await page.screenshot(path=screenshot_path("dashboard-rankings"), full_page=True)
    assert page.console_errors == []
