"""Rooms a youth was moved out of, and the room they were moved to.

A youth whose app made a room the bot cannot moderate (or an unencrypted one) is invited
to the bot's own room. Youths write at once, before they read that, and some go on writing
where they are. So the move stays pending until the youth has joined the new room (or left
the first): meanwhile the bot stays in the first room, what the youth writes there counts
as written in the new room (crisis check included), what the bot says to the youth goes to
both rooms, and words written after a counsellor joined are passed on to the new room.

Kept in the store as ``moved_from:<new room>`` = the first room, with ``|arrived`` or
``|declined`` once the move is over. Keyed by the new room, the link is erased with its
conversation, and kept until then: purging the conversation's room purges the first room
too (`PurgingFirstRooms`), where the youth's first words are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from counsel_bot.channels.matrix.second_chats import SecondChatLinks
from counsel_bot.conversation.retention import RoomPurger
from counsel_bot.core.ids import RoomID
from counsel_bot.store import Store
from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.errors import AdminApiError, NotFound

MOVED_FROM_PREFIX = "moved_from:"
ARRIVED, DECLINED = "arrived", "declined"


def _first_of(value: str) -> RoomID | None:
    first = value.split("|", 1)[0]
    return RoomID(first) if first else None


class RoomMoves:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[RoomID, RoomID] | None = None  # first room -> new room

    async def _loaded(self) -> dict[RoomID, RoomID]:
        if self._pending is None:
            self._pending = {RoomID(value): RoomID(key.removeprefix(MOVED_FROM_PREFIX))
                             for key, value in await self._store.settings(MOVED_FROM_PREFIX)
                             if value and "|" not in value}
        return self._pending

    async def moved(self, first: RoomID, new: RoomID) -> None:
        await self._store.set_setting(f"{MOVED_FROM_PREFIX}{new}", first)
        (await self._loaded())[first] = new

    async def target(self, first: RoomID) -> RoomID | None:
        """The room a youth writing in ``first`` was moved to, while the move is pending."""
        return (await self._loaded()).get(first)

    async def first_of(self, new: RoomID) -> RoomID | None:
        """The first room of a pending move to ``new``."""
        return next((old for old, to in (await self._loaded()).items() if to == new), None)

    async def ended(self, first: RoomID, how: str) -> RoomID | None:
        """The move out of ``first`` is over (``ARRIVED`` or ``DECLINED``); the new room."""
        new = (await self._loaded()).pop(first, None)
        if new is not None:
            await self._store.set_setting(f"{MOVED_FROM_PREFIX}{new}", f"{first}|{how}")
        return new

    async def made_for(self, first: RoomID) -> list[RoomID]:
        """The new rooms ever made for a move out of ``first`` (pending or over)."""
        return [RoomID(key.removeprefix(MOVED_FROM_PREFIX))
                for key, value in await self._store.settings(MOVED_FROM_PREFIX)
                if _first_of(value) == first]

    async def unmade(self, new: RoomID) -> None:
        """``new``, a room made for a move that is over and that no conversation is in, is
        gone: no setting links it any more."""
        await self._store.move_to_sealed(f"{MOVED_FROM_PREFIX}{new}", None)  # None: deleted

    async def same_chat(self, room: RoomID) -> tuple[RoomID | None, list[RoomID]]:
        """For a room a youth was moved to: the first room, and the other rooms moved to
        from it (one the youth declined before, say). To the youth it was all one chat."""
        first = _first_of(await self._store.get_setting(f"{MOVED_FROM_PREFIX}{room}") or "")
        if first is None:
            return None, []
        return first, [RoomID(key.removeprefix(MOVED_FROM_PREFIX))
                       for key, value in await self._store.settings(MOVED_FROM_PREFIX)
                       if _first_of(value) == first and key != f"{MOVED_FROM_PREFIX}{room}"]


async def purge_if_there(admin: RoomPurger, room_id: RoomID) -> None:
    """Purge the room; one already gone (a replay after a crash) is fine, anything else
    is raised to be tried again."""
    try:
        await admin.delete_room_and_wait(room_id)
    except AdminApiError as exc:
        if not isinstance(exc, NotFound) and exc.status != 404:
            raise


async def forget_settings_of(store: Store, room: RoomID) -> None:
    """Delete the settings keyed by ``room`` (``<kind>:<room>``) unless a conversation is in
    it (its settings, the links among them, go with its erasure)."""
    if await store.conversation_by_room(room) is not None:
        return
    for key, _value in await store.settings(""):
        if key.endswith(f":{room}"):
            await store.move_to_sealed(key, None)  # None: only deleted


def in_use_by_records(store: Store) -> Callable[[RoomID], Awaitable[bool]]:
    """`MoveLeftovers.in_use` for when no bot runs (`counsel retention` by hand): an open
    conversation is known by its record, whose close is written while the router holds it."""
    moves, seconds = RoomMoves(store), SecondChatLinks(store)

    async def in_use(room: RoomID) -> bool:
        record = await store.conversation_by_room(room)
        if record is not None and record.closed_at is None:
            return True
        target = await moves.target(room) or await seconds.target(room)
        return target is not None and target != room and await in_use(target)

    return in_use


class PurgingFirstRooms:
    """The admin API, with a room's purge purging the rest of its youth's chat first: the
    room they were moved out of and any other room moved to from it (`RoomMoves.same_chat`),
    where their first words, or a counsellor's transcript of them, are, and any second chat
    whose words counted in it (`second_chats.py`). A room still in use
    (``in_use``: an open conversation's, or the first room of a move to one) is left.
    ``forget`` erases each room purged beside nio's (its keys, `nio_erasure`), the one asked
    for too: the erasure of a conversation reaches only its own room there, and a first room
    purged on its own (its youth gave up on a move that never came: `MoveLeftovers.given_up`)
    has no conversation whose erasure would reach it."""

    def __init__(self, admin: AdminClient, store: Store,
                 in_use: Callable[[RoomID], Awaitable[bool]],
                 forget: Callable[[RoomID], None] | None = None) -> None:
        self._admin = admin
        self._store = store
        self._links = RoomMoves(store)
        self._second_chats = SecondChatLinks(store)
        self._in_use = in_use
        self._forget = forget

    async def delete_room_and_wait(self, room_id: str) -> object:
        first, others = await self._links.same_chat(RoomID(room_id))
        seconds = await self._second_chats.seconds_of(RoomID(room_id))
        for room in [*others, *([first] if first is not None else []), *seconds]:
            if not await self._in_use(room):
                await purge_if_there(self._admin, room)
                self._forget_keys(room)
                await self._forget_settings_of(room)
        try:
            answer = await self._admin.delete_room_and_wait(room_id)
        except AdminApiError as exc:
            if isinstance(exc, NotFound) or exc.status == 404:
                self._forget_keys(RoomID(room_id))  # gone already (a replay after a crash)
            raise
        self._forget_keys(RoomID(room_id))
        return answer

    def _forget_keys(self, room: RoomID) -> None:
        if self._forget is not None:
            self._forget(room)

    async def _forget_settings_of(self, room: RoomID) -> None:
        """The settings keyed by a purged room of the chat without a conversation of its own
        (the first room: ``move_told:``, ``welcome_due:`` and the like, ``<kind>:<room>``):
        no erasure would find them. A room with a conversation keeps them (the links among
        them) until that is erased (`MoveLeftovers.erase_rest_of_chat`). Repeated after a crash
        with the purge, which the links (erased with the conversation) still find."""
        if await self._store.conversation_by_room(room) is not None:
            return
        for key, _value in await self._store.settings(""):
            if key.endswith(f":{room}"):
                await self._store.move_to_sealed(key, None)  # None: only deleted

    async def room_exists(self, room_id: str) -> bool:
        return await self._admin.room_exists(room_id)

    async def get_user(self, user_id: str) -> Any:
        return await self._admin.get_user(user_id)

    async def joined_rooms(self, user_id: str) -> list[str]:
        return await self._admin.joined_rooms(user_id)

    async def room_members(self, room_id: str) -> list[str]:
        return await self._admin.room_members(room_id)

    async def deactivate(self, user_id: str, *, erase: bool = True) -> None:
        await self._admin.deactivate(user_id, erase=erase)

    async def delete_media_of(self, user_id: str) -> int:
        return await self._admin.delete_media_of(user_id)
