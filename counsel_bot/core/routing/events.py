"""Events fed into the `Router`. Each carries `at`: the router never reads a clock.

System events come from the bot itself (intake, crisis detector, room membership, config) and
are trusted. Staff events carry `by`, the Matrix user who issued the command; the router checks
their role and refuses with a `Reply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.model import Channel, HandoverReason, Role

# --- system events -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationOpened:
    at: datetime
    conversation: ConversationID
    language: str = "de"
    channel: Channel = Channel.CHAT
    office: str = ""
    # Opened again after its close: the assignments it had, counted on.
    assignments: int = 0


@dataclass(frozen=True)
class OfficeChosen:
    """The youth said what it is about (or the bot chose the fallback): the office is set."""

    at: datetime
    conversation: ConversationID
    office: str


@dataclass(frozen=True)
class LanguageTold:
    """The first words that tell the youth's language, when those that opened the
    conversation did not (nothing decrypted yet, a picture, a "hey")."""

    at: datetime
    conversation: ConversationID
    language: str


@dataclass(frozen=True)
class CrisisRaised:
    at: datetime
    conversation: ConversationID
    severity: int = 1
    # Said in so many words (a rule) at the severity the model alone had flagged: raises a
    # dismissed flag again though it is no stronger.
    outright: bool = False


@dataclass(frozen=True)
class ChannelChanged:
    """The youth switched between live chat and mail."""

    at: datetime
    conversation: ConversationID
    channel: Channel


@dataclass(frozen=True)
class YouthEnded:
    at: datetime
    conversation: ConversationID


@dataclass(frozen=True)
class CounsellorLeftRoom:
    at: datetime
    conversation: ConversationID
    counsellor: UserID


@dataclass(frozen=True)
class StaffAdded:
    """From configuration: `user` is staff with `role` (re-sending updates the role)."""

    at: datetime
    user: UserID
    role: Role


@dataclass(frozen=True)
class StaffRemoved:
    at: datetime
    user: UserID


@dataclass(frozen=True)
class Tick:
    """Time passed: lets deferred queue notices go out."""

    at: datetime


# --- staff events ------------------------------------------------------------------------


@dataclass(frozen=True)
class CounsellorOnDuty:
    at: datetime
    by: UserID


@dataclass(frozen=True)
class CounsellorOffDuty:
    at: datetime
    by: UserID
    reason: HandoverReason = HandoverReason.PLANNED


@dataclass(frozen=True)
class CapacitySet:
    at: datetime
    by: UserID
    capacity: int


@dataclass(frozen=True)
class LanguagesSet:
    at: datetime
    by: UserID
    languages: tuple[str, ...]


@dataclass(frozen=True)
class TopicsSet:
    at: datetime
    by: UserID
    topics: tuple[str, ...]


@dataclass(frozen=True)
class TakeNext:
    at: datetime
    by: UserID


@dataclass(frozen=True)
class Take:
    at: datetime
    by: UserID
    conversation: ConversationID


@dataclass(frozen=True)
class Transfer:
    at: datetime
    by: UserID
    conversation: ConversationID
    to: UserID | None  # None = back to the queue


@dataclass(frozen=True)
class TransferToOffice:
    """``!transfer office:ID``: the conversation moves to another office's queue."""

    at: datetime
    by: UserID
    conversation: ConversationID
    office: str


@dataclass(frozen=True)
class Close:
    at: datetime
    by: UserID
    conversation: ConversationID


@dataclass(frozen=True)
class CrisisConfirmed:
    at: datetime
    by: UserID
    conversation: ConversationID


@dataclass(frozen=True)
class CrisisDismissed:
    at: datetime
    by: UserID
    conversation: ConversationID


@dataclass(frozen=True)
class StatusRequested:
    at: datetime
    by: UserID


@dataclass(frozen=True)
class QueueRequested:
    at: datetime
    by: UserID


SystemEvent = (
    ConversationOpened
    | OfficeChosen
    | LanguageTold
    | CrisisRaised
    | ChannelChanged
    | YouthEnded
    | CounsellorLeftRoom
    | StaffAdded
    | StaffRemoved
    | Tick
)
StaffEvent = (
    CounsellorOnDuty
    | CounsellorOffDuty
    | CapacitySet
    | LanguagesSet
    | TopicsSet
    | TakeNext
    | Take
    | Transfer
    | TransferToOffice
    | Close
    | CrisisConfirmed
    | CrisisDismissed
    | StatusRequested
    | QueueRequested
)
Event = SystemEvent | StaffEvent
