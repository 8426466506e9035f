"""`counsel stats` for a bot whose configuration switches its web endpoint off."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web

from counsel_bot.cli import main
from tests.conftest import free_port
from tests.metrics.test_stats import filled_metrics


async def test_stats_of_a_bot_without_its_web_endpoint_says_so_and_reads_no_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """With [web] enabled = false the bot serves no figures, but `counsel stats` read the
    configured port all the same: the figures of whatever listened there (the bot of
    another office on this machine, another service) were printed as this office's, or,
    with nothing there, "is the bot running with the web endpoint on that address?" sent
    the admin looking for a fault that is the configuration. The entry page's on-duty
    line already read nothing then (OfficeDuty.for_settings)."""
    body = filled_metrics().render()

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        config = tmp_path / "counsel.toml"
        config.write_text(f"[web]\nenabled = false\nport = {port}\n", encoding="utf-8")
        argv = ["stats", "--config", str(config)]
        # The command runs its own event loop: off this test's loop, which serves the port.
        status = await asyncio.to_thread(main, argv)
    finally:
        await runner.cleanup()
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert "[web] enabled = false" in err
