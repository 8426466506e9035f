"""One staff room, also when the first start stops between making it and noting it: the
next start finds the room it made (by its creator and name) instead of making a second one
and inviting the whole team again. The bot on a fake of nio's client, no server."""

from __future__ import annotations

from nio import MatrixRoom

from counsel_bot.channels.matrix.bot import STAFF_ROOM_KEY
from counsel_bot.channels.matrix.office_rooms import OfficeStaffRooms
from counsel_bot.core.messages import text
from counsel_bot.core.offices import OfficeBook
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import BOT, FakeClient, _bot
from tests.store.conftest import AeadSealer


def made_by(creator: str, room_id: str, name: str) -> MatrixRoom:
    room = MatrixRoom(room_id, BOT, encrypted=True)
    room.creator = creator
    room.name = name
    return room


async def test_a_start_finds_the_staff_room_an_earlier_start_made() -> None:
    store, client = MemoryStore(AeadSealer()), FakeClient()
    name = text("staff_room_name", "de")
    client.rooms["!staff:x"] = made_by(BOT, "!staff:x", name)
    client.rooms["!fake:x"] = made_by("@sunflower:x", "!fake:x", name)  # a youth's, same name
    bot = await _bot(store, client, [])
    assert await bot.ensure_staff_room() == "!staff:x"
    assert client.created == []
    assert await store.get_setting(STAFF_ROOM_KEY) == "!staff:x"


async def test_the_first_start_makes_it() -> None:
    store, client = MemoryStore(AeadSealer()), FakeClient()
    bot = await _bot(store, client, [])
    assert await bot.ensure_staff_room() == "!new1:x"
    assert len(client.created) == 1


async def test_an_office_staff_room_is_found_again_too() -> None:
    client = FakeClient()
    title = f"{text('staff_room_name', 'de')} – Nord"
    client.rooms["!nord:x"] = made_by(BOT, "!nord:x", title)
    rooms = OfficeStaffRooms(client, MemoryStore(AeadSealer()), OfficeBook(),  # type: ignore[arg-type]
                             "de", initial_state=[], power_levels={})
    assert await rooms._open("nord", "Nord", "", []) == "!nord:x"
    assert client.created == []
