"""The keys of an encrypted first room purged when its youth gives up on a move that never
came.

A youth in an encrypted chat the bot cannot moderate is moved; the homeserver refuses the
new room for good (403), and the youth leaves. Nothing they wrote there counts in any
conversation, so the room is purged at once (`YouthMoves._given_up`). nio's store kept, in
the clear, the room id beside each Megolm session that decrypts what the youth wrote there:
the admin purger forgot the keys of every other room of the chat it purged (`forget`), not
of the room it was asked to purge, and no erasure of a conversation ever reached it.

No server: the bot on the fakes of `test_welcome_after_stop`, the admin purger wired as the
runner wires it, its `forget` recorded."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nio import MatrixRoom

from counsel_bot.channels.matrix.room_moves import PurgingFirstRooms
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_first_words_before_join import JOINED_AFTER_WORDS
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    ROOM,
    YOUTH,
    ForbiddingClient,
    _bot,
    _membership,
)
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer


class EncryptedForbiddingClient(ForbiddingClient):
    """The youth's encrypted chat, where the bot may not remove anyone; the bot's account
    may not create rooms."""

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


async def test_an_encrypted_first_room_purged_after_its_youth_gave_up_leaves_no_keys() -> None:
    store, client, sent = MemoryStore(AeadSealer()), EncryptedForbiddingClient(), []
    bot = await _bot(store, client, sent)
    forgotten: list[RoomID] = []
    admin = FakeAdmin(rooms={ROOM})
    bot.executor.admin = PurgingFirstRooms(  # as `runner.py` wires it
        admin, store, bot.moving.in_use, forget=forgotten.append)  # type: ignore[arg-type]
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED_AFTER_WORDS)  # 403: the youth's first words are held
    client.rooms[ROOM].remove_member(YOUTH)  # nio applies a sync's memberships first
    await bot.handle_sync(_membership("s3", ROOM, YOUTH, "leave", "join"))
    assert ROOM not in admin.rooms  # purged, as before
    assert forgotten == [ROOM], (
        "the keys that decrypt what the youth wrote stay in the bot's store beside the "
        "room's id, after the room was purged")
