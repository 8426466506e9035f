"""A youth writes a forum post from their chat, the chat is closed and the youth gives a
score: ten minutes on, the bot left the room, and the counsellor's approval ("your post is
in the forum", with the name it appears under) or the kind note of a rejection, both sent
to the room the post came from, never arrived. The bot now stays while a post from that
room waits. Memory store, fake clock, no server."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.core.effects import Leave
from counsel_bot.core.ids import RoomID
from tests.groups.test_group_desk import BEN, Parts, notices

HOME = RoomID("!home1:x")


async def test_the_bot_stays_in_the_room_a_waiting_forum_post_came_from() -> None:
    p = Parts()
    await p.start()
    await p.staff(BEN, "!duty on")
    await p.youth(1, "hallo, ich hab prüfungsangst")
    await p.youth(1, "forum schule wie lernt ihr für mathe?")
    await p.c.staff_wrote(HOME, BEN, p.event(), "!close", p.clock.now())
    await p.youth(1, "5")  # the score: the bot plans to leave ten minutes on
    assert notices(await p.new(), "forum.received")
    p.clock.advance(timedelta(minutes=11))
    await p.c.tick(p.clock.now())
    assert not [e for e in await p.new() if isinstance(e, Leave)], \
        "the bot left the room the post's approval or rejection goes to"
