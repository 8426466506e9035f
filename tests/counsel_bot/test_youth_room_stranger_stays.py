"""Someone the youth let into their counselling room and gave the room's top power level (an
Element direct chat gives the youth 100, the same as the bot): the bot cannot take them out
again. It only logged that: the youth was not told that someone reads along, nor were the
staff, and the counsellor who joins later posts into a room a third person reads (their
transcript repeats the youth's earlier words there). Now the staff of the conversation's
office are told, with the conversation, and the youth is told that the person is still in.

No server: the bot on a fake of nio's client and the executor, as in
test_youth_room_stranger.py."""

from __future__ import annotations

from typing import Any

from nio import RoomKickError

from counsel_bot.core.effects import SayToStaff, decode_effect
from tests.counsel_bot.test_youth_room_stranger import (
    FRIEND,
    ROOM,
    FakeClient,
    _bot,
    _friend_comes_in,
    _text,
)


async def _refuse(room_id: str, user: str, reason: str | None = None) -> Any:
    return RoomKickError("You cannot kick user @buddy:x.", "M_FORBIDDEN")


async def test_a_friend_the_bot_cannot_take_out_is_told_to_the_staff_and_the_youth() -> None:
    bot, client, sent = await _bot()
    assert isinstance(client, FakeClient)
    client.room_kick = _refuse  # type: ignore[method-assign]
    await bot._on_room_event_once(ROOM, _text(1, "@sunflower:x", "hallo, stress zuhause"))
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None
    before = [body for _room, body in sent]
    await _friend_comes_in(bot, client)
    assert FRIEND in client.rooms[ROOM].users  # still in: the homeserver refused
    told = [e for e in (decode_effect(o.payload) for o in await bot.store.pending_outbox())
            if isinstance(e, SayToStaff) and dict(e.params).get("conversation")
            == record.conversation and e.key != "staff_new_conversation"]
    assert told, "the staff were not told that someone else reads along"
    to_youth = [body for room, body in sent if room == ROOM and body not in before]
    assert to_youth, "the youth was not told that the person is still in the room"
    assert not any("aus dem Raum genommen" in body for body in to_youth)
