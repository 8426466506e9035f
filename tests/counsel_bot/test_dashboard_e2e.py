"""Issue 7: the bot's own dashboard in headless Chromium, a real team-lead login, and the
queue figure moving when a real youth writes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.config import WebConfig
from counsel_bot.web.settings import WebSettings
from tests.conftest import SynapseHandle, UserFactory, free_port
from tests.support.bot_harness import NioYouth, provision_bot, until

pytestmark = pytest.mark.integration


async def test_dashboard_shows_a_real_youth_joining_the_queue(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path, browser: Any,
    artifacts_dir: Path,
) -> None:
    lead = await user_factory("lead")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[], team_leads=[lead.user_id])
    port = free_port()
    web = WebSettings(port=port, dashboard_refresh_seconds=1)
    process.settings = replace(process.settings, web=WebConfig(**{
        f: getattr(web, f) for f in web.__dataclass_fields__}))
    await process.start()
    youth_user = await user_factory("youth")
    youth = await NioYouth.login(synapse.base_url, youth_user.user_id, youth_user.password,
                                 tmp_path / "y")
    youth.start()
    page = await browser.new_page()
    try:
        base = f"http://127.0.0.1:{port}"
        await page.goto(f"{base}/dashboard")
        assert await page.locator("h1").inner_text() == "Sign in"  # login is required
        await page.get_by_label("Matrix ID").fill(lead.user_id)
        await page.get_by_label("Password").fill(lead.password)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{base}/dashboard")
        figure = page.locator("#queue-length")
        assert await figure.inner_text() == "0"

        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "hallo, ich brauche jemanden zum reden")
        # No reload: the page refreshes itself. (Polled from here: the page's CSP forbids the
        # eval that Playwright's wait_for_function needs.)
        async def shows_one() -> bool:
            return bool((await figure.inner_text()).strip() == "1")
        await until(shows_one, what="the dashboard to show the waiting youth")
        assert await page.locator("#queue-rows tr").count() == 1
        text = await page.content()
        assert "ich brauche jemanden" not in text
        assert youth_user.user_id not in text
        await page.screenshot(path=str(artifacts_dir / "dashboard-live.png"), full_page=True)

        # A crisis: the real homeserver's room ids (version 12) have no server part, and
        # the page answered 500 while any flag was open.
        await youth.send(room, "ich will mich umbringen")
        crisis = page.locator("#crisis-rows a[href^='https://matrix.to/#/!']")

        async def shows_the_flag() -> bool:
            return bool(await crisis.count() == 1)
        await until(shows_the_flag, what="the dashboard to show the crisis flag")
        assert "umbringen" not in await page.content()
    finally:
        await page.close()
        await process.stop()
        await youth.close()
