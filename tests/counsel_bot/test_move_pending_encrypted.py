"""A youth's encrypted chat the bot cannot moderate (it could not remove a counsellor again):
the bot moves them to a room of its own. While that room is refused (429) or not answered
within the 5 s the sync loop waits (the homeserver sends the youth's invitation over
federation first), the youth's words there were taken as words of a conversation in that
very room: their first message, crisis words included, opened one there, flagged. Once
the move was made and the youth came over, the bot left that room, and the conversation
stayed there: what the youth wrote in the new room counted in it (as a second chat's),
and a counsellor was invited into the room the bot had left, which it cannot moderate
and the youth no longer reads (or, with words written in the first room after the move,
a second conversation opened in the new room without the flag). They are held for the
move, as in a room without encryption, crisis check at once.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers and events made by
nio's own parser."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

import pytest
from nio import MatrixRoom, RoomCreateError

from counsel_bot.channels.matrix.youth_moves import MOVE_RETRY
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import ConversationState, CrisisStatus
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import JOINED_AFTER_WORDS
from tests.counsel_bot.test_unencrypted_first_room import _said
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    ROOM,
    YOUTH,
    FakeClient,
    _bot,
    _membership,
    _sync,
)
from tests.store.conftest import AeadSealer

NEW = "!new1:x"


class UnmoderatableClient(FakeClient):
    """The youth's encrypted chat, where the bot has no power; its new room refused once
    (429) or answered late."""

    def __init__(self, *, refuse: bool) -> None:
        super().__init__()
        self.refuse = refuse
        self.answered = asyncio.Event()  # set by the test when it is done

    async def join(self, room_id: str) -> Any:
        room = MatrixRoom(room_id, BOT, encrypted=True)
        room.add_member(YOUTH, "Sonnenblume", None)
        room.add_member(BOT, "Beratung", None)
        self.rooms[room_id] = room
        return SimpleNamespace(room_id=room_id)

    async def room_get_state(self, room_id: str) -> Any:
        return SimpleNamespace(events=[
            {"type": "m.room.create", "sender": YOUTH, "content": {"room_version": "10"}},
            {"type": "m.room.power_levels", "content": {"users": {YOUTH: 100}, "kick": 50}}])

    async def room_create(self, **kwargs: Any) -> Any:
        if self.refuse:
            self.refuse = False
            return RoomCreateError("Too Many Requests", "M_LIMIT_EXCEEDED")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.answered.wait(), 60)
        answer = await super().room_create(**kwargs)
        room = MatrixRoom(answer.room_id, BOT, encrypted=True)
        room.add_member(BOT, "Beratung", None)
        room.add_member(YOUTH, "Sonnenblume", None, invited=True)
        self.rooms[answer.room_id] = room
        return answer


@pytest.mark.parametrize("refuse", [False, True], ids=["late", "429"])
async def test_words_written_while_the_move_is_pending_count_in_the_new_room(
        refuse: bool) -> None:
    store, client, sent = MemoryStore(AeadSealer()), UnmoderatableClient(refuse=refuse), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    try:
        await bot.handle_sync(JOINED_AFTER_WORDS)  # "ich will mich umbringen"; no room yet
    finally:
        client.answered.set()
    await asyncio.sleep(0.1)  # the late answer comes
    bot.clock.advance(MOVE_RETRY)  # type: ignore[attr-defined]
    await bot.handle_sync(_sync("s9"))  # asked again a minute later: moved
    assert await bot.moves.target(RoomID(ROOM)) == NEW
    client.rooms[NEW].add_member(YOUTH, "Sonnenblume", None)
    await bot.handle_sync(_membership("s10", NEW, YOUTH, "join", "invite"))
    here = _said(4, "hallo, bin jetzt hier", "m.text")
    here.room_id = NEW
    await bot._on_room_event_once(RoomID(NEW), here)

    record = await store.conversation_by_room(RoomID(NEW))
    assert record is not None, "the youth's conversation is in the room the bot left"
    open_ones = [c for c in bot.conductor.router.snapshot().conversations
                 if c.state is not ConversationState.CLOSED]
    assert len(open_ones) == 1, "one youth, two conversations"
    assert record.crisis is CrisisStatus.RAISED, (
        "the conversation the youth is in knows nothing of their crisis words")
    assert [i.event_id for i in await store.read_intake(record.conversation)] == ["$first",
                                                                                  "$w4"]
