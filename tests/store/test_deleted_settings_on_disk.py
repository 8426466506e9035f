"""Deleted means deleted on disk outside an erasure too: a setting that names a youth's room,
deleted when what it noted is over (an offer carried to a new room or taken up, a room the
youth never accepted, a first room given up), leaves nothing in the write-ahead log, where
SQLite keeps the page as it was until the log is checkpointed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from counsel_bot.channels.matrix.group_rooms import GroupRooms
from counsel_bot.channels.matrix.room_moves import RoomMoves, forget_settings_of
from counsel_bot.conversation.group_crisis import offer_key
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing import Router
from counsel_bot.store import SqliteStore, Transition
from tests.store.conftest import AeadSealer
from tests.support.raw_scan import assert_not_on_disk

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LEFT = RoomID("!leftbehindroom:x")
HOME = RoomID("!newhomeroom:x")


async def _opened(tmp_path: Path) -> tuple[SqliteStore, Path]:
    path = tmp_path / "counsel.db"
    return await SqliteStore.open(path, AeadSealer()), path


async def test_a_first_rooms_settings_forgotten_leave_nothing_in_the_log(tmp_path: Path) -> None:
    store, path = await _opened(tmp_path)
    try:
        await store.set_setting(f"greeted:{LEFT}", "1")
        await store.set_setting(f"move_told:{LEFT}", "1")
        await forget_settings_of(store, LEFT)
        assert await store.settings("") == []
        assert_not_on_disk(path, [LEFT])
    finally:
        await store.close()


async def test_a_room_made_for_a_move_unmade_leaves_nothing_in_the_log(tmp_path: Path) -> None:
    store, path = await _opened(tmp_path)
    try:
        moves = RoomMoves(store)
        await moves.moved(LEFT, HOME)
        await moves.ended(LEFT, "declined")
        await moves.unmade(HOME)
        assert_not_on_disk(path, [HOME, LEFT])
    finally:
        await store.close()


async def test_an_offer_carried_to_a_new_room_leaves_the_old_room_nowhere(
        tmp_path: Path) -> None:
    store, path = await _opened(tmp_path)
    try:
        await store.set_setting(offer_key(LEFT), "2026-03-02T15:00:00+00:00|flag")
        rooms = GroupRooms(SimpleNamespace(client=None, store=store,  # type: ignore[arg-type]
                                           default_language="de"),
                           room_opened=lambda _n, _r: None, room_purged=lambda _n: None)
        await rooms._carry_offer(LEFT, HOME)
        assert await store.get_setting(offer_key(HOME))
        assert_not_on_disk(path, [LEFT])
    finally:
        await store.close()


async def test_an_offer_taken_up_leaves_its_room_nowhere(tmp_path: Path) -> None:
    store, path = await _opened(tmp_path)
    try:
        snapshot = Router().snapshot()
        await store.commit_transition(Transition(
            T0, snapshot, None, settings=((offer_key(LEFT), "offered"),)))
        # As `YouthSide._offer_taken` deletes it, within the transition the youth's words open.
        await store.commit_transition(Transition(
            T0, snapshot, None, settings=((offer_key(LEFT), None),)))
        assert await store.get_setting(offer_key(LEFT)) is None
        assert_not_on_disk(path, [LEFT])
    finally:
        await store.close()


async def test_an_overwritten_room_forgotten_on_disk_leaves_nothing_in_the_log(
        tmp_path: Path) -> None:
    store, path = await _opened(tmp_path)
    try:
        await store.set_setting("new_home:abc", HOME)
        await store.set_setting("new_home:abc", "-", forget_on_disk=True)
        assert_not_on_disk(path, [HOME])
    finally:
        await store.close()
