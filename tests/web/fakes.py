"""Test doubles for the web app: a dashboard source whose data tests change, a fake auth."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import ConversationID
from counsel_bot.metrics import TodayFigures
from counsel_bot.web import (
    AuthUnavailableError,
    CrisisEntry,
    DashboardSnapshot,
    QueueEntry,
    StaffEntry,
)


class MemorySource:
    """A DashboardSource holding a snapshot the test edits; `generated_at` follows the clock."""

    def __init__(self, clock: Clock, snapshot: DashboardSnapshot | None = None) -> None:
        self._clock = clock
        self.current = snapshot if snapshot is not None else sample_snapshot(clock.now())
        self.calls = 0

    async def snapshot(self) -> DashboardSnapshot:
        self.calls += 1
        return replace(self.current, generated_at=self._clock.now())

    def youth_joins(self, conversation: str, at: datetime, *, priority: str = "normal") -> None:
        entry = QueueEntry(ConversationID(conversation), priority, "chat", "de", at)
        self.current = replace(self.current, queue=(*self.current.queue, entry))


def sample_snapshot(now: datetime) -> DashboardSnapshot:
    return DashboardSnapshot(
        generated_at=now,
        queue=(
            QueueEntry(ConversationID("C-0A1B2C3D"), "crisis", "chat", "de",
                       now - timedelta(minutes=3)),
            QueueEntry(ConversationID("C-11223344"), "normal", "mail", "en",
                       now - timedelta(minutes=42), handed_back=True),
        ),
        staff=(StaffEntry("anna", 2, 2), StaffEntry("ben", 1, 3)),
        today=TodayFigures(opened=14, closed=9, crisis_flags=2, median_wait_seconds=250.0,
                           deadline_breaches=1),
        crisis=(
            CrisisEntry(ConversationID("C-0A1B2C3D"), "suicide", "high",
                        now - timedelta(minutes=3),
                        "https://matrix.to/#/!abcdefgh:test.localhost"),
            CrisisEntry(ConversationID("C-55667788"), "self_harm", "medium",
                        now - timedelta(minutes=20), None),
        ),
    )


class FakeAuth:
    """Accepts the passwords in `leads`; counts the checks it was asked."""

    def __init__(self, leads: dict[str, str], *, unavailable: bool = False) -> None:
        self._leads = leads
        self.unavailable = unavailable
        self.checks = 0

    async def check(self, user_id: str, password: str) -> bool:
        self.checks += 1
        if self.unavailable:
            raise AuthUnavailableError("the homeserver cannot be reached; try again")
        return self._leads.get(user_id) == password
