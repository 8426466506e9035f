"""A youth's "ja löschen" purges their rooms where no chat opened (greeted, a forum post, a
group sign-up), as the account goes. A room where another youth is also a member is theirs
too: it waited for idle retention only once the bot had told them to write one to one
(`shared_told:`), so one the other youth joined before anybody wrote was purged from under
them, their words with it. Now a room with any member besides the youth and the bot is left
to idle retention. The executor with a stand-in for Synapse's admin API; no server."""

from __future__ import annotations

from datetime import UTC, datetime

from nio import AsyncClient

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.conversation.idle_rooms import note_seen
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
BOT, KIM, TOM = "@counsel:x", UserID("@kim:x"), "@tom:x"
GREETED, SHARED = RoomID("!greeted:x"), RoomID("!shared:x")


class Admin:
    def __init__(self) -> None:
        self.members = {GREETED: [BOT, KIM], SHARED: [BOT, KIM, TOM]}
        self.purged: list[str] = []

    async def joined_rooms(self, user_id: str) -> list[str]:
        return [room for room, members in self.members.items() if user_id in members]

    async def room_members(self, room_id: str) -> list[str]:
        return self.members[RoomID(room_id)]

    async def delete_room_and_wait(self, room_id: str, **_: object) -> None:
        self.purged.append(room_id)


async def test_a_room_another_youth_is_in_is_not_purged_with_the_account() -> None:
    store = MemoryStore(AeadSealer())
    client = AsyncClient("http://127.0.0.1:9", BOT, device_id="BOT")
    client.user_id = BOT  # as a login sets it

    async def staff_room() -> RoomID:
        return RoomID("!staff:x")

    executor = Executor(client, store, FakeClock(AT), default_language="de",
                        staff_room=staff_room)
    admin = Admin()
    executor.admin = admin  # type: ignore[assignment]
    for room in (GREETED, SHARED):
        await note_seen(store, room, AT)
    try:
        await executor._purge_rooms_without_conversation(KIM)
        assert admin.purged == [GREETED], "a room Tom is in was purged with Kim's account"
    finally:
        await client.close()
        await store.close()
