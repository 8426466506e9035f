"""A notice that names the office its conversation was stored with (a room upgrade's, a
counsellor's unreadable message, an appointment's) after that office was renamed or taken
out of the configuration, or while the youth has not answered the office question yet.
Such a conversation is the fallback office's (rules 2 and 3 of core/routing/offices.py),
so the notice goes to the fallback office's staff room. Before, it went to the removed
office's old room, which the bot keeps and whose members (former staff, maybe) nobody
removes any more, or, still undecided, waited for a room that is never made."""

from __future__ import annotations

from counsel_bot.channels.matrix.office_rooms import OfficeStaffRooms, setting_key
from counsel_bot.core.ids import UserID
from counsel_bot.core.offices import Office, OfficeBook, OfficeDesk
from counsel_bot.core.routing.offices import UNDECIDED
from counsel_bot.store.memory import MemoryStore
from tests.counsel_bot.test_former_staff_room import Client
from tests.store.conftest import AeadSealer

OLD_ROOM, FALLBACK_ROOM = "!familie-old:x", "!jugend:x"


async def test_a_removed_or_undecided_offices_notice_goes_to_the_fallback_offices_room(
) -> None:
    store = MemoryStore(AeadSealer())
    await store.set_setting(setting_key("familie"), OLD_ROOM)  # made before the removal
    await store.set_setting(setting_key("jugend"), FALLBACK_ROOM)
    book = OfficeBook(offices=(Office("jugend", "Jugendberatung"),), fallback="jugend",
                      on_call="jugend", desks={"jugend": OfficeDesk(staff=(UserID("@cem:x"),))})
    rooms = OfficeStaffRooms(Client(), store, book, "de",  # type: ignore[arg-type]
                             initial_state=[], power_levels={})

    assert await rooms.room_for_notice("familie") == FALLBACK_ROOM
    assert await rooms.room_for_notice(UNDECIDED) == FALLBACK_ROOM
    assert await rooms.room_for_notice("jugend") == FALLBACK_ROOM


async def test_a_renamed_office_keeps_its_staff_room() -> None:
    """Renamed with `former_ids`: its staff room (their history, their alerts) stays the
    office's, rather than a new one made beside it while the old one lingers."""
    store = MemoryStore(AeadSealer())
    await store.set_setting(setting_key("familie"), OLD_ROOM)
    await store.set_setting(setting_key("jugend"), FALLBACK_ROOM)
    book = OfficeBook(offices=(Office("eltern", "Elternberatung"),
                               Office("jugend", "Jugendberatung")),
                      fallback="jugend", on_call="jugend",
                      desks={"eltern": OfficeDesk(staff=(UserID("@anna:x"),)),
                             "jugend": OfficeDesk(staff=(UserID("@cem:x"),))},
                      former={"familie": "eltern"})
    rooms = OfficeStaffRooms(Client(), store, book, "de",  # type: ignore[arg-type]
                             initial_state=[], power_levels={})

    assert await rooms.room_for_notice("eltern") == OLD_ROOM
    assert await rooms.room_for_notice("familie") == OLD_ROOM
    assert await store.get_setting(setting_key("eltern")) == OLD_ROOM
