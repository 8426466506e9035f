"""Findings of the offices review: each test failed before its fix (see the git log)."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.routing.offices import UNDECIDED
from tests.offices.test_office_conversation import (
    ANNA,
    CEM,
    T0,
    conductor,
    eid,
    open_youth,
    staff_says,
)


async def test_a_crisis_youths_counsellor_stays_when_the_youth_writes_on() -> None:
    # A youth in crisis who has not said what it is about yet reaches the on-call office's
    # counsellor at once; what the youth writes next is for that counsellor, not an answer
    # to the office question that takes the counsellor away mid-crisis.
    c = await conductor()
    await staff_says(c, ANNA, "!duty on")
    await staff_says(c, CEM, "!duty on")
    cid = await open_youth(c, "!c1:x", "ich will nicht mehr leben")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.crisis.value == "raised"
    assert conv.assigned_to == CEM
    await c.youth_wrote(RoomID("!c1:x"), UserID("@yc1:x"), None, eid(),
                        "meine Eltern schlagen mich", T0 + timedelta(seconds=30))
    conv = c.router.conversation(cid)
    assert conv is not None
    assert (conv.assigned_to, conv.assignments) == (CEM, 1)
    assert conv.office != UNDECIDED


async def test_a_youth_taken_by_hand_before_answering_keeps_the_counsellor() -> None:
    # The fallback office's counsellor takes an undecided youth; the youth's "hallo" back
    # is not the answer to the office question (nor is the timer's later fallback).
    c = await conductor()
    cid = await open_youth(c, "!c2:x", "hallo")
    await staff_says(c, CEM, "!duty on")
    await staff_says(c, CEM, f"!take {cid}")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.assigned_to == CEM
    await c.youth_wrote(RoomID("!c2:x"), UserID("@yc2:x"), None, eid(),
                        "hallo, es geht um die Schule", T0 + timedelta(seconds=30))
    await c.tick(T0 + timedelta(minutes=5))
    conv = c.router.conversation(cid)
    assert conv is not None
    assert (conv.assigned_to, conv.assignments) == (CEM, 1)
