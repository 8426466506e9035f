"""What a youth's moves leave behind, taken away (part of `youth_moves.py`, apart so
that each stays one job): the rooms made for a move given up (undone: purged, or the
invitation taken back and the bot gone), a first room its youth left before any new room
was made for it (purged at once, and every setting naming it deleted: no conversation's
erasure would ever find them), and, when a conversation is erased, the closed
conversations of the other rooms of the same chat. Which rooms are still in use, and so
not purged with the rest of a youth's chat, is decided here too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from nio import AsyncClient

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.matrix.move_rooms import MOVE_ASKED_PREFIX, MoveRooms
from counsel_bot.channels.matrix.room_moves import RoomMoves, forget_settings_of, purge_if_there
from counsel_bot.channels.matrix.second_chats import SecondChatLinks
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.retention import RoomPurger
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import ConversationRecord
from homeserver_bridge.errors import AdminApiError

log = logging.getLogger(__name__)


class MoveLeftovers:
    def __init__(self, client: AsyncClient, conductor: Conductor, executor: Executor,
                 clock: Clock, links: RoomMoves, rooms: MoveRooms, second: SecondChatLinks,
                 *, pending: set[RoomID], refused_for_good: set[RoomID]) -> None:
        self._client = client
        self._conductor = conductor
        self._store = conductor.store
        self._executor = executor
        self._clock = clock
        self._links = links
        self._rooms = rooms
        self._second = second
        # `YouthMoves`'s own sets (the same objects): a move given up is in neither.
        self._pending = pending
        self._refused_for_good = refused_for_good

    async def in_use(self, room: RoomID) -> bool:
        """An open conversation's room, or the first room of a pending move to one: not to
        be purged with the rest of a youth's chat."""
        record = await self._store.conversation_by_room(room)
        if record is not None and self._conductor.router.conversation(
                record.conversation) is not None:
            return True
        target = await self._links.target(room) or await self._second.target(room)
        return target is not None and target != room and await self.in_use(target)

    async def erase_rest_of_chat(self, record: ConversationRecord) -> None:
        """Before ``record`` is erased: the closed conversations of the rooms it shares a
        first room with (one the youth declined, say) go with it; their rooms were purged
        with its room (`PurgingFirstRooms`)."""
        _first, others = await self._links.same_chat(record.room_id)
        for room in others:
            other = await self._store.conversation_by_room(room)
            if other is None or other.conversation == record.conversation \
                    or self._conductor.router.conversation(other.conversation) is not None:
                continue
            await self._conductor.forget_traces(other, self._clock.now())
            await self._store.erase_conversation(other.conversation)

    async def never_moved(self, room: RoomID) -> bool:
        """Whether ``room`` is one the youth was to be moved out of, and no conversation
        ever held what they wrote there: no new room was made for it (the homeserver
        refused it, or has not answered), or only rooms with no conversation in them (the
        youth declined one, and the next was refused for good), none of them pending."""
        if room not in self._pending and not await self._store.get_setting(f"move_told:{room}") \
                and not await self._store.get_setting(f"{MOVE_ASKED_PREFIX}{room}"):
            return False
        if await self._links.target(room) is not None:
            return False
        for held_by in [room, *await self._links.made_for(room)]:
            if await self._store.conversation_by_room(held_by) is not None:
                return False
        return True

    async def undo_abandoned(self, rooms: Iterable[str]) -> None:
        """A room made for a move given up after a stop lost its answer, among ``rooms``
        (a sync's joined ones), is undone (`MoveRooms.abandon`)."""
        await self._rooms.undo_abandoned(rooms, self.undo)

    async def bot_out(self, room: RoomID) -> None:
        """The bot is out of ``room`` (the youth removed it, or the room is gone) before
        any new room was made for its move: nothing written there will be read, and no
        erasure would ever find the settings naming it (told, leads called)."""
        if await self.never_moved(room):
            await self.forget(room)

    async def given_up(self, room: RoomID) -> None:
        """The youth left a room they were to be moved out of before any new room was made
        for it (refused for good, say): what they wrote there counts in no conversation and
        nobody will ever read it (the bot drops it now). So no erasure and no retention
        would ever find it: in a room without encryption it stood on the homeserver in plain
        text for good, crisis words too, and the store named the room. Purged at once (with
        admin access; else the bot leaves), and the settings naming it go."""
        admin = getattr(self._executor, "admin", None)
        if admin is None or not await self._purged(admin, room):
            await self._client.room_leave(room)
        await self.forget(room)

    async def forget(self, room: RoomID) -> None:
        """No move out of ``room`` any more, and no setting naming it; a new room asked for
        and not yet made is undone once it is (`MoveRooms.abandon`)."""
        await self._rooms.abandon(room, self.undo)
        self._pending.discard(room)
        self._refused_for_good.discard(room)
        # The rooms made for it before (declined, no conversation in them): the bot alone in
        # each, and a setting naming the first room, for good.
        for new in await self._links.made_for(room):
            await self.undo(new, None)
            await self._links.unmade(new)
        await forget_settings_of(self._store, room)

    async def undo(self, new: RoomID, youth: UserID | None) -> None:
        """A room made for a move given up: purged (with admin access), else the invitation
        of ``youth`` (if still invited) is taken back and the bot leaves, so that no youth
        accepts a chat that is no conversation's."""
        room = self._client.rooms.get(new)
        if room is not None and any(user != self._client.user_id
                                    and user not in room.invited_users for user in room.users):
            log.info("a room made for a move given up is kept: the youth is in it")
            return
        admin = getattr(self._executor, "admin", None)
        if admin is not None and await self._purged(admin, new):
            return
        if youth is not None:
            await self._client.room_kick(new, youth)  # an invitation taken back
        await self._client.room_leave(new)

    @staticmethod
    async def _purged(admin: RoomPurger, room: RoomID) -> bool:
        try:
            await purge_if_there(admin, room)
        except AdminApiError as exc:
            # Status and errcode only: the homeserver's text may quote the room id.
            log.warning("a room a youth left before their move was made could not be purged "
                        "(%s %s); the bot leaves it", exc.status, exc.errcode)
            return False
        return True
