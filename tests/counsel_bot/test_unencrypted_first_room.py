"""A youth whose app made an unencrypted room is moved to the bot's encrypted room, and the
move stays pending until they are there: `room_moves` promises that what they write in the
first room meanwhile counts in the new room, crisis check included. For an unencrypted first
room the bot dropped it unread ("never take content from an unencrypted room"): a youth who
went on writing there, "ich will mich umbringen" among it, reached nobody, and one who had
declined the new room got no new invitation either. The embedded Synapse encrypts every
room; another homeserver (`homeserver.url`) need not.

No server: the bot on the fakes of `test_welcome_after_stop`, events made by nio's parser."""

from __future__ import annotations

import pytest
from nio import RoomMessage

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
