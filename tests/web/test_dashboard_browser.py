"""The dashboard in headless Chromium: login required, the queue figure updates by itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from counsel_bot.core.clock import SystemClock
from counsel_bot.metrics import CounselMetrics
from counsel_bot.web import WebSettings, build_web_app, start_web
from tests.conftest import free_port
from tests.web.fakes import FakeAuth, MemorySource

pytestmark = pytest.mark.integration

LEAD = "@teamlead:counsel.localhost"
PASSWORD = "a team lead's password"


class Served:
    def __init__(self, base: str, source: MemorySource) -> None:
        self.base = base
        self.source = source


@pytest_asyncio.fixture
async def served() -> AsyncIterator[Served]:
    clock = SystemClock()
    source = MemorySource(clock)
    settings = WebSettings(port=free_port(), dashboard_refresh_seconds=1)
    app = build_web_app(CounselMetrics(clock), source, FakeAuth({LEAD: PASSWORD}), settings,
                        clock)
    runner = await start_web(app, settings)
    try:
        yield Served(f"http://127.0.0.1:{settings.port}", source)
    finally:
        await runner.cleanup()


async def test_dashboard_in_chromium(browser: Any, served: Served, artifacts_dir: Path) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        # Login is required: the dashboard sends a stranger to the sign-in form.
        await page.goto(f"{served.base}/dashboard")
        assert page.url == f"{served.base}/login"
        assert await page.locator("h1").inner_text() == "Sign in"

        await page.get_by_label("Matrix ID").fill(LEAD)
        await page.get_by_label("Password").fill("wrong password")
        await page.get_by_role("button", name="Sign in").click()
        assert await page.get_by_role("alert").inner_text() != ""
        assert page.url.endswith("/login")

        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{served.base}/dashboard")
        console_errors.clear()  # the refused attempt above was a 401, logged by Chromium
        figure = page.locator("#queue-length")
        assert await figure.inner_text() == "2"
        assert await page.locator("#queue-rows tr").count() == 2

        # A youth joins the queue; the page shows it without a reload.
        navigations: list[str] = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
        now = SystemClock().now()
        served.source.youth_joins("C-7E57AB1E", now - timedelta(seconds=30))
        # expect() polls from outside the page: the CSP rightly forbids eval inside it.
        await expect(figure).to_have_text("3", timeout=10_000)
        assert await page.locator("#queue-rows tr").count() == 3
        assert await page.locator("#queue-rows").get_by_text("C-7E57AB1E").count() == 1
        # Drawn by the script now: the handed-back youth's row says so, the new one not.
        rows = page.locator("#queue-rows tr")
        assert ["handed back" in text for text in await rows.all_inner_texts()] == [
            False, True, False]
        assert navigations == []
        assert "Updated" in await page.locator("#status").inner_text()

        crisis_link = page.get_by_role("link", name="Open room of C-0A1B2C3D")
        assert await crisis_link.get_attribute("href") == (
            "https://matrix.to/#/!abcdefgh:test.localhost"
        )
        await page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)

        # Nothing was fetched from anywhere but this server (no CDN, no fonts).
        assert requested
        assert [url for url in requested if not url.startswith(served.base)] == []
        assert console_errors == []

        # Signing out ends the session; the page is out of reach again.
        await page.get_by_role("button", name="Sign out").click()
        await page.goto(f"{served.base}/dashboard")
        assert page.url == f"{served.base}/login"
    finally:
        await context.close()
