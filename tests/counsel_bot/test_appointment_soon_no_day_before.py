"""An appointment confirmed less than a day ahead promises only the reminder it gets.

"Super, der Termin steht … Ich erinnere dich am Tag vorher und 15 Minuten vorher" was the
confirmation of an appointment this afternoon too; the day-before reminder is never sent
for it (the confirmation counts as it, `appointments.confirmed`), so a youth who waited
for it, and took its silence for the appointment being off, missed the one that came.
Memory store, fake clock, the real conductor.
"""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import EventID
from counsel_bot.core.messages import text
from tests.counsel_bot.test_appointments_flow import ANNA, ROOM, START, YOUTH, office, outbox


async def _confirmation(hours_ahead: int) -> tuple[str, str, list[str]]:
    """The confirmation in German and English, and what the youth is told until 20
    minutes before the start."""
    c, _, clock = await office()
    clock.set(START - timedelta(hours=hours_ahead))
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        clock.now())
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", clock.now())
    [said] = [e for e in await outbox(c) if isinstance(e, SayToYouth)
              and e.key.startswith("appointments.confirmed")]
    if hours_ahead > 24:  # the evening before: the day-before reminder is due then
        clock.set(START - timedelta(hours=20))
        await c.tick(clock.now())
    clock.set(START - timedelta(minutes=20))
    await c.tick(clock.now())
    told = [e.key for e in await outbox(c) if isinstance(e, SayToYouth)]
    return (text(said.key, "de", **dict(said.params)),
            text(said.key, "en", **dict(said.params)), told)


async def test_confirmed_this_afternoon_promises_only_the_15_minute_reminder() -> None:
    german, english, told = await _confirmation(3)
    assert "appointments.reminder_day_before" not in told  # as the code does
    assert "Tag vorher" not in german
    assert "15 Minuten vorher" in german
    assert "day before" not in english
    assert "15 minutes before" in english


async def test_confirmed_days_ahead_still_promises_both() -> None:
    german, english, told = await _confirmation(24 * 5)
    assert "appointments.reminder_day_before" in told
    assert "am Tag vorher und 15 Minuten vorher" in german
    assert "the day before and 15 minutes before" in english
