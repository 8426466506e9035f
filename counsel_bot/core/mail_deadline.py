"""First-reply deadline of mail conversations: when to remind staff, when it was missed. Pure.

A mail that starts a conversation should be answered within N working days of the office's
calendar (default 2): the deadline is the closing time of the N-th working day after the day
the mail came in (`OpeningHours.add_working_days`). Staff are reminded when the last
working day of that window opens (`remind_working_days_before = 1`), so they still have the
whole day; 2 reminds a day earlier, 0 turns reminders off. A conversation whose first reply
came after the deadline, or has not come by then, is a breach.

The bot calls `due_reminders` and `breaches` with the current time, as often as it likes:
each conversation is reported once, because the returned `DeadlineState` remembers what
was already reported. Only the first reply counts; later mails start no new deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from counsel_bot.core.clock import require_aware
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.opening_hours import OpeningHours


@dataclass(frozen=True)
class MailDeadlineSettings:
    first_reply_working_days: int = 2
    remind_working_days_before: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.first_reply_working_days <= 30:
            raise ValueError(
                f"first_reply_working_days: {self.first_reply_working_days} is outside 1..30"
            )
        if not 0 <= self.remind_working_days_before <= self.first_reply_working_days:
            raise ValueError(
                f"remind_working_days_before: {self.remind_working_days_before} must be "
                f"between 0 (no reminder) and first_reply_working_days "
                f"({self.first_reply_working_days})"
            )


@dataclass(frozen=True)
class MailConversation:
    id: ConversationID
    # When the first mail of the conversation came in.
    received_at: datetime
    # When a counsellor's first reply went out; None while there is none.
    first_reply_at: datetime | None = None


@dataclass(frozen=True)
class DeadlineState:
    """What was already reported; keep it with the bot's state between calls."""

    reminded: frozenset[ConversationID] = frozenset()
    breached: frozenset[ConversationID] = frozenset()

    def forget(self, ids: Iterable[ConversationID]) -> DeadlineState:
        """Drop closed conversations, so the state does not grow forever."""
        gone = frozenset(ids)
        return DeadlineState(self.reminded - gone, self.breached - gone)


@dataclass(frozen=True)
class MailDeadlines:
    hours: OpeningHours
    settings: MailDeadlineSettings = MailDeadlineSettings()

    def deadline(self, received_at: datetime) -> datetime:
        """When the first reply is due (UTC)."""
        return self.hours.add_working_days(received_at, self.settings.first_reply_working_days)

    def deadline_text(self, received_at: datetime) -> str:
        """The deadline as staff read it: on the office's clock ("02.12. 17:00"), and one
        at the end of a day as that day's 24:00, as the opening hours show a closing time,
        not the next day's 00:00."""
        local = self.deadline(received_at).astimezone(self.hours.timezone)
        if (local.hour, local.minute) == (0, 0):
            return f"{local.date() - timedelta(days=1):%d.%m.} 24:00"
        return f"{local:%d.%m. %H:%M}"

    def reminder_at(self, received_at: datetime) -> datetime | None:
        """When staff are reminded (UTC); None if reminders are off."""
        before = self.settings.remind_working_days_before
        if before == 0:
            return None
        day = self._working_day(received_at, self.settings.first_reply_working_days - before + 1)
        zone = self.hours.timezone
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        opening = self.hours.next_opening(midnight)
        deadline = self.deadline(received_at)
        # Never before the mail came in, never after the deadline.
        at = opening if opening is not None else deadline
        return min(max(at, require_aware(received_at).astimezone(UTC)), deadline)

    def _working_day(self, received_at: datetime, n: int) -> date:
        # The n-th working day after the day the mail came in (the day itself never counts).
        self.hours.add_working_days(received_at, n)  # raises if there are no working days
        day = require_aware(received_at).astimezone(self.hours.timezone).date()
        while n:
            day += timedelta(days=1)
            if self.hours.working_day(day):
                n -= 1
        return day

    def due_reminders(
        self, conversations: Iterable[MailConversation], now: datetime, state: DeadlineState
    ) -> tuple[tuple[ConversationID, ...], DeadlineState]:
        """Unanswered conversations whose reminder time has come and whose deadline has not
        yet passed (past it, `breaches` reports them instead); each once."""
        now = require_aware(now).astimezone(UTC)
        due = []
        for conversation in conversations:
            if conversation.id in state.reminded or conversation.first_reply_at is not None:
                continue
            remind = self.reminder_at(conversation.received_at)
            if remind is not None and remind <= now < self.deadline(conversation.received_at):
                due.append(conversation.id)
        if not due:
            return (), state
        return tuple(due), DeadlineState(state.reminded | set(due), state.breached)

    def breaches(
        self, conversations: Iterable[MailConversation], now: datetime, state: DeadlineState
    ) -> tuple[tuple[ConversationID, ...], DeadlineState]:
        """Conversations whose first reply did not go out by the deadline; each once."""
        now = require_aware(now).astimezone(UTC)
        missed = []
        for conversation in conversations:
            if conversation.id in state.breached:
                continue
            deadline = self.deadline(conversation.received_at)
            reply = conversation.first_reply_at
            if reply is not None and require_aware(reply) <= deadline:
                continue
            if deadline < now:
                missed.append(conversation.id)
        if not missed:
            return (), state
        return tuple(missed), DeadlineState(state.reminded, state.breached | set(missed))
