"""Invitations into youths' rooms: joined at once, asked again when the homeserver fails,
and each joined room noted as due its welcome (kept in the store, so a stop before the next
sync does not leave the youth unanswered)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from nio import AsyncClient, InviteMemberEvent, JoinError, SyncResponse

from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import RoomID
from counsel_bot.store import Store

log = logging.getLogger(__name__)

# A setting per room joined on an invitation whose welcome (or move) is still to come.
WELCOME_DUE_PREFIX = "welcome_due:"
# A join the homeserver failed (not refused) is asked for again this often: an invitation
# comes in one sync only, and the youth who sent it waits for an answer.
JOIN_RETRY = timedelta(seconds=15)
# How long the sync loop waits for a join's answer. nio asks again for ever when a request
# times out, and the loop reads nobody meanwhile: one youth's slow homeserver held every
# other youth's words, crisis words too. A join answered later (the homeserver goes on) comes
# among the joined rooms and is welcomed then (`Invitations.due`); else it is asked for again.
JOIN_WAIT = timedelta(seconds=5)
# Answers to a join that trying again cannot change (the invitation withdrawn, the room gone,
# a room version this homeserver cannot join).
JOIN_REFUSED = frozenset({"M_FORBIDDEN", "M_NOT_FOUND", "M_UNSUPPORTED_ROOM_VERSION",
                          "M_INCOMPATIBLE_ROOM_VERSION"})


class Invitations:
    def __init__(self, client: AsyncClient, store: Store, clock: Clock,
                 is_staff: Callable[[str], bool]) -> None:
        self.client = client
        self.store = store
        self.clock = clock
        self.is_staff = is_staff
        # Rooms joined whose welcome (or move) is still to come (`Welcomes.joined`).
        self.welcome_due: set[RoomID] = set()
        # Invitations whose join failed, and when to ask again (a restart's first sync,
        # with full state, brings the invitations again).
        self._join_again: dict[RoomID, datetime] = {}

    async def invited(self, room_id: RoomID, invite_state: list[Any]) -> None:
        invitation = next(
            (e for e in invite_state
             if isinstance(e, InviteMemberEvent) and e.state_key == self.client.user_id
             and e.membership == "invite"),
            None,
        )
        if invitation is None or self.is_staff(invitation.sender):
            return  # staff rooms are the bot's own; it is not pulled into others
        await self.join(room_id)

    async def join(self, room_id: RoomID) -> None:
        self._join_again.pop(room_id, None)
        try:
            answer = await asyncio.wait_for(self.client.join(room_id),
                                            JOIN_WAIT.total_seconds())
        except TimeoutError:
            answer = None  # not answered in time: asked again, as after a failed join
        if hasattr(answer, "room_id"):
            await self.joined(room_id)
        elif isinstance(answer, JoinError) and answer.status_code in JOIN_REFUSED:
            log.warning("could not join a room it was invited to (%s)", answer.status_code)
            await self.forget(room_id)
        else:
            log.warning("could not join a room it was invited to (%s); asked again in %d s",
                        getattr(answer, "status_code", None), JOIN_RETRY.total_seconds())
            self._join_again[room_id] = self.clock.now() + JOIN_RETRY
            # The homeserver may have joined all the same: welcomed when a start finds the
            # room among the joined ones, as the retry below does (kept in memory only).
            await self.store.set_setting(f"{WELCOME_DUE_PREFIX}{room_id}", "1")

    async def forget(self, room_id: RoomID) -> None:
        """Deleted, not emptied: a room with no conversation (a join refused, an invitation
        withdrawn, a youth gone before the welcome) is found by no erasure, and the youth's
        room id in the key stayed for good (None: only deleted)."""
        await self.store.move_to_sealed(f"{WELCOME_DUE_PREFIX}{room_id}", None)

    async def joined(self, room_id: RoomID) -> None:
        # Kept in the store: a stop before the next sync must not leave the youth unanswered
        # (in an unencrypted room, for good: the bot reads only encrypted messages).
        await self.store.set_setting(f"{WELCOME_DUE_PREFIX}{room_id}", "1")
        self.welcome_due.add(room_id)

    async def due(self, response: SyncResponse) -> None:
        """Join the rooms whose join failed before, once their time has come; one whose
        invitation was withdrawn (it comes among the left rooms) is forgotten. One among the
        joined rooms was joined after all (the homeserver went on after the proxy's 502):
        welcomed as after any join, or its youth was never greeted nor moved, and in a room
        without encryption their words were dropped unread."""
        now = self.clock.now()
        for room_id, when in list(self._join_again.items()):
            if room_id in response.rooms.join:
                del self._join_again[room_id]
                await self.joined(room_id)
            elif room_id in response.rooms.leave:
                del self._join_again[room_id]
                await self.forget(room_id)
            elif when <= now:
                await self.join(room_id)
