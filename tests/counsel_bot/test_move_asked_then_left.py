"""A youth who leaves the first room while the homeserver has not yet answered the request
for their new room.

The homeserver answers the request only once it has sent the youth's invitation (over
federation, minutes maybe); the bot waits a few seconds (`CREATE_WAIT`) and takes the
answer at a later try. A youth who left meanwhile has their first room purged (or left) at
once, and no setting names it (`YouthMoves._given_up`): nothing tries again, and the answer
that came afterwards was taken by nobody. The room stood, the bot in it for good, the youth
invited into it and linked to nothing: a youth who had left the chat (maybe because
somebody looked over their shoulder) got an invitation from the counselling service
afterwards, to a chat that knew nothing of what they wrote (the first room purged).

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from nio import SyncResponse

from counsel_bot.channels.matrix import move_rooms
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import NOTHING_NEW
from tests.counsel_bot.test_move_room_made_at_stop import (
    AnsweredAfterTheStopClient,
    MadeAfterTheStartClient,
)
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    JOINED,
    ROOM,
    YOUTH,
    _bot,
    _membership,
    _sync,
)
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer

NEW = "!new1:x"


class KickingClient(AnsweredAfterTheStopClient):
    def __init__(self) -> None:
        super().__init__()
        self.kicked: list[tuple[str, str]] = []

    async def room_kick(self, room_id: str, user_id: str, reason: str | None = None) -> Any:
        self.kicked.append((room_id, user_id))
        return None


async def _left_before_the_answer(client: KickingClient, *, admin: FakeAdmin | None) -> None:
    store, sent = MemoryStore(AeadSealer()), []
    bot = await _bot(store, client, sent)
    bot.executor.admin = admin
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # asked for; not answered within the loop's wait
    client.rooms[ROOM].remove_member(YOUTH)  # nio applies a sync's memberships first
    await bot.handle_sync(_membership("s3", ROOM, YOUTH, "leave", "join"))
    client.released.set()  # the homeserver answers: the room is made, the youth invited
    for n in range(4, 7):
        for _ in range(10):
            await asyncio.sleep(0)
        bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    assert await bot.moves.first_of(NEW) is None  # (linked to nothing: the youth left)


async def test_a_room_made_after_its_youth_left_the_first_is_purged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(move_rooms, "CREATE_WAIT", move_rooms.CREATE_WAIT / 50)
    client, admin = KickingClient(), FakeAdmin(rooms={ROOM, NEW})
    await _left_before_the_answer(client, admin=admin)
    assert ROOM not in admin.rooms  # as before
    assert NEW not in admin.rooms, (
        "the room made after the youth left stands, the youth invited, linked to nothing")


async def test_without_admin_access_the_bot_takes_back_the_invitation_and_leaves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(move_rooms, "CREATE_WAIT", move_rooms.CREATE_WAIT / 50)
    client = KickingClient()
    await _left_before_the_answer(client, admin=None)
    assert ROOM in client.left  # as before
    assert (NEW, YOUTH) in client.kicked, (
        "the room made after the youth left stands, the youth invited, linked to nothing")
    assert NEW in client.left


async def test_a_room_made_after_a_restart_and_the_youths_leaving_is_purged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same after a stop: the request's answer was lost, the next start waits for its
    room (`STILL_MAKING`), and the youth leaves meanwhile. The mark that would have found
    the room went with the settings naming the first room."""
    monkeypatch.setattr(move_rooms, "CREATE_WAIT", move_rooms.CREATE_WAIT / 50)
    store, client, sent = MemoryStore(AeadSealer()), MadeAfterTheStartClient(), []
    admin = FakeAdmin(rooms={ROOM, NEW})
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # asked for; the bot stops before any answer
    again = await _bot(store, client, sent)
    again.executor.admin = admin
    try:
        await again.handle_sync(NOTHING_NEW)  # the room is not there yet
        client.rooms[ROOM].remove_member(YOUTH)
        await again.handle_sync(_membership("s4", ROOM, YOUTH, "leave", "join"))
        assert ROOM not in admin.rooms  # as before
        client.finish()  # the homeserver has made it, the youth invited
        again.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await again.handle_sync(_made(NEW))
    finally:
        client.released.set()
    assert NEW not in admin.rooms, (
        "the room made after the youth left stands, the youth invited, linked to nothing")


def _made(room: str) -> SyncResponse:
    """The sync that brings a room the bot made: its creation in the timeline."""
    return _sync("s5", join={room: {
        "timeline": {"events": [{"type": "m.room.create", "state_key": "", "sender": BOT,
                                 "event_id": "$create", "origin_server_ts": 4,
                                 "content": {"room_version": "10"}}],
                     "limited": False, "prev_batch": "p4"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
        "summary": {}, "unread_notifications": {}}})


async def test_a_room_answered_before_the_youth_left_the_first_is_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer came (the invitation sent) before the youth left the first room, and the
    bot had not taken it yet: a youth who saw the invitation may leave the first room to
    accept it. Their room stays, as for a move made before they left."""
    monkeypatch.setattr(move_rooms, "CREATE_WAIT", move_rooms.CREATE_WAIT / 50)
    store, client, sent = MemoryStore(AeadSealer()), KickingClient(), []
    admin = FakeAdmin(rooms={ROOM, NEW})
    bot = await _bot(store, client, sent)
    bot.executor.admin = admin
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # asked for; not answered within the loop's wait
    client.released.set()  # answered; taken at the next try, a minute later
    for _ in range(10):
        await asyncio.sleep(0)
    client.rooms[ROOM].remove_member(YOUTH)
    await bot.handle_sync(_membership("s3", ROOM, YOUTH, "leave", "join"))
    for _ in range(10):
        await asyncio.sleep(0)
    assert NEW in admin.rooms, "the room the youth was invited into, and saw, was undone"
    assert client.kicked == []
