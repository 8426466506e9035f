"""The entry page over HTTP, with a fake admin API: routes, limits, headers, no cookies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict

from counsel_bot.core.clock import FakeClock
from homeserver_bridge.entry_page import EntryPageContent, EntryPageSettings, build_entry_app
from homeserver_bridge.entry_page.content import Registration
from homeserver_bridge.entry_page.texts import ENGLISH, GERMAN, amount
from tests.entry_page.fakes import CONTENT, FakeAdmin

SETTINGS = EntryPageSettings(token_limit_per_address_per_hour=2, token_limit_global_per_hour=3)


Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


@pytest_asyncio.fixture(loop_scope="session")
async def make_client() -> AsyncIterator[MakeClient]:
    clients: list[Client] = []

    async def make(
        content: EntryPageContent = CONTENT,
        settings: EntryPageSettings = SETTINGS,
        admin: FakeAdmin | None = None,
        clock: FakeClock | None = None,
    ) -> Client:
        app = build_entry_app(content, settings, admin or FakeAdmin(), clock or FakeClock())
        client: Client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def press_of(html: str) -> str:
    found = re.search(r'name="press" value="([^"]+)"', html)
    assert found, "no press id in the form"
    return found.group(1)


async def page_and_press(client: Client, path: str = "/") -> str:
    response = await client.get(path)
    assert response.status == 200
    return press_of(await response.text())


async def test_german_by_default_and_english_on_request(make_client: MakeClient) -> None:
    client = await make_client()
    for path, lang, headline in [
        ("/", "de", GERMAN.headline), ("/?lang=en", "en", ENGLISH.headline),
        ("/en/", "en", ENGLISH.headline), ("/de/", "de", GERMAN.headline),
    ]:
        response = await client.get(path)
        text = await response.text()
        assert response.status == 200
        assert f'<html lang="{lang}">' in text
        assert headline in text
        assert response.content_type == "text/html"
    response = await client.get("/en", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/en/")


async def test_security_headers_and_no_cookies_on_every_response(make_client: MakeClient) -> None:
    client = await make_client()
    press = await page_and_press(client)
    for response in [
        await client.get("/"), await client.get("/static/style.css"), await client.get("/qr.svg"),
        await client.get("/nothing-here"), await client.post("/token", data={"press": press}),
    ]:
        headers = response.headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        # same-origin, not no-referrer: the form's own POST then carries its Origin.
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "Set-Cookie" not in headers
        assert "aiohttp" not in headers.get("Server", "")
    assert (await client.get("/")).headers["Cache-Control"] == "no-store"
    assert (await client.get("/nothing-here")).status == 404


async def test_static_files_and_qr_code_are_served_here(make_client: MakeClient) -> None:
    client = await make_client()
    css = await client.get("/static/style.css")
    assert css.status == 200
    assert css.content_type == "text/css"
    assert "@import" not in await css.text()
    assert (await client.get("/static/icon.svg")).content_type == "image/svg+xml"
    assert (await client.get("/static/../app.py")).status == 404
    qr = await client.get("/qr.svg")
    assert qr.content_type == "image/svg+xml"
    assert (await qr.text()).startswith("<svg")


async def test_a_press_gets_a_single_use_token_that_expires(make_client: MakeClient) -> None:
    admin, clock = FakeAdmin(), FakeClock()
    client = await make_client(admin=admin, clock=clock)
    press = await page_and_press(client, "/en/")
    response = await client.post("/token", data={"lang": "en", "press": press})
    text = await response.text()
    assert response.status == 200
    assert "tok0001xyz" in text
    assert '<html lang="en">' in text
    assert admin.calls == [(1, clock.now() + timedelta(hours=24))]


async def test_pressing_the_same_form_twice_costs_one_token(make_client: MakeClient) -> None:
    admin = FakeAdmin()
    client = await make_client(admin=admin)
    press = await page_and_press(client)
    first = await (await client.post("/token", data={"press": press})).text()
    again = await (await client.post("/token", data={"press": press})).text()
    assert "tok0001xyz" in first
    assert "tok0001xyz" in again
    assert len(admin.calls) == 1


async def test_past_the_address_limit_a_friendly_429(make_client: MakeClient) -> None:
    admin = FakeAdmin()
    client = await make_client(admin=admin)
    for _ in range(2):
        press = await page_and_press(client)
        assert (await client.post("/token", data={"press": press})).status == 200
    press = await page_and_press(client)
    refused = await client.post("/token", data={"press": press})
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) == 30 * 60
    told = GERMAN.code_limited_address.format(minutes=amount("de", "minutes", 30))
    assert "30 Minuten" in told
    assert told in await refused.text()
    assert len(admin.calls) == 2


async def test_the_global_limit_holds_across_addresses(make_client: MakeClient) -> None:
    admin = FakeAdmin()
    settings = replace(SETTINGS, trusted_proxies=("127.0.0.1",))
    client = await make_client(admin=admin, settings=settings)
    for n in range(3):
        press = await page_and_press(client)
        forwarded = {"X-Forwarded-For": f"198.51.100.{n}"}
        response = await client.post("/token", data={"press": press}, headers=forwarded)
        assert response.status == 200
    press = await page_and_press(client)
    refused = await client.post(
        "/token", data={"press": press, "lang": "en"}, headers={"X-Forwarded-For": "192.0.2.1"}
    )
    assert refused.status == 429
    told = ENGLISH.code_limited_global.format(minutes=amount("en", "minutes", 20))
    assert "20 minutes" in told
    assert told in await refused.text()


async def test_forwarded_for_is_not_believed_by_default(make_client: MakeClient) -> None:
    client = await make_client()
    for n in range(3):
        press = await page_and_press(client)
        response = await client.post(
            "/token", data={"press": press}, headers={"X-Forwarded-For": f"198.51.100.{n}"}
        )
        assert response.status == (200 if n < 2 else 429)


async def test_a_client_cannot_spoof_its_address_with_its_own_forwarded_for_line(
    make_client: MakeClient,
) -> None:
    """Behind a proxy that adds its own X-Forwarded-For line after the client's (HAProxy's
    `option forwardfor`), a made-up first line per request gives no fresh allowance: the
    lines are one list, and the proxy's (last) value is the client (RFC 9110 5.3)."""
    admin = FakeAdmin()
    settings = replace(SETTINGS, token_limit_global_per_hour=60,
                       trusted_proxies=("127.0.0.1",))
    client = await make_client(settings=settings, admin=admin)
    statuses = []
    for n in range(6):
        headers = CIMultiDict([("X-Forwarded-For", f"10.9.8.{n}"),      # the client's line
                               ("X-Forwarded-For", "203.0.113.7")])     # the proxy's line
        response = await client.post("/token", data={"press": await page_and_press(client)},
                                     headers=headers)
        statuses.append(response.status)
    assert statuses == [200, 200, 429, 429, 429, 429]  # one address, two tokens an hour
    assert len(admin.calls) == 2


