"""Whether the bot is still in a room and may moderate it, by the homeserver's word, not
nio's memory, and replacing the rooms it has lost (the staff room, an office's).

nio keeps a room the bot was removed from among its rooms until it is forgotten, so a
refusal alone does not tell a room the bot lost from one that refused for another reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from nio import AsyncClient, ErrorResponse, JoinedRoomsResponse, RoomGetStateEventResponse

from counsel_bot.core.ids import RoomID, UserID

log = logging.getLogger(__name__)

# How long a notice waits for the bot's client to see the staff it invited into a room it
# has just made. One who declined at once is never seen there: the notice goes then anyway.
INVITATIONS_SEEN_WITHIN = 30.0


class SeenInvitations:
    """The staff the bot has invited into a staff room it has just made (or taken over),
    until its own client has seen them there.

    nio shares a room key with the members it knows of when it sends. The sync that brings
    a new room may come before the invitations the bot sent into it a moment later (under
    load, often): a crisis alert sent then was shared with nobody, and the counsellors,
    invited a moment later, got only the keys of later messages (`room_keys` gives a key
    only to members it was shared for). So a notice waits until the invited are seen."""

    def __init__(self, client: AsyncClient,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._waiting: dict[RoomID, tuple[set[str], float]] = {}

    def invited(self, room_id: RoomID, users: Collection[UserID]) -> None:
        waiting, _ = self._waiting.get(room_id, (set(), 0.0))
        self._waiting[room_id] = (waiting | set(users), self._clock())

    def unseen(self, room_id: RoomID) -> bool:
        """Whether someone the bot invited into ``room_id`` is not yet among the members
        its client knows of (joined or invited), and not for `INVITATIONS_SEEN_WITHIN`."""
        entry = self._waiting.get(room_id)
        if entry is None:
            return False
        waiting, since = entry
        room = self._client.rooms.get(room_id)
        if room is not None:
            waiting -= set(room.users) | set(room.invited_users)
        if not waiting:
            del self._waiting[room_id]
            return False
        if self._clock() - since > INVITATIONS_SEEN_WITHIN:
            del self._waiting[room_id]
            log.warning("the bot's client has not seen %d of the staff it invited into a "
                        "new staff room; notices go there without waiting longer",
                        len(waiting))
            return False
        return True


async def still_joined(client: AsyncClient, room_id: RoomID) -> bool | None:
    """Whether the homeserver still counts the bot in the room (None: it did not answer)."""
    answer = await client.joined_rooms()
    if not isinstance(answer, JoinedRoomsResponse):
        return None
    return room_id in answer.rooms


async def membership_of(client: AsyncClient, room_id: RoomID, user: str) -> str | None:
    """``user``'s membership in the room by the homeserver's word ("join", "invite",
    "leave", ...): "" if they have none there, or the room refuses the bot (it is out of it
    itself); None if the homeserver could not say (away, an error of the moment)."""
    answer = await client.room_get_state_event(room_id, "m.room.member", user)
    if isinstance(answer, RoomGetStateEventResponse):
        return str(answer.content.get("membership", ""))
    if answer.status_code in ("M_FORBIDDEN", "M_NOT_FOUND"):
        return ""
    return None


async def can_moderate(client: AsyncClient, room_id: RoomID, bot: UserID) -> bool:
    """Whether the bot may remove a counsellor again, by the server's current state.

    Since room version 12 the creators (with trusted_private_chat, as Element makes
    direct chats, the invited bot too) hold unlimited power and are not listed among
    the power levels' users, so nio's power-level view alone would say no.
    """
    state = getattr(await client.room_get_state(room_id), "events", None)
    if not isinstance(state, list):
        return False
    create: dict[str, Any] = next(
        (e for e in state if e.get("type") == "m.room.create"), {}
    )
    content = create.get("content", {})
    version = str(content.get("room_version", "1"))
    creators = {create.get("sender"), *content.get("additional_creators", [])}
    if version.isdecimal() and int(version) >= 12 and bot in creators:
        return True
    levels: dict[str, Any] = next(
        (e for e in state if e.get("type") == "m.room.power_levels"), {}
    )
    content = levels.get("content", {})
    if not isinstance(content, dict):
        return False
    users = content.get("users", {})
    mine = users.get(bot, content.get("users_default", 0))
    return isinstance(mine, int) and mine >= content.get("kick", 50)


async def remove_all_but(client: AsyncClient, room_id: RoomID,
                         members: Collection[UserID]) -> None:
    """Take everyone but ``members`` (and the bot) out of a staff room, invitations too.

    Whoever is in the room gets the room key of every later message: a counsellor taken off
    the staff list would go on reading each crisis alert and case note there. Only staff
    rooms the bot made, where nobody else can invite, so no one else belongs there.
    """
    room = client.rooms.get(room_id)
    if room is None:
        return
    for user in sorted(set(room.users) - set(members) - {client.user_id}):
        answer = await client.room_kick(room_id, user, reason="no longer on the staff list")
        if isinstance(answer, ErrorResponse):
            # The next start tries again; meanwhile the admin can remove them by hand.
            log.warning("could not remove a former staff member from a staff room (%s); "
                        "remove them by hand", answer.status_code)


async def invite_each(client: AsyncClient, room_id: RoomID,
                      users: Collection[UserID]) -> list[UserID]:
    """Invite the staff into a staff room the bot has just made, one by one: invited in the
    request that makes it, one account that blocks invitations (Element's setting) made
    Synapse refuse the whole request after the room was made, and every try made another
    room that nobody was told of. A refused one joins at the bot's next start, which invites
    the staff it misses; those refused are returned, for the room to say who is missing."""
    refused: list[UserID] = []
    for user in users:
        answer = await client.room_invite(room_id, user)
        if isinstance(answer, ErrorResponse):
            log.warning("a staff member's account refused the invitation to a new staff room "
                        "(%s); they are invited again at the bot's next start (their app may "
                        "block invitations)", answer.status_code)
            refused.append(user)
    return refused


class LostRooms:
    """Replacing rooms the bot has lost (a staff room deleted, the bot removed): one at a
    time, each lost room once, and only when the homeserver confirms the bot is out."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._replacing = asyncio.Lock()
        self._lost: set[RoomID] = set()

    async def replace(
        self, room_id: RoomID, current: RoomID | None,
        open_new: Callable[[], Awaitable[RoomID | None]],
        opened: Callable[[RoomID], Awaitable[None]],
    ) -> bool:
        """True if ``room_id`` (the ``current`` room) is lost: replaced now or just before,
        or to be replaced at the next try, so a notice it refused waits and is sent again
        (counted as refused, a crisis alert was given up while the homeserver refused new
        rooms for a while). ``open_new`` opens the replacement (None: the homeserver
        refused); ``opened`` is told of a new room (not of the same one joined again)."""
        async with self._replacing:
            if room_id in self._lost:
                return True  # replaced while this one waited
            if room_id != current or await still_joined(self._client, room_id) is not False:
                return False
            replaced = await open_new()
            if replaced is None or replaced == room_id:
                return True
            self._lost.add(room_id)
            await opened(replaced)
            return True
