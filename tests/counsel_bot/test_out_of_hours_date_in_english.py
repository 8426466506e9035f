"""A youth who writes in English reads when the chat opens again in English.

"The chat is not staffed right now. Back: 24.11. 14:00." was what an English-speaking youth
read after closing: the German day.month. with dots, and no day of the week, so a youth
abroad (or one who reads 24.11 as a time, a price) could not tell when anyone is back. The
German text keeps its own format. Memory store, the real conductor.
"""

from __future__ import annotations

from datetime import UTC, datetime

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.welcome import welcome
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.messages import text
from tests.counsel_bot.parts import AT, CASE, effects
from tests.counsel_bot.test_welcome import (
    ANNA,
    CLOSED,
    EMERGENCY,
    STAFF_ROOM,
    anna_on_duty,
    told_youth,
)


def test_an_english_youth_reads_the_day_and_date_in_english() -> None:
    step = Change(AT, None)
    welcome(step, CASE, "en", default_language="de", hours=CLOSED, emergency=EMERGENCY,
            mail=False)
    [notice] = [e for e in effects(step) if isinstance(e, SayToYouth)
                and e.key == "out_of_hours"]
    shown = text("out_of_hours", "en", **dict(notice.params))
    assert "Back: Tue 24 Nov, 14:00." in shown


def test_a_german_youth_keeps_the_german_format() -> None:
    step = Change(AT, None)
    welcome(step, CASE, "de", default_language="de", hours=CLOSED, emergency=EMERGENCY,
            mail=False)
    [notice] = [e for e in effects(step) if isinstance(e, SayToYouth)]
    assert dict(notice.params)["next_opening"] == "24.11. 14:00"


async def test_an_english_youth_handed_back_after_closing_reads_it_in_english() -> None:
    evening = datetime(2026, 11, 23, 18, 50, tzinfo=UTC)  # Monday, 19:50 in Berlin
    c, _ = await anna_on_duty(evening)
    room = RoomID("!room:x")
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"),
                        "hello, I feel really bad and I don't know who to talk to", evening)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    late = datetime(2026, 11, 23, 19, 10, tzinfo=UTC)  # 20:10 in Berlin: closed
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$off"), "!duty off", late)
    [notice] = [e for e in await told_youth(c, record.conversation) if e.key == "out_of_hours"]
    assert dict(notice.params)["next_opening"] == "Tue 24 Nov, 14:00"

