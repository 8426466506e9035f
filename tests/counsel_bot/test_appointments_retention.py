"""Retention and erasure of conversations with appointments, through the conductor (no server).

The product promises: a closed conversation is kept while an appointment of it is still to
come (its room is where the youth answers, is reminded and gets the call link), and its normal
retention applies once the appointment is over; a youth's own erasure ("ja löschen") waits for
no appointment: the appointment is cancelled, its counsellor told, and everything goes at once.
"""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.retention import run_retention
from counsel_bot.core import appointments as ap
from counsel_bot.core.effects import EraseConversation, SayToStaff
from counsel_bot.core.ids import ConversationID, EventID
from tests.counsel_bot.test_appointments_flow import (
    ANNA,
    NOW,
    ROOM,
    YOUTH,
    office,
    outbox,
)
from tests.retention.conftest import FakeAdmin

APRIL = "!appointment 2027-02-10 16:00 45min video"  # two months ahead: past a 30-day period
KEEP = timedelta(days=30)


async def _closed_with_appointment(*, confirm: bool = True,
                                   ) -> tuple[Conductor, ConversationID]:
    c, conversation, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), APRIL, NOW)
    if confirm:
        await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    return c, conversation


async def test_retention_keeps_a_closed_conversation_whose_appointment_is_still_to_come(
) -> None:
    """Closed with a confirmed appointment two months ahead: after 30 days the room and the
    appointment are still there (dry run and real run alike)."""
    c, conversation = await _closed_with_appointment()
    admin = FakeAdmin(rooms={ROOM})
    later = NOW + timedelta(days=31)
    dry = await run_retention(c.store, admin, later, KEEP, dry_run=True)
    assert dry.planned == ()
    await run_retention(c.store, admin, later, KEEP, dry_run=False)
    assert await c.store.sealed_settings("appt:") != []
    assert await c.store.conversation(conversation) is not None


async def test_an_open_proposal_keeps_the_conversation_too() -> None:
    """The youth may still answer a proposal after the close: its room must still be there."""
    c, _ = await _closed_with_appointment(confirm=False)
    report = await run_retention(c.store, FakeAdmin(rooms={ROOM}),
                                 NOW + timedelta(days=31), KEEP, dry_run=False)
    assert report.deleted == ()


async def test_once_the_appointment_is_over_the_normal_retention_applies() -> None:
    c, conversation = await _closed_with_appointment()
    [appointment] = c.appointments.known.values()
    during = appointment.end + ap.OVERRUN - timedelta(minutes=1)
    report = await run_retention(c.store, FakeAdmin(rooms={ROOM}),
                                 during, KEEP, dry_run=False)
    assert report.deleted == ()  # it may run over: the call is still on
    report = await run_retention(c.store, FakeAdmin(rooms={ROOM}),
                                 appointment.end + ap.OVERRUN, KEEP, dry_run=False)
    assert report.deleted == (conversation,)
    assert await c.store.sealed_settings("appt:") == []


async def test_the_youths_erasure_cancels_the_appointment_and_erases_at_once() -> None:
    """"ja löschen" with an appointment to come: the erasure is queued at once, the
    appointment is cancelled (so nothing reminds meanwhile) and its counsellor is told."""
    c, conversation, _ = await office()
    c.can_delete = lambda: True
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), APRIL, NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "löschen", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y4"), "ja löschen", NOW)
    effects = await outbox(c)
    assert any(isinstance(e, EraseConversation) for e in effects)
    [told] = [e for e in effects if isinstance(e, SayToStaff)
              and e.key == "appointments.cancelled_erased"]
    assert told.mentions == (ANNA,)
    stored = [ap.Appointment.decode(raw) for _, raw in await c.store.sealed_settings("appt:")]
    assert [a.status for a in stored] == [ap.Status.CANCELLED]
    assert c.appointments.known == {}
    clock_day_before = stored[0].start - timedelta(hours=23)
    await c.tick(clock_day_before)
    assert not [e for e in await outbox(c) if "reminder" in getattr(e, "key", "")]
    assert conversation not in ap.held(stored, NOW)


async def test_an_erasure_left_to_retention_holds_for_no_appointment() -> None:
    """Without admin access "ja löschen" closes and leaves the rest to retention: the
    appointment is cancelled all the same, so retention does not keep the conversation."""
    c, conversation, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), APRIL, NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "löschen", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y4"), "ja löschen", NOW)
    assert not c.appointments.upcoming(conversation, NOW)
    report = await run_retention(c.store, FakeAdmin(rooms={ROOM}),
                                 NOW + timedelta(days=31), KEEP, dry_run=False)
    assert report.deleted == (conversation,)


async def test_an_erasure_after_the_appointment_tells_its_counsellor_nothing_about_it(
) -> None:
    """The youth had their appointment and, the week after, "ja löschen" in the same chat.
    A review found the counsellor was told "Termin … fällt aus: Die Person hat ihr Gespräch
    gelöscht" of the appointment held a week before: a notice to act on for nothing to
    act on. Only one still to come is off, and told."""
    c, _, _ = await office()
    c.can_delete = lambda: True
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), APRIL, NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    [appointment] = c.appointments.known.values()
    later = appointment.end + timedelta(days=7)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "löschen", later)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y4"), "ja löschen", later)
    effects = await outbox(c)
    assert any(isinstance(e, EraseConversation) for e in effects)
    assert not [e for e in effects if isinstance(e, SayToStaff)
                and e.key == "appointments.cancelled_erased"]
