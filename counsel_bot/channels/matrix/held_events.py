"""A youth's events held while their move to a counselling room is refused.

Held in memory and read once the move is made (they count in the new room, crisis check
included), never dropped unread. The sync position is not saved past them while the refusal
may pass; for a move refused for good (403: maybe for hours) the position from before them
is kept per room instead (HELD_SINCE_PREFIX), so that a restart fetches them again.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from nio import AsyncClient

from counsel_bot.channels.matrix.room_history import GapUnavailable, events_since
from counsel_bot.core.ids import RoomID
from counsel_bot.store import Store

# A setting per room whose youth's words were held for a move refused for good, the saved sync
# position gone past them: the position from before them, to fetch them again once the move
# is made.
HELD_SINCE_PREFIX = "held_since:"


class HeldEvents:
    def __init__(self, client: AsyncClient, store: Store) -> None:
        self._client = client
        self._store = store
        self._events: dict[RoomID, list[Any]] = {}
        # The sync position from before the batch that brought a room's first held words.
        self._from: dict[RoomID, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self._events)

    def hold(self, room_id: RoomID, event: Any, position: str | None) -> None:
        """Hold ``event``; ``position`` is where the batch that brought it began."""
        self._from.setdefault(room_id, position)
        self._events.setdefault(room_id, []).append(event)

    async def keep_positions(self, refused_for_good: Container[RoomID]) -> bool:
        """Whether the sync position may be saved past the held words: not while a move
        that may pass holds them (a stop meanwhile must not lose them, crisis words
        included). Held for a move refused for good, the position stayed there for ever,
        and each start fetched, and after done_days handled anew, all the service's events
        since; the position from before their words is kept for their room instead."""
        if any(room not in refused_for_good for room in self._events):
            return False
        for room in self._events:
            since, key = self._from.get(room), f"{HELD_SINCE_PREFIX}{room}"
            if since is not None and await self._store.get_setting(key) is None:
                await self._store.set_setting(key, since)
        return True

    async def take(self, room_id: RoomID, *, gone: bool) -> list[Any]:
        """What the youth wrote in ``room_id`` while its move was refused, oldest first: held
        in memory, or, for a move refused for good whose words the saved sync position went
        past (a restart since lost them from memory), the room's events from the position
        before them, fetched again (handled ones are known by their ids)."""
        held = self._events.pop(room_id, [])
        self._from.pop(room_id, None)
        since = await self._store.get_setting(f"{HELD_SINCE_PREFIX}{room_id}")
        if since is None or gone:
            return held
        try:
            return await events_since(self._client, room_id, since)
        except GapUnavailable:
            self._events[room_id] = held  # kept for the next try
            raise

    async def done(self, room_id: RoomID) -> None:
        """The move is made and its words read: no position is kept for them any more."""
        await self._store.move_to_sealed(f"{HELD_SINCE_PREFIX}{room_id}", None)
