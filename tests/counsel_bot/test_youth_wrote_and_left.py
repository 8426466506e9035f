"""A youth who writes and leaves before the bot's next sync (the bot restarting, or busy):
nio hands over the room's members as they are at the end of the batch, so when the bot
reads the message the youth is no longer in the room. The youth-side review found a first
message read so was dropped (the bot took the youth for "the one member not on staff", and
there was none): a crisis written on the way out reached nobody. Now it opens the
conversation, is checked, and the leave that follows ends it with the flag unreviewed (the
lead is paged, as for any flagged youth who left).

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from datetime import timedelta

from nio import RoomMemberEvent

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.effects import SayToStaff, decode_effect
from tests.counsel_bot.test_youth_room_stranger import ROOM, YOUTH, _bot, _text


async def _staff_keys(bot: CounselBot) -> list[str]:
    store = bot.store
    return [e.key for e in (decode_effect(o.payload) for o in await store.pending_outbox())
            if isinstance(e, SayToStaff)]


async def test_a_crisis_written_on_the_way_out_reaches_the_staff() -> None:
    bot, client, _sent = await _bot()
    client.rooms[ROOM].remove_member(YOUTH)  # nio's state after the batch: already gone
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "ich will mich umbringen"))
    left = RoomMemberEvent.from_dict({
        "type": "m.room.member", "state_key": YOUTH, "sender": YOUTH, "event_id": "$left",
        "origin_server_ts": 2, "content": {"membership": "leave"},
        "unsigned": {"prev_content": {"membership": "join"}}})
    assert isinstance(left, RoomMemberEvent)
    await bot._on_room_event_once(ROOM, left)
    assert "staff_crisis_alert" in await _staff_keys(bot)
    await bot.conductor.tick(bot.clock.now() + timedelta(minutes=5))
    assert "staff_lead_page_closed" in await _staff_keys(bot)
