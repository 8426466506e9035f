"""Time from a conversation's assignment to its counsellor's first words in the room.

Counted once per assignment, in memory only: after a restart, a reply already counted may
count again; the histogram tolerates that better than a store write per message. Pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.model import ConversationSnapshot


class FirstReplies:
    def __init__(self) -> None:
        self._counted: set[tuple[ConversationID, int]] = set()

    def wait(
        self, current: ConversationSnapshot | None, sender: UserID, at: datetime
    ) -> timedelta | None:
        """How long the youth waited, if this is the assigned counsellor's first message
        since the assignment; None for anyone else and for later messages."""
        if current is None or current.assigned_to != sender or current.assigned_at is None:
            return None
        key = (current.conversation, current.assignments)
        if key in self._counted:
            return None
        self._counted.add(key)
        return at - current.assigned_at
