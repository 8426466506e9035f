"""Messages the bot could not decrypt yet, waiting for their room keys (pure, clocked).

Megolm keys travel as to-device messages and may arrive after the message they unlock, so an
undecryptable event is not an error at first: it waits. Only after a grace period is the sender
asked to write again, once per room.

The buffer lives in memory, so each waiting event remembers the sync token from before the
batch that brought it: the bot resumes from the earliest of these after a restart, and the
event is fetched (and waited for) again instead of being lost with the process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from counsel_bot.core.ids import EventID, RoomID

E = TypeVar("E")


@dataclass
class _Waiting(Generic[E]):
    event: E
    room_id: RoomID
    since: datetime
    resume: str | None


@dataclass
class UndecryptableBuffer(Generic[E]):
    grace: timedelta
    _waiting: dict[EventID, _Waiting[E]] = field(default_factory=dict)

    def add(
        self, event_id: EventID, room_id: RoomID, event: E, at: datetime,
        resume: str | None = None,
    ) -> None:
        """``resume``: the sync token from before the batch that brought the event."""
        self._waiting.setdefault(event_id, _Waiting(event, room_id, at, resume))

    def holds_back(self) -> bool:
        return bool(self._waiting)

    def resume_token(self) -> str | None:
        """The token to resume from while events wait: the earliest one's (None: sync from
        the start). Only meaningful if ``holds_back()``."""
        return next(iter(self._waiting.values())).resume

    def pending(self) -> list[tuple[EventID, E]]:
        """Everything still waiting, to retry decryption after new keys arrived."""
        return [(event_id, waiting.event) for event_id, waiting in self._waiting.items()]

    def resolved(self, event_id: EventID) -> None:
        self._waiting.pop(event_id, None)

    def expire(self, now: datetime) -> list[tuple[RoomID, list[E]]]:
        """Drop what waited longer than the grace period; return each affected room once,
        with its events (in a group's room, each writer is asked on their own)."""
        expired = [eid for eid, w in self._waiting.items() if now - w.since >= self.grace]
        rooms: dict[RoomID, list[E]] = {}
        for event_id in expired:
            waiting = self._waiting.pop(event_id)
            rooms.setdefault(waiting.room_id, []).append(waiting.event)
        return list(rooms.items())

    def __len__(self) -> int:
        return len(self._waiting)
