"""First-reply deadline of mail conversations: reminders and breaches, each reported once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from counsel_bot.core.clock import FakeClock, NaiveTimeError
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.mail_deadline import (
    DeadlineState,
    MailConversation,
    MailDeadlines,
    MailDeadlineSettings,
)
from counsel_bot.core.opening_hours import OpeningHours, OpeningHoursError

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = OpeningHours.from_dict(
    {
        "timezone": "Europe/Berlin",
        "weekly": {d: ["14:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        # Good Friday and Easter Monday 2026.
        "holidays": ["2026-04-03", "2026-04-06"],
    }
)
DEADLINES = MailDeadlines(HOURS)
A, B, C = ConversationID("C-AAAA0001"), ConversationID("C-BBBB0002"), ConversationID("C-CCCC0003")


def berlin(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def test_friday_evening_mail_is_due_tuesday_at_closing() -> None:
    received = berlin(3, 6, 18)  # Friday
    assert DEADLINES.deadline(received) == berlin(3, 10, 20)  # Tuesday
    assert DEADLINES.reminder_at(received) == berlin(3, 10, 14)  # Tuesday's opening


def test_holidays_do_not_count() -> None:
    received = berlin(4, 2, 18)  # Thursday before Easter
    assert DEADLINES.deadline(received) == berlin(4, 8, 20)  # Wednesday after Easter Monday
    assert DEADLINES.reminder_at(received) == berlin(4, 8, 14)


def test_reminder_can_come_a_day_earlier_or_not_at_all() -> None:
    earlier = MailDeadlines(HOURS, MailDeadlineSettings(remind_working_days_before=2))
    assert earlier.reminder_at(berlin(3, 6, 18)) == berlin(3, 9, 14)  # Monday
    off = MailDeadlines(HOURS, MailDeadlineSettings(remind_working_days_before=0))
    assert off.reminder_at(berlin(3, 6, 18)) is None
    longer = MailDeadlines(HOURS, MailDeadlineSettings(first_reply_working_days=3))
    assert longer.deadline(berlin(3, 6, 18)) == berlin(3, 11, 20)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"first_reply_working_days": 0}, "first_reply_working_days"),
        ({"remind_working_days_before": 3}, "remind_working_days_before"),
        ({"remind_working_days_before": -1}, "remind_working_days_before"),
    ],
)
def test_settings_are_validated(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        MailDeadlineSettings(**kwargs)


def test_reminders_and_breaches_over_easter_each_reported_once() -> None:
    clock = FakeClock(berlin(4, 2, 18))
    conversations = [
        MailConversation(A, received_at=berlin(4, 2, 18)),  # never answered
        MailConversation(B, received_at=berlin(4, 2, 18, 30)),  # answered Tuesday
        MailConversation(C, received_at=berlin(4, 2, 19)),  # answered late, Thursday
    ]
    state = DeadlineState()
    reminded: list[tuple[ConversationID, datetime]] = []
    breached: list[tuple[ConversationID, datetime]] = []
    while clock.now() < berlin(4, 10, 12):
        now = clock.now()
        current = [_answered(c, now) for c in conversations]
        due, state = DEADLINES.due_reminders(current, now, state)
        reminded += [(cid, now) for cid in due]
        missed, state = DEADLINES.breaches(current, now, state)
        breached += [(cid, now) for cid in missed]
        clock.advance(timedelta(minutes=10))
    # Reminders at Wednesday's opening (14:00 CEST = 12:00 UTC); B was answered before.
    assert reminded == [(A, berlin(4, 8, 14)), (C, berlin(4, 8, 14))]
    # Both unanswered at Wednesday's closing: reported on the first check after it.
    assert breached == [(A, berlin(4, 8, 20, 10)), (C, berlin(4, 8, 20, 10))]


def _answered(conversation: MailConversation, now: datetime) -> MailConversation:
    replies = {B: berlin(4, 7, 15), C: berlin(4, 9, 15)}
    reply = replies.get(conversation.id)
    if reply is not None and reply <= now:
        return MailConversation(conversation.id, conversation.received_at, reply)
    return conversation


def test_late_reply_seen_only_after_it_is_still_a_breach() -> None:
    # The bot was down over the deadline; it learns of the late reply first.
    late = MailConversation(A, berlin(3, 6, 18), first_reply_at=berlin(3, 11, 9))
    missed, state = DEADLINES.breaches([late], berlin(3, 11, 10), DeadlineState())
    assert missed == (A,)
    assert DEADLINES.breaches([late], berlin(3, 11, 11), state)[0] == ()
    on_time = MailConversation(B, berlin(3, 6, 18), first_reply_at=berlin(3, 10, 19, 59))
    assert DEADLINES.breaches([on_time], berlin(3, 12, 10), DeadlineState())[0] == ()


def test_no_reminder_once_the_deadline_has_passed() -> None:
    conversation = MailConversation(A, berlin(3, 6, 18))
    due, _ = DEADLINES.due_reminders([conversation], berlin(3, 10, 20, 1), DeadlineState())
    assert due == ()


def test_forget_drops_closed_conversations() -> None:
    state = DeadlineState(frozenset({A, B}), frozenset({A}))
    assert state.forget([A]) == DeadlineState(frozenset({B}), frozenset())


def test_mail_at_night_in_utc_uses_the_office_calendar() -> None:
    # Monday 23:30 in Berlin is still Monday there (22:30 UTC): due Wednesday.
    received = datetime(2026, 3, 9, 22, 30, tzinfo=UTC)
    assert DEADLINES.deadline(received) == berlin(3, 11, 20)


def test_naive_times_and_an_empty_calendar_are_refused() -> None:
    with pytest.raises(NaiveTimeError):
        DEADLINES.due_reminders([], datetime(2026, 3, 9, 12), DeadlineState())
    empty = MailDeadlines(OpeningHours.from_dict({"timezone": "Europe/Berlin"}))
    with pytest.raises(OpeningHoursError, match="weekly"):
        empty.deadline(berlin(3, 9, 12))
