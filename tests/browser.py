"""Real-browser fixtures: the app served over real HTTP on loopback, and headless Chromium driven by Playwright.

The browser is Debian's `chromium` package (`.ci/run` installs it); Playwright only drives it and never downloads
a browser of its own. Where Chromium or Playwright is missing, only the tests that use these fixtures are skipped,
with the reason, so `make test` still runs everything else.

Pages that a person sees are tested here with a screenshot saved under `var/screenshots/` (kept as a test
artifact and looked at by whoever changes the page).

Usage: `live_server(app)` serves any app built by the tests (build it on `committed_db`: a browser sends several
requests at once, which one rolled-back connection cannot serve); `browser` is a Playwright Browser.
"""

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "var" / "screenshots"
# Without these flags Chromium keeps trying to reach Google's hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    return os.environ.get("HOCSO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    """A port free a moment ago, for a server of another process (PostgreSQL, moto) that binds it itself."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_RESERVED: dict[int, socket.socket] = {}


def reserve_port() -> int:
    """A port held bound until `live_server` serves on it, so nothing else can take it in between (a test needs
    its server's address before it builds the app: the public URL goes into the settings)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    _RESERVED[port] = sock
    return port


@asynccontextmanager
async def live_server(app, port: int | None = None) -> AsyncIterator[str]:  # noqa: ANN001
    """Serve `app` with uvicorn on loopback in this event loop, on a port from `reserve_port()` (or a new one);
    yields its base URL, e.g. http://127.0.0.1:41234."""
    port = port or reserve_port()
    sock = _RESERVED.pop(port, None)
    if sock is None:
        raise RuntimeError(f"port {port} was not reserved with reserve_port()")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(200):  # 10 s at most
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        if not server.started:
            task.cancel()
            raise RuntimeError(f"the test server did not start on port {port}")
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
    finally:
        if not task.done():
            server.should_exit = True
            await asyncio.wait_for(task, timeout=10)
        sock.close()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium on this machine (Debian package `chromium`; .ci/run installs it)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (dev extras)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser) -> AsyncIterator[object]:  # noqa: ANN001
    """A fresh browser context and page; console errors are collected in `page.console_errors`."""
    context = await browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    new_page = await context.new_page()
    new_page.console_errors = []
    new_page.on("console", lambda m: m.type == "error" and new_page.console_errors.append(m.text))
    new_page.on("pageerror", lambda e: new_page.console_errors.append(str(e)))
    try:
        yield new_page
    finally:
        await context.close()
