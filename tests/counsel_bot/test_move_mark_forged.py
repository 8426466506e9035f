"""The mark that finds a move's room again after a stop (`move_rooms.MOVE_MARK`) is no proof
by itself.

A stop lost the homeserver's answer to the request for a youth's new room; the next start
finds the room among the bot's by the mark the request gave it. The mark stands in the new
room's state, which every member reads: a youth who joined it (or anyone they show it to)
can copy it into a room of their own, unencrypted and with themselves as its admin, and
invite the bot. Taken by the mark alone, that room became the youth's counselling room: a
counsellor wrote there in plain text, in a room whose admin can invite anyone and which the
bot cannot close to a counsellor removed from the case. Only a mark the bot set, in a room
it made, counts.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

import pytest
from nio import MatrixRoom

from counsel_bot.channels.matrix import move_rooms
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import NOTHING_NEW
from tests.counsel_bot.test_move_room_made_at_stop import AnsweredAfterTheStopClient
from tests.counsel_bot.test_welcome_after_stop import BOT, INVITED, JOINED, ROOM, YOUTH, _bot
from tests.store.conftest import AeadSealer

FORGED = "!forged:x"


async def _forge(client: AnsweredAfterTheStopClient, store: MemoryStore) -> None:
    """The youth's own room, unencrypted, the bot invited and joined, carrying the mark
    copied from the room the bot made (its state shows it to every member)."""
    mark = ((await store.get_setting(f"{move_rooms.MOVE_ASKED_PREFIX}{ROOM}")) or "").split()[0]
    room = MatrixRoom(FORGED, BOT, encrypted=False)
    room.add_member(YOUTH, "Sonnenblume", None)
    room.add_member(BOT, "Beratung", None)
    # Listed first: the homeserver's sync orders rooms as it likes.
    client.rooms = {FORGED: room, **client.rooms}
    client.state[FORGED] = [
        {"type": "m.room.create", "sender": YOUTH, "state_key": "",
         "content": {"room_version": "10"}},
        {"type": "m.room.power_levels", "sender": YOUTH, "state_key": "",
         "content": {"users": {YOUTH: 100}}},
        {"type": move_rooms.MOVE_MARK, "sender": YOUTH, "state_key": "",
         "content": {"ask": mark}},
    ]


async def test_a_copied_mark_does_not_make_the_youths_own_room_the_counselling_room(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(move_rooms, "CREATE_WAIT", move_rooms.CREATE_WAIT / 50)
    store, client, sent = MemoryStore(AeadSealer()), AnsweredAfterTheStopClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # asked for and made; the bot stops before the answer
    await _forge(client, store)
    client.slow = False
    again = await _bot(store, client, sent)
    try:
        await again.handle_sync(NOTHING_NEW)
    finally:
        client.released.set()
    assert await again.moves.target(RoomID(ROOM)) == "!new1:x", (
        "a room the youth made, with a mark copied into it, was taken for the bot's own")

