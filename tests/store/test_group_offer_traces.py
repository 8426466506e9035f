"""A group's crisis offers a youth a 1:1 in their own room (`group_crisis.offer_key`:
``group_offer:<room>`` = when, and the flag's level). Most youths sign up with "gruppe 1"
alone, so no conversation is in that room, and none of its erasures would ever find the
setting: an offer never answered named the youth's room for good, the night the group's
words raised a flag, long after the offer lapsed (a day), the group ended and its room was
purged. Real SQLite store, real conductor and group desk (`test_group_traces_erased.py`'s
harness); the raw file and its write-ahead log are scanned."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.conversation.group_crisis import OFFER_LASTS, OFFERS_SWEPT, offer_key
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import EraseConversation, decode_effect
from counsel_bot.core.group_effects import OpenGroupRoom
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import SqliteStore
from tests.store.conftest import AeadSealer
from tests.store.test_group_traces_erased import (
    AT,
    GROUP_ROOM,
    START,
    Bot,
    _no_room,
    _PurgedAdmin,
)
from tests.support.raw_scan import assert_not_on_disk

CANARY = "angebot5e1c"
GHOST, GHOST_HOME = UserID(f"@{CANARY}:x"), RoomID(f"!{CANARY}home:x")
CHAT = RoomID(f"!{CANARY}chat:x")
CRISIS = "ich will nicht mehr leben"


async def offered(bot: Bot) -> None:
    """The youth signed up for group 1 alone (no conversation) and wrote crisis words in
    its room: the 1:1 is offered in their own room."""
    await bot.staff('!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
    await bot.youth(GHOST, GHOST_HOME, "gruppe 1")
    assert await bot.store.conversation_by_room(GHOST_HOME) is None
    bot.clock.set(START)
    await bot.c.tick(START)
    assert any(isinstance(decode_effect(e.payload), OpenGroupRoom)
               for e in await bot.store.pending_outbox())
    await bot.store.set_setting("group_room:1", GROUP_ROOM)
    bot.desk.room_opened(1, GROUP_ROOM)
    await bot.desk.room_message(GROUP_ROOM, GHOST, bot.event(), CRISIS, bot.clock.now())
    assert await bot.store.get_setting(offer_key(GHOST_HOME))


async def test_an_offer_never_answered_goes_once_it_lapsed(tmp_path: Path) -> None:
    path = tmp_path / "counsel.db"
    store = await SqliteStore.open(path, AeadSealer())
    clock = FakeClock(AT)
    try:
        bot = await Bot(store, clock).start()
        await offered(bot)
        await bot.c.tick(clock.advance(OFFER_LASTS - timedelta(minutes=5)))
        assert await store.get_setting(offer_key(GHOST_HOME)), "taken before it lapsed"
        # Looked for hourly (a scan of the settings): gone within the hour after it lapsed.
        await bot.c.tick(clock.advance(OFFERS_SWEPT + timedelta(minutes=1)))
        assert await store.settings("group_offer:") == [], (
            "an offer never answered names the youth's room for good")
        # The group is over and purged meanwhile (purge_after 0): nothing else names it.
        assert_not_on_disk(path, [GHOST_HOME])
    finally:
        await store.close()
    assert_not_on_disk(path, [GHOST_HOME])


async def test_the_youths_deletion_takes_an_offer_in_another_room_at_once(
    tmp_path: Path,
) -> None:
    """The youth talks to a counsellor in one room and sat in the group from another (no
    conversation there), then deletes everything ("ja löschen"): the desk forgets their
    seats and the offer in the other room by emptying it, which left the key naming that
    room for good (no erasure finds a room without a conversation)."""
    path = tmp_path / "counsel.db"
    sealer = AeadSealer()
    store = await SqliteStore.open(path, sealer)
    clock = FakeClock(AT)
    try:
        bot = await Bot(store, clock).start(can_delete=True)
        await bot.youth(GHOST, CHAT, "hallo, ich brauche jemanden zum reden")
        record = await store.conversation_by_room(CHAT)
        assert record is not None
        await offered(bot)
        await bot.youth(GHOST, CHAT, "löschen")
        await bot.youth(GHOST, CHAT, "ja löschen")
        executor = Executor(object(), store, clock, default_language="de",
                            staff_room=_no_room)
        executor.admin = _PurgedAdmin()  # type: ignore[assignment]
        executor.before_erase = bot.before_erase
        await executor.perform(EraseConversation(record.conversation),
                               f"erase:{record.conversation}")
        assert await store.conversation(record.conversation) is None
        assert await store.settings("group_offer:") == [], (
            "the deleted youth's other room stays named by an emptied offer")
    finally:
        await store.close()
    assert_not_on_disk(path, [GHOST_HOME])
