"""A homeserver that takes too long to make a registration token: the youth is asked to try
again (the page with the emergency numbers, 503), never a crash that aiohttp logs with the
youth's address."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from counsel_bot.core.clock import FakeClock
from homeserver_bridge.admin_api import AdminClient, RegistrationToken
from homeserver_bridge.entry_page import EntryPageSettings, serve_entry_page
from homeserver_bridge.entry_page import issuer as issuer_module
from homeserver_bridge.entry_page.issuer import TokenIssuer
from homeserver_bridge.entry_page.render import Failed
from homeserver_bridge.entry_page.texts import GERMAN
from homeserver_bridge.errors import AdminApiError
from homeserver_bridge.rate_limit import Rate, RateLimiter
from tests.conftest import free_port
from tests.entry_page.fakes import CONTENT


@pytest_asyncio.fixture(loop_scope="session")
async def stalled_synapse() -> AsyncIterator[str]:
    """An admin API that accepts the request and never answers (until the test ends)."""
    release = asyncio.Event()

    async def never(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/_synapse/admin/v1/registration_tokens/new", never)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        release.set()
        await server.close()


async def test_the_admin_client_reports_a_homeserver_that_does_not_answer_in_time(
    stalled_synapse: str,
) -> None:
    timeout = aiohttp.ClientTimeout(total=0.3)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        admin = AdminClient(stalled_synapse, "token", http)
        with pytest.raises(AdminApiError, match="did not answer in time") as raised:
            await admin.create_registration_token()
    # Status 0: the world failing (retried later), not a refusal.
    assert raised.value.status == 0


async def test_a_stalled_homeserver_is_a_try_again_page_and_no_logged_address(
    stalled_synapse: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = EntryPageSettings(port=free_port())
    timeout = aiohttp.ClientTimeout(total=0.3)
    async with aiohttp.ClientSession(timeout=timeout) as admin_http:
        admin = AdminClient(stalled_synapse, "token", admin_http)
        running = await serve_entry_page(CONTENT, settings, admin, FakeClock())
        try:
            async with aiohttp.ClientSession() as youth:
                async with youth.get(running.url) as page:
                    found = re.search(r'name="press" value="([^"]+)"', await page.text())
                    assert found
                async with youth.post(running.url + "token",
                                      data={"press": found.group(1)}) as answer:
                    text = await answer.text()
                    assert answer.status == 503
                    assert answer.headers["Retry-After"]
        finally:
            await running.stop()
    assert GERMAN.code_failed in text
    assert GERMAN.emergency_heading in text
    # The homeserver's own address may be named (it says where to look), the youth's not.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "127.0.0.1" not in logged.replace(stalled_synapse, "the homeserver")


class SilentHomeserver:
    """Takes the token request and never answers: a Synapse stuck under load."""

    async def create_registration_token(
        self, *, uses_allowed: int | None = 1, expires_at: datetime | None = None
    ) -> RegistrationToken:
        await asyncio.Event().wait()
        raise AssertionError("never answers")


async def test_a_silent_homeserver_costs_each_youth_a_short_wait_not_the_whole_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The page's admin session waits five minutes (aiohttp's default) for an answer, and
    # the issuer's lock queues every other youth behind that one request.
    monkeypatch.setattr(issuer_module, "ANSWER_WITHIN", timedelta(seconds=0.2), raising=False)
    clock = FakeClock()
    limiter = RateLimiter(Rate.per_hour(3), Rate.per_hour(60), clock)
    issuer = TokenIssuer(SilentHomeserver(), limiter, clock, timedelta(hours=24))
    presses = ("a" * 20, "b" * 20, "c" * 20)
    answers = await asyncio.wait_for(
        asyncio.gather(*(issuer.issue(f"client-{n}", press) for n, press in enumerate(presses))),
        timeout=3,
    )
    assert answers == [Failed(press) for press in presses]
    # Nothing was spent: each may press again once the homeserver is back.
    assert limiter.check("client-0").allowed
