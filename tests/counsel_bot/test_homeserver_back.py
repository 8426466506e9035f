"""The homeserver is away for a while (Synapse restarting: an upgrade, a crash) and comes
back. nio retries each request that found nobody, with pauses that double up to the
client's limit; with nio's default limit (a minute), a crisis alert committed meanwhile,
and the sync that reads the youths, waited half a minute and more after the homeserver was
back.

The real nio client with the bot's own client settings, against a stand-in for the
homeserver that drops every connection while it is "away"; nio logs each failed try before
its pause."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from nio import AsyncClient, MatrixRoom

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.matrix.session import client_config
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from e2e.vault import KdfParams, Vault
from tests.store.conftest import AeadSealer
from tests.support.bot_harness import until

STAFF_ROOM = RoomID("!staff:x")
CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
# Tries that found nobody before the homeserver comes back: about 13 s of nio's pauses.
AWAY_FOR = 8
# From the homeserver's return to the alert being sent, at most.
BACK_WITHIN = 5.0


@dataclasses.dataclass
class StandIn:
    url: str
    away: bool = True


@pytest_asyncio.fixture(loop_scope="session")
async def homeserver() -> AsyncIterator[StandIn]:
    stand_in = StandIn("")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not stand_in.away:
            await reader.readuntil(b"\r\n\r\n")
            body = b'{"event_id": "$sent"}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(body), body))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stand_in.url = f"http://127.0.0.1:{port}"
    try:
        yield stand_in
    finally:
        server.close()
        await server.wait_closed()


async def test_an_alert_goes_out_soon_after_the_homeserver_is_back(
    homeserver: StandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nio.client.async_client")

    def tries() -> int:
        return sum(r.name == "nio.client.async_client" and r.getMessage().startswith(
            "Timed out") for r in caplog.records)

    vault = Vault.open_or_create(tmp_path / "vault.json", "passphrase for a test", CHEAP)
    # The bot's settings; without encryption, which needs a logged-in device's store.
    config = dataclasses.replace(client_config(vault), encryption_enabled=False)
    client = AsyncClient(homeserver.url, "@counsel:x", device_id="BOT", config=config)
    client.access_token = "token"
    client.rooms[STAFF_ROOM] = MatrixRoom(STAFF_ROOM, client.user_id, encrypted=False)
    store = MemoryStore(AeadSealer())

    async def staff_room() -> RoomID:
        return STAFF_ROOM

    executor = Executor(client, store, FakeClock(datetime(2026, 12, 6, 20, 0, tzinfo=UTC)),
                        default_language="de", staff_room=staff_room)
    sending = asyncio.create_task(executor.send(STAFF_ROOM, "KRISENHINWEIS", "alert"))
    try:
        await until(lambda: tries() >= AWAY_FOR, within=60,
                    what="the bot to find the homeserver away")
        loop = asyncio.get_running_loop()
        back = loop.time()
        homeserver.away = False
        await asyncio.wait_for(sending, 120)
        took = loop.time() - back
        assert took <= BACK_WITHIN, f"sent {took:.1f} s after the homeserver was back"
    finally:
        sending.cancel()
        await client.close()
        await store.close()
