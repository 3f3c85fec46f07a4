"""The progress board in headless Chromium: it loads with no console error, its chart shows the 34 provinces,
it reads the same in print, and a screenshot is kept (var/screenshots/dashboard*.png)."""

from datetime import UTC, date, datetime

from app.models.identity import Audience
from app.models.units import HeadcountVersion, UnitHeadcount, UnitKind, UnitOfficial
from app.services.units.tree import new_unit
from tests.api.test_dashboard import YEAR, arrange
from tests.browser import live_server, screenshot_path
from tests.conftest import make_app
from tests.factories import make_user
from tests.factories.reporting import complete


async def arrange_units(session) -> None:
    """Units of two provinces, each province with one headcount version, and officials who completed: for the
    national units' view."""
    units = {"19": [("SNV", "Sở Nội vụ", 12, 9)],
             "01": [("SNV", "Sở Nội vụ", 40, 10), ("XHN", "Phường Hoàn Kiếm", 20, 12)]}
    for province, rows in units.items():
        version = HeadcountVersion(province_code=province, year=YEAR, source="QĐ 1", source_date=date(YEAR, 1, 5),
                                   units=len(rows), officials=sum(r[2] for r in rows),
                                   uploaded_at=datetime(YEAR, 1, 6, tzinfo=UTC))
        session.add(version)
        for code, name, officials, done in rows:
            unit = new_unit(province, code, name, UnitKind.agency)
            session.add(unit)
            await session.flush()
            session.add(UnitHeadcount(version_id=version.id, unit_id=unit.id, officials=officials))
            for _ in range(done):
                user = await make_user(session, audience=Audience.official, province_code=province, verified=True)
                session.add(UnitOfficial(user_id=user.id, unit_id=unit.id))
                await complete(session, user=user, audience="official", province=province,
                               at=datetime(YEAR, 4, 2, 3, tzinfo=UTC))


async def test_dashboard_in_a_real_browser_shows_34_provinces_without_errors(page, settings, committed_db,
                                                                             keyring):
    async with committed_db.session() as session:
        await arrange(session)
        await arrange_units(session)
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
        # The arranged year, not the current one (the default): the test holds on any date (faketime 2027 too).
        await page.goto(f"{url}/dashboard/rankings?year={YEAR}")
        await page.click("#views >> text=Xếp hạng các đơn vị trên toàn quốc")  # units nationally, no province
        assert "level=unit" in page.url
        assert "Các đơn vị trên toàn quốc" in await page.locator("h2").all_inner_texts()
        assert await page.locator("#ranking-table thead th").count() == 6  # the province column added
        rows = await page.locator("#ranking-table tbody tr").all_inner_texts()
        assert [r.split("\t")[:3] for r in rows] == [["1", "Sở Nội vụ", "Thái Nguyên"],
                                                   ["2", "Phường Hoàn Kiếm", "Hà Nội"], ["3", "Sở Nội vụ", "Hà Nội"]]
        await page.screenshot(path=screenshot_path("dashboard-rankings-units"), full_page=True)
    assert page.console_errors == []
