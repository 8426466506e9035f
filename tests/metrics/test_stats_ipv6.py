"""`counsel stats` and the entry page's on-duty line read the bot's /metrics at
[web] bind_address, an IPv6 address too (a URL needs it in brackets)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from counsel_bot.cli import main
from counsel_bot.config import settings_from_mapping
from counsel_bot.office_metrics import OfficeMetrics
from counsel_bot.runtime.office_duty import OfficeDuty
from counsel_bot.runtime.offices import office_rules
from tests.conftest import free_port
from tests.metrics.test_stats import filled_metrics
from tests.offices.test_office_conversation import CONFIG


@pytest_asyncio.fixture(loop_scope="session")
async def bot_on_ipv6() -> AsyncIterator[int]:
    """The bot's /metrics, listening on the IPv6 loopback only."""
    metrics = filled_metrics()
    OfficeMetrics(office_rules(settings_from_mapping(CONFIG)), metrics.registry)
    body = metrics.render()

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "::1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


async def test_counsel_stats_reads_a_bot_on_an_ipv6_address(
    bot_on_ipv6: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "counsel.toml"
    config.write_text(f'[web]\nbind_address = "::1"\nport = {bot_on_ipv6}\n', encoding="utf-8")
    argv = ["stats", "--data", str(tmp_path / "data"), "--config", str(config)]
    # The command runs its own event loop: off this test's loop, which serves the bot.
    status = await asyncio.to_thread(main, argv)
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert "Median wait" in out


async def test_the_entry_page_reads_who_is_on_duty_from_a_bot_on_an_ipv6_address(
    bot_on_ipv6: int,
) -> None:
    settings = settings_from_mapping({**CONFIG, "web": {"bind_address": "::1",
                                                        "port": bot_on_ipv6}})
    duty = OfficeDuty.for_settings(settings)
    assert duty is not None
    async with aiohttp.ClientSession() as session:
        await duty.refresh(session)
    # Unreadable would be {} (nothing shown); read, each office is there (nobody on duty).
    assert duty() == {"familie": False, "schule": False, "jugend": False}
