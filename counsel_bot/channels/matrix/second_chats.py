"""A second chat with the bot from a youth whose conversation is still open elsewhere.

A youth on a new phone may find their old chat empty (its history is encrypted for the
devices they had) and start another. A second conversation would queue them again, with a
counsellor who knows nothing of the first, while the first counsellor writes into the old
room. So the words written in the second chat count in the open conversation (crisis check
included), are passed on to its counsellor, and the youth is shown the way back with a link.
The open conversation's room must still hold the youth: one who left it starts afresh.

Kept in the store as ``second_chat:<second room>:<open room>`` = the second room (with
``|left`` once the youth left it). The key ends with the open conversation's room, so the
link is erased with that conversation (`contract.names_conversation`); until then a purge
of that room purges the second chat too (`PurgingFirstRooms`): the youth's words are there.
Which room each youth's open conversation is in is known in memory only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import Store

SECOND_CHAT_PREFIX = "second_chat:"
LEFT = "left"
# A youth who goes on writing in the second chat is shown the way back again after this
# long: nobody answers there, and a single reminder scrolls away.
REMIND_AGAIN = timedelta(minutes=30)


def second_chat_key(second: RoomID, open_room: RoomID) -> str:
    return f"{SECOND_CHAT_PREFIX}{second}:{open_room}"


def reminded_key(second: RoomID, open_room: RoomID) -> str:
    # Ends with the open room too: erased with its conversation.
    return f"second_chat_told:{second}:{open_room}"


def _parse(key: str, value: str) -> tuple[RoomID, RoomID, bool]:
    second, _, how = value.partition("|")
    open_room = key.removeprefix(f"{SECOND_CHAT_PREFIX}{second}:")
    return RoomID(second), RoomID(open_room), how != LEFT


class SecondChatLinks:
    """The stored links, second room -> the open conversation's room; read once, since every
    message a youth writes asks whether its room is one."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._links: dict[RoomID, tuple[RoomID, bool]] | None = None

    async def _loaded(self) -> dict[RoomID, tuple[RoomID, bool]]:
        if self._links is None:
            self._links = {}
            for key, value in await self._store.settings(SECOND_CHAT_PREFIX):
                if value:
                    second, open_room, live = _parse(key, value)
                    self._links[second] = (open_room, live)
        return self._links

    async def target(self, second: RoomID) -> RoomID | None:
        """The open conversation's room words written in ``second`` count in."""
        open_room, live = (await self._loaded()).get(second, (None, False))
        return open_room if live else None

    async def seconds_of(self, open_room: RoomID) -> list[RoomID]:
        """Every second chat linked to ``open_room``, also those the youth left (read from
        the store: a purge may run beside the bot, and the links go with the conversation)."""
        return [second for key, value in await self._store.settings(SECOND_CHAT_PREFIX)
                if value for second, to, _live in [_parse(key, value)] if to == open_room]

    async def link(self, second: RoomID, open_room: RoomID) -> None:
        await self._store.set_setting(second_chat_key(second, open_room), second)
        (await self._loaded())[second] = (open_room, True)

    async def unlink(self, second: RoomID) -> None:
        """The conversation ``second`` counted in has ended: the chat is the youth's own now,
        and no longer purged with that conversation."""
        open_room = await self.target(second)
        if open_room is None:
            return
        (await self._loaded()).pop(second, None)
        key = second_chat_key(second, open_room)
        if await self._store.get_setting(key):  # not if erased with it: no row comes back
            await self._store.set_setting(key, "")

    async def left(self, second: RoomID) -> bool:
        """The youth left ``second``: its words count nowhere any more. True if it was one."""
        open_room = await self.target(second)
        if open_room is None:
            return False
        await self._store.set_setting(second_chat_key(second, open_room), f"{second}|{LEFT}")
        (await self._loaded())[second] = (open_room, False)
        return True


class YouthRooms:
    """Which room each youth's open Matrix conversation is in; only a hint, checked by the
    caller against the store before use. Built from the open conversations at first need,
    then told of every room a youth's words count in."""

    def __init__(self, conductor: Conductor) -> None:
        self._conductor = conductor
        self._rooms: dict[UserID, RoomID] | None = None

    async def _loaded(self) -> dict[UserID, RoomID]:
        if self._rooms is None:
            rooms: dict[UserID, RoomID] = {}
            for current in self._conductor.router.snapshot().conversations:
                record = await self._conductor.store.conversation(current.conversation)
                if record is not None and record.youth_user_id.startswith("@"):
                    rooms[record.youth_user_id] = record.room_id
            self._rooms = rooms
        return self._rooms

    async def room_of(self, youth: UserID) -> RoomID | None:
        return (await self._loaded()).get(youth)

    async def noted(self, youth: UserID, room: RoomID) -> None:
        (await self._loaded())[youth] = room


class SecondChats:
    def __init__(self, conductor: Conductor, clock: Clock,
                 joined: Callable[[RoomID], set[str] | None]) -> None:
        """``joined``: who is in a room, by the client's view of it (None: unknown room)."""
        self._conductor = conductor
        self._joined = joined
        self._store = conductor.store
        self._clock = clock
        self.links = SecondChatLinks(conductor.store)
        self._rooms = YouthRooms(conductor)

    async def counted_in(self, room: RoomID, youth: UserID) -> RoomID | None:
        """Where words ``youth`` wrote in ``room`` count, if ``room`` is a second chat (new
        ones are linked here)."""
        target = await self.links.target(room)
        if target is not None:
            if await self._open_for(target, youth):
                return target
            # Closed (the bot leaves its room soon after) or erased: words counted there
            # would reach nobody.
            await self.links.unlink(room)
        if await self._store.conversation_by_room(room) is not None:
            return None  # this room has a conversation of its own (one to reopen, say)
        return await self.linked_to_open(room, youth)

    async def linked_to_open(self, room: RoomID, youth: UserID) -> RoomID | None:
        """Link ``room`` as a second chat of the youth's open conversation, if they have one
        in another room and are in it (also a closed chat they invite the bot back into:
        a new room of its own would queue them a second time); that room, else None."""
        known = await self._rooms.room_of(youth)
        if known is None or known == room or youth not in (self._joined(known) or set()):
            return None
        if not await self._open_for(known, youth):
            return None
        await self.links.link(room, known)
        return known

    async def elsewhere(self, room: RoomID, youth: UserID) -> bool:
        """Whether ``youth``'s open conversation is in another room they are in. What
        reaches every room of theirs at once (a new name: the homeserver writes it into
        each) is taken there, and not once more from each of their other rooms."""
        known = await self.links.target(room) or await self._rooms.room_of(youth)
        return known is not None and known != room \
            and youth in (self._joined(known) or set()) and await self._open_for(known, youth)

    async def _open_for(self, room: RoomID, youth: UserID) -> bool:
        record = await self._store.conversation_by_room(room)
        return record is not None and record.youth_user_id == youth \
            and self._conductor.router.conversation(record.conversation) is not None

    async def noted(self, youth: UserID, room: RoomID) -> None:
        await self._rooms.noted(youth, room)

    async def remind_due(self, second: RoomID, open_room: RoomID) -> bool:
        """Whether to show the way back now: not yet, or long enough ago."""
        last = await self._store.get_setting(reminded_key(second, open_room))
        return not last or self._clock.now() - _parse_time(last) >= REMIND_AGAIN

    async def reminded(self, second: RoomID, open_room: RoomID) -> None:
        await self._store.set_setting(reminded_key(second, open_room),
                                      self._clock.now().isoformat())


def _parse_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
