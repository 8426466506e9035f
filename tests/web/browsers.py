"""Several browsers (own cookie jars) against one dashboard, for the sign-in tests.

`BarrierStore` keeps enrolments in a MemoryStore; its `load` can be made to wait (a little
while) until `n` loads are in flight, as two sign-ins line up while the real auth waits on
the homeserver's /login. Where the app lets loads overlap, they do; where it keeps them apart
(a lock), each goes on alone after the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pyotp
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from counsel_bot.core.clock import FakeClock
from counsel_bot.metrics import CounselMetrics
from counsel_bot.store import MemoryStore
from counsel_bot.web import WebSettings, build_web_app
from counsel_bot.web import second_factor as sf
from tests.store.conftest import AeadSealer
from tests.web.fakes import FakeAuth, MemorySource

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAD = "@lead:counsel.localhost"
PASSWORD = "correct horse battery"

Client = TestClient[web.Request, web.Application]


class BarrierStore:
    def __init__(self, store: MemoryStore) -> None:
        # The bot's store itself, for what other processes write there (the CLI).
        self.memory = store
        self._inner = sf.StoreSecondFactors(store)
        self.gate: asyncio.Barrier | None = None

    async def load(self, user_id: str) -> bytes | None:
        raw = await self._inner.load(user_id)
        if self.gate is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.gate.wait(), 0.5)
        return raw

    async def save(self, user_id: str, record: bytes) -> None:
        await self._inner.save(user_id, record)


class Env:
    def __init__(self, app: web.Application, clock: FakeClock, store: BarrierStore) -> None:
        self.app, self.clock, self.store = app, clock, store
        self.clients: list[Client] = []

    async def client(self) -> Client:
        """A separate browser (own cookie jar) against the same server."""
        server: TestServer = self.clients[0].server if self.clients else TestServer(self.app)  # type: ignore[assignment]
        client: Client = TestClient(server)
        await client.start_server()
        self.clients.append(client)
        return client


MakeEnv = Callable[..., Awaitable[Env]]


def build_env(**settings: Any) -> Env:
    """A dashboard with `settings` (WebSettings), a fake clock at T0, the lead's password."""
    clock = FakeClock(T0)
    store = BarrierStore(MemoryStore(AeadSealer()))
    app = build_web_app(CounselMetrics(clock), MemorySource(clock),
                        FakeAuth({LEAD: PASSWORD}), WebSettings(**settings), clock,
                        second_factor=store)
    return Env(app, clock, store)


async def login(client: Client, password: str = PASSWORD, code: str = "",
                headers: Any = None) -> ClientResponse:
    return await client.post("/login", data={"user_id": LEAD, "password": password,
                                             "code": code},
                             allow_redirects=False, headers=headers)


def secret_on(page: str) -> str:
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert found is not None, "no enrolment key on the page"
    return found[1]


async def enrol(client: Client, clock: FakeClock, current: str = "") -> tuple[str, list[str]]:
    """Turns on (or, with `current`, replaces) two-factor sign-in in this browser's session;
    the secret and recovery codes."""
    secret = secret_on(await (await client.get("/totp")).text())
    done = await client.post("/totp", data={"code": pyotp.TOTP(secret).at(clock.now()),
                                            "current": current})
    assert done.status == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", await done.text())
    return secret, codes
