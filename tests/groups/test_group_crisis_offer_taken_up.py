"""A youth writes crisis words in a group; the bot offers them a 1:1 in their own chat ("just
write here – a counsellor will come to you"). They answer there later: most youths signed up
with "gruppe 1" alone and have no chat yet, others had theirs closed. The conversation their
answer opens waited in the normal queue, unflagged, behind everybody else: nobody on duty
knew it was the youth of the group's alert, and no lead was paged when nobody took it.
Memory store, fake clock, no server."""

from __future__ import annotations

from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.routing.model import ConversationState, CrisisStatus
from tests.groups.test_group_desk import ANNA, BEN, SECRET, Parts, notices

HOME = RoomID("!home1:x")


async def _offered(p: Parts, *, closed_chat: bool) -> None:
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    if closed_chat:
        await p.staff(BEN, "!duty on")
        await p.youth(1, "hallo, ich hab stress mit meinen eltern")
        await p.c.staff_wrote(HOME, BEN, p.event(), "!close", p.clock.now())
        await p.staff(BEN, "!duty off")
    await p.youth(2, "hallo, ich warte schon")  # somebody queued before
    await p.open_group()
    await p.new()
    await p.in_group(UserID("@y1:x"), SECRET)
    [offer] = notices(await p.new(), "group.crisis_offer")
    assert offer.room_id == HOME


async def test_the_answer_to_the_offer_in_a_new_chat_is_flagged_and_first() -> None:
    p = Parts()
    await _offered(p, closed_chat=False)
    assert await p.store.conversation_by_room(HOME) is None, "signed up without a chat"
    await p.youth(1, "ja")
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    answer = p.c.router.conversation(record.conversation)
    assert answer is not None
    assert answer.crisis is CrisisStatus.RAISED, "the youth of the group's alert is unflagged"
    assert p.c.router.queue()[0] == record.conversation, "they wait behind the others"


async def test_the_answer_to_the_offer_in_a_closed_chat_is_flagged_and_first() -> None:
    p = Parts()
    await _offered(p, closed_chat=True)
    await p.youth(1, "ja")
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    answer = p.c.router.conversation(record.conversation)
    assert answer is not None
    assert answer.state is ConversationState.WAITING
    assert answer.crisis is CrisisStatus.RAISED, "the youth of the group's alert is unflagged"
    assert p.c.router.queue()[0] == record.conversation, "they wait behind the others"
