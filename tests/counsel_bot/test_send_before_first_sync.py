"""A bot that just started (a takeover after a failover, a restart) performs what its
predecessor left in the outbox before its first sync has told nio of any room. nio refuses
a send to a room it does not know (LocalProtocolError), which counted as a refusal for
good: five wake-ups later, well inside a large office's first sync, the effect was dropped,
the emergency numbers after a youth's crisis words among them. Until the first sync is
taken in, an unknown room means "not yet", not "gone". nio's client with its refusal as an
encrypting client makes it (no server)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from nio import AsyncClient
from nio.exceptions import LocalProtocolError

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ROOM = RoomID("!youth:x")


class EncryptingClient(AsyncClient):
    async def room_send(self, room_id: str, *args: Any, **kwargs: Any) -> Any:
        # What nio's room_send raises with encryption loaded, for a room it has not seen.
        raise LocalProtocolError(f"No such room with id {room_id} found.")


@pytest.mark.parametrize("synced", [False, True])
async def test_a_room_unknown_before_the_first_sync_is_waited_for(synced: bool) -> None:
    client = EncryptingClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT")
    client.access_token = "token"
    store = MemoryStore(AeadSealer())

    async def staff_room() -> RoomID:
        return RoomID("!staff:x")

    executor = Executor(client, store, FakeClock(datetime(2026, 12, 7, 3, 0, tzinfo=UTC)),
                        default_language="de", staff_room=staff_room)
    if synced:
        executor.rooms_known()
    try:
        with pytest.raises(EffectFailed) as failed:
            await executor.send(ROOM, "Hier sind Nummern, die sofort helfen: 116 111", "k")
        # Before the first sync: tried again, never dropped. After it: the room is gone.
        assert failed.value.permanent is synced
    finally:
        await client.close()
        await store.close()
