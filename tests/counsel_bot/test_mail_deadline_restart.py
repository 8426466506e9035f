"""A mail's first-reply deadline is reminded of and counted as breached once, also across a
restart: the state lived in memory, so each restart counted every open breach again on the
team lead's dashboard (and, once the outbox's done rows were pruned, told staff again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.config import Settings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import RoomID
from counsel_bot.core.mail_deadline import MailDeadlines, MailDeadlineSettings
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from homeserver_bridge.mail import MailSettings
from tests.store.conftest import AeadSealer

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def _no_room() -> Any:
    raise AssertionError("no room is created here")


class Recorder:
    """Stands in for the metrics: keeps the names of the breach counts it is given."""

    def __init__(self, breaches: list[str]) -> None:
        self.breaches = breaches

    def __getattr__(self, name: str) -> Any:
        def record(*_args: Any) -> None:
            if name == "mail_deadline_breached":
                self.breaches.append(name)
        return record


def channel(conductor: Conductor) -> MailChannel:
    settings = Settings()
    deadlines = MailDeadlines(OpeningHours.from_dict(settings.opening_hours.as_dict()),
                              settings.mail_deadline)
    return MailChannel(conductor, None, MailSettings(), None,  # type: ignore[arg-type]
                       lambda: MONDAY, _no_room, deadlines)


async def test_a_restart_neither_reminds_nor_counts_a_breach_again() -> None:
    store = MemoryStore(AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    policy = policy_from(Settings())
    conductor = await Conductor.open(store, detector, policy, MONDAY)
    told: list[str] = []
    breaches: list[str] = []
    real_commit = conductor.commit

    async def counting(change: Change) -> bool:
        told.extend(e.key for e, _ in change.effects if isinstance(e, SayToStaff)
                    and e.key.startswith("mail."))
        for after in change.after:
            after(Recorder(breaches))
        return await real_commit(change)

    conductor.commit = counting  # type: ignore[method-assign]
    mail = channel(conductor)
    await mail.mail_opened(RoomID("!mail:x"), "mailto:kim@youth.example", "de", MONDAY)
    later = MONDAY + timedelta(days=14)  # long past the deadline, nobody replied
    remind = mail.deadlines.reminder_at(MONDAY)
    assert remind is not None
    await mail.tick(remind + timedelta(minutes=1))
    await mail.tick(later)
    assert told == ["mail.reminder", "mail.breach"]
    assert len(breaches) == 1

    again = await Conductor.open(store, detector, policy, later)
    again.commit = counting  # type: ignore[method-assign]
    restarted = channel(again)
    await restarted.load()
    await restarted.tick(later + timedelta(minutes=1))
    assert told == ["mail.reminder", "mail.breach"], "told again after the restart"
    assert len(breaches) == 1, "the breach was counted again after the restart"


async def test_the_reminder_names_the_deadline_in_the_offices_time() -> None:
    """Open Monday to Friday 09:00-17:00 in Berlin, a mail on Monday is due by Wednesday's
    close. A review found the reminder said "bis 02.12. 16:00 UTC": a counsellor reads the
    office's clock, and in summer UTC is two hours behind it. The deadline is said as the
    office keeps time: "02.12. 17:00"; one at the end of a day as that day's 24:00."""
    store = MemoryStore(AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(Settings()), MONDAY)
    said: list[SayToStaff] = []
    real_commit = conductor.commit

    async def keeping(change: Change) -> bool:
        said.extend(e for e, _ in change.effects if isinstance(e, SayToStaff))
        return await real_commit(change)

    conductor.commit = keeping  # type: ignore[method-assign]
    mail = channel(conductor)
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    for ranges, due in ((["09:00-17:00"], "02.12. 17:00"), (["20:00-24:00"], "02.12. 24:00")):
        said.clear()
        mail.deadlines = MailDeadlines(OpeningHours.from_dict(
            {"timezone": "Europe/Berlin", "weekly": dict.fromkeys(weekdays, ranges)}),
            MailDeadlineSettings())
        room = RoomID(f"!mail-{ranges[0][:2]}:x")
        await mail.mail_opened(room, f"mailto:kim{ranges[0][:2]}@youth.example", "de",
                               MONDAY)
        remind = mail.deadlines.reminder_at(MONDAY)
        assert remind is not None
        await mail.tick(remind + timedelta(minutes=1))
        [reminder] = [e for e in said if e.key == "mail.reminder"]
        assert dict(reminder.params)["due"] == due
