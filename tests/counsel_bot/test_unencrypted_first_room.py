"""A youth whose app made an unencrypted room is moved to the bot's encrypted room, and the
move stays pending until they are there: `room_moves` promises that what they write in the
first room meanwhile counts in the new room, crisis check included. For an unencrypted first
room the bot dropped it unread ("never take content from an unencrypted room"): a youth who
went on writing there, "ich will mich umbringen" among it, reached nobody, and one who had
declined the new room got no new invitation either. The embedded Synapse encrypts every
room; another homeserver (`homeserver.url`) need not.

No server: the bot on the fakes of `test_welcome_after_stop`, events made by nio's parser."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from nio import RoomCreateError, RoomMessage

from counsel_bot.channels.matrix.youth_moves import MOVE_RETRY
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    JOINED,
    ROOM,
    YOUTH,
    FakeClient,
    _bot,
    _sync,
    waits_in_the_first_room,
)
from tests.store.conftest import AeadSealer


def _said(n: int, body: str, msgtype: str) -> RoomMessage:
    event = RoomMessage.parse_event({
        "type": "m.room.message", "sender": YOUTH, "event_id": f"$w{n}",
        "origin_server_ts": 10 + n, "room_id": ROOM,
        "content": {"msgtype": msgtype, "body": body}})
    assert isinstance(event, RoomMessage)
    return event


@pytest.mark.parametrize("msgtype", ["m.text", "m.emote"])
async def test_crisis_words_written_in_the_unencrypted_first_room_alert_the_staff(
    msgtype: str,
) -> None:
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    assert await waits_in_the_first_room(bot, client)  # moved; the youth not there yet

    await bot._on_room_event_once(RoomID(ROOM), _said(1, "ich will mich umbringen", msgtype))

    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert alerts, "crisis words in the first room reached nobody"
    record = await store.conversation_by_room(RoomID("!new1:x"))
    assert record is not None  # counted in the bot's encrypted room, not the first
    assert await store.conversation_by_room(RoomID(ROOM)) is None


async def test_a_youth_who_declined_the_new_room_is_invited_again_and_heard() -> None:
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    await bot.moving.youth_left(RoomID("!new1:x"), declined=True)  # "Decline"

    await bot._on_room_event_once(RoomID(ROOM), _said(2, "ich will mich umbringen", "m.text"))

    assert [c["invite"] for c in client.created] == [[YOUTH], [YOUTH]]  # invited again
    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert alerts


class SecondRoomLateClient(FakeClient):
    """The first new room at once; the one for the new invitation late (the homeserver
    answers once the youth's homeserver has the invitation, over federation), or refused
    (429 on a busy evening)."""

    def __init__(self, *, refuse: bool) -> None:
        super().__init__()
        self.refuse = refuse
        self.answered = asyncio.Event()  # set by the test when it is done

    async def room_create(self, **kwargs: Any) -> Any:
        if self.created:
            if self.refuse:
                self.refuse = False
                return RoomCreateError("Too Many Requests", "M_LIMIT_EXCEEDED")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.answered.wait(), 60)
        return await super().room_create(**kwargs)


@pytest.mark.parametrize("refuse", [False, True], ids=["late", "429"])
async def test_words_of_a_youth_invited_again_late_are_not_dropped(refuse: bool) -> None:
    """A youth who declined the new room writes in the first: the bot asks for a new room.
    Answered late (past the 5 s the loop waits) or refused, the move was not asked for again
    (the note "invite again" was spent), and the words, crisis words too, were dropped
    unread, as was everything they wrote there after: no alert, no numbers, nobody."""
    store, client, sent = MemoryStore(AeadSealer()), SecondRoomLateClient(refuse=refuse), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    await bot.moving.youth_left(RoomID("!new1:x"), declined=True)  # "Decline"
    try:
        await bot._on_room_event_once(RoomID(ROOM),
                                      _said(2, "ich will mich umbringen", "m.text"))
    finally:
        client.answered.set()
    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key in ("staff_crisis_alert",
                                                           "staff_crisis_unmoved")]
    assert alerts, "crisis words of a youth invited again reached nobody"

    await asyncio.sleep(0.1)  # the late answer comes
    bot.clock.advance(MOVE_RETRY)  # type: ignore[attr-defined]
    await bot.handle_sync(_sync("s9"))  # asked again a minute later: the words are read
    record = await store.conversation_by_room(RoomID("!new2:x"))
    assert record is not None, "the youth invited again was never moved"
    assert [i.event_id for i in await store.read_intake(record.conversation)] == ["$w2"]
