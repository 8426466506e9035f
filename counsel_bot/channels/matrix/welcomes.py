"""The welcome of rooms joined: a youth greeted once in a room fit for counselling, or
moved to one; a move the homeserver refused asked for again once a minute, and kept across
a stop (`WELCOME_DUE_PREFIX`); what the youth wrote meanwhile held and read once the move
is made (`HeldEvents`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nio import AsyncClient, SyncResponse

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.matrix.held_events import HeldEvents
from counsel_bot.channels.matrix.invitations import WELCOME_DUE_PREFIX, Invitations
from counsel_bot.channels.matrix.membership import can_moderate
from counsel_bot.channels.matrix.room_history import GapUnavailable
from counsel_bot.channels.matrix.room_youth import RoomYouth
from counsel_bot.channels.matrix.strangers import Strangers
from counsel_bot.channels.matrix.youth_moves import MOVE_RETRY, YouthMoves
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.conversation.idle_rooms import note_seen
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.messages import Language, text
from counsel_bot.core.routing.model import ConversationState
from counsel_bot.store import Store

log = logging.getLogger(__name__)


class Welcomes:
    def __init__(
        self, client: AsyncClient, store: Store, executor: Executor, clock: Clock,
        default_language: Language, *, invitations: Invitations, held: HeldEvents,
        moving: YouthMoves, strangers: Strangers, room_youth: RoomYouth,
        is_staff_room: Callable[[RoomID], Awaitable[bool]],
        replay: Callable[[RoomID, Any], Awaitable[None]],
    ) -> None:
        self.client = client
        self.store = store
        self.executor = executor
        self.clock = clock
        self.default_language = default_language
        self.invitations = invitations
        self.held = held
        self.moving = moving
        self.strangers = strangers
        self.room_youth = room_youth
        self._is_staff_room = is_staff_room
        # Reads a held event as if it came now (the bot's `_on_room_event_once`).
        self._replay = replay
        # Moves the homeserver refused, and when to ask again.
        self.again: dict[RoomID, datetime] = {}
        # Rooms whose held words are being read (`joined`): checked when held.
        self.replaying: set[RoomID] = set()
        self._loaded = False  # the rooms a stop left unwelcomed (WELCOME_DUE_PREFIX)

    async def joined(self, response: SyncResponse) -> None:
        """Welcome the rooms joined on an invitation (or move their youth), once nio knows
        their state; one the youth left before is forgotten, and one whose move the
        homeserver refused is tried again at the next sync."""
        if not self._loaded:  # those a stop left unwelcomed
            self._loaded = True
            for key, due in await self.store.settings(WELCOME_DUE_PREFIX):
                room_id = RoomID(key.removeprefix(WELCOME_DUE_PREFIX))
                if due:
                    self.invitations.welcome_due.add(room_id)
                else:  # emptied by a version before 41fc6f4: deleted, as now
                    await self.invitations.forget(room_id)
        now = self.clock.now()
        for room_id in list(self.invitations.welcome_due):
            again = self.again.get(room_id)
            if room_id in response.rooms.leave:
                done = True
            # nio knows the room as soon as it is joined, but its state (encryption, power
            # levels) only once a sync has delivered it.
            elif (room_id in response.rooms.join and again is None) or (
                    again is not None and again <= now):
                done = await self.welcome(room_id)
            else:
                continue
            if done:
                try:
                    held = await self.held.take(room_id, gone=room_id in response.rooms.leave)
                except GapUnavailable as exc:
                    log.warning("%s", exc)  # the move stands; its words are fetched later
                    done = False
            if done:
                self.invitations.welcome_due.discard(room_id)
                self.again.pop(room_id, None)
                await self.invitations.forget(room_id)
                self.replaying.add(room_id)
                try:
                    for event in held:
                        await self._replay(room_id, event)
                finally:
                    self.replaying.discard(room_id)
                await self.held.done(room_id)
                if room_id in response.rooms.leave:
                    await self.moving.bot_out(room_id)
            else:
                self.again[room_id] = now + MOVE_RETRY

    async def refused(self, room_id: RoomID, at: datetime) -> None:
        """The welcome at a youth's join was refused for now: asked again by `joined`, as
        after the bot's own join, and kept in the store as that one is (`Invitations.joined`):
        in memory only, a stop before the next try left the youth never greeted nor moved."""
        await self.invitations.joined(room_id)
        self.again[room_id] = at + MOVE_RETRY

    async def later(self, room_id: RoomID) -> None:
        """A room whose move waits for a new room the homeserver refused: on the welcome's
        list (kept across a stop), asked for again after ``MOVE_RETRY``."""
        self.invitations.welcome_due.add(room_id)
        await self.store.set_setting(f"{WELCOME_DUE_PREFIX}{room_id}", "1")
        self.again.setdefault(room_id, self.clock.now() + MOVE_RETRY)

    async def welcome(self, room_id: RoomID) -> bool:
        """Greet a youth once, in a room fit for counselling; otherwise open one that is.
        False if that must be tried again (the homeserver refused the new room)."""
        room = self.client.rooms.get(room_id)
        if room is None or await self._is_staff_room(room_id):
            return True
        youth = self.room_youth.youth_of(room)
        if youth is None:
            await self.strangers.one_to_one_only(room, self.room_youth.others(room))
            return True
        if not room.encrypted or not await can_moderate(self.client, room_id,
                                                        UserID(self.client.user_id)):
            return await self.moving.move(room, youth)
        record = await self.store.conversation_by_room(room_id)
        if record is not None and record.state is ConversationState.CLOSED:
            # Invited back into a chat that is over: its words count as after the close
            # (a pointer to a new chat, then nothing), so the youth gets the new chat here;
            # with one still open elsewhere, theirs count there, as a second chat's do.
            if await self.moving.second.linked_to_open(room_id, youth) is not None:
                return True
            return await self.moving.move(room, youth)
        greeted = f"greeted:{room_id}"
        if await self.store.get_setting(greeted) is None:
            try:
                await self.executor.send(room_id, text("greeting", self.default_language),
                                         key=greeted)
            except EffectFailed as failure:
                # Raised, it stopped the bot, and at every start again: one room whose power
                # levels let the bot remove members but not write kept everyone unanswered.
                if not failure.permanent:
                    return False  # the homeserver is away: greeted at a later sync
                log.warning("the bot may not write in a youth's room (%s); moving them",
                            failure)
                return await self.moving.move(room, youth)
            await self.store.set_setting(greeted, "1")
            # Until a conversation opens here, no conversation's retention finds this room:
            # it is purged once idle (`idle_rooms`), counted from the greeting. Not at each
            # welcome: a join read again (a restart's sync) is no activity.
            await note_seen(self.store, room_id, self.clock.now())
        return True
