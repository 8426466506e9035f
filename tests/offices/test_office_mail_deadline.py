"""A mail's first-reply deadline counts the working days of the office the mail is with
(its `hours`), not the installation's [opening_hours]. Conductor and mail channel of
`test_mail_deadline_restart` (memory store, no server)."""

from __future__ import annotations

from datetime import UTC, datetime

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_mail_deadline_restart import channel
from tests.store.conftest import AeadSealer

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


async def test_a_mail_of_an_office_open_two_days_a_week_is_due_by_its_second_working_day(
) -> None:
    """"familie" is open Monday and Wednesday 14:00-18:00; the installation round the
    clock. A mail to it on Monday is due when it closes on the Monday after (Wednesday and
    Monday are its two working days). A review found the deadline counted the
    installation's days: breached on Thursday, counted on the lead's dashboard as missed
    by an office that had had one afternoon for it, and the reminder came on a day it was
    closed."""
    settings = settings_from_mapping({
        "routing": {"fallback_office": "jugend"},
        "offices": [{"id": "familie", "hours": {"mon": ["14:00-18:00"],
                                                 "wed": ["14:00-18:00"]}},
                    {"id": "jugend"}]})
    conductor = await Conductor.open(MemoryStore(AeadSealer()),
                                     CrisisDetector.from_directory(default_lexicon_dir()),
                                     policy_from(settings), MONDAY)
    told: list[tuple[str, datetime]] = []
    real_commit = conductor.commit

    async def keeping(change: Change) -> bool:
        told.extend((e.key, change.at) for e, _ in change.effects
                    if isinstance(e, SayToStaff) and e.key.startswith("mail."))
        return await real_commit(change)

    conductor.commit = keeping  # type: ignore[method-assign]
    mail = channel(conductor)
    await mail.mail_opened(RoomID("!mail:x"), "mailto:kim@youth.example", "de", MONDAY,
                           office="familie")
    for day in range(1, 9):  # each day at 13:30 and 17:30 UTC, to Tuesday week
        for hour in (13, 17):
            await mail.tick(datetime(2026, 12, day, hour, 30, tzinfo=UTC))
    # Reminded on its last working day, the Monday after, once open (14:30 there); missed
    # once it closed at 18:00 (17:00 UTC) that day.
    assert told == [("mail.reminder", datetime(2026, 12, 7, 13, 30, tzinfo=UTC)),
                    ("mail.breach", datetime(2026, 12, 7, 17, 30, tzinfo=UTC))]
