"""A counsellor who rejects the bot's direct room (a text for them alone waits there: a
youth's private mail, their call link) got a new invitation at every retry of the waiting
text, every few seconds all night. Now one who rejected a room gets the next one after
`REOPEN_AFTER` (the leads are told of the waiting text meanwhile); one who joined and later
left gets a new one at once, as before. The direct rooms on a stand-in for nio's client
(the homeserver's answers for the rooms it makes); no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nio import MatrixRoom, RoomCreateResponse, RoomGetStateEventResponse

from counsel_bot.channels.matrix.private_rooms import REOPEN_AFTER, PrivateRooms
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ANNA = UserID("@anna:x")


class Client:
    user_id = "@counsel:x"
    access_token = "token"

    def __init__(self) -> None:
        self.rooms: dict[str, MatrixRoom] = {}

    async def room_create(self, **_: object) -> RoomCreateResponse:
        room_id = f"!direct{len(self.rooms)}:x"
        room = MatrixRoom(room_id, self.user_id, encrypted=True)
        room.add_member(self.user_id, "bot", None)
        room.add_member(ANNA, "Anna", None, invited=True)
        self.rooms[room_id] = room
        return RoomCreateResponse(room_id)

    async def room_get_state_event(self, room_id: str, event_type: str,
                                   state_key: str) -> RoomGetStateEventResponse:
        room = self.rooms[room_id]
        membership = "join" if state_key in room.users and state_key not in \
            room.invited_users else "invite" if state_key in room.invited_users else "leave"
        return RoomGetStateEventResponse({"membership": membership}, event_type, state_key,
                                         room_id)

    async def room_leave(self, room_id: str) -> None:
        return None

    async def room_forget(self, room_id: str) -> None:
        return None

    async def send(self, *_: object, **__: object) -> None:
        raise ConnectionError("m.direct is a label; not tried here")


async def test_a_rejected_direct_room_is_not_offered_again_at_every_retry() -> None:
    clock = FakeClock(datetime(2026, 12, 8, 2, 0, tzinfo=UTC))
    client = Client()
    rooms = PrivateRooms(client, MemoryStore(AeadSealer()), [ANNA], clock)  # type: ignore[arg-type]

    first = await rooms.room_for(ANNA)
    assert first is not None
    client.rooms[first].remove_member(ANNA)  # Anna rejects the invitation
    for _ in range(5):  # the waiting text's retries, seconds apart
        clock.advance(timedelta(seconds=5))
        assert await rooms.room_for(ANNA) is None
    assert len(client.rooms) == 1, "a new invitation at every retry"
    assert rooms.reopen_waits(ANNA)

    clock.advance(REOPEN_AFTER)
    second = await rooms.room_for(ANNA)
    assert second is not None
    assert second != first
    # She accepts this one; the bot sees her in it; later she leaves: a new room at once.
    client.rooms[second].invited_users.pop(ANNA)
    assert rooms.joined(RoomID(second), ANNA)
    client.rooms[second].remove_member(ANNA)
    third = await rooms.room_for(ANNA)
    assert third is not None
    assert third not in (first, second)
