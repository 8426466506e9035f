"""Case notes handed to the on-call office's counsellor who holds another office's crisis go
to a staff room of theirs, not the main one. Once a counsellor of the youth's own office came
on duty, the handover was moved to the main staff room (the youth's office's room does not
hold the on-call counsellor), which every office's staff read: what a counsellor wrote about
the youth ("Verdacht auf Gewalt ...") was shown to offices that have nothing to do with them.
A memory store, the real detector."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.core.effects import Transcript
from counsel_bot.core.ids import EventID, UserID
from tests.counsel_bot.test_crisis_paths import (
    T0,
    conversation_of,
    office,
    pending,
    staff,
    youth,
)
from tests.offices.test_office_deletion_numbers import SETTINGS

ANNA, CEM = UserID("@anna:x"), UserID("@cem:x")


async def test_notes_handed_to_the_on_call_counsellor_stay_out_of_the_main_room() -> None:
    c = await office(SETTINGS)
    await staff(c, CEM, "!duty on", T0)  # on call; nobody of the family office on duty
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    await youth(c, "ich will mich umbringen", T0 + timedelta(minutes=1))
    conversation = await conversation_of(c)
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=2))  # the family office's own
    await staff(c, CEM, f"!note {conversation} Verdacht auf Gewalt durch den Stiefvater",
                T0 + timedelta(minutes=3))
    record = await c.store.conversation(conversation)
    assert record is not None
    await c.member_joined(record.room_id, CEM, EventID("$cem-joined"), T0 + timedelta(minutes=4))

    [handover] = [e for e in await pending(c) if isinstance(e, Transcript)]
    assert handover.counsellor == CEM
    assert handover.office != "", "the case notes go to the staff room every office reads"
    assert CEM in c.policy.offices.desk(handover.office).staff
