"""/docs in headless Chromium with every request outside the test server refused: Swagger UI 5 renders every tag
and operation of the OpenAPI 3.1 document, and Authorize signs in with both grants of /auth/token."""

import re
from urllib.parse import urlsplit

from app.api.docs_pages import ASSETS
from app.models.identity import Role, Scope, ServiceClientCreate
from app.services.identity import accounts as identity
from tests.browser import live_server, screenshot_path
from tests.conftest import make_app
from tests.factories import PASSWORD, make_user


async def test_docs_page_is_self_hosted_swagger_ui_5(client):
    html = (await client.get("/docs")).text
    assert f"{ASSETS}/swagger-ui-bundle.js" in html
    assert not re.search(r"(src|href)=\"https?://", html)
    bundle = await client.get(f"{ASSETS}/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 1_000_000
    assert (await client.get(f"{ASSETS}/swagger-ui.css")).status_code == 200
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")


async def _open_docs(page, url: str) -> list[str]:
    """Load /docs refusing every request that leaves the test server (no network); returns what was refused."""
    refused: list[str] = []

    async def only_loopback(route) -> None:  # noqa: ANN001
        if urlsplit(route.request.url).netloc == urlsplit(url).netloc:
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_loopback)
    await page.goto(f"{url}/docs")
    await page.wait_for_selector(".opblock", timeout=20_000)
    return refused


async def test_docs_show_every_tag_and_operation_offline(page, settings, committed_db, keyring):
    app = make_app(settings, committed_db, keyring)
    spec = app.openapi()
    operations = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    tags = {tag["name"] for tag in spec["tags"]}
    async with live_server(app) as url:
        refused = await _open_docs(page, url)
        shown_tags = set(await page.eval_on_selector_all(".opblock-tag", "els => els.map(e => e.dataset.tag)"))
        shown_ops = await page.eval_on_selector_all(".opblock-summary", """els => els.map(e => [
            e.querySelector('.opblock-summary-method').textContent.trim(),
            e.querySelector('.opblock-summary-path').dataset.path])""")
        errors = await page.locator(".errors-wrapper, .loading-container .info").all_inner_texts()
        body = await page.inner_text("body")
        await page.screenshot(path=screenshot_path("docs"), full_page=False)
    assert refused == []
    assert shown_tags == tags
    assert {tuple(op) for op in shown_ops} == operations and len(operations) > 50
    assert errors == [] and "Unable to render" not in body
    assert page.console_errors == []


async def _authorize(page, flow_heading: str, fields: dict[str, str]) -> None:
    await page.click("button.authorize")
    section = page.locator(".auth-container", has_text=flow_heading)
    for label, value in fields.items():
        await section.locator(f"input[id^={label}]").fill(value)
    await section.locator("button.authorize").click()
    await section.locator("h6", has_text="Authorized").wait_for(timeout=10_000)  # shown once a token came back
    await page.click("button.btn-done")


async def _try_it(page, operation_id: str) -> str:
    """Expand an operation, run it with the authorised token, and return the HTTP status Swagger UI shows."""
    block = page.locator(f"#operations-{operation_id}")
    await block.locator(".opblock-summary").click()
    await block.locator("button.try-out__btn").click()
    await block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    await status.wait_for(timeout=10_000)
    return (await status.inner_text()).strip()


async def test_authorize_signs_in_with_a_password_and_with_client_credentials(page, settings, committed_db,
                                                                               keyring):
    async with committed_db.session() as session:
        admin = await make_user(session, role=Role.ministry_admin, email="docs-admin@example.vn")
        client, secret = await identity.create_service_client(session, ServiceClientCreate(
            name="Hệ thống báo cáo", scopes=[Scope.stats_read]))
    app = make_app(settings, committed_db, keyring)
    me = _operation_id(app, "get", "/api/v1/users/me")
    summary = _operation_id(app, "get", "/api/v1/stats/summary")
    async with live_server(app) as url:
        await _open_docs(page, url)
        await _authorize(page, "password", {"oauth_username": admin.email, "oauth_password": PASSWORD})
        assert await _try_it(page, me) == "200"
        await page.screenshot(path=screenshot_path("docs-authorized"))
        await page.goto(f"{url}/docs")  # the authorisation persists (localStorage) until signed out
        await page.wait_for_selector(".opblock")
        await page.click("button.authorize")
        await page.get_by_role("button", name="Remove authorization").first.click()
        await page.click("button.btn-done")
        await _authorize(page, "clientCredentials", {"client_id": client.client_id, "client_secret": secret})
        assert await _try_it(page, summary) == "200"
    assert page.console_errors == []


def _operation_id(app, method: str, path: str) -> str:  # noqa: ANN001
    """Swagger UI's element id for an operation: `<tag>-<operationId>` with spaces as underscores."""
    operation = app.openapi()["paths"][path][method]
    return f"{operation['tags'][0]}-{operation['operationId']}".replace(" ", "_")


async def test_redoc_shows_every_operation_offline(page, settings, committed_db, keyring):
    app = make_app(settings, committed_db, keyring)
    summaries = {op["summary"] for item in app.openapi()["paths"].values() for op in item.values()}
    refused: list[str] = []
    async with live_server(app) as url:
        async def only_loopback(route) -> None:  # noqa: ANN001
            if urlsplit(route.request.url).netloc == urlsplit(url).netloc:
                await route.continue_()
            else:
                refused.append(route.request.url)
                await route.abort()

        await page.route("**/*", only_loopback)
        await page.goto(f"{url}/redoc")
        await page.wait_for_selector("h2", timeout=30_000)
        headings = set(await page.eval_on_selector_all("h2", "els => els.map(e => e.textContent.trim())"))
        body = await page.inner_text("body")
        await page.screenshot(path=screenshot_path("redoc"))
    assert refused == []
    # The one console message: the page's CSP keeping ReDoc's branding logo (cdn.redoc.ly) from loading.
    assert all("cdn.redoc.ly" in e for e in page.console_errors), page.console_errors
    assert summaries <= headings, summaries - headings
    assert "Something went wrong" not in body
