"""The room a youth is moved to: asked for once, and found again after a stop.

The homeserver answers the request for the new room only once it has sent the youth's
invitation (over federation, which may take minutes), and the sync loop waits for it only
`CREATE_WAIT`: an answer not yet come is taken at a later try. A stop meanwhile loses the
answer, but not the room: the request gives it a mark (a random value in a state event of
its own, `MOVE_MARK`), kept in the store before the request, and the next start finds the
room by it, or waits `STILL_MAKING` for it, instead of asking for a second one (the youth
was invited into both, and one who accepted the first opened a conversation there without
their first words, which counted in the other).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from nio import AsyncClient, ErrorResponse, RoomCreateResponse

from counsel_bot.channels.matrix.room_moves import RoomMoves
from counsel_bot.channels.matrix.room_settings import ENCRYPTION, counselling_power_levels
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import Store

log = logging.getLogger(__name__)

# The youth's account refused the invitation made with the room (their app blocks them).
INVITE_BLOCKED = "M_INVITE_BLOCKED"
# How long the sync loop waits for the room for a move (`MoveRooms.new_room`).
CREATE_WAIT = timedelta(seconds=5)
# A first room whose new room was asked for and not yet answered: the mark the request gave
# the new room (a state event of MOVE_MARK), to find it at the next start when a stop lost
# the answer (`MoveRooms._made_before`). Only a random value: nothing names the youth.
MOVE_ASKED_PREFIX = "move_asked:"
MOVE_MARK = "org.counsel.move"
# How long after a request whose answer a stop lost the homeserver may still make its room:
# it goes on with the request (the youth's invitation over federation first), and another
# request meanwhile made a second room, the youth invited into both.
STILL_MAKING = timedelta(minutes=5)
# The mark of a request whose answer a stop lost, for a move given up since (its youth left
# the first room): the room the homeserver may still make is undone (`MoveRooms.abandon`).
# Only the random mark and the request's time: nothing names the youth or the room.
MOVE_ABANDONED_PREFIX = "move_abandoned:"

# Undoes a room made for a move given up: the room, and the youth invited into it (if known).
Undo = Callable[[RoomID, UserID | None], Awaitable[None]]


class MoveRooms:
    def __init__(self, client: AsyncClient, store: Store, clock: Clock,
                 links: RoomMoves) -> None:
        self._client = client
        self._store = store
        self._clock = clock
        self.links = links
        # New rooms asked for and not yet answered, by first room (`new_room`), and for whom.
        self._creating: dict[RoomID, asyncio.Future[tuple[object, bool]]] = {}
        self._for: dict[RoomID, UserID] = {}
        # The rooms of moves given up while asked for, undone once made (`abandon`).
        self._undoing: set[asyncio.Task[None]] = set()
        self._abandoned: dict[str, tuple[datetime, set[str]]] | None = None

    async def new_room(self, first: RoomID, youth: UserID) -> tuple[object, bool] | None:
        """The homeserver's answer to the room for the move, or None if it has not answered
        within CREATE_WAIT. It answers once it has sent the youth's invitation, over
        federation to their homeserver, which may take minutes; the sync loop waited for it
        and read nobody meanwhile. Not asked anew while unanswered (each request makes a
        room): its answer is taken at a later try, or, after a stop lost it, the room made
        is found by its mark (`_made_before`)."""
        asked = self._creating.get(first)
        if asked is None:
            mark, _, when = (await self._store.get_setting(
                f"{MOVE_ASKED_PREFIX}{first}") or "").partition(" ")
            before = await self._made_before(first, youth, mark) if mark else None
            if before is not None:
                return before
            if when and self._clock.now() - datetime.fromisoformat(when) < STILL_MAKING:
                return None  # asked before the last stop: its room may still come
            # The mark is durable before the request: a stop during it must not lose the room.
            mark = secrets.token_hex(16)
            await self._store.set_setting(f"{MOVE_ASKED_PREFIX}{first}",
                                          f"{mark} {self._clock.now().isoformat()}")
            asked = self._creating[first] = asyncio.ensure_future(self._create(youth, mark))
            self._for[first] = youth
        try:
            return await asyncio.wait_for(asyncio.shield(asked), CREATE_WAIT.total_seconds())
        except TimeoutError:
            return None
        finally:
            if asked.done() and self._creating.get(first) is asked:
                del self._creating[first], self._for[first]

    def waiting(self, first: RoomID) -> bool:
        """Whether the request for ``first``'s new room is under way, not yet answered."""
        asked = self._creating.get(first)
        return asked is not None and not asked.done()

    async def abandon(self, first: RoomID, undo: Undo) -> None:
        """The move out of ``first`` is given up (its youth left it) while its new room is
        asked for and not answered: nothing asks for it again, and the answer would come to
        nobody. The room made all the same (the bot in it for good, the youth invited,
        linked to nothing) is undone by ``undo`` once the homeserver has made it. Only one
        the youth cannot have seen before they left: the homeserver answers once it has sent
        the invitation, so a youth who saw it, and left the first room to accept it, left
        after the answer came (a room they joined is never undone: `MoveLeftovers.undo`).
        After a stop lost the answer, its mark is kept (naming no room) for the room the
        homeserver may still make (`undo_abandoned`); rooms already there are left alone."""
        asked, youth = self._creating.pop(first, None), self._for.pop(first, None)
        if asked is not None:
            if not asked.done():
                self._undo_when_made(asked, youth, undo)
            return
        mark, _, when = (await self._store.get_setting(
            f"{MOVE_ASKED_PREFIX}{first}") or "").partition(" ")
        if mark and when:
            await self._store.set_setting(f"{MOVE_ABANDONED_PREFIX}{mark}", when)
            (await self._abandoned_marks())[mark] = (datetime.fromisoformat(when),
                                                      set(self._client.rooms))

    def _undo_when_made(self, asked: asyncio.Future[tuple[object, bool]],
                        youth: UserID | None, undo: Undo) -> None:
        async def undone() -> None:
            try:
                answer, _blocked = await asked
                if isinstance(answer, RoomCreateResponse):
                    await undo(RoomID(answer.room_id), youth)
            except Exception as exc:
                log.error("a room made for a move given up could not be undone (%s)",
                          type(exc).__name__)

        task = asyncio.ensure_future(undone())
        self._undoing.add(task)
        task.add_done_callback(self._undoing.discard)

    async def undo_abandoned(self, rooms: Iterable[str], undo: Undo) -> None:
        """Among ``rooms`` (those a sync brought: a room just made is among them), one made
        for a move given up after a stop lost its request's answer (`abandon`) is undone.
        A mark is looked for until twice STILL_MAKING after its request."""
        marks = await self._abandoned_marks()
        if not marks:
            return
        me = self._client.user_id
        for room_id in map(RoomID, rooms):
            room = self._client.rooms.get(room_id)
            if room is None or me not in room.users \
                    or all(room_id in seen for _when, seen in marks.values()) \
                    or await self.links.first_of(room_id) is not None \
                    or await self._store.conversation_by_room(room_id) is not None:
                continue
            state = getattr(await self._client.room_get_state(room_id), "events", None)
            mark = next((m for m, (_when, seen) in marks.items() if room_id not in seen
                         and isinstance(state, list) and _made_by(me, state, m)), None)
            if mark is not None:
                invited = next((UserID(u) for u in room.invited_users if u != me), None)
                await undo(room_id, invited)
                await self._drop_abandoned(mark)
            elif isinstance(state, list):
                for _when, seen in marks.values():
                    seen.add(room_id)  # its mark, set at its creation, is not one of these
        for mark, (when, _seen) in list(marks.items()):
            if self._clock.now() - when > 2 * STILL_MAKING:
                await self._drop_abandoned(mark)

    async def _abandoned_marks(self) -> dict[str, tuple[datetime, set[str]]]:
        """The marks of `abandon`, with the rooms there when each was kept (after a start:
        those of the first sync)."""
        if self._abandoned is None:
            self._abandoned = {
                key.removeprefix(MOVE_ABANDONED_PREFIX):
                    (datetime.fromisoformat(value), set(self._client.rooms))
                for key, value in await self._store.settings(MOVE_ABANDONED_PREFIX) if value}
        return self._abandoned

    async def _drop_abandoned(self, mark: str) -> None:
        (await self._abandoned_marks()).pop(mark, None)
        await self._store.move_to_sealed(f"{MOVE_ABANDONED_PREFIX}{mark}", None)  # deleted

    async def _create(self, youth: UserID, mark: str) -> tuple[object, bool]:
        """The answer, and whether the youth's account refused the invitation."""
        answer = await self._client.room_create(
            is_direct=True, invite=[youth], initial_state=[ENCRYPTION, _marked(mark)],
            power_level_override=counselling_power_levels(),
        )
        if getattr(answer, "status_code", None) == INVITE_BLOCKED:
            return await self._without_their_invitation(youth, mark)
        return answer, False

    async def _made_before(self, first: RoomID, youth: UserID,
                           mark: str) -> tuple[object, bool] | None:
        """The room a request before the last stop made for the move out of ``first``,
        whose answer the stop lost: found among the bot's rooms by the request's ``mark``
        (only rooms of the bot and ``youth`` with no conversation and no move yet are
        looked at, and only a mark the bot set in a room it made: `_made_by`), the youth
        invited if they are not (their app refused it then). None if it made no room (yet:
        `STILL_MAKING`)."""
        me = self._client.user_id
        for room_id, room in list(self._client.rooms.items()):
            candidate = RoomID(room_id)
            if candidate == first or me not in room.users \
                    or not set(room.users) <= {me, youth} \
                    or await self.links.first_of(candidate) is not None \
                    or await self._store.conversation_by_room(candidate) is not None:
                continue
            state = getattr(await self._client.room_get_state(candidate), "events", None)
            if not isinstance(state, list) or not _made_by(me, state, mark):
                continue
            log.info("the room made for a youth's move before the last stop is taken")
            blocked = youth not in room.users and not await self.invite(candidate, youth)
            return RoomCreateResponse(candidate), blocked
        return None

    async def answered(self, first: RoomID) -> None:
        """The request for ``first``'s new room was answered: its mark is no longer needed."""
        await self._store.move_to_sealed(f"{MOVE_ASKED_PREFIX}{first}", None)

    async def _without_their_invitation(self, youth: UserID, mark: str) -> tuple[object, bool]:
        """The youth's account refused the invitation (their app blocks invitations): the
        homeserver made the room all the same, without saying which, and each try made
        another. The room is made without them and they are invited after; refused (True),
        the move stands all the same: they are read and answered in the first room, as a
        youth who has not come over yet (what they write counts in the new room, crisis
        check too), and told how to come over (`YouthMoves._invite_blocked`)."""
        answer = await self._client.room_create(
            is_direct=True, initial_state=[ENCRYPTION, _marked(mark)],
            power_level_override=counselling_power_levels(),
        )
        refused = isinstance(answer, RoomCreateResponse) \
            and not await self.invite(RoomID(answer.room_id), youth)
        return answer, refused

    async def invite(self, new: RoomID, youth: UserID) -> bool:
        """Invite ``youth`` into ``new``; False if their account refused it."""
        # As a state event, to mark it a direct chat as the invitation in a new room's request.
        invited = await self._client.room_put_state(
            new, "m.room.member", {"membership": "invite", "is_direct": True},
            state_key=youth)
        if isinstance(invited, ErrorResponse):
            log.warning("the youth's account refused the invitation to the room they are "
                        "moved to (%s); they are answered in the first room",
                        invited.status_code)
            return False
        return True


def _made_by(me: str, state: list[object], mark: str) -> bool:
    """Whether ``state`` is that of a room ``me`` made with ``mark``. The mark alone proves
    nothing: it stands in the room's state, which every member reads, and a youth who copied
    it into a room of their own (unencrypted, themselves its admin) and invited the bot had
    that room taken for the counselling room."""
    events = [e for e in state if isinstance(e, dict)]
    made = any(e.get("type") == "m.room.create" and e.get("sender") == me for e in events)
    return made and any(
        e.get("type") == MOVE_MARK and e.get("sender") == me
        and isinstance(e.get("content"), dict) and e["content"].get("ask") == mark
        for e in events)


def _marked(mark: str) -> dict[str, object]:
    """The state event that marks a new room as the one asked for with ``mark``."""
    return {"type": MOVE_MARK, "state_key": "", "content": {"ask": mark}}
