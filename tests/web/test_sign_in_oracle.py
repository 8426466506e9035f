"""The dashboard's sign-in must not tell who is a team lead. Its answer for a wrong password
is the same for every Matrix ID; but the homeserver is asked only about team leads, and
Synapse limits sign-in attempts per account (counsel's production default, 3 then one
every 6 s). Anyone can use that up for an ID with three wrong passwords at the homeserver's
own /login; the dashboard then answered a lead's ID differently from any other one.
A real Synapse with the production login limits (sign-ups generous for the set-up)."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from counsel_bot.core.clock import SystemClock
from counsel_bot.metrics import CounselMetrics
from counsel_bot.web import MatrixPasswordAuth, WebSettings, build_web_app
from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.provision import admin_client
from homeserver_bridge.settings import RateLimit, RateLimits
from tests.conftest import homeserver_test_settings
from tests.web.fakes import MemorySource

pytestmark = pytest.mark.integration

LIMITS = RateLimits(messages=RateLimit(100.0, 1000), registrations=RateLimit(100.0, 1000))


@dataclass
class Homeserver:
    admin: AdminClient
    secret: str
    http: aiohttp.ClientSession
    base_url: str

    async def user(self, name: str) -> str:
        registered = await self.admin.register_with_shared_secret(
            self.secret, f"{name}-{secrets.token_hex(3)}", secrets.token_urlsafe(12))
        return registered.user_id


@pytest_asyncio.fixture(loop_scope="session")
async def limited(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Homeserver]:
    layout = DataLayout(tmp_path_factory.mktemp("counsel-login-limits"))
    embedded = EmbeddedSynapse(homeserver_test_settings(rate_limits=LIMITS), layout,
                               trusted=())
    await embedded.start()
    try:
        async with aiohttp.ClientSession() as http:
            admin = await admin_client(embedded.base_url, layout, http)
            secret = layout.registration_secret_file.read_text().strip()
            yield Homeserver(admin, secret, http, embedded.base_url)
    finally:
        await embedded.stop()


def _message(page: str) -> str:
    found = re.search(r'<p class="message"[^>]*>(.*?)</p>', page, re.S)
    assert found is not None, "no message on the sign-in page"
    return found[1]


async def test_a_limited_homeserver_does_not_tell_a_lead_from_anyone(limited: Homeserver) -> None:
    lead, counsellor = await limited.user("lead"), await limited.user("counsellor")
    statuses = []
    for _ in range(5):  # someone guesses the lead's password at the homeserver itself
        async with limited.http.post(
            f"{limited.base_url}/_matrix/client/v3/login",
            json={"type": "m.login.password", "identifier": {"type": "m.id.user", "user": lead},
                  "password": "wrong"},
        ) as resp:
            statuses.append(resp.status)
    assert 429 in statuses, "the homeserver's login limit did not engage"

    clock = SystemClock()
    auth = MatrixPasswordAuth(limited.base_url, frozenset({lead}), limited.http)
    app = build_web_app(CounselMetrics(clock), MemorySource(clock), auth, WebSettings(), clock)
    answers = []
    async with TestClient(TestServer(app)) as client:
        for user_id in (lead, counsellor):
            resp = await client.post("/login", data={"user_id": user_id, "password": "wrong"},
                                     allow_redirects=False)
            answers.append((resp.status, _message(await resp.text())))
    assert answers[0] == answers[1], "the answer tells which ID is a team lead"
