"""A counsellor suggests tonight's group in a 1:1; the youth writes "gruppe 1" there, the
chat is closed and the youth gives a score. Ten minutes after that word the bot left the
room, as after every close. Everything the group still had to tell the youth goes to the
room they signed up from: "Gruppe 1 beginnt! …", a call-off, a removal. With the bot gone
none of it arrived (a youth waiting for a group that was called off heard nothing). The bot
now stays while the room holds a seat for a group not over yet, as it does for an
appointment to come. Memory store, fake clock, no server."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.core.effects import Leave
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import ConversationState
from tests.groups.test_group_desk import ANNA, BEN, Parts

HOME = RoomID("!home1:x")


async def _closed_after_sign_up(p: Parts, *, sign_up_after_close: bool) -> None:
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.staff(BEN, "!duty on")
    await p.youth(1, "hallo, ich hab prüfungsangst")
    if not sign_up_after_close:
        await p.youth(1, "gruppe 1")
    await p.c.staff_wrote(HOME, BEN, p.event(), "!close", p.clock.now())
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    assert record.state is ConversationState.CLOSED
    await p.youth(1, "5")  # the score: the bot plans to leave ten minutes on
    if sign_up_after_close:
        await p.youth(1, "gruppe 1")
    assert p.desk.book.get(1).seat_of(record.youth_user_id) is not None
    await p.new()
    p.clock.advance(timedelta(minutes=11))
    await p.c.tick(p.clock.now())


async def test_the_bot_stays_in_the_room_a_youth_signed_up_from() -> None:
    p = Parts()
    await _closed_after_sign_up(p, sign_up_after_close=False)
    assert not [e for e in await p.new() if isinstance(e, Leave)], \
        "the bot left the room the group's invitation and call-off go to"


async def test_a_sign_up_after_the_close_keeps_the_bot_too() -> None:
    p = Parts()
    await _closed_after_sign_up(p, sign_up_after_close=True)
    assert not [e for e in await p.new() if isinstance(e, Leave)], \
        "the bot left the room the group's invitation and call-off go to"
