"""A youth whose chat with a counsellor was closed sits in a group and writes crisis words
there. The bot offers a 1:1 in that chat ("just write here – a counsellor will come to
you"); the youth answers "ja" and was told that this chat has ended and to start a new one:
the offer's promise broken at the worst moment. The answer now opens the chat again, as
crisis words after the close do. Memory store, fake clock, no server."""

from __future__ import annotations

from datetime import UTC, datetime

from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.routing.model import ConversationState
from tests.groups.test_group_desk import ANNA, BEN, SECRET, Parts, notices

HOME = RoomID("!home1:x")


async def test_a_youth_answering_the_crisis_offer_in_a_closed_chat_is_taken_in() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    p.clock.set(datetime(2026, 12, 10, 16, 0, tzinfo=UTC))
    await p.staff(BEN, "!duty on")
    await p.youth(1, "hallo, ich hab stress mit meinen eltern")
    await p.c.staff_wrote(HOME, BEN, p.event(), "!close", p.clock.now())
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    assert record.state is ConversationState.CLOSED
    await p.open_group()
    await p.new()

    await p.in_group(UserID("@y1:x"), SECRET)
    [offer] = notices(await p.new(), "group.crisis_offer")
    assert offer.room_id == HOME
    await p.youth(1, "ja")
    effects = await p.new()
    told = [e.key for e in effects if isinstance(e, SayToYouth)]
    assert "closed_write_new" not in told, "the youth was sent to start a new chat"
    reopened = p.c.router.conversation(record.conversation)
    assert reopened is not None, "the youth's chat was not opened again"
    assert reopened.state in (ConversationState.WAITING, ConversationState.ASSIGNED)
