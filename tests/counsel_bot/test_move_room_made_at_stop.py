"""A room made for a youth's move while the bot stops.

The homeserver answers the request for the new room only once it has sent the youth's
invitation (over federation, to their homeserver: it may take minutes), and the bot waits
for the answer only a few seconds (`CREATE_WAIT`). A stop meanwhile (a deploy, the unit
restarting the bot) lost the answer: the room was made, the youth invited into it, and
the bot never linked it to the first room. The next start asked for another: the youth
found two invitations from the bot, and one who accepted the first opened a conversation
in it without their first words (they count in the other), while the move out of the
first room stayed pending for good.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from nio import MatrixRoom

from counsel_bot.channels.matrix import move_rooms
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import NOTHING_NEW
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    JOINED,
    ROOM,
    YOUTH,
    FakeClient,
    _bot,
)
from tests.store.conftest import AeadSealer


class AnsweredAfterTheStopClient(FakeClient):
    """Makes each new room at once (the bot in it, the youth invited) and, while
    ``slow``, answers only once ``released`` is set: after the bot that asked stopped."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = True
        self.released = asyncio.Event()
        self.state: dict[str, list[dict[str, Any]]] = {}

    async def room_create(self, **kwargs: Any) -> Any:
        made = await super().room_create(**kwargs)
        room = MatrixRoom(made.room_id, BOT, encrypted=True)
        room.add_member(BOT, "Beratung", None)
        for user in kwargs.get("invite", []):
            room.add_member(user, "Sonnenblume", None, invited=True)
        self.rooms[made.room_id] = room  # as the next start's first sync shows it
        self.state[made.room_id] = [
            {"type": "m.room.create", "sender": BOT, "state_key": "",
             "content": {"room_version": "10"}},
            # The homeserver gives each event of the request's state the bot as its sender.
            *({**event, "sender": BOT} for event in kwargs.get("initial_state", []))]
        if self.slow:
            await self.released.wait()
        return made

    async def room_get_state(self, room_id: str) -> Any:
        return SimpleNamespace(events=self.state.get(room_id, []))


async def test_a_room_made_for_a_move_while_the_bot_stopped_is_the_one_it_moves_to(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(move_rooms, "CREATE_WAIT", move_rooms.CREATE_WAIT / 50)
    store, client, sent = MemoryStore(AeadSealer()), AnsweredAfterTheStopClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # the room is asked for, made, and not answered in time
    assert await bot.moves.target(RoomID(ROOM)) is None
    # The bot stops; the homeserver's answer reaches nobody. The next start:
    client.slow = False
    again = await _bot(store, client, sent)
    try:
        await again.handle_sync(NOTHING_NEW)
    finally:
        client.released.set()
    assert [c["invite"] for c in client.created] == [[YOUTH]], (
        "the next start made a second room and invited the youth twice")
    assert await again.moves.target(RoomID(ROOM)) == "!new1:x", (
        "the room the youth was invited into is linked to no first room")


class MadeAfterTheStartClient(AnsweredAfterTheStopClient):
    """The homeserver goes on with a request whose asker stopped, and makes its room only
    later (the youth's invitation goes over federation first): not yet there when the
    next start looks, there a minute after."""

    def __init__(self) -> None:
        super().__init__()
        self.unfinished: list[tuple[str, MatrixRoom, list[dict[str, Any]]]] = []

    async def room_create(self, **kwargs: Any) -> Any:
        if not self.slow:
            return await super().room_create(**kwargs)
        self.slow = False  # only the first request is slow
        made = await super().room_create(**kwargs)
        self.unfinished.append((made.room_id, self.rooms.pop(made.room_id),
                                self.state.pop(made.room_id)))
        await self.released.wait()
        return made

    def finish(self) -> None:
        for room_id, room, state in self.unfinished:
            self.rooms[room_id], self.state[room_id] = room, state


async def test_a_room_the_homeserver_makes_after_the_next_start_is_not_made_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(move_rooms, "CREATE_WAIT", move_rooms.CREATE_WAIT / 50)
    store, client, sent = MemoryStore(AeadSealer()), MadeAfterTheStartClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # asked for; the bot stops before any answer
    again = await _bot(store, client, sent)
    try:
        await again.handle_sync(NOTHING_NEW)  # the room is not there yet
        client.finish()  # the homeserver has made it, the youth invited
        again.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await again.handle_sync(NOTHING_NEW)
    finally:
        client.released.set()
    assert [c["invite"] for c in client.created] == [[YOUTH]], (
        "the next start asked for a second room while the first was still being made")
    assert await again.moves.target(RoomID(ROOM)) == "!new1:x"