async def test_one_households_ipv6_prefix_cannot_use_up_the_global_budget(
    make_client: MakeClient,
) -> None:
    """20 /64s of one /56 (one home connection, or one cheap server), at the per-address
    limit each, used to spend the default global budget of 60 an hour: then no youth
    anywhere got a sign-up code."""
    admin = FakeAdmin()
    settings = EntryPageSettings(trusted_proxies=("127.0.0.1",))  # defaults: 3 / 60 an hour
    client = await make_client(settings=settings, admin=admin)
    for subnet in range(20):
        for _ in range(3):
            await client.post("/token", data={"press": await page_and_press(client)},
                              headers={"X-Forwarded-For": f"2001:db8:0:{subnet:x}::1"})
    assert len(admin.calls) == 3
    youth = await client.post("/token", data={"press": await page_and_press(client)},
                              headers={"X-Forwarded-For": "198.51.100.23"})
    assert youth.status == 200, "one /56 spent every youth's sign-up codes"


async def test_a_token_form_from_another_origin_is_refused(make_client: MakeClient) -> None:
    """Sign-up codes are handed only to this page's own form: a page elsewhere on the same
    site (the dashboard, Element web) cannot spend the address's allowance."""
    admin = FakeAdmin()
    client = await make_client(admin=admin)
    own = f"http://{client.server.host}:{client.server.port}"
    foreign = await client.post("/token", data={"press": await page_and_press(client)},
                                headers={"Origin": "http://127.0.0.1:9464"})
    assert foreign.status == 403
    assert admin.calls == []
    ours = await client.post("/token", data={"press": await page_and_press(client)},
                             headers={"Origin": own, "Sec-Fetch-Site": "same-origin"})
    assert ours.status == 200


async def test_a_malformed_token_form_is_a_400_not_a_crash_with_the_address_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unknown charset used to be a 500, and aiohttp logged "Error handling request from
    <address>", although nothing may log a client address. Served as `serve_entry_page`
    does, with the access log off."""
    app = build_entry_app(CONTENT, EntryPageSettings(), FakeAdmin(), FakeClock())
    server = TestServer(app)
    await server.start_server(access_log=None)
    async with TestClient(server) as client:
        with caplog.at_level("DEBUG"):
            answer = await client.post(
                "/token", data=b"press=aaaaaaaaaaaaaaaaaaaaaa&lang=en",
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=nope"})
    logged = [r.getMessage() for r in caplog.records if "127.0.0.1" in r.getMessage()]
    assert (answer.status, logged) == (400, [])


async def test_a_homeserver_failure_costs_no_allowance(make_client: MakeClient) -> None:
    admin = FakeAdmin()
    client = await make_client(admin=admin)
    admin.fail = True
    for _ in range(3):
        press = await page_and_press(client)
        failed = await client.post("/token", data={"press": press})
        assert failed.status == 503
        assert GERMAN.code_failed in await failed.text()
    admin.fail = False
    press = await page_and_press(client)
    assert (await client.post("/token", data={"press": press})).status == 200


async def test_a_post_without_a_press_id_gets_a_fresh_form(make_client: MakeClient) -> None:
    admin = FakeAdmin()
    client = await make_client(admin=admin)
    response = await client.post("/token", data={"press": "short"})
    assert response.status == 400
    press_of(await response.text())
    assert admin.calls == []
    too_big = await client.post("/token", data={"press": "x" * 10_000})
    assert too_big.status == 413


@pytest.mark.parametrize("mode", ["open", "closed"])
async def test_no_tokens_outside_token_mode(make_client: MakeClient, mode: Registration) -> None:
    admin = FakeAdmin()
    client = await make_client(content=replace(CONTENT, registration=mode), admin=admin)
    assert (await client.get("/")).status == 200
    response = await client.post("/token", data={"press": "p" * 24})
    assert response.status in (404, 405)
    assert admin.calls == []
