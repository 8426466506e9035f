"""A sync batch is handled again when the homeserver does not give the events a gap left
out (room_history.py, GapUnavailable), and after a restart that resumes from before a message still
waiting for its key: handled events are recognised by their ids. A counsellor's plain reply
in a youth's room was not: read again after the youth's next message, it ended the wait for
that message, so the response timer never reminded the counsellor nor handed the youth to
a colleague. Memory store, the real rules detector, injected time."""

from __future__ import annotations

from datetime import timedelta

from tests.counsel_bot.test_crisis_paths import ANNA, ROOM, T0, conversation_of, eid, office, staff
from tests.counsel_bot.test_crisis_paths import youth as youth_wrote


async def test_a_counsellor_reply_read_again_does_not_end_the_youths_later_wait() -> None:
    c = await office()
    await staff(c, ANNA, "!duty on", T0)
    await youth_wrote(c, "hallo, ist da jemand?", T0)
    cid = await conversation_of(c)
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to == ANNA
    reply, at = eid(), T0 + timedelta(minutes=1)
    await c.staff_wrote(ROOM, ANNA, reply, "hallo, ich bin Anna", at)
    later = T0 + timedelta(minutes=2)
    await youth_wrote(c, "ich weiss nicht wie ich anfangen soll", later)
    assert c.timers.waiting(cid).since == later

    # The batch holding her reply comes again; the youth's message in it is skipped.
    await c.staff_wrote(ROOM, ANNA, reply, "hallo, ich bin Anna", T0 + timedelta(minutes=3))
    assert c.timers.waiting(cid).since == later


async def test_a_counsellors_leave_read_again_does_not_hand_back_their_new_assignment() -> None:
    """Handed back (the bot removes her from the room: a leave), then taken again in the
    same batch. Read first, the leave changed nothing (she no longer had the youth); read
    again once she has them again, it was taken for her leaving the new assignment."""
    c = await office()
    await staff(c, ANNA, "!duty on", T0)
    await youth_wrote(c, "hallo, ist da jemand?", T0)
    cid = await conversation_of(c)
    at = T0 + timedelta(minutes=1)
    await staff(c, ANNA, f"!transfer {cid} queue", at)
    leave = eid()
    await c.member_left(ROOM, ANNA, leave, at)  # the bot's removal of her, seen
    await staff(c, ANNA, f"!take {cid}", at)
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to == ANNA

    await c.member_left(ROOM, ANNA, leave, T0 + timedelta(minutes=2))  # the batch again
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to == ANNA
