"""A youth who makes a group chat with a friend and the bot (the youth-side review): with
two members not on staff the bot could not tell whose chat it is, greeted nobody and read
nobody, so a youth writing there, in need too, never had an answer. Now the room is told
once that counselling is one to one, how to start it, and where help is right now.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from counsel_bot.channels.matrix.bot import CounselBot
from tests.counsel_bot.test_youth_room_stranger import FRIEND, ROOM, YOUTH, _bot, _text


async def test_a_room_with_two_youths_is_told_how_to_reach_the_counselling() -> None:
    bot, client, sent = await _bot()
    client.rooms[ROOM].add_member(FRIEND, "Buddy", None)
    assert isinstance(bot, CounselBot)
    await bot.welcomes.welcome(ROOM)
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "ich will mich umbringen"))
    await bot._on_room_event_once(ROOM, _text(2, FRIEND, "hallo?"))
    told = [body for room, body in sent if room == ROOM]
    assert len(told) == 1
    assert "116 111" in told[0] or "112" in told[0]
    assert "nur zu zweit" in told[0]
