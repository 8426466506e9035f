"""Response-time targets for live chat: who waits too long for their counsellor (pure).

Rules this module keeps:
- A timer runs only while a live chat is assigned and its youth has written something
  the assigned counsellor has not answered yet. A mail conversation (also one the youth
  switched to mail) is held to its mail deadline instead, and back in the chat its wait
  begins with the words that brought the youth back (`Waiting.back_in_chat`). A waiting
  (queued) conversation is the queue's business, not a counsellor's.
- It starts at the later of the youth's first unanswered message and the assignment: a
  counsellor is not late for words written before they were given the conversation.
- Until the counsellor has written once in this assignment the target is the first-response
  one, afterwards the next-response one.
- Past the target the counsellor is reminded, once per wait (also when the clock is set
  back after the reminder). Past ``requeue_after`` (counted
  from the same start) the conversation goes back to the queue, so a colleague can take it.

Time is passed in; the state is plain frozen data the conversation layer keeps and stores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from counsel_bot.core.routing.model import Channel, ConversationSnapshot, ConversationState


class TimerSettingsError(ValueError):
    """The timer settings contradict each other; the message says which to change."""


@dataclass(frozen=True)
class TimerSettings:
    first_response: timedelta = timedelta(minutes=5)
    next_response: timedelta = timedelta(minutes=15)
    requeue_after: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if min(self.first_response, self.next_response) <= timedelta(0):
            raise TimerSettingsError("first_response_minutes and next_response_minutes must "
                                     "be positive")
        if self.requeue_after <= max(self.first_response, self.next_response):
            raise TimerSettingsError(
                "requeue_after_minutes must be longer than first_response_minutes and "
                "next_response_minutes: the counsellor is reminded before the conversation "
                "goes back to the queue")


@dataclass(frozen=True)
class Waiting:
    """What the timers know of one conversation.

    ``since``: the youth's first message not yet answered (None: nothing unanswered).
    ``answered_in``: the assignment number in which the counsellor last wrote (0: never).
    ``reminded_for``: the start of the wait the counsellor was last reminded about.
    """

    since: datetime | None = None
    answered_in: int = 0
    reminded_for: datetime | None = None

    def youth_wrote(self, at: datetime) -> Waiting:
        return self if self.since is not None else replace(self, since=at)

    def back_in_chat(self, at: datetime) -> Waiting:
        """The youth came back from mail: what they wrote before was the mail's to answer."""
        return replace(self, since=at, reminded_for=None)

    def counsellor_wrote(self, assignment: int) -> Waiting:
        return Waiting(since=None, answered_in=assignment, reminded_for=None)

    def not_after(self, now: datetime) -> Waiting:
        """The clock was set back past the wait's start: it counts from now, not from a time
        the clock reaches again only after the step (an hour's step, an hour's silence)."""
        return self if self.since is None or self.since <= now else replace(self, since=now)

    def reminded(self, start: datetime) -> Waiting:
        return replace(self, reminded_for=start)

    def encode(self) -> str:
        return json.dumps({
            "since": None if self.since is None else self.since.isoformat(),
            "answered_in": self.answered_in,
            "reminded_for": None if self.reminded_for is None else self.reminded_for.isoformat(),
        }, separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, raw: str | None) -> Waiting:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            since=_when(data.get("since")),
            answered_in=int(data.get("answered_in", 0)),
            reminded_for=_when(data.get("reminded_for")),
        )


class Target(StrEnum):
    FIRST = "first"
    NEXT = "next"


class Verdict(StrEnum):
    ON_TIME = "on_time"
    REMIND = "remind"  # past the target, not reminded yet for this wait
    OVERDUE = "overdue"  # past the target, reminded already
    REQUEUE = "requeue"  # past the second limit: back to the queue


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    target: Target = Target.FIRST
    start: datetime | None = None
    waited: timedelta = timedelta(0)

    @property
    def late(self) -> bool:
        return self.verdict is not Verdict.ON_TIME


def check(
    current: ConversationSnapshot | None, waiting: Waiting, settings: TimerSettings,
    now: datetime,
) -> Check:
    """How the conversation stands against its response target at ``now``."""
    if current is None or current.state is not ConversationState.ASSIGNED \
            or current.assigned_at is None or waiting.since is None \
            or current.channel is not Channel.CHAT:
        return Check(Verdict.ON_TIME)
    # An assignment "in the future" was made before the clock was set back: the wait alone
    # (`Waiting.not_after`) says since when the youth waits.
    start = waiting.since if current.assigned_at > now \
        else max(waiting.since, current.assigned_at)
    answered = waiting.answered_in == current.assignments
    target = Target.NEXT if answered else Target.FIRST
    limit = settings.next_response if answered else settings.first_response
    waited = now - start
    if waited >= settings.requeue_after:
        verdict = Verdict.REQUEUE
    elif waited < limit:
        verdict = Verdict.ON_TIME
    elif waiting.reminded_for is not None and waiting.reminded_for >= start:
        # Reminded for this wait: its start, or a later one when the clock was set back
        # since (`Waiting.not_after` moves the start, not the reminder). A new assignment
        # starts after the reminder and is reminded anew.
        verdict = Verdict.OVERDUE
    else:
        verdict = Verdict.REMIND
    return Check(verdict, target, start, waited)


def minutes(delta: timedelta) -> int:
    """Whole minutes, for the reminder text."""
    return int(delta.total_seconds() // 60)


def _when(raw: object) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None
