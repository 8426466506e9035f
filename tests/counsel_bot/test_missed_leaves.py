"""`missed_leaves`: the rooms the bot must be in (its staff rooms, its open chats' rooms)
against the rooms the homeserver counts it in, at the first look and once a minute after.
A stand-in for nio's one request; the bot's wiring is proven on real Synapse
(test_youth_room_deleted_while_down.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nio import (
    JoinedRoomsError,
    JoinedRoomsResponse,
    RoomGetStateEventError,
    RoomGetStateEventResponse,
)

from counsel_bot.channels.matrix.missed_leaves import LOOK_INTERVAL, MissedLeaves
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID

STAFF, CHAT, GONE = RoomID("!staff:x"), RoomID("!chat:x"), RoomID("!gone:x")


class Client:
    user_id = "@bot:x"

    def __init__(self) -> None:
        self.joined: list[str] | None = [STAFF, CHAT]
        self.asked = 0
        # What the main process answers for the bot's own membership: a room made just now
        # that the list (from a worker) does not count yet is still joined.
        self.member: dict[str, str] = {CHAT: "join", STAFF: "leave"}

    async def room_get_state_event(self, room_id: str, event_type: str, state_key: str,
                                   ) -> RoomGetStateEventResponse | RoomGetStateEventError:
        assert (event_type, state_key) == ("m.room.member", self.user_id)
        if room_id not in self.member:
            return RoomGetStateEventError("not in room", "M_FORBIDDEN")
        return RoomGetStateEventResponse({"membership": self.member[room_id]},
                                         event_type, state_key, room_id)

    async def joined_rooms(self) -> JoinedRoomsResponse | JoinedRoomsError:
        self.asked += 1
        if self.joined is None:
            return JoinedRoomsError("homeserver away")
        return JoinedRoomsResponse(self.joined)


async def test_a_watched_room_the_homeserver_does_not_count_the_bot_in_is_left() -> None:
    clock = FakeClock(datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    client = Client()
    watched = [STAFF, CHAT, GONE]
    left: list[RoomID] = []

    async def rooms() -> list[RoomID]:
        return watched

    async def leave(room: RoomID) -> None:
        left.append(room)

    look = MissedLeaves(client, clock, rooms, leave)  # type: ignore[arg-type]
    await look.look()
    assert left == [GONE]
    # Not asked again within the interval; asked once it has passed.
    client.joined = []
    await look.look()
    assert (client.asked, left) == (1, [GONE])
    clock.advance(LOOK_INTERVAL)
    await look.look()
    assert left == [GONE, STAFF, GONE]  # CHAT: not listed yet, but joined
    # A homeserver that does not answer: nothing is taken for left.
    clock.advance(LOOK_INTERVAL)
    client.joined = None
    await look.look()
    assert left == [GONE, STAFF, GONE]
    # Nothing to watch: no request at all.
    watched = []
    clock.advance(LOOK_INTERVAL + timedelta(seconds=1))
    await look.look()
    assert client.asked == 3
