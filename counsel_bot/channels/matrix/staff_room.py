"""The staff room: where the bot tells counsellors and team leads what needs them.

It is created once, with the staff invited, and kept in the store's settings. A staff room
the bot has lost (an admin deleted it, someone with the power removed the bot, a failed
migration) refuses every notice, a crisis alert among them, and retrying cannot help. So a
room found lost is replaced: the bot opens a new one, invites the staff and says there why
(`announce`), and the alert goes there. Lost is decided by the homeserver's list of the
bot's joined rooms, never by a refusal alone: a room the bot is still in is kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from nio import AsyncClient, RoomCreateError

from counsel_bot.channels.matrix.membership import (
    LostRooms,
    SeenInvitations,
    invite_each,
    remove_all_but,
    still_joined,
)
from counsel_bot.channels.matrix.room_settings import ENCRYPTION, counselling_power_levels
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.messages import Language, text
from counsel_bot.store import Store

log = logging.getLogger(__name__)

STAFF_ROOM_KEY = "staff_room"

# Called with a staff room that replaced a lost one (and its office, "" for the main room).
Announce = Callable[[RoomID, str], Awaitable[None]]
# Called with a new staff room, its office, and the staff whose invitation was refused.
NotInvited = Callable[[RoomID, str, list[UserID]], Awaitable[None]]


class StaffRoom:
    """The main staff room (offices have their own: `office_rooms.OfficeStaffRooms`)."""

    def __init__(self, client: AsyncClient, store: Store, staff: Collection[UserID],
                 language: Language) -> None:
        self._client = client
        self._store = store
        self._staff = sorted(staff)
        self._language = language
        self._room: RoomID | None = None
        self._loaded = False
        self._lost = LostRooms(client)
        self._opening = asyncio.Lock()
        self.announce: Announce | None = None
        self.not_invited: NotInvited | None = None
        # The staff invited into a room made just now, until nio has seen them there.
        self.invitations: SeenInvitations | None = None

    async def current(self) -> RoomID | None:
        """Read once, then kept: it is asked on every message and every staff notice."""
        if not self._loaded:
            stored = await self._store.get_setting(STAFF_ROOM_KEY)
            self._room = RoomID(stored) if stored else None
            self._loaded = True
        return self._room

    async def for_notice(self) -> RoomID | None:
        """The staff room for a notice. One the homeserver refused to make at the first
        start (`ensure` asks once) is asked for again here, while the notice waits for it:
        else every staff notice, each crisis alert too, waited until a restart."""
        if await self.current() is None:
            async with self._opening:  # one room, though several lanes wait for it
                if await self.current() is None:
                    return await self._open()
        return self._room

    async def ensure(self) -> RoomID | None:
        """On the first sync: the room exists, the bot is in it, every staff member is in it
        or invited, and nobody else (staff taken off the list are removed). A room lost while
        the bot was stopped is replaced now, not at the first crisis alert. None only if the
        homeserver refused to create one."""
        existing = await self.current()
        if existing is None:
            return await self.for_notice()
        if await still_joined(self._client, existing) is False:
            await self.replace_if_lost(existing)
            return self._room
        await remove_all_but(self._client, existing, self._staff)
        room = self._client.rooms.get(existing)
        if room is not None:
            for user in self._staff:
                if user not in room.users:
                    await self._client.room_invite(existing, user)
        return existing

    async def replace_if_lost(self, room_id: RoomID) -> bool:
        """True if ``room_id`` was the staff room and is lost (replaced now or just before,
        or to be replaced at the next try), so a notice it refused waits for the new one."""
        return await self._lost.replace(room_id, await self.current(), self._reopen,
                                        self._opened)

    async def _reopen(self) -> RoomID | None:
        log.critical("the bot is no longer in the staff room (deleted, or the bot was "
                     "removed); opening a new one and inviting the staff")
        return await self._open()

    async def _opened(self, room_id: RoomID) -> None:
        if self.announce is not None:
            await self.announce(room_id, "")

    async def _open(self) -> RoomID | None:
        answer = await self._client.room_create(
            name=text("staff_room_name", self._language), initial_state=[ENCRYPTION],
            # Staff cannot invite outsiders into the staff room: the bot keeps its members.
            power_level_override=counselling_power_levels(),
        )
        if isinstance(answer, RoomCreateError):
            log.error("the homeserver refused to create the staff room (%s)", answer.status_code)
            return None
        room_id = RoomID(answer.room_id)
        refused = await invite_each(self._client, room_id, self._staff)
        if self.invitations is not None:
            self.invitations.invited(room_id, [u for u in self._staff if u not in refused])
        await self._store.set_setting(STAFF_ROOM_KEY, room_id)
        self._room, self._loaded = room_id, True
        if refused and self.not_invited is not None:
            # A log line alone told nobody: they read no crisis alert nor lead page here.
            await self.not_invited(room_id, "", refused)
        return room_id
