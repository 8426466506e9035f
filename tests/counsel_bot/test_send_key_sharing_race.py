"""A member leaves while the bot shares a room's key: nio drops the room's outbound session
under the share, then marks the dropped one shared (a KeyError), and a second send that
waited for that share finds no session to encrypt with (GroupEncryptionError). The first
counted as a room the bot is out of, for good: the effect (a crisis alert, the emergency
numbers) was dropped. The second stopped the bot, and after two such stops the effect was
set aside. Both are a race of the moment: tried again, a new session is made and shared.
nio's client with those failures as room_send raises them (no server)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from nio import AsyncClient, MatrixRoom
from nio.exceptions import GroupEncryptionError

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ROOM = RoomID("!youth:x")


class RacingClient(AsyncClient):
    failure: BaseException = KeyError(ROOM)

    async def room_send(self, room_id: str, *args: Any, **kwargs: Any) -> Any:
        raise self.failure


@pytest.mark.parametrize("failure", [KeyError(ROOM),
                                     GroupEncryptionError(f"No outbound session for {ROOM}")])
async def test_a_send_that_lost_its_room_key_to_a_leave_is_tried_again(
    failure: BaseException,
) -> None:
    client = RacingClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT")
    client.access_token = "token"
    client.failure = failure
    client.rooms[ROOM] = MatrixRoom(ROOM, "@counsel:x", encrypted=True)
    store = MemoryStore(AeadSealer())

    async def staff_room() -> RoomID:
        return RoomID("!staff:x")

    executor = Executor(client, store, FakeClock(datetime(2026, 12, 7, 3, 0, tzinfo=UTC)),
                        default_language="de", staff_room=staff_room)
    executor.rooms_known()
    try:
        with pytest.raises(EffectFailed) as failed:
            await executor.send(ROOM, "Hier sind Nummern, die sofort helfen: 116 111", "k")
        assert not failed.value.permanent
    finally:
        await client.close()
        await store.close()
