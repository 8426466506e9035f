"""Serving for real on a loopback port: the address printed, nothing about clients logged."""

from __future__ import annotations

import logging
import re

import aiohttp
import pytest

from counsel_bot.core.clock import FakeClock
from homeserver_bridge.entry_page import EntryPageError, EntryPageSettings, serve_entry_page
from tests.conftest import free_port
from tests.entry_page.fakes import CONTENT, FakeAdmin


async def test_serving_logs_no_client_address_and_stops(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    admin = FakeAdmin()
    settings = EntryPageSettings(port=free_port(), token_limit_per_address_per_hour=1)
    running = await serve_entry_page(CONTENT, settings, admin, FakeClock())
    assert running.url == f"http://127.0.0.1:{settings.port}/"
    try:
        async with aiohttp.ClientSession() as http:
            first = press_in(await fetch(http, "GET", running.url))
            admin.fail = True  # logs a warning: it must not name the client
            await fetch(http, "POST", running.url + "token", first, status=503)
            admin.fail = False
            token_page = await fetch(http, "POST", running.url + "token", first)
            # The same press again: the same token, not a refusal.
            assert await fetch(http, "POST", running.url + "token", first) == token_page
            second = press_in(await fetch(http, "GET", running.url))
            await fetch(http, "POST", running.url + "token", second, status=429)
    finally:
        await running.stop()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "could not create a registration token" in logged
    assert "127.0.0.1" not in logged
    with pytest.raises(aiohttp.ClientConnectorError):
        async with aiohttp.ClientSession() as http, http.get(running.url):
            pass


async def test_a_port_in_use_is_one_clear_error() -> None:
    settings = EntryPageSettings(port=free_port())
    first = await serve_entry_page(CONTENT, settings, FakeAdmin(), FakeClock())
    try:
        with pytest.raises(EntryPageError, match=f"port {settings.port}.*choose another port"):
            await serve_entry_page(CONTENT, settings, FakeAdmin(), FakeClock())
    finally:
        await first.stop()


async def fetch(
    http: aiohttp.ClientSession, method: str, url: str, press: str = "", status: int = 200
) -> str:
    data = {"press": press} if press else None
    async with http.request(method, url, data=data) as response:
        assert response.status == status
        return await response.text()


def press_in(html: str) -> str:
    found = re.search(r'name="press" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
