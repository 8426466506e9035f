"""The homeserver behind a reverse proxy restarts (deploy/: nginx in front of Synapse's main
process): while it is away the proxy answers the bot's sends itself, "502 Bad Gateway" as an
HTML page. nio makes that an error without a Matrix error code. The bot took it for a
refusal for good, so a crisis alert was tried five times within half a minute and dropped.

The real nio client against a stand-in for the proxy (nginx's own answer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from nio import AsyncClient, MatrixRoom

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

STAFF_ROOM = RoomID("!staff:x")
BAD_GATEWAY = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
               "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
               "</body>\r\n</html>\r\n")


@pytest_asyncio.fixture(loop_scope="session")
async def proxy_without_homeserver() -> AsyncIterator[str]:
    async def bad_gateway(request: web.Request) -> web.Response:
        return web.Response(status=502, text=BAD_GATEWAY, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", bad_gateway)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_a_crisis_alert_the_proxy_answers_for_the_homeserver_is_tried_again(
    proxy_without_homeserver: str,
) -> None:
    client = AsyncClient(proxy_without_homeserver, "@counsel:x", device_id="BOT")
    client.access_token = "token"
    client.rooms[STAFF_ROOM] = MatrixRoom(STAFF_ROOM, client.user_id, encrypted=False)
    store = MemoryStore(AeadSealer())

    async def staff_room() -> RoomID:
        return STAFF_ROOM

    executor = Executor(client, store, FakeClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC)),
                        default_language="de", staff_room=staff_room)
    alert = SayToStaff("staff_crisis_alert", (
        ("conversation", "C-1"), ("category", "suicide"), ("severity", "high"),
        ("waiting", 0), ("assigned", "-"), ("rules", "de.suicide.001")))
    try:
        with pytest.raises(EffectFailed) as failed:
            await executor.perform(alert, "saytostaff:$1:0")
        # A refusal for good is dropped after five tries; this one is tried until it is sent.
        assert not failed.value.permanent
    finally:
        await client.close()
        await store.close()
