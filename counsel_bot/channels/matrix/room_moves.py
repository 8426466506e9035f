"""Rooms a youth was moved out of, and the room they were moved to.

A youth whose app made a room the bot cannot moderate (or an unencrypted one) is invited
to the bot's own room. Youths write at once, before they read that: the bot stays in the
first room until the youth has joined the new one (or left the first), and what they
write there meanwhile counts as written in the new room, crisis check included. Kept in
the store (`moved_from:<new room>` = the first room), keyed by the new room so that
erasing its conversation erases the link too.
"""

from __future__ import annotations

from counsel_bot.core.ids import RoomID
from counsel_bot.store import Store

MOVED_FROM_PREFIX = "moved_from:"


class RoomMoves:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._to: dict[RoomID, RoomID] | None = None  # first room -> new room

    async def _loaded(self) -> dict[RoomID, RoomID]:
        if self._to is None:
            self._to = {RoomID(old): RoomID(key.removeprefix(MOVED_FROM_PREFIX))
                        for key, old in await self._store.settings(MOVED_FROM_PREFIX) if old}
        return self._to

    async def moved(self, first: RoomID, new: RoomID) -> None:
        await self._store.set_setting(f"{MOVED_FROM_PREFIX}{new}", first)
        (await self._loaded())[first] = new

    async def target(self, first: RoomID) -> RoomID | None:
        """The room a youth writing in ``first`` was moved to (None: not moved, or done)."""
        return (await self._loaded()).get(first)

    async def first_of(self, new: RoomID) -> RoomID | None:
        return next((old for old, to in (await self._loaded()).items() if to == new), None)

    async def done(self, first: RoomID) -> None:
        """The youth arrived in the new room or left the first: the bot leaves it."""
        moves = await self._loaded()
        new = moves.pop(first, None)
        if new is not None:
            await self._store.set_setting(f"{MOVED_FROM_PREFIX}{new}", "")
