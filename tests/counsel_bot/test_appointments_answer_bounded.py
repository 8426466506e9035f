"""A bare "ja"/"nein" answers an open appointment proposal only while it is the last thing
the youth was asked. Once the counsellor has written to the youth after the proposal ("Geht
es dir heute besser?"), the same word answers the counsellor: read as the proposal's answer,
it declined (or confirmed, calendar file and all) an appointment the youth never meant. The
youth is asked once which they meant, and "Termin ja" / "Termin nein" answers the proposal
at any time. No server: the conductor of `test_appointments_flow`."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core import appointments as ap
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import SendCalendar
from counsel_bot.core.ids import EventID
from tests.counsel_bot.test_appointments_flow import (
    ANNA,
    NOW,
    ROOM,
    START,
    YOUTH,
    office,
    outbox,
    youth_keys,
)


def status(c: Conductor) -> ap.Status:
    return c.appointments.known["T-00000A"].status


async def _proposed_then_asked() -> tuple[Conductor, FakeClock]:
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$q1"), "Geht es dir heute besser als gestern?",
                        clock.now())
    return c, clock


async def test_a_no_to_the_counsellors_later_question_leaves_the_proposal_open() -> None:
    c, clock = await _proposed_then_asked()
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "nein", clock.now())
    assert status(c) is ap.Status.PROPOSED
    keys = await youth_keys(c)
    assert "appointments.declined" not in keys
    assert keys.count("appointments.which_answer") == 1
    # Asked once: a second bare word is the counsellor's too, without another question.
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "nein", clock.now())
    assert (await youth_keys(c)).count("appointments.which_answer") == 1

    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y4"), "Termin nein", clock.now())
    assert status(c) is ap.Status.DECLINED
    assert "appointments.declined" in await youth_keys(c)


async def test_a_yes_to_the_counsellors_later_question_confirms_nothing() -> None:
    c, clock = await _proposed_then_asked()
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", clock.now())
    assert status(c) is ap.Status.PROPOSED
    assert not any(isinstance(e, SendCalendar) for e in await outbox(c))
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "ja zum Termin", clock.now())
    assert status(c) is ap.Status.CONFIRMED


async def test_a_bare_yes_right_after_the_proposal_still_confirms() -> None:
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", clock.now())
    assert status(c) is ap.Status.CONFIRMED
    assert "appointments.which_answer" not in await youth_keys(c)


async def test_a_yes_to_the_counsellors_own_question_about_the_appointment_confirms() -> None:
    """The usual way: the counsellor proposes, then asks in their own words. The youth's
    "ja" answers that very question: no "which did you mean" in between."""
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$q1"), "Würde dir der Termin am Donnerstag passen?",
                        clock.now())
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", clock.now())
    assert status(c) is ap.Status.CONFIRMED
    assert "appointments.which_answer" not in await youth_keys(c)


async def test_asked_about_the_appointment_again_after_other_talk_a_yes_confirms() -> None:
    c, clock = await _proposed_then_asked()
    await c.staff_wrote(ROOM, ANNA, EventID("$q2"), "Und: passt dir der Termin?", clock.now())
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", clock.now())
    assert status(c) is ap.Status.CONFIRMED


async def test_a_bare_yes_after_the_proposed_time_asks_nothing_about_it() -> None:
    """The chat goes on past the proposed time, unanswered. A review found the youth's
    next "ja" to their counsellor asked "Ein Terminvorschlag ist noch offen: 10.12.2026
    16:00 … Galt dein ja ihm?" about a time already gone, which can be neither agreed to
    nor kept. The bare word is the counsellor's; "Termin ja" still hears that it passed."""
    c, clock = await _proposed_then_asked()
    clock.set(START + timedelta(hours=2))
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", clock.now())
    keys = await youth_keys(c)
    assert "appointments.which_answer" not in keys
    assert "appointments.expired" not in keys
    assert status(c) is ap.Status.PROPOSED
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "Termin ja", clock.now())
    assert "appointments.expired" in await youth_keys(c)
