"""The words a youth writes before the bot has joined: Element makes a direct chat with its
first message, so the bot's invitation and that message come together, and the first sync
after the join carries the message in the room's timeline. In a room without encryption
(another homeserver than the embedded one, an app that does not encrypt) the bot moves the
youth to its own room, and words written in the first room count there, crisis check
included (test_unencrypted_first_room). The youth-side review found that the move was made
only after the batch's events: the first message, handled while the room was not yet one
the bot moves out of, was dropped unread, "ich will mich umbringen" too.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    ROOM,
    YOUTH,
    FakeClient,
    ForbiddingClient,
    RefusingClient,
    _bot,
    _sync,
    waits_in_the_first_room,
)
from tests.store.conftest import AeadSealer

# The first sync after the join: the youth's first message, then the bot's join.
JOINED_AFTER_WORDS = _sync("s2", join={ROOM: {
    "timeline": {"events": [
        {"type": "m.room.message", "sender": YOUTH, "event_id": "$first",
         "origin_server_ts": 1, "content": {"msgtype": "m.text",
                                            "body": "ich will mich umbringen"}},
        {"type": "m.room.member", "state_key": BOT, "sender": BOT, "event_id": "$join",
         "origin_server_ts": 2, "content": {"membership": "join"}}],
        "limited": False, "prev_batch": "p1"},
    "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
    "summary": {}, "unread_notifications": {}}})
# A later sync of that room with nothing new in its timeline.
NOTHING_NEW = _sync("s3", join={ROOM: {
    "timeline": {"events": [], "limited": False, "prev_batch": "p2"},
    "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
    "summary": {}, "unread_notifications": {}}})


async def test_crisis_words_written_before_the_join_alert_the_staff() -> None:
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED_AFTER_WORDS)
    assert await waits_in_the_first_room(bot, client)  # moved, as after any such join

    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert alerts, "the youth's first message, written before the bot joined, reached nobody"
    record = await store.conversation_by_room(RoomID("!new1:x"))
    assert record is not None  # counted in the bot's encrypted room
    assert [i.event_id for i in await store.read_intake(record.conversation)] == ["$first"]


async def test_crisis_words_before_the_join_alert_the_staff_when_the_new_room_comes_late() -> None:
    """The homeserver refuses the room to move the youth to for a while (429 on a busy
    evening; asked again a minute later): the first message, written in the room without
    encryption before the bot joined, must still be read once the move is made."""
    store, client, sent = MemoryStore(AeadSealer()), RefusingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED_AFTER_WORDS)  # the new room refused
    bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    await bot.handle_sync(_sync("s3"))  # a minute later: the new room is made
    assert await waits_in_the_first_room(bot, client)

    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert alerts, "the youth's first message, written before the bot joined, reached nobody"
    record = await store.conversation_by_room(RoomID("!new1:x"))
    assert record is not None
    assert [i.event_id for i in await store.read_intake(record.conversation)] == ["$first"]


async def test_crisis_words_held_for_a_refused_move_are_read_after_a_restart() -> None:
    """The words held while the move is refused live in memory, and the batch that brought
    them saved its sync position all the same: a stop meanwhile (a deploy, a failover)
    resumed after them, and the first message, crisis words too, was never read."""
    store, client, sent = MemoryStore(AeadSealer()), RefusingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot._save_sync_token("s1")
    bot._batch_since = "s1"  # as the loop sets it before each batch
    await bot.handle_sync(JOINED_AFTER_WORDS)  # the new room refused: the words held
    await bot._save_sync_token("s2")  # the loop saves the batch's position; then SIGTERM

    # The next start syncs from the saved position (full state: the room among the joined
    # ones): the homeserver sends the events that came after it.
    again = await _bot(store, client, sent)
    resumed = await store.get_setting(SYNC_TOKEN_KEY)
    again._batch_since = resumed
    await again.handle_sync(JOINED_AFTER_WORDS if resumed == "s1" else NOTHING_NEW)
    assert await waits_in_the_first_room(again, client)

    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert alerts, "the youth's first message, held for the move, was lost with the process"


async def test_a_move_refused_for_good_does_not_hold_the_sync_position_for_ever() -> None:
    """The bot's account may not create rooms (403): the move never comes, and the words
    stay held as long as the process lives, so the saved sync position stayed where it was
    for good, for every room of the service. Each start then fetched again every event since
    (a week of them, page by page, room by room) before it read a youth's new words, and
    once retention forgot their ids (done_days) handled them anew."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot._save_sync_token("s1")
    bot._batch_since = "s1"
    await bot.handle_sync(JOINED_AFTER_WORDS)  # 403: the words held
    await bot._save_sync_token("s2")
    for n in range(3, 10):  # a refusal that does not pass by waiting
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        bot._batch_since = f"s{n - 1}"
        await bot.handle_sync(_sync(f"s{n}"))
        await bot._save_sync_token(f"s{n}")
    assert len(client.created) >= 3
    assert await store.get_setting(SYNC_TOKEN_KEY) == "s9", (
        "a move refused for good kept the sync position from before it for ever")
