"""Who may read /metrics. It shares the dashboard's listener, and the dashboard sits behind a
TLS proxy so team leads can reach it; /metrics carries every office's queue, waits, crisis
counts and on-duty nicknames. The promise:

- with a token configured (`metrics_token_file`), every request must present it;
- without one, /metrics answers only requests that came straight to the port (Prometheus,
  `counsel stats`, the entry page's duty lookup); a request a proxy forwarded (it carries
  X-Forwarded-For, Forwarded or X-Real-IP) is refused, `trusted_proxies` set or forgotten.
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.metrics import CounselMetrics
from counsel_bot.office_metrics import OfficeMetrics
from counsel_bot.runtime.offices import office_rules
from counsel_bot.runtime.runner import policy_from, start_team_lead_view
from counsel_bot.store import MemoryStore
from counsel_bot.web import WebSettings, build_web_app
from tests.offices.test_office_conversation import BEN, CONFIG, T0, open_youth, staff_says
from tests.store.conftest import AeadSealer
from tests.web.fakes import FakeAuth, MemorySource

TOKEN = "a-long-random-metrics-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_metrics_behind_the_dashboards_proxy_are_not_open_to_everyone() -> None:
    """The runner's own wiring, the proxy configured as the docs say and no token: a GET
    through the proxy reads none of schule's figures."""
    port = _free_port()
    settings = settings_from_mapping(
        {**CONFIG, "web": {"port": port, "trusted_proxies": ["127.0.0.1"]}})
    clock = FakeClock(T0)
    metrics = CounselMetrics(clock)
    conductor = await Conductor.open(
        MemoryStore(AeadSealer()), CrisisDetector.from_directory(default_lexicon_dir()),
        policy_from(settings), T0, metrics=metrics)
    conductor.office_metrics = OfficeMetrics(office_rules(settings), metrics.registry)
    await conductor.sync_roster(T0)
    await staff_says(conductor, BEN, "!duty on")
    await open_youth(conductor, "!s1:x", "Mobbing in der Schule, ich will mich umbringen")
    async with contextlib.AsyncExitStack() as stack:
        web_runner = await start_team_lead_view(settings, conductor, metrics, clock, stack)
        assert web_runner is not None
        stack.push_async_callback(web_runner.cleanup)
        async with aiohttp.ClientSession() as outsider:
            url = f"http://127.0.0.1:{port}/metrics"
            answer = await outsider.get(url, headers={"X-Forwarded-For": "203.0.113.66"})
            body = await answer.text()
            direct = await outsider.get(url)  # Prometheus beside the bot
            assert 'office="schule"' in await direct.text()
    leaked = [line for line in body.splitlines() if 'office="schule"' in line]
    assert answer.status == 401, f"anyone reads {len(leaked)} lines of schule's figures"
    assert "metrics_token_file" in body


@pytest.mark.parametrize("header", [("X-Forwarded-For", "203.0.113.66"),
                                    ("Forwarded", "for=203.0.113.66"),
                                    ("X-Real-IP", "203.0.113.66")])
async def test_without_a_token_a_forwarded_request_is_refused_even_untrusted(
    header: tuple[str, str],
) -> None:
    """`trusted_proxies` forgotten: the proxy's requests still say they were forwarded."""
    clock = FakeClock(T0)
    app = build_web_app(CounselMetrics(clock), MemorySource(clock), FakeAuth({}),
                        WebSettings(), clock)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/metrics", headers=dict([header]))).status == 401
        assert (await client.get("/metrics")).status == 200


async def test_with_a_token_the_proxy_passes_a_scrape_that_presents_it(tmp_path: Path) -> None:
    token_file = tmp_path / "metrics-token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    clock = FakeClock(T0)
    app = build_web_app(CounselMetrics(clock), MemorySource(clock), FakeAuth({}),
                        WebSettings(metrics_token_file=str(token_file),
                                    trusted_proxies=("127.0.0.1",)), clock)
    forwarded = {"X-Forwarded-For": "203.0.113.66"}
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/metrics", headers=forwarded)).status == 401
        scrape = await client.get("/metrics",
                                  headers={**forwarded, "Authorization": f"Bearer {TOKEN}"})
        assert scrape.status == 200
