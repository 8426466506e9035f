"""A youth who declined the new room, whose next move is refused for good, and who then
leaves the first room.

Declined, the youth's next message in the first room asks for a new room again
(`YouthMoves._again`); refused for good (403), what they write there is held for a room that
never comes, and no conversation ever holds it. A youth who gives up and leaves has such a
room purged at once, and no setting names it (`YouthMoves._given_up`): not this one. A room
was made for it once (the one declined, with no conversation in it), so the bot took the
first room for one moved before: it stayed in it, the youth's words in plain text on the
homeserver for good, and the store named it (told, leads called, invited again); the room
declined stayed too, the bot alone in it, and nothing would ever purge it.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

from typing import Any

from nio import MatrixRoom, RoomCreateError

from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_move_refused_for_good import _said
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    JOINED,
    ROOM,
    YOUTH,
    FakeClient,
    _bot,
    _membership,
)
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer

NEW = "!new1:x"


class ForbiddenFromNowClient(FakeClient):
    """Makes the first room asked for; refuses every later one for good (an admin took
    the bot's right to create rooms meanwhile)."""

    async def room_create(self, **kwargs: Any) -> Any:
        if self.created:
            return RoomCreateError("You are not allowed to create rooms", "M_FORBIDDEN")
        made = await super().room_create(**kwargs)
        room = MatrixRoom(made.room_id, BOT, encrypted=True)
        room.add_member(BOT, "Beratung", None)
        room.add_member(YOUTH, "Sonnenblume", None, invited=True)
        self.rooms[made.room_id] = room
        return made


async def test_a_first_room_left_after_a_decline_and_a_refusal_for_good_leaves_nothing() -> None:
    store, client, sent = MemoryStore(AeadSealer()), ForbiddenFromNowClient(), []
    bot = await _bot(store, client, sent)
    admin = FakeAdmin(rooms={ROOM, NEW})
    bot.executor.admin = admin
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # moved: the new room made, the youth invited
    assert await bot.moves.target(RoomID(ROOM)) == NEW
    client.rooms[NEW].remove_member(YOUTH)
    await bot.handle_sync(_membership("s3", NEW, YOUTH, "leave", "invite"))  # declined
    await bot.handle_sync(_said("s4", "$again", "hallo? ich brauche hilfe"))  # 403 now
    assert RoomID(ROOM) in bot.moving.refused_for_good
    client.rooms[ROOM].remove_member(YOUTH)  # nio applies a sync's memberships first
    await bot.handle_sync(_membership("s5", ROOM, YOUTH, "leave", "join"))

    assert ROOM not in admin.rooms, (
        "the youth's words stay on the homeserver, in a room without encryption, for good")
    assert NEW not in admin.rooms, "the declined room stays, the bot alone in it, for good"
    naming = [k for k, v in await store.settings("") if ROOM in k or ROOM in v]
    assert naming == [], f"the store names the youth's room for good: {naming}"
