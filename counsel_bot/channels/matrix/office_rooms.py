"""Each office's own staff room: notices about an office's conversations reach only its staff.

A room configured as ``staff_room`` (alias or id) is joined; otherwise (or when it keeps the
bot out, or is not end-to-end encrypted) the bot creates an encrypted room per office and
invites that office's counsellors and team leads, as it does for the main staff room. The
room ids are kept in the store's settings (`staff_room:<id>`).
An office's room the bot has lost is replaced as the main one is (`staff_room.py`): joined
again where it was configured and lets the bot in, otherwise created anew.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nio import AsyncClient, ErrorResponse, JoinError, RoomCreateError, RoomGetStateEventError

from counsel_bot.channels.matrix.membership import (
    LostRooms,
    SeenInvitations,
    invite_each,
    remove_all_but,
    still_joined,
)
from counsel_bot.channels.matrix.staff_room import Announce, NotInvited
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.messages import Language, text
from counsel_bot.core.offices import OfficeBook
from counsel_bot.store import Store

log = logging.getLogger(__name__)

MEGOLM = "m.megolm.v1.aes-sha2"


def setting_key(office: str) -> str:
    return f"staff_room:{office}"


class OfficeStaffRooms:
    def __init__(
        self, client: AsyncClient, store: Store, book: OfficeBook, language: Language, *,
        initial_state: list[dict[str, Any]], power_levels: dict[str, Any],
    ) -> None:
        self._client = client
        self._store = store
        self._book = book
        self._language = language
        self._initial_state = initial_state
        self._power_levels = power_levels
        self._rooms: dict[str, RoomID] = {}
        self._lost = LostRooms(client)
        self._opening = asyncio.Lock()
        self.announce: Announce | None = None
        self.not_invited: NotInvited | None = None
        # The staff invited into a room made (or joined) just now, until nio has seen them.
        self.invitations: SeenInvitations | None = None

    async def room_of(self, office: str) -> RoomID | None:
        if office not in self._rooms:
            stored = await self._store.get_setting(setting_key(office))
            for old in ([] if stored else sorted(
                    o for o, now in self._book.former.items() if now == office)):
                # Renamed (`former_ids`): its staff keep their room, and its history.
                stored = await self._store.get_setting(setting_key(old))
                if stored:
                    await self._store.set_setting(setting_key(office), stored)
                    break
            if stored:
                self._rooms[office] = RoomID(stored)
        return self._rooms.get(office)

    async def room_for_notice(self, office: str) -> RoomID | None:
        """The office's staff room for a notice. One the homeserver refused to make at the
        start (`ensure` asks once) is asked for again here, while the notice waits for it:
        else every notice of the office, its crisis alerts too, waited until a restart.
        An office not configured (renamed or removed since, or still undecided) is the
        fallback office (rules 2 and 3 of core/routing/offices.py): the removed office's old
        room, which the bot no longer keeps to its staff, is read by nobody who may know."""
        office = self._serving(office)
        existing = await self.room_of(office)
        if existing is not None or not any(o.id == office for o in self._book.offices):
            return existing
        async with self._opening:  # one room, though several lanes wait for it
            existing = await self.room_of(office)
            if existing is not None:
                return existing
            desk = self._book.desk(office)
            room_id = await self._open_somewhere(office, self._book.name(office),
                                                 desk.staff_room,
                                                 sorted(UserID(u) for u in desk.staff))
            if room_id is not None:
                await self._store.set_setting(setting_key(office), room_id)
                self._rooms[office] = room_id
            return room_id

    def _serving(self, office: str) -> str:
        """The configured office whose room holds a notice naming ``office``: the one that
        names a former id, else the fallback office for a removed or undecided one."""
        if self._book.enabled and not any(o.id == office for o in self._book.offices):
            return self._book.former.get(office, self._book.fallback)
        return office

    def rooms(self) -> list[RoomID]:
        """The offices' staff rooms known so far."""
        return list(self._rooms.values())

    def contains(self, room_id: RoomID) -> bool:
        return room_id in self._rooms.values()

    def office_of(self, room_id: RoomID) -> str | None:
        """The office whose staff room this is (None: not an office's staff room)."""
        return next((office for office, room in self._rooms.items() if room == room_id), None)

    async def ensure(self) -> None:
        """Every office has its staff room, with its staff invited and, in a room the bot
        made, nobody else (run on the first sync)."""
        for office in self._book.offices:
            desk = self._book.desk(office.id)
            staff = sorted(UserID(u) for u in desk.staff)
            existing = await self.room_of(office.id)
            if existing is not None and await still_joined(self._client, existing) is False:
                await self.replace_if_lost(office.id, existing)
                continue
            if existing is not None and desk.staff_room \
                    and not await self._encrypted(existing):
                # Joined by a version that did not look: replaced by a room of the bot's own.
                log.critical("the staff room configured for office %s is not end-to-end "
                             "encrypted; the bot leaves it and invites the office's staff "
                             "to an encrypted room of its own", office.id)
                await self._client.room_leave(existing)
                self._rooms.pop(office.id, None)
                room_id = await self._open(office.id, office.name, "", staff)
                if room_id is not None:
                    await self._store.set_setting(setting_key(office.id), room_id)
                    self._rooms[office.id] = room_id
                continue
            if existing is not None:
                if not desk.staff_room:  # a configured room is the admin's to keep
                    await remove_all_but(self._client, existing, staff)
                room = self._client.rooms.get(existing)
                for user in staff:
                    if room is not None and user not in room.users:
                        await self._client.room_invite(existing, user)
                continue
            await self.room_for_notice(office.id)  # under its lock: a notice may ask too

    async def replace_if_lost(self, office: str, room_id: RoomID) -> bool:
        """True if ``room_id`` was the office's staff room and is lost (replaced now or just
        before, or to be replaced at the next try), so a notice it refused waits for the
        new one."""
        office = self._serving(office)

        async def reopen() -> RoomID | None:
            log.critical("the bot is no longer in the staff room of office %s; opening it "
                         "again and inviting its staff", office)
            desk = self._book.desk(office)
            staff = sorted(UserID(u) for u in desk.staff)
            name = self._book.name(office)
            return await self._open_somewhere(office, name, desk.staff_room, staff)

        async def opened(replaced: RoomID) -> None:
            await self._store.set_setting(setting_key(office), replaced)
            self._rooms[office] = replaced
            if self.announce is not None:
                await self.announce(replaced, office)

        return await self._lost.replace(room_id, await self.room_of(office), reopen, opened)

    async def _open_somewhere(
        self, office: str, name: str, configured: str, staff: list[UserID]
    ) -> RoomID | None:
        """The configured room, or when it keeps the bot out (or is not encrypted) a room of
        the bot's own: an office without a staff room would hold all its notices, crisis
        alerts too, until someone fixed the configuration."""
        room_id = await self._open(office, name, configured, staff)
        if room_id is None and configured:
            log.critical("office %s gets a new staff room in place of the configured %s, "
                         "which the bot cannot use; its staff are invited there",
                         office, configured)
            room_id = await self._open(office, name, "", staff)
        return room_id

    async def _open(
        self, office: str, name: str, configured: str, staff: list[UserID]
    ) -> RoomID | None:
        if configured:
            joined = await self._client.join(configured)
            if isinstance(joined, JoinError):
                log.warning("cannot join the staff room configured for office %s (%s); invite "
                            "the bot there or fix offices.staff_room", office, joined.message)
                return None
            room_id = RoomID(joined.room_id)
            if not await self._encrypted(room_id):
                # Crisis alerts, and what staff commands answer (waiting forum posts with
                # their text), would lie in the homeserver's database in plain text.
                log.critical("the staff room configured for office %s is not end-to-end "
                             "encrypted; the bot leaves it (configure an encrypted room in "
                             "offices.staff_room, or none)", office)
                await self._client.room_leave(room_id)
                return None
            invited = [user for user in staff if not isinstance(
                await self._client.room_invite(room_id, user), ErrorResponse)]
            if self.invitations is not None:
                self.invitations.invited(room_id, invited)
            return room_id
        answer = await self._client.room_create(
            name=f"{text('staff_room_name', self._language)} – {name}",
            initial_state=self._initial_state, power_level_override=self._power_levels,
        )
        if isinstance(answer, RoomCreateError):
            log.warning("cannot create the staff room of office %s (%s)", office, answer.message)
            return None
        room_id = RoomID(answer.room_id)
        refused = await invite_each(self._client, room_id, staff)
        if self.invitations is not None:
            self.invitations.invited(room_id, [u for u in staff if u not in refused])
        if refused and self.not_invited is not None:
            # A log line alone told nobody: they read no crisis alert of the office here.
            await self.not_invited(room_id, office, refused)
        return room_id

    async def _encrypted(self, room_id: RoomID) -> bool:
        """Whether the room has Megolm encryption, by the homeserver's current state (nio
        has not synced a room it has only just joined). Unreadable for another reason than
        a missing event: taken as encrypted, as the room was before this check."""
        answer = await self._client.room_get_state_event(room_id, "m.room.encryption")
        if isinstance(answer, RoomGetStateEventError):
            return bool(answer.status_code != "M_NOT_FOUND")
        return bool(answer.content.get("algorithm") == MEGOLM)
