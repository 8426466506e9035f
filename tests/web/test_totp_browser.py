"""Two-factor sign-in in headless Chromium: enrol with the QR page, then a sign-in without
the code is refused and one with it admitted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import pytest_asyncio

from counsel_bot.core.clock import SystemClock
from counsel_bot.metrics import CounselMetrics
from counsel_bot.store import MemoryStore
from counsel_bot.web import WebSettings, build_web_app, start_web
from counsel_bot.web.second_factor import StoreSecondFactors
from tests.conftest import free_port
from tests.store.conftest import AeadSealer
from tests.web.fakes import FakeAuth, MemorySource

pytestmark = pytest.mark.integration

LEAD = "@teamlead:counsel.localhost"
PASSWORD = "a team lead's password"


@pytest_asyncio.fixture
async def served() -> AsyncIterator[str]:
    clock = SystemClock()
    settings = WebSettings(port=free_port(), require_totp=True)
    app = build_web_app(CounselMetrics(clock), MemorySource(clock),
                        FakeAuth({LEAD: PASSWORD}), settings, clock,
                        second_factor=StoreSecondFactors(MemoryStore(AeadSealer())))
    runner = await start_web(app, settings)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        await runner.cleanup()


async def test_mandatory_two_factor_sign_in_in_chromium(
    browser: Any, served: str, artifacts_dir: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1000, "height": 1100})
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        async def sign_in(code: str) -> None:
            await page.goto(f"{served}/login")
            await page.get_by_label("Matrix ID").fill(LEAD)
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_label("Two-factor code").fill(code)
            await page.get_by_role("button", name="Sign in").click()

        # The password alone leads to the enrolment page only.
        await sign_in("")
        await page.wait_for_url(f"{served}/totp")
        assert await page.locator("h1").inner_text() == "Set up two-factor sign-in"
        assert await page.locator("figure.qr svg").count() == 1
        await page.screenshot(path=str(artifacts_dir / "totp-enrol.png"), full_page=True)
        await page.goto(f"{served}/dashboard")
        assert page.url == f"{served}/login"  # not yet

        await page.goto(f"{served}/totp")
        secret = await page.locator("#totp-secret").inner_text()
        totp = pyotp.TOTP(secret)
        await page.get_by_label("Six-digit code").fill(totp.now())
        await page.get_by_role("button", name="Turn on two-factor sign-in").click()
        assert await page.locator("#recovery-codes li").count() == 10
        await page.get_by_role("link", name="Continue to the dashboard").click()
        await page.wait_for_url(f"{served}/dashboard")

        # Signed out, a sign-in without the code is refused ...
        await page.get_by_role("button", name="Sign out").click()
        await sign_in("")
        alert = await page.get_by_role("alert").inner_text()
        assert "two-factor code" in alert
        assert page.url.endswith("/login")
        await page.goto(f"{served}/dashboard")
        assert page.url == f"{served}/login"

        # ... and one with the next code admitted (the enrolment's code is used up).
        next_code = totp.at(SystemClock().now() + timedelta(seconds=30))
        await sign_in(next_code)
        await page.wait_for_url(f"{served}/dashboard")
        assert await page.locator("#queue-length").inner_text() == "2"
        assert [url for url in requested if not url.startswith(served)] == []
    finally:
        await context.close()
