"""Rooms without a conversation (`conversation.idle_rooms`): which are purged once idle for
the retention period, which are kept, and what goes with them. Memory store, fake admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.conversation.crisis_flags import RaisedFlag
from counsel_bot.conversation.group_crisis import offer_key, offer_value
from counsel_bot.conversation.idle_rooms import (
    last_seen,
    note_seen,
    plan_idle_rooms,
    run_idle_rooms,
)
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import Router
from counsel_bot.store import MemoryStore
from homeserver_bridge.errors import AdminApiError
from tests.retention.conftest import FakeAdmin, closed_conversation
from tests.store.conftest import AeadSealer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=30)
IDLE, FRESH, SEATED = RoomID("!idle:x"), RoomID("!fresh:x"), RoomID("!seated:x")


def test_the_plan_takes_rooms_idle_longer_than_the_period_longest_idle_first() -> None:
    seen = [(IDLE, NOW - timedelta(days=31)), (SEATED, NOW - timedelta(days=40)),
            (FRESH, NOW - timedelta(days=29))]
    assert plan_idle_rooms(seen, NOW, KEEP) == [SEATED, IDLE]


async def _store() -> MemoryStore:
    store = MemoryStore(AeadSealer())
    for room, days in ((IDLE, 31), (FRESH, 29), (SEATED, 31)):
        await note_seen(store, room, NOW - timedelta(days=days))
        await store.set_setting(f"greeted:{room}", "1")
    return store


async def test_an_idle_room_is_purged_and_forgotten_a_fresh_or_needed_one_kept() -> None:
    store = await _store()
    admin = FakeAdmin(rooms={IDLE, FRESH, SEATED})
    forgotten: list[RoomID] = []

    async def needed(room: RoomID, at: datetime) -> bool:
        return room == SEATED

    report = await run_idle_rooms(store, admin, NOW, KEEP, dry_run=False, needed=needed,
                                  forget=forgotten.append)
    assert (report.planned, report.purged, report.failed) == (1, 1, 0)
    assert admin.rooms == {FRESH, SEATED}
    assert forgotten == [IDLE]
    assert [k for k, _ in await store.settings("") if str(IDLE) in k] == []
    assert await last_seen(store, IDLE) is None
    assert await store.get_setting(f"greeted:{FRESH}") == "1"
    # Still needed: its period starts again now, not at its last words.
    assert await last_seen(store, SEATED) == NOW
    assert str(IDLE) not in report.summary()


async def test_a_setting_whose_value_is_the_purged_room_goes_too() -> None:
    """The new room opened for a group's notice to a youth who left theirs is found by
    ``new_home:<digest>`` = the room: kept, it named a purged room for good."""
    store = await _store()
    await store.set_setting("new_home:0123abcd", IDLE)
    await store.set_setting("new_home:4567ef01", FRESH)

    async def needed(room: RoomID, at: datetime) -> bool:
        return room == SEATED

    await run_idle_rooms(store, FakeAdmin(rooms={IDLE}), NOW, KEEP, dry_run=False,
                         needed=needed)
    assert await store.get_setting("new_home:0123abcd") is None
    assert await store.get_setting("new_home:4567ef01") == FRESH


async def test_a_dry_run_purges_nothing_and_writes_nothing() -> None:
    store = await _store()
    before = (await store.settings(""), await store.sealed_settings(""))
    admin = FakeAdmin(rooms={IDLE, FRESH, SEATED})

    async def needed(room: RoomID, at: datetime) -> bool:
        return False

    report = await run_idle_rooms(store, admin, NOW, KEEP, dry_run=True, needed=needed)
    assert report.planned == 2
    assert admin.calls == []
    assert (await store.settings(""), await store.sealed_settings("")) == before


async def test_a_room_only_marked_greeted_by_an_older_version_counts_from_the_first_run(
        ) -> None:
    store = MemoryStore(AeadSealer())
    await store.set_setting(f"greeted:{IDLE}", "1")
    await store.set_setting(f"shared_told:{SEATED}", "1")
    admin = FakeAdmin(rooms={IDLE, SEATED})

    async def needed(room: RoomID, at: datetime) -> bool:
        return False

    first = await run_idle_rooms(store, admin, NOW, KEEP, dry_run=False, needed=needed)
    assert first.planned == 0
    later = await run_idle_rooms(store, admin, NOW + timedelta(days=31), KEEP,
                                 dry_run=False, needed=needed)
    assert later.purged == 2
    assert await store.settings("") == []
    assert await store.sealed_settings("") == []


async def test_a_room_with_a_conversation_is_left_to_its_retention() -> None:
    store = await _store()
    await closed_conversation(store, Router(), ConversationID("C-0000000A"), IDLE,
                              UserID("@y:x"),
                              NOW - timedelta(days=2), NOW - timedelta(days=1))
    admin = FakeAdmin(rooms={IDLE})

    async def needed(room: RoomID, at: datetime) -> bool:
        return False

    await run_idle_rooms(store, admin, NOW, KEEP, dry_run=False, needed=needed)
    assert IDLE not in admin.calls
    assert await store.get_setting(f"greeted:{IDLE}") == "1"


async def test_a_purge_that_fails_keeps_the_note_for_the_next_run() -> None:
    store = await _store()
    admin = FakeAdmin(rooms={IDLE}, failures={IDLE: [AdminApiError("down", status=502)]})

    async def needed(room: RoomID, at: datetime) -> bool:
        return room == SEATED

    report = await run_idle_rooms(store, admin, NOW, KEEP, dry_run=False, needed=needed)
    assert report.failed == 1
    assert await last_seen(store, IDLE) is not None
    again = await run_idle_rooms(store, admin, NOW, KEEP, dry_run=False, needed=needed)
    assert again.purged == 1
    assert await last_seen(store, IDLE) is None


async def test_a_room_where_a_1to1_was_offered_after_a_group_crisis_is_kept_while_it_stands(
        ) -> None:
    """A youth signed up for tonight's group from their chat with the bot, where no
    conversation ever opened; crisis words in the group brought the offer, in that chat,
    of a 1:1 if they answer within a day (`group_crisis.OFFER_LASTS`). With `[retention]
    closed_days = 1` the next run after the group was over (the seat no longer holds the
    room) purged it: the youth's "ja" had nowhere to go, and the offer was erased with the
    room's settings. The room is kept while the offer stands, and counts again from then."""
    keep = timedelta(days=1)
    store = MemoryStore(AeadSealer())
    # Noted at the last run while the seat held it, the evening before.
    await note_seen(store, IDLE, NOW - timedelta(hours=25))
    offered = NOW - timedelta(hours=2)
    await store.set_setting(offer_key(IDLE), offer_value(offered, RaisedFlag(
        "suicide", "high", ("rule-a",))))
    admin = FakeAdmin(rooms={IDLE})

    async def needed(room: RoomID, at: datetime) -> bool:
        return False  # the group is over: no seat holds the room

    report = await run_idle_rooms(store, admin, NOW, keep, dry_run=False, needed=needed)
    assert report.planned == 0
    assert admin.rooms == {IDLE}
    assert await store.get_setting(offer_key(IDLE)) is not None
    assert await last_seen(store, IDLE) == NOW
    # Once it has lapsed, the room goes as any idle one.
    later = await run_idle_rooms(store, admin, NOW + timedelta(days=2), keep, dry_run=False,
                                 needed=needed)
    assert later.purged == 1
    assert await store.get_setting(offer_key(IDLE)) is None
