"""When a crisis flag waits too long for a human, page the team lead (pure, time passed in).

"Handled" means: a waiting conversation was taken by someone, or the flag was confirmed or
dismissed (for a conversation already assigned when flagged, its counsellor must react).
Each flag pages once.
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


@dataclass
class _Pending:
    since: datetime
    assigned_when_flagged: bool


@dataclass
class EscalationTracker:
    timeout: timedelta
    _pending: dict[ConversationID, _Pending] = field(default_factory=dict)

    def flagged(self, conversation: ConversationID, at: datetime, *, assigned: bool) -> None:
        self._pending.setdefault(conversation, _Pending(at, assigned))

    def update(self, snapshot: RouterSnapshot) -> None:
        """Forget flags a human has handled, by the router's current state."""
        open_by_id = {c.conversation: c for c in snapshot.conversations}
        for conversation, pending in list(self._pending.items()):
            if _handled(pending, open_by_id.get(conversation)):
                del self._pending[conversation]

    def due(self, now: datetime) -> list[tuple[ConversationID, timedelta]]:
        """Flags unhandled for longer than the timeout, each returned once."""
        late = [(cid, now - p.since) for cid, p in self._pending.items()
                if now - p.since >= self.timeout]
        for conversation, _ in late:
            del self._pending[conversation]
        return late

    def restore(self, snapshot: RouterSnapshot, now: datetime) -> None:
        """After a restart: raised, unreviewed flags wait again, from now (the flag time is
        not stored); a lead is paged one timeout after the restart at the latest."""
        for conversation in snapshot.conversations:
            if conversation.crisis is CrisisStatus.RAISED:
                self.flagged(conversation.conversation, now,
                             assigned=conversation.state is ConversationState.ASSIGNED)


def _handled(pending: _Pending, current: ConversationSnapshot | None) -> bool:
    if current is None:  # closed
        return True
    if current.crisis in (CrisisStatus.CONFIRMED, CrisisStatus.DISMISSED):
        return True
    # Taking a waiting conversation counts; an assigned counsellor must confirm or dismiss.
    return not pending.assigned_when_flagged and current.state is ConversationState.ASSIGNED
