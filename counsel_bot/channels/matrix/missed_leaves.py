"""Rooms the bot is out of though no sync said so, found by asking the homeserver.

A sync tells the bot it left a room by the leave event in ``rooms.leave``. An admin's
deletion with purge takes that event with the room: a bot that was stopped, or too busy to
sync before the purge ended, never learnt it was out. An open chat stayed open for good (a
flagged one first in the queue, its counsellor's place taken); a deleted office staff room
was not replaced until an alert failed in it. So at its first sync and every minute after,
the bot compares the rooms it must be in with the rooms the homeserver counts it in, and
handles each missing one as a leave the sync reported."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta

from nio import AsyncClient, JoinedRoomsResponse

from counsel_bot.channels.matrix.membership import membership_of
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import RoomID

log = logging.getLogger(__name__)

# One request listing every room the bot is in (some 100 KB for 2,000 conversations). A
# purge the sync missed is rare; a staff room missed that long holds its alerts that long.
LOOK_INTERVAL = timedelta(minutes=1)


class MissedLeaves:
    def __init__(self, client: AsyncClient, clock: Clock,
                 watched: Callable[[], Awaitable[Collection[RoomID]]],
                 left: Callable[[RoomID], Awaitable[None]]) -> None:
        self._client = client
        self._clock = clock
        self._watched = watched
        self._left = left
        self._last: datetime | None = None

    async def look(self) -> None:
        """At the first call, then once ``LOOK_INTERVAL`` has passed (or the clock was set
        back): each watched room the homeserver does not count the bot in is left."""
        now = self._clock.now()
        if self._last is not None and self._last <= now < self._last + LOOK_INTERVAL:
            return
        self._last = now
        # The rooms to watch first, the homeserver's list after: a chat opened in between is
        # in a room the bot had joined before it opened, so the list counts it.
        watched = await self._watched()
        if not watched:
            return
        answer = await self._client.joined_rooms()
        if not isinstance(answer, JoinedRoomsResponse):
            log.warning("could not list the bot's rooms; looking for missed leaves later")
            return
        joined = set(answer.rooms)
        for room in watched:
            if room not in joined and await self._out_of(room):
                log.warning("the bot is out of a room no sync said it left (deleted while "
                            "the bot did not sync?)")
                await self._left(room)

    async def _out_of(self, room: RoomID) -> bool:
        """Confirmed by the bot's own membership in the room, which the homeserver's main
        process answers: the list of rooms may come from a worker behind it by a moment
        (deploy/'s nginx), which had not yet counted a room made just now."""
        membership = await membership_of(self._client, room, self._client.user_id)
        return membership is not None and membership != "join"
