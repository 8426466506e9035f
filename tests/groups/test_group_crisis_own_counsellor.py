"""A youth who is in counselling (an open 1:1 with a counsellor) also sits in a group and
writes crisis words there. The group's alert called the host and the leads and offered the
youth a 1:1 "a counsellor will come to you"; the counsellor the youth is talking to right
now heard nothing, and the youth's conversation carried no flag (no review, no page when
nobody answers). Memory store, fake clock, no server."""

from __future__ import annotations

from datetime import UTC, datetime

from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.routing.model import CrisisStatus
from tests.groups.test_group_desk import ANNA, BEN, SECRET, Parts, notices

HOME = RoomID("!home1:x")


async def test_a_crisis_in_a_group_reaches_the_youths_own_counsellor() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    p.clock.set(datetime(2026, 12, 10, 16, 58, tzinfo=UTC))  # just before the group opens
    await p.staff(BEN, "!duty on")
    await p.youth(1, "hallo, ich hab stress mit meinen eltern")
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    conversation = p.c.router.conversation(record.conversation)
    assert conversation is not None
    assert conversation.assigned_to == BEN
    await p.open_group()
    await p.new()

    await p.in_group(UserID("@y1:x"), SECRET)
    effects = await p.new()
    [group_alert] = [e for e in effects if isinstance(e, SayToStaff)
                     and e.key.startswith("group.staff_crisis_alert")]
    assert ANNA in group_alert.mentions, "the host moderates on, and must know"
    flagged = p.c.router.conversation(record.conversation)
    assert flagged is not None
    assert flagged.crisis is CrisisStatus.RAISED, "the youth's own conversation has no flag"
    assert any(isinstance(e, SayToStaff) and BEN in e.mentions for e in effects), \
        "the youth's own counsellor was not told"
    # One text for the youth: their chat's safety text, not also an offer of the 1:1 they
    # are in already.
    assert not notices(effects, "group.crisis_offer")
    assert not [e for e in effects if SECRET in repr(e)]


async def test_a_crisis_in_a_group_puts_the_youths_queued_chat_first() -> None:
    """A youth waiting in the queue for a 1:1 writes crisis words in the group: the host
    and the leads were alerted with a nickname, but the youth's waiting conversation kept
    its place behind the others, unflagged (no lead paged when nobody takes it), and the
    leads asked to "look after the 1:1" were not told which conversation is theirs."""
    p = Parts()
    await p.start()
    await p.youth(2, "hallo, ich warte schon")  # somebody queued before
    await p.youth(1, "hallo, ich hab stress mit meinen eltern")
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()

    await p.in_group(UserID("@y1:x"), SECRET)
    effects = await p.new()
    flagged = p.c.router.conversation(record.conversation)
    assert flagged is not None
    assert flagged.crisis is CrisisStatus.RAISED, "the youth's waiting conversation has no flag"
    assert p.c.router.queue()[0] == record.conversation, \
        "the youth in crisis still waits behind the others"
    assert any(isinstance(e, SayToStaff) and ("conversation", record.conversation) in e.params
               for e in effects), "no alert names the conversation to take"
    # One text for the youth, as before: the offer, with the numbers.
    assert len(notices(effects, "group.crisis_offer")) == 1
    assert not [e for e in effects if getattr(e, "key", "").startswith("safety_")]
