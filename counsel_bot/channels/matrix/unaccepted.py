"""How long a text for one staff member alone has waited for them to accept the bot's
direct room, and when their team leads are to be told (`UNACCEPTED_AFTER`).

Such a text (a youth's mail once someone came into the chat with the case code, a call's
moderator link) waits until the invitation is accepted (`private_rooms.py`). The staff
member is told in the staff room that it waits; one who never accepts (asleep on a night
shift, the invitation lost among others) leaves it unread for good, and nobody else knew.
Kept in memory: after a restart the wait is counted again from the first try.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# The next-response target (`[timers] next_response_minutes`' default): a youth's mail
# unread longer than a chat's answer may take is one a lead must know of.
UNACCEPTED_AFTER = timedelta(minutes=15)


class UnacceptedTexts:
    def __init__(self, after: timedelta = UNACCEPTED_AFTER) -> None:
        self.after = after
        self._since: dict[str, datetime] = {}
        self._told: set[str] = set()

    def tried(self, key: str, now: datetime) -> None:
        """The text ``key`` is being sent: its wait counts from its first try (the room
        may be opened by it, the invitation still on its way)."""
        self._since.setdefault(key, now)

    def due(self, key: str, now: datetime) -> bool:
        """Whether the text ``key``, waiting now, has waited long enough for its leads to
        be told: True once per text (`not_told` undoes it when telling failed)."""
        since = self._since.setdefault(key, now)
        if key in self._told or now - since < self.after:
            return False
        self._told.add(key)
        return True

    def not_told(self, key: str) -> None:
        self._told.discard(key)

    def sent(self, key: str) -> None:
        """The text went out (accepted at last, or a new room): nothing waits any more."""
        self._since.pop(key, None)
        self._told.discard(key)
