"""Open chats whose room the bot is no longer in, found by asking the homeserver.

A sync tells the bot it left a room by the leave event in ``rooms.leave``. An admin's
deletion with purge takes that event with the room: a bot that was stopped, or too busy to
sync before the purge ended, never learns it is out, and the conversation stayed open for
good (a flagged one first in the queue, its counsellor's place taken). So at its first sync
and every few minutes after, the bot compares the rooms of its open chats with the rooms
the homeserver says it is joined to."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from nio import AsyncClient, JoinedRoomsResponse

from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import Channel
from counsel_bot.core.routing.router import Router
from counsel_bot.store import Store

log = logging.getLogger(__name__)

# One request for every room the bot is in (some 100 KB for 2,000 conversations); a purge
# the sync missed is rare, so a few minutes' delay costs a counsellor's place for that long.
LOOK_INTERVAL = timedelta(minutes=5)


class LostRooms:
    def __init__(self, client: AsyncClient, store: Store, router: Callable[[], Router],
                 clock: Clock, lost: Callable[[RoomID], Awaitable[None]]) -> None:
        self._client = client
        self._store = store
        self._router = router
        self._clock = clock
        self._lost = lost
        self._last: datetime | None = None

    async def look(self) -> None:
        """At the first call, then once ``LOOK_INTERVAL`` has passed (or the clock was set
        back): each open chat whose room the homeserver does not count the bot in ends as
        a lost room does."""
        now = self._clock.now()
        if self._last is not None and self._last <= now < self._last + LOOK_INTERVAL:
            return
        self._last = now
        # The chats first, the rooms after: a chat opened in between is in a room the bot
        # had joined before it opened, so the answer counts it.
        chats = [c.conversation for c in self._router().snapshot().conversations
                 if c.channel is Channel.CHAT]
        if not chats:
            return
        answer = await self._client.joined_rooms()
        if not isinstance(answer, JoinedRoomsResponse):
            log.warning("could not list the bot's rooms; looked for lost rooms again later")
            return
        joined = set(answer.rooms)
        for conversation in chats:
            room = await self._store.room_of(conversation)
            if room is not None and room not in joined:
                log.warning("an open chat's room is gone from the homeserver (deleted while "
                            "the bot did not sync?); the chat ends")
                await self._lost(room)
