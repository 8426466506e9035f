"""The bot's encrypted direct room with each staff member, for what is theirs alone.

The staff room is read by all staff: a video call's moderator link there let every
colleague into any youth's call, unannounced (`!supervise` lets only a team lead in, and
tells the youth). Such a text goes to one staff member in a direct room of the bot's with
them: encrypted, only the bot manages it (nobody else can be invited), opened on demand and
kept in the store's settings (`private_room:<user>`). It is marked as a direct chat in the
bot's `m.direct` account data, and the invitation carries `is_direct`, so Element lists it
among the direct messages on both sides.

A text waits until the staff member has accepted the invitation (nio shares the room key
reliably only with members it knows joined); one that waits too long is told to the team
leads (`unaccepted.py`). A room that is no longer private to the two
(the staff member left it or rejected the invitation, someone else is in it, the bot is out
of it) is left and forgotten, and the next text opens a new one, but not more than one
per `REOPEN_AFTER` for someone who rejected the last one (never joined it): they got a new
invitation at every retry of the waiting text, every few seconds all night. At the start, rooms of
people taken off the staff list are left and forgotten too (`ensure`): nothing more goes
there, and the bot holds no room with them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from nio import Api, AsyncClient, RoomCreateError, RoomPreset

from counsel_bot.channels.matrix.membership import membership_of, still_joined
from counsel_bot.channels.matrix.room_settings import ENCRYPTION, counselling_power_levels
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import Store

log = logging.getLogger(__name__)

PREFIX = "private_room:"
# A new room for someone who rejected the last one: the waiting text is told to
# the team leads meanwhile (`unaccepted.py`).
REOPEN_AFTER = timedelta(minutes=30)
DIRECT = "m.direct"


def setting_key(user: UserID) -> str:
    return f"{PREFIX}{user}"


class PrivateRooms:
    def __init__(self, client: AsyncClient, store: Store, staff: Collection[UserID],
                 clock: Clock) -> None:
        self._client = client
        self._store = store
        self._staff = frozenset(staff)
        self._clock = clock
        self._opening = asyncio.Lock()
        # When someone last rejected a room (never joined, then gone), and the rooms seen
        # joined; in memory: a restart opens a room at once.
        self._rejected: dict[UserID, datetime] = {}
        self._seen_joined: set[RoomID] = set()

    def is_staff(self, user: UserID) -> bool:
        return user in self._staff

    def joined(self, room_id: RoomID, user: UserID) -> bool:
        """Whether ``user`` has accepted the invitation (as far as the last sync knows).
        nio shares a room's key reliably only with members it knows joined: sent while
        they join, a text came without its key and could never be read."""
        room = self._client.rooms.get(room_id)
        joined = room is not None and user in room.users and user not in room.invited_users
        if joined:
            self._seen_joined.add(room_id)
        return joined

    async def room_for(self, user: UserID) -> RoomID | None:
        """The direct room with ``user``, opened now if there is none or it is no longer
        private to the two (None: the homeserver refused to open one, ``user`` is no
        longer staff, or `reopen_waits`)."""
        if not self.is_staff(user):
            return None
        async with self._opening:  # one room per person, though several texts wait for it
            stored = await self._store.get_setting(setting_key(user))
            if stored:
                room_id = RoomID(stored)
                if await self._private(room_id, user):
                    return room_id
                if room_id not in self._seen_joined and not self.joined(room_id, user):
                    self._rejected[user] = self._clock.now()
                await self._drop(user, room_id)
            if self.reopen_waits(user):
                return None
            return await self._open(user)

    def reopen_waits(self, user: UserID) -> bool:
        """``user`` rejected their room (never joined it) less than `REOPEN_AFTER` ago."""
        rejected = self._rejected.get(user)
        now = self._clock.now()
        return rejected is not None and rejected <= now < rejected + REOPEN_AFTER

    async def lost(self, user: UserID, room_id: RoomID) -> bool:
        """``room_id`` refused a text for ``user``: True if it is no longer theirs (dropped
        now, so the text waits for a new one), False if it stands (the refusal is another)."""
        async with self._opening:
            if await self._store.get_setting(setting_key(user)) != room_id:
                return True  # replaced meanwhile
            if await self._private(room_id, user):
                return False
            await self._drop(user, room_id)
            return True

    async def ensure(self) -> None:
        """On the first sync: the rooms of people no longer on the staff list are left and
        forgotten, and `m.direct` names those that are kept (again: one refused before)."""
        async with self._opening:
            rooms = [(UserID(key.removeprefix(PREFIX)), RoomID(value))
                     for key, value in await self._store.settings(PREFIX) if value]
            for user, room_id in rooms:
                if user not in self._staff:
                    await self._drop(user, room_id, mark=False)
            if rooms:
                await self._mark_direct()

    async def _private(self, room_id: RoomID, user: UserID) -> bool:
        """Still the two's: encrypted, the bot in it, ``user`` joined or invited, nobody
        else."""
        room = self._client.rooms.get(room_id)
        if room is None:
            # Opened moments ago (nio learns of it with the next sync), or the bot is out.
            return await still_joined(self._client, room_id) is not False
        members = set(room.users) | set(room.invited_users)
        if not members <= {self._client.user_id, user}:
            return False
        if user in members and room.encrypted:
            return True
        # nio's view of a room made moments ago may lag: a sync that came while the
        # homeserver was still writing the room's invitation or encryption showed it with the
        # bot alone, and the bot left its fresh room (the link then went to the next one, and
        # the counsellor's join of the first failed). The server says whether they left.
        return await self._invited_or_joined(room_id, user)

    async def _invited_or_joined(self, room_id: RoomID, user: UserID) -> bool:
        # No member event, or the bot out of the room: not theirs. The server away: kept, as
        # dropping a room for a refusal of the moment would cost the counsellor a new one.
        membership = await membership_of(self._client, room_id, user)
        return membership is None or membership in ("invite", "join")

    async def _drop(self, user: UserID, room_id: RoomID, *, mark: bool = True) -> None:
        log.info("a staff member's direct room with the bot is no longer private to the "
                 "two (left, or off the staff list); the bot leaves it")
        await self._store.set_setting(setting_key(user), "")
        # Errors ignored: a room the bot is already out of is left as wanted.
        await self._client.room_leave(room_id)
        await self._client.room_forget(room_id)
        if mark:
            await self._mark_direct()

    async def _open(self, user: UserID) -> RoomID | None:
        answer = await self._client.room_create(
            is_direct=True, preset=RoomPreset.private_chat, invite=[user],
            initial_state=[ENCRYPTION],
            # Only the bot invites: a colleague let in would get the next link's key.
            power_level_override=counselling_power_levels(),
        )
        if isinstance(answer, RoomCreateError):
            log.error("the homeserver refused to create a direct room with a staff member "
                      "(%s)", answer.status_code)
            return None
        room_id = RoomID(answer.room_id)
        await self._store.set_setting(setting_key(user), room_id)
        await self._mark_direct()
        return room_id

    async def _mark_direct(self) -> None:
        """The bot's `m.direct`: each staff member's room, so clients show them as direct
        chats (only the bot writes it; its other rooms are no direct chats of its own)."""
        direct = {key.removeprefix(PREFIX): [value]
                  for key, value in await self._store.settings(PREFIX) if value}
        path = Api._build_path(["user", self._client.user_id, "account_data", DIRECT])
        try:
            response = await self._client.send(
                "PUT", path, json.dumps(direct),
                headers={"Authorization": f"Bearer {self._client.access_token}",
                         "Content-Type": "application/json"})
            status = response.status
            response.release()
        except Exception as exc:  # a label for clients: never worth failing a text for
            log.warning("cannot update the bot's direct chats (%s)", type(exc).__name__)
            return
        if status != 200:
            log.warning("the homeserver refused the bot's direct chats (%s)", status)
