"""Case notes name when they were written on the office's clock, as every other time the
staff read. No server: the conductor of `test_appointments_flow`."""

from __future__ import annotations

from datetime import UTC, datetime

from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.ids import EventID
from tests.counsel_bot.test_appointments_flow import ANNA, STAFF_ROOM, office, outbox


async def test_a_note_written_after_midnight_is_listed_with_its_local_date_and_time() -> None:
    """A note written at 00:30 in Berlin on 7 December was listed as "06.12. 23:30 UTC":
    the counsellor taking the case over on the night shift read it as written the evening
    before, by the clock they do not keep. It is listed as "07.12. 00:30"."""
    c, conversation, _ = await office()
    written = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # 00:30 on 7.12. in Berlin
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n1"),
                        f"!note {conversation} rief nachts an, wollte reden", written)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n2"), f"!notes {conversation}", written)
    [listing] = [e for e in await outbox(c) if isinstance(e, SayInRoom | SayToStaff)
                 and e.key == "notes.list"]
    lines = str(dict(listing.params)["notes"])
    assert "07.12. 00:30" in lines
    assert "UTC" not in lines
