"""Case notes show when they were written on the office's clock, not in UTC.

"• 23.11. 15:00 UTC, @anna:x: …" was a note Anna wrote at 16:00 in Berlin: a counsellor
reading the notes at night ("!notes", and the notes handed over with a conversation) had
to work out which evening the colleague meant. Memory store, the real conductor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from counsel_bot.conversation.notes import Note, formatted
from counsel_bot.core.effects import SayInRoom
from counsel_bot.core.ids import EventID, UserID
from tests.counsel_bot.test_workday import ANNA, STAFF_ROOM, T0, opened, outbox


async def test_notes_listed_at_the_offices_time() -> None:
    c, conversation = await opened()  # the default office is in Berlin
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n1"), f"!note {conversation} war gut", T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n2"), f"!notes {conversation}", T0)
    [listed] = [e for e in await outbox(c) if isinstance(e, SayInRoom) and e.key == "notes.list"]
    shown = str(dict(listed.params)["notes"])
    assert "23.11. 16:00" in shown  # T0 is 15:00 UTC
    assert "UTC" not in shown


def test_handed_over_notes_at_the_offices_time() -> None:
    summer = Note(UserID("@anna:x"), datetime(2026, 7, 1, 20, 30, tzinfo=UTC), "Schule")
    assert formatted([summer], ZoneInfo("Europe/Berlin")) == "• 01.07. 22:30, @anna:x: Schule"
