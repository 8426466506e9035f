"""Actions the `Router` asks the adapter to perform. Message keys, never text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.model import UnassignReason


class ReplyKey(StrEnum):
    """Every key a `Reply` can carry; the messages table must have a text for each."""

    DUTY_ON = "duty.on"
    DUTY_OFF = "duty.off"
    DUTY_OFF_NOBODY_LEFT = "duty.off_nobody_left"
    TRANSFER_QUEUE_NOBODY_LEFT = "transfer.queue_nobody_left"
    CAPACITY_SET = "capacity.set"
    LANGUAGES_SET = "languages.set"
    TOPICS_SET = "topics.set"
    STATUS = "status"
    STATUS_OFF_DUTY = "status.off_duty"
    QUEUE = "queue"
    QUEUE_EMPTY = "queue.empty"
    CRISIS_CONFIRMED = "crisis.confirmed"
    CRISIS_DISMISSED = "crisis.dismissed"
    REFUSED_NOT_STAFF = "refused.not_staff"
    REFUSED_OFF_DUTY = "refused.off_duty"
    REFUSED_AT_CAPACITY = "refused.at_capacity"
    REFUSED_UNKNOWN_CONVERSATION = "refused.unknown_conversation"
    REFUSED_ALREADY_YOURS = "refused.already_yours"
    REFUSED_ASSIGNED_TO_OTHER = "refused.assigned_to_other"
    REFUSED_NOT_ASSIGNED = "refused.not_assigned"
    REFUSED_NOT_YOURS = "refused.not_yours"
    REFUSED_TEAM_LEAD_ONLY = "refused.team_lead_only"
    REFUSED_CRISIS_WAITING = "refused.crisis_waiting"
    REFUSED_SAME_COUNSELLOR = "refused.same_counsellor"
    REFUSED_TARGET_NOT_STAFF = "refused.target_not_staff"
    REFUSED_TARGET_OFF_DUTY = "refused.target_off_duty"
    REFUSED_TARGET_FULL = "refused.target_full"
    REFUSED_BAD_CAPACITY = "refused.bad_capacity"
    REFUSED_BAD_LANGUAGES = "refused.bad_languages"
    REFUSED_BAD_TOPICS = "refused.bad_topics"
    REFUSED_NO_CRISIS_FLAG = "refused.no_crisis_flag"
    OFFICE_TRANSFERRED = "office.transferred"
    REFUSED_UNKNOWN_OFFICE = "refused.unknown_office"
    REFUSED_SAME_OFFICE = "refused.same_office"
    REFUSED_TARGET_OTHER_OFFICE = "refused.target_other_office"


ParamValue = str | int


@dataclass(frozen=True)
class Assign:
    """Invite `counsellor` into the conversation's room and tell the youth who joined."""

    conversation: ConversationID
    counsellor: UserID
    assignment: int  # the conversation's n-th assignment: part of the idempotency key
    manual: bool = False


@dataclass(frozen=True)
class Unassign:
    """Remove `counsellor` from the room; tell the youth (by reason code, never details)."""

    conversation: ConversationID
    counsellor: UserID
    reason: UnassignReason


@dataclass(frozen=True)
class QueuePositionChanged:
    conversation: ConversationID
    position: int
    eta: timedelta | None  # None: nobody on duty, so no honest estimate


@dataclass(frozen=True)
class Reply:
    to: UserID
    message_key: ReplyKey
    params: tuple[tuple[str, ParamValue], ...] = ()

    def param(self, name: str) -> ParamValue | None:
        return dict(self.params).get(name)


@dataclass(frozen=True)
class Closed:
    conversation: ConversationID
    by: UserID | None  # None = the youth ended it
    counsellor: UserID | None  # who was assigned, so the adapter can remove them


Action = Assign | Unassign | QueuePositionChanged | Reply | Closed
