"""A notice that calls somebody goes to a staff room they are in. A crisis in an office with
nobody on duty is given to the on-call office's counsellor; once a counsellor of the
youth's own office comes on duty, the notices about that conversation went to the own
office's staff room alone, which the on-call counsellor is not in: the reminder that the
youth in crisis waits for their answer, the lead page calling them, and the notice that the
youth was taken from them were posted where they could not read them (the youth was then
handed on mid-crisis). They go to the main staff room, as a closed conversation's and a
group's do when they call someone outside the office. A memory store, the real detector."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import UserID
from tests.counsel_bot.test_crisis_paths import T0, office, pending, staff, youth
from tests.offices.test_office_deletion_numbers import SETTINGS

ANNA, CEM = UserID("@anna:x"), UserID("@cem:x")


async def test_notices_calling_the_on_call_counsellor_reach_a_room_they_are_in() -> None:
    c = await office(SETTINGS)
    await staff(c, CEM, "!duty on", T0)  # on call; nobody of the family office on duty
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    await youth(c, "ich will mich umbringen", T0 + timedelta(minutes=1))
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=2))  # the family office's own
    for minute in range(3, 40):
        await c.tick(T0 + timedelta(minutes=minute))

    book = c.policy.offices
    calling_cem = [e for e in await pending(c) if isinstance(e, SayToStaff)
                   and CEM in e.mentions]
    assert any(e.key.startswith("timers.") for e in calling_cem)
    unread = [(e.key, e.office) for e in calling_cem
              if e.office and CEM not in book.desk(e.office).staff]
    assert unread == [], "posted in a staff room the counsellor they call is not in"
