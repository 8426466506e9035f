"""A counsellor taken off the staff list (config, then a restart) must leave the staff room:
every crisis alert, case note and notice there is Megolm-encrypted for each member's
devices, so a member the bot keeps gets the room keys of all of them. Before, the bot only
invited the staff it was missing and never removed anyone."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nio import JoinedRoomsResponse, RoomGetStateEventResponse
from nio.rooms import MatrixRoom

from counsel_bot.channels.matrix.office_rooms import OfficeStaffRooms, setting_key
from counsel_bot.channels.matrix.staff_room import STAFF_ROOM_KEY, StaffRoom
from counsel_bot.core.ids import UserID
from counsel_bot.core.offices import Office, OfficeBook, OfficeDesk
from counsel_bot.store.memory import MemoryStore
from tests.store.conftest import AeadSealer

BOT = "@bot:x"
STAFF_ROOM = "!staff:x"
KEPT, GONE, GONE_INVITED = UserID("@anna:x"), UserID("@ben:x"), UserID("@cleo:x")


class Client:
    """Just what the staff room asks of nio."""

    def __init__(self) -> None:
        self.user_id = BOT
        room = MatrixRoom(STAFF_ROOM, BOT, encrypted=True)
        room.add_member(BOT, "Beratung", None)
        room.add_member(KEPT, "Anna", None)
        room.add_member(GONE, "Ben", None)
        room.add_member(GONE_INVITED, "Cleo", None, invited=True)
        self.rooms = {STAFF_ROOM: room}
        self.kicked: list[str] = []
        self.invited: list[str] = []

    async def joined_rooms(self) -> Any:
        return JoinedRoomsResponse([STAFF_ROOM])

    async def room_invite(self, room_id: str, user: str) -> Any:
        self.invited.append(user)
        return SimpleNamespace()

    async def room_kick(self, room_id: str, user: str, reason: str | None = None) -> Any:
        self.kicked.append(user)
        return SimpleNamespace()

    async def room_get_state_event(self, room_id: str, event_type: str) -> Any:
        # The room is encrypted (a configured room without encryption is not kept).
        return RoomGetStateEventResponse({"algorithm": "m.megolm.v1.aes-sha2"}, event_type,
                                         "", room_id)


async def test_former_staff_are_removed_from_the_staff_room_at_the_start() -> None:
    store, client = MemoryStore(AeadSealer()), Client()
    await store.set_setting(STAFF_ROOM_KEY, STAFF_ROOM)
    room = StaffRoom(client, store, [KEPT], "de")  # type: ignore[arg-type]

    assert await room.ensure() == STAFF_ROOM

    assert sorted(client.kicked) == [GONE, GONE_INVITED]  # an open invitation is withdrawn too
    assert client.invited == []


async def test_an_offices_own_staff_room_keeps_only_that_offices_staff() -> None:
    """An office's room the bot made: someone no longer (or never) of that office's staff,
    e.g. moved to another office, does not read its notices any more."""
    store, client = MemoryStore(AeadSealer()), Client()
    await store.set_setting(setting_key("familie"), STAFF_ROOM)
    book = OfficeBook(offices=(Office("familie", "Familienberatung"),),
                      desks={"familie": OfficeDesk(staff=(KEPT,))})
    rooms = OfficeStaffRooms(client, store, book, "de",  # type: ignore[arg-type]
                             initial_state=[], power_levels={})

    await rooms.ensure()

    assert sorted(client.kicked) == [GONE, GONE_INVITED]


async def test_a_configured_office_room_is_the_admins_and_nobody_is_removed() -> None:
    """A room named in the config (offices.staff_room) was made by the admin, who decides
    who is in it; the bot only invites."""
    store, client = MemoryStore(AeadSealer()), Client()
    await store.set_setting(setting_key("familie"), STAFF_ROOM)
    book = OfficeBook(offices=(Office("familie", "Familienberatung"),),
                      desks={"familie": OfficeDesk(staff=(KEPT,), staff_room="#team:x")})
    rooms = OfficeStaffRooms(client, store, book, "de",  # type: ignore[arg-type]
                             initial_state=[], power_levels={})

    await rooms.ensure()

    assert client.kicked == []
