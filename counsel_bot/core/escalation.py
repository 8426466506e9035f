"""When a crisis waits too long for a human, page the team lead (pure, time passed in).

A wait for a human begins when a flag is raised, and again whenever a flagged conversation
(raised or confirmed, not dismissed) is back in the queue with nobody assigned: a
counsellor went off duty, handed it back, or it was moved to an office with nobody on duty.
It ends when someone takes the conversation, or dismisses the flag; a flag raised while a
counsellor already had the conversation ends only when that counsellor confirms or
dismisses it. A conversation that closes while a wait runs (the youth wrote "ende" or left
before anyone looked) does not end it: a lead still hears of a flag nobody reviewed. Each
wait pages once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from counsel_bot.core.ids import ConversationID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    CrisisStatus,
    RouterSnapshot,
)

# Flags that still ask for a human; a dismissed one does not.
_ACTIVE = (CrisisStatus.RAISED, CrisisStatus.CONFIRMED)


@dataclass
class _Wait:
    since: datetime
    # Flagged while its counsellor had it: only a review ends the wait.
    needs_review: bool
    paged: bool = False
    closed: bool = False  # the conversation ended while the wait ran


@dataclass(frozen=True)
class Due:
    conversation: ConversationID
    waited: timedelta
    closed: bool  # the conversation ended while the wait ran


@dataclass
class EscalationTracker:
    timeout: timedelta
    _waits: dict[ConversationID, _Wait] = field(default_factory=dict)

    def flagged(self, conversation: ConversationID, at: datetime, *, assigned: bool) -> None:
        self._waits.setdefault(conversation, _Wait(at, assigned))

    def update(self, snapshot: RouterSnapshot, now: datetime) -> None:
        """Start waits for flagged conversations back in the queue, end those a human
        handled, by the router's current state."""
        open_by_id = {c.conversation: c for c in snapshot.conversations}
        for snap in snapshot.conversations:
            if (snap.crisis in _ACTIVE and snap.state is not ConversationState.ASSIGNED
                    and snap.conversation not in self._waits):
                self._waits[snap.conversation] = _Wait(now, needs_review=False)
        for conversation, wait in list(self._waits.items()):
            current = open_by_id.get(conversation)
            if current is None:
                wait.closed = True
                if wait.paged:
                    del self._waits[conversation]
            elif _ended(wait, current):
                del self._waits[conversation]

    def due(self, now: datetime) -> list[Due]:
        """Waits longer than the timeout, each returned once."""
        late = [Due(cid, now - w.since, w.closed) for cid, w in self._waits.items()
                if not w.paged and now - w.since >= self.timeout]
        for item in late:
            self._waits[item.conversation].paged = True
        return late

    def forget(self, conversation: ConversationID) -> None:
        """The youth had it erased: nothing pages about it any more (its alert went out
        when it was flagged; an alert still unsent goes with the rest of it)."""
        self._waits.pop(conversation, None)

    def restore(self, snapshot: RouterSnapshot, now: datetime) -> None:
        """After a restart: raised, unreviewed flags wait again, from now (the flag time is
        not stored); a lead is paged one timeout after the restart at the latest."""
        for conversation in snapshot.conversations:
            if conversation.crisis is CrisisStatus.RAISED:
                self.flagged(conversation.conversation, now,
                             assigned=conversation.state is ConversationState.ASSIGNED)


def _ended(wait: _Wait, current: ConversationSnapshot) -> bool:
    if current.crisis is CrisisStatus.DISMISSED:
        return True
    if wait.needs_review:
        return current.crisis is CrisisStatus.CONFIRMED
    return current.state is ConversationState.ASSIGNED
