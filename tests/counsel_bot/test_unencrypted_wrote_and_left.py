"""A youth writes in a room without encryption and leaves it before the bot reads them
(the bot restarting, or busy; Element makes a direct chat with its first message). In an
encrypted room the words open a conversation, are checked, and its flag pages a lead
(`test_youth_wrote_and_left`). Here no conversation may open (never counselled without
encryption) and nobody is left to move, so the words were dropped unread: a crisis
written on the way out reached nobody, with no alert.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

from datetime import timedelta

from nio import SyncResponse

from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import JOINED_AFTER_WORDS
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    ROOM,
    YOUTH,
    FakeClient,
    ForbiddingClient,
    _bot,
    _membership,
    _sync,
)
from tests.store.conftest import AeadSealer


def _wrote_and_left(words: str) -> SyncResponse:
    """The first sync after the join: the youth's words, the bot's join, the youth's leave."""
    return _sync("s2", join={ROOM: {"timeline": {"events": [
        {"type": "m.room.message", "sender": YOUTH, "event_id": "$first",
         "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": words}},
        {"type": "m.room.member", "state_key": BOT, "sender": BOT, "event_id": "$join",
         "origin_server_ts": 2, "content": {"membership": "join"}},
        {"type": "m.room.member", "state_key": YOUTH, "sender": YOUTH, "event_id": "$left",
         "origin_server_ts": 3, "content": {"membership": "leave"},
         "unsigned": {"prev_content": {"membership": "join"}}}],
        "limited": False, "prev_batch": "p1"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
        "summary": {}, "unread_notifications": {}}})


async def test_crisis_words_written_on_the_way_out_of_a_room_without_encryption_alert() -> None:
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    client.rooms[ROOM].remove_member(YOUTH)  # nio's state after the batch: already gone
    await bot.handle_sync(_wrote_and_left("ich will mich umbringen"))
    notices = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
               if isinstance(e, SayToStaff)]
    assert notices, "crisis words written on the way out of the chat reached nobody"
    assert ROOM not in str([n.params for n in notices])  # nothing that names the room


async def test_harmless_words_written_on_the_way_out_alarm_nobody() -> None:
    """The baseline: "hallo" and gone is no reason to wake a lead."""
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    client.rooms[ROOM].remove_member(YOUTH)
    await bot.handle_sync(_wrote_and_left("hallo"))
    assert [o for o in await store.pending_outbox()
            if isinstance(decode_effect(o.payload), SayToStaff)] == []


async def test_held_crisis_words_of_a_youth_who_left_alert_once() -> None:
    """Words held for a move refused for good were checked when held: read after the
    youth left, they are not a second alarm for the same words."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED_AFTER_WORDS)  # 403: held, and the leads alerted
    client.rooms[ROOM].remove_member(YOUTH)
    await bot.handle_sync(_membership("s3", ROOM, YOUTH, "leave", "join"))
    for n in range(4, 7):
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    crisis = [e.key for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and "crisis" in e.key]
    assert crisis == ["staff_crisis_unmoved"]
