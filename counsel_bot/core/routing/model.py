"""The routing state as plain frozen data: what `Router.snapshot()` returns and the store keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from counsel_bot.core.ids import ConversationID, UserID

if TYPE_CHECKING:
    from counsel_bot.core.routing.offices import OfficeRules


class Role(StrEnum):
    COUNSELLOR = "counsellor"
    TEAM_LEAD = "team_lead"


class Channel(StrEnum):
    CHAT = "chat"
    MAIL = "mail"


class Priority(StrEnum):
    CRISIS = "crisis"
    NORMAL = "normal"


class ConversationState(StrEnum):
    WAITING = "waiting"
    ASSIGNED = "assigned"
    # Only the store holds closed conversations; the router forgets them.
    CLOSED = "closed"


class CrisisStatus(StrEnum):
    NONE = "none"
    RAISED = "raised"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class HandoverReason(StrEnum):
    """Why a counsellor went off duty. Codes only: room events are immutable, so no details."""

    PLANNED = "planned"
    UNPLANNED = "unplanned"


class UnassignReason(StrEnum):
    TRANSFERRED = "transferred"
    RETURNED_TO_QUEUE = "returned_to_queue"
    OFF_DUTY_PLANNED = "off_duty_planned"
    OFF_DUTY_UNPLANNED = "off_duty_unplanned"
    LEFT_ROOM = "left_room"
    STAFF_REMOVED = "staff_removed"


@dataclass(frozen=True)
class Notice:
    """What a waiting youth was last told about their place in the queue."""

    position: int
    eta_bucket: int
    at: datetime


@dataclass(frozen=True)
class ConversationSnapshot:
    conversation: ConversationID
    state: ConversationState
    channel: Channel
    language: str
    # Kept across handovers, so a conversation handed back lands at the front of its priority.
    enqueued_at: datetime
    # Opening order: breaks ties between equal enqueued_at, keeping FIFO exact.
    seq: int
    crisis: CrisisStatus = CrisisStatus.NONE
    severity: int = 0
    assigned_to: UserID | None = None
    assigned_at: datetime | None = None
    # Counts assignments so each invite has its own idempotency key.
    assignments: int = 0
    # The counsellor who last handed it back; auto-assignment does not give it to them again.
    returned_by: UserID | None = None
    last_notice: Notice | None = None
    # The counselling office it is with ("" = the only office, or one from before offices).
    office: str = ""
    # When it was last handed back to the queue (None: never). Its place in the queue still
    # counts from enqueued_at; the wait a lead reads counts from here.
    requeued_at: datetime | None = None

    @property
    def waiting_since(self) -> datetime:
        """Since when it waits for a counsellor (or, once assigned, waited last)."""
        return self.enqueued_at if self.requeued_at is None else self.requeued_at

    @property
    def priority(self) -> Priority:
        if self.crisis in (CrisisStatus.RAISED, CrisisStatus.CONFIRMED):
            return Priority.CRISIS
        return Priority.NORMAL


@dataclass(frozen=True)
class CounsellorSnapshot:
    user: UserID
    role: Role
    on_duty: bool = False
    capacity: int = 2
    languages: tuple[str, ...] = ("de",)
    topics: tuple[str, ...] = ()
    # Breaks ties between equally loaded counsellors: the one idle longest goes first.
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class RouterSnapshot:
    conversations: tuple[ConversationSnapshot, ...] = ()
    counsellors: tuple[CounsellorSnapshot, ...] = ()
    # Recent handling times (seconds), newest last: the moving average behind the ETA.
    handling_seconds: tuple[float, ...] = ()
    next_seq: int = 0
    # Number of events handled; makes outbox keys deterministic.
    version: int = 0


@dataclass(frozen=True)
class RouterConfig:
    # False = manual queue: counsellors pull with !next / !take; handovers wait at the front.
    auto_assign: bool = True
    max_capacity: int = 10
    default_capacity: int = 2
    default_languages: tuple[str, ...] = ("de",)
    handling_window: int = 20
    # Used for the ETA until real handling times have been observed.
    assumed_handling_time: timedelta = timedelta(minutes=20)
    # An ETA-only change is told at most this often (a smaller position is always told).
    notice_min_interval: timedelta = timedelta(minutes=2)
    # Several offices: who may see and get which conversation (empty = a single office).
    offices: OfficeRules = field(default_factory=lambda: _no_offices())


def _no_offices() -> OfficeRules:
    from counsel_bot.core.routing.offices import OfficeRules

    return OfficeRules()
