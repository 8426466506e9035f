"""The staff's reminder of a mail's first-reply deadline names the time on the office's clock.

The deadline is the closing time of a working day in the office's time zone, but the
reminder said it in UTC: "needs a first reply by 02.12. 19:00 UTC" for an office in Berlin
that closes at 20:00, and "02.12. 23:00 UTC" for the end of a day open around the clock. A
counsellor reads it as the time on their own clock and plans an hour (in summer two) too
early, or takes it for the day before. Memory store, the real mail channel's watch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.config import Settings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import RoomID
from counsel_bot.core.mail_deadline import MailDeadlines
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_mail_deadline_restart import MONDAY, channel
from tests.store.conftest import AeadSealer

WEEKDAYS = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {
    day: ["14:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri")}})


async def _reminded_due(hours: OpeningHours | None) -> str:
    store = MemoryStore(AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(Settings()), MONDAY)
    told: list[SayToStaff] = []
    real_commit = conductor.commit

    async def keeping(change: Change) -> bool:
        told.extend(e for e, _ in change.effects
                    if isinstance(e, SayToStaff) and e.key == "mail.reminder")
        return await real_commit(change)

    conductor.commit = keeping  # type: ignore[method-assign]
    mail = channel(conductor)
    if hours is not None:
        mail.deadlines = MailDeadlines(hours, mail.deadlines.settings)
    await mail.mail_opened(RoomID("!mail:x"), "mailto:kim@youth.example", "de", MONDAY)
    remind = mail.deadlines.reminder_at(MONDAY)
    assert remind is not None
    await mail.tick(remind + timedelta(minutes=1))
    [reminder] = told
    return str(dict(reminder.params)["due"])


async def test_the_deadline_is_told_at_the_offices_closing_time() -> None:
    # Monday 30 Nov, two working days: Wednesday's closing, 20:00 in Berlin (19:00 UTC).
    assert WEEKDAYS.add_working_days(MONDAY, 2) == datetime(2026, 12, 2, 19, 0, tzinfo=UTC)
    assert await _reminded_due(WEEKDAYS) == "02.12. 20:00"


async def test_the_end_of_a_day_open_around_the_clock_is_that_day_at_24_00() -> None:
    # The default hours: open every day all day; Wednesday's end is 23:00 UTC.
    assert await _reminded_due(None) == "02.12. 24:00"
