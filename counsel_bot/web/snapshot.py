"""What the team-lead dashboard shows, as frozen data: numbers and opaque ids only.

A snapshot never carries message text, youth ids or nicknames. The only room reference is
the crisis `room_link` (a matrix.to link), which team leads may follow into the room; it is
checked to be one, so nothing else can be smuggled into the page through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from counsel_bot.core.clock import require_aware
from counsel_bot.core.crisis.lexicon import CATEGORIES, SEVERITIES
from counsel_bot.core.ids import ConversationID
from counsel_bot.metrics import CHANNELS, PRIORITIES, TodayFigures

_CONVERSATION = re.compile(r"C-[0-9A-F]{8}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
# Room version 12 ids carry no server part ("!" and the create event's hash): the embedded
# Synapse makes such rooms, so a link without one must pass, or a crisis breaks the page.
_MATRIX_TO = re.compile(
    r"https://matrix\.to/#/[!#][A-Za-z0-9._~%=+\-]+((:|%3A)[A-Za-z0-9.\-:\[\]]+)?")


class DashboardDataError(ValueError):
    """Dashboard data breaks its shape; the source passes something it must not show."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise DashboardDataError(message)


@dataclass(frozen=True)
class QueueEntry:
    conversation: ConversationID
    priority: str
    channel: str
    language: str
    waiting_since: datetime
    # Waiting again after a counsellor gave it back: its place in the queue still counts
    # from the first arrival, so a short wait may stand before a longer one.
    handed_back: bool = False

    def __post_init__(self) -> None:
        _check(bool(_CONVERSATION.fullmatch(self.conversation)),
               "queue entry: the conversation id must look like C-1A2B3C4D")
        _check(self.priority in PRIORITIES, f"queue entry: priority must be one of {PRIORITIES}")
        _check(self.channel in CHANNELS, f"queue entry: channel must be one of {CHANNELS}")
        _check(bool(_LANGUAGE.fullmatch(self.language)),
               "queue entry: language must be a 2-3 letter code")
        require_aware(self.waiting_since)


@dataclass(frozen=True)
class StaffEntry:
    nickname: str
    load: int
    capacity: int


@dataclass(frozen=True)
class CrisisEntry:
    conversation: ConversationID
    # None when the adapter does not know the category (shown as "not recorded").
    category: str | None
    severity: str
    since: datetime
    room_link: str | None = None

    def __post_init__(self) -> None:
        _check(bool(_CONVERSATION.fullmatch(self.conversation)),
               "crisis entry: the conversation id must look like C-1A2B3C4D")
        _check(self.category is None or self.category in CATEGORIES,
               f"crisis entry: category must be one of {CATEGORIES}")
        _check(self.severity in SEVERITIES, f"crisis entry: severity must be one of {SEVERITIES}")
        _check(self.room_link is None or bool(_MATRIX_TO.fullmatch(self.room_link)),
               "crisis entry: room_link must be a https://matrix.to/#/ room link")
        require_aware(self.since)


@dataclass(frozen=True)
class DashboardSnapshot:
    generated_at: datetime
    queue: tuple[QueueEntry, ...] = ()
    staff: tuple[StaffEntry, ...] = ()
    crisis: tuple[CrisisEntry, ...] = ()
    # None: not shown to this lead (the day's tally covers every office; router_source).
    today: TodayFigures | None = field(default_factory=TodayFigures)
    # Staff on duty with a session they have not verified (strict youths cannot read them);
    # a count only: who it is, the staff room says.
    unverified_on_duty: int = 0
    # Live chats whose youth waits past the response target (a count, no ids).
    overdue_replies: int = 0

    def __post_init__(self) -> None:
        require_aware(self.generated_at)


class DashboardSource(Protocol):
    async def snapshot(self) -> DashboardSnapshot:
        """The current dashboard figures."""
        ...


@runtime_checkable
class OfficeDashboardSource(Protocol):
    async def snapshot_for(self, user: str) -> DashboardSnapshot:
        """The figures of the offices `user` (a team lead) works for."""
        ...


def _seconds(since: datetime, now: datetime) -> int:
    return max(int((now - since).total_seconds()), 0)


def snapshot_to_json(snap: DashboardSnapshot) -> dict[str, object]:
    """The JSON the dashboard's script polls; waits are seconds relative to `generated_at`."""
    now = snap.generated_at
    today = snap.today
    return {
        "generated_at": now.isoformat(),
        "queue_length": len(snap.queue),
        "unverified_on_duty": snap.unverified_on_duty,
        "overdue_replies": snap.overdue_replies,
        "crisis_waiting": sum(1 for q in snap.queue if q.priority == "crisis"),
        "longest_wait_seconds": max((_seconds(q.waiting_since, now) for q in snap.queue),
                                    default=0),
        "queue": [
            {"conversation": q.conversation, "priority": q.priority, "channel": q.channel,
             "language": q.language, "waiting_since": q.waiting_since.isoformat(),
             "waited_seconds": _seconds(q.waiting_since, now), "handed_back": q.handed_back}
            for q in snap.queue
        ],
        "staff": [{"nickname": s.nickname, "load": s.load, "capacity": s.capacity}
                  for s in snap.staff],
        "crisis": [
            {"conversation": c.conversation, "category": c.category, "severity": c.severity,
             "since": c.since.isoformat(), "open_seconds": _seconds(c.since, now),
             "room_link": c.room_link}
            for c in snap.crisis
        ],
        "today": None if today is None else {
            "opened": today.opened, "closed": today.closed,
            "crisis_flags": today.crisis_flags,
            "median_wait_seconds": today.median_wait_seconds,
            "deadline_breaches": today.deadline_breaches,
        },
    }
