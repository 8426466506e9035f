"""Issue 8: a message flood from one youth is limited for that youth only (Synapse's
per-user rc_message, counsel's production defaults); others, and the bot, go on."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio

from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.provision import admin_client
from homeserver_bridge.settings import RateLimit, RateLimits
from tests.conftest import TEST_SERVER_NAME, homeserver_test_settings
from tests.support.bot_harness import trust
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration

# Messages at the production defaults; logins and sign-ups generous for the set-up.
LIMITS = RateLimits(logins=RateLimit(100.0, 1000), registrations=RateLimit(100.0, 1000))


@dataclass
class Strict:
    admin: AdminClient
    secret: str
    http: aiohttp.ClientSession
    base_url: str
    homeserver: EmbeddedSynapse

    async def user(self, name: str) -> tuple[str, MatrixHttp]:
        registered = await self.admin.register_with_shared_secret(
            self.secret, f"{name}-{secrets.token_hex(3)}", secrets.token_urlsafe(12))
        return registered.user_id, MatrixHttp(self.http, self.base_url,
                                              registered.access_token)


@pytest_asyncio.fixture(loop_scope="session")
async def strict(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Strict]:

    layout = DataLayout(tmp_path_factory.mktemp("counsel-flood"))
    embedded = EmbeddedSynapse(homeserver_test_settings(rate_limits=LIMITS), layout,
                               trusted=())
    await embedded.start()
    try:
        async with aiohttp.ClientSession() as http:
            admin = await admin_client(embedded.base_url, layout, http)
            secret = layout.registration_secret_file.read_text().strip()
            yield Strict(admin, secret, http, embedded.base_url, embedded)
    finally:
        await embedded.stop()


async def test_a_flooding_youth_is_limited_and_nobody_else(strict: Strict) -> None:
    bot_id, bot = await strict.user("bot")
    await strict.admin.override_ratelimit(bot_id)  # what counsel up does for the bot
    trust(strict.homeserver, bots=[bot_id])  # and names it to the homeserver's contact rules
    flooder_id, flooder = await strict.user("flooder")
    other_id, other = await strict.user("other")
    _, room = await bot.create_room(preset="trusted_private_chat", invite=[flooder_id, other_id])
    room_id = quote(room["room_id"])
    for youth in (flooder, other):
        status, _ = await youth.call("POST", f"/_matrix/client/v3/rooms/{room_id}/join", {})
        assert status == 200

    async def send(client: MatrixHttp, label: str) -> int:
        status, _ = await client.call(
            "PUT", f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{label}",
            {"msgtype": "m.text", "body": label})
        return status

    flood = [await send(flooder, f"f{n}") for n in range(30)]
    assert flood[:5] == [200] * 5, "ordinary writing is not limited"
    assert 429 in flood, "the flood is"
    assert await send(other, "o1") == 200, "another youth is not limited"
    assert {await send(bot, f"b{n}") for n in range(30)} == {200}, "the bot is exempt"
    assert TEST_SERVER_NAME in flooder_id
