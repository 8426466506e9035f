"""A room shared by several youths with the bot (no conversation: nobody is its youth) is
purged once idle (`idle_rooms`). Its idle time counted from the one time the bot told it to
write one to one: youths who go on talking there every day would lose their room a month
later. What they write there counts as activity. Memory store, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from nio import MatrixRoom

from counsel_bot.channels.matrix.strangers import Strangers
from counsel_bot.conversation.idle_rooms import last_seen, note_seen
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ROOM = RoomID("!shared:x")


async def test_words_in_a_shared_room_told_before_count_as_activity() -> None:
    store = MemoryStore(AeadSealer())
    clock = FakeClock(T0)
    await store.set_setting(f"shared_told:{ROOM}", "1")
    await note_seen(store, ROOM, T0)
    strangers = Strangers(None, SimpleNamespace(store=store),  # type: ignore[arg-type]
                          None, clock, "de")  # type: ignore[arg-type]
    later = clock.advance(timedelta(days=20))
    await strangers.one_to_one_only(MatrixRoom(ROOM, "@bot:x"), ["@a:x", "@b:x"])
    assert await last_seen(store, ROOM) == later
