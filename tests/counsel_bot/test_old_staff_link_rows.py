"""A video link stored in the outbox for the staff room by an earlier version (before links
went to the counsellor's direct room) must not reach the staff room, where every colleague
reads it, nor hold up the notices sent with it (the staff room's lane carries crisis
alerts): it goes directly if it can, else it is dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nio import AsyncClient, MatrixRoom, RoomSendResponse

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import SayToStaff, StaffDigest
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

STAFF_ROOM = RoomID("!staff:x")
ANNA = UserID("@anna:x")


async def test_an_old_link_row_never_reaches_the_staff_room_nor_holds_up_the_rest() -> None:
    client = AsyncClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT")
    client.rooms[STAFF_ROOM] = MatrixRoom(STAFF_ROOM, client.user_id)
    sent: list[tuple[str, dict[str, Any]]] = []

    async def room_send(room_id: str, message_type: str, content: dict[str, Any],
                        **kwargs: Any) -> object:
        sent.append((room_id, content))
        return RoomSendResponse("$sent", room_id)

    client.room_send = room_send  # type: ignore[method-assign]

    async def staff_room() -> RoomID | None:
        return STAFF_ROOM

    executor = Executor(client, MemoryStore(AeadSealer()), FakeClock(datetime.now(UTC)),
                        default_language="de", staff_room=staff_room)
    old = SayToStaff("video.counsellor_link", (("conversation", "C-00000001"),
                                               ("url", "https://meet.x/c?jwt=secret")),
                     mentions=(ANNA,))
    other = SayToStaff("staff_new_mail", (("conversation", "C-00000002"),))
    try:
        await executor.perform(StaffDigest((old, other)), "digest:1")
    finally:
        await client.close()
    assert [room for room, _ in sent] == [STAFF_ROOM]
    [(_, content)] = sent
    assert "C-00000002" in content["body"]
    assert "jwt" not in content["body"]
