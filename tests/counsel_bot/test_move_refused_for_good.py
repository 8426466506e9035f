"""A youth in a room without encryption whose move the homeserver refuses for good (403:
the bot's account may not create rooms).

The youth was told "I have sent you an encrypted chat" before the room was asked for, and
nothing after: the bot asked again once a minute, held what the youth wrote unread, and
nobody on staff ever learnt that a youth was waiting where nobody reads. A youth in distress
must not be left talking to nobody: the staff learn it once (without the room or the
words), and the youth is told what is true, with the numbers.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

from datetime import timedelta

from nio import SyncResponse

from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import JOINED_AFTER_WORDS
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    JOINED,
    ROOM,
    YOUTH,
    ForbiddingClient,
    RefusingClient,
    _bot,
    _membership,
    _sync,
)
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer


async def _staff_notices(store: MemoryStore) -> list[SayToStaff]:
    return [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
            if isinstance(e, SayToStaff)]


async def test_a_move_refused_for_good_is_told_to_the_staff_and_the_youth_once() -> None:
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # told "a new room comes"; the homeserver said 403
    for n in range(3, 10):  # asked again once a minute, refused each time
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    assert len(client.created) >= 3

    notices = await _staff_notices(store)
    assert len(notices) == 1, (
        "nobody on staff learnt that a youth waits in a room the bot could not move")
    assert ROOM not in str(notices[0].params)  # nothing that names the youth's room
    told = [key for room, key in sent if room == ROOM and not key.startswith("moved:")]
    assert len(set(told)) == 1, (
        "the youth was told an encrypted chat had been sent, and never that it will not come")


async def test_a_move_refused_for_a_while_alarms_nobody() -> None:
    """The baseline: a 429 on a busy evening passes within a minute; nobody is told."""
    store, client, sent = MemoryStore(AeadSealer()), RefusingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    await bot.handle_sync(_sync("s3"))
    assert await bot.moves.target(RoomID(ROOM)) == "!new1:x"
    assert await _staff_notices(store) == []
    assert [key for _room, key in sent] == [f"moved:{ROOM}"]


async def test_a_restart_while_the_move_is_refused_for_good_calls_no_lead_again() -> None:
    """The bot restarts (a deploy, the unit restarting it after a crash) while the bot's
    account may still not create rooms: the leads were called for this youth's room, and
    nothing has changed since. Calling them again at every start woke a night-shift lead
    for the same stuck room each time."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # 403: the leads are called once
    assert len(await _staff_notices(store)) == 1
    for n in range(3):  # three restarts, each asking for the room again, refused again
        again = await _bot(store, client, sent)
        await again.handle_sync(_sync(f"r{n}", join={ROOM: {
            "timeline": {"events": [], "limited": False, "prev_batch": f"p{n}"},
            "state": {"events": []}, "ephemeral": {"events": []},
            "account_data": {"events": []}, "summary": {}, "unread_notifications": {}}}))
    assert len(client.created) >= 4  # asked for at each start
    assert len(await _staff_notices(store)) == 1, (
        "the leads were called again for the same stuck room at every restart")


async def test_a_youth_who_leaves_a_room_whose_move_never_came_leaves_nothing_behind() -> None:
    """The youth gives up waiting in the room without encryption (told the new room will
    not come) and leaves it. What they wrote there belongs to no conversation, so neither
    their erasure nor retention ever found it: it stayed on the homeserver in plain text
    for good, crisis words too, with the bot in the room and the store naming it."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    admin = FakeAdmin(rooms={ROOM})
    bot.executor.admin = admin
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED_AFTER_WORDS)  # 403: the youth's first words are held
    client.rooms[ROOM].remove_member(YOUTH)  # nio applies a sync's memberships first
    await bot.handle_sync(_membership("s3", ROOM, YOUTH, "leave", "join"))
    for n in range(4, 7):  # the bot asks again once a minute, as before
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))

    assert ROOM not in admin.rooms, (
        "the youth's words stay on the homeserver, in a room without encryption, for good")
    naming = [k for k, v in await store.settings("") if ROOM in k or ROOM in v]
    assert naming == [], f"the store names the youth's room for good: {naming}"


async def test_a_youth_who_asks_to_delete_while_the_move_is_refused_for_good_is_answered() -> None:
    """The youth, told the new room will not come, wants what they wrote gone and writes
    "löschen". Their words are held for a move that may never come, so the command was
    too: silence, and nothing gone."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    bot.executor.admin = FakeAdmin(rooms={ROOM})
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # 403: told so
    before = list(sent)
    await bot.handle_sync(_said("s3", "$delete", "löschen"))
    answered = [key for room, key in sent[len(before):] if room == ROOM]
    assert answered, "the youth asked to delete their words and got no answer at all"


def _said(next_batch: str, event_id: str, words: str) -> SyncResponse:
    return _sync(next_batch, join={ROOM: {
        "timeline": {"events": [{"type": "m.room.message", "sender": YOUTH,
                                 "event_id": event_id, "origin_server_ts": 3,
                                 "content": {"msgtype": "m.text", "body": words}}],
                     "limited": False, "prev_batch": "p3"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
        "summary": {}, "unread_notifications": {}}})


async def test_a_room_whose_youth_removed_the_bot_before_its_move_is_not_named_for_good() -> None:
    """The youth, told the new room will not come, removes the bot from their chat. No
    conversation was ever opened, so no erasure finds the room: the settings the move
    wrote (told, leads called) named the youth's room in the store for good."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # 403: told so, the leads called
    removed = _sync("s3", leave={ROOM: {
        "timeline": {"events": [{"type": "m.room.member", "state_key": BOT, "sender": YOUTH,
                                 "event_id": "$kick", "origin_server_ts": 3,
                                 "content": {"membership": "leave"},
                                 "unsigned": {"prev_content": {"membership": "join"}}}],
                     "limited": False, "prev_batch": "p3"},
        "state": {"events": []}, "account_data": {"events": []}}})
    await bot.handle_sync(removed)
    naming = [k for k, v in await store.settings("") if ROOM in k or ROOM in v]
    assert naming == [], f"the store names the youth's room for good: {naming}"
