"""What the group desk holds between steps: the current `GroupBook`, which room is which
group's, who was seen under which name, which groups are hosted or had their leads called;
read from the store at start and written with each step (`_commit`: the book, sealed, in
the same transition as the effects). `GroupDesk` is built on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.group_crisis import GroupCrisis
from counsel_bot.conversation.group_keys import BOOK_KEY, hosted_key, room_key
from counsel_bot.core import groups as g
from counsel_bot.core.group_book_codec import decode_book, encode_book
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.messages import Language, text

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor


class DeskState:
    def __init__(self, conductor: Conductor, zone: tzinfo, purge_after: timedelta,
                 room_names: Callable[[RoomID], Mapping[UserID, str]] | None = None) -> None:
        self.conductor = conductor
        # The names a room's state shows its members under (the adapter's copy of it): the
        # joins the desk saw are memory only, and a restart mid-evening forgot every one.
        self.room_names = room_names
        self.zone = zone
        self.purge_after = purge_after
        self.book = g.GroupBook()
        self.rooms: dict[RoomID, int] = {}
        self.crisis = GroupCrisis(conductor)
        # Per group, the name each member's app shows in its room (their account's display
        # name, not the nickname): the host moderates by what they see. Memory only.
        self.shown: dict[int, dict[UserID, str]] = {}
        # Groups whose room someone who may moderate has joined (`hosted_key`), and those
        # whose leads were called because nobody had (`core.groups.unhosted`).
        self.hosted: set[int] = set()
        self.called: set[int] = set()
        # Open groups whose host left the team, removed from the room (outbox keys make a
        # repeat after a restart a no-op).
        self.host_gone: set[int] = set()

    async def load(self) -> None:
        store = self.conductor.store
        stored = await store.get_sealed_setting(BOOK_KEY)
        self.book = decode_book(stored) if stored is not None else g.GroupBook()
        self.rooms = {}
        self.hosted = set()
        for group in self.book.groups:
            room = await store.get_setting(room_key(group.number))
            if room:
                self.rooms[RoomID(room)] = group.number
            if await store.get_setting(hosted_key(group.number)):
                self.hosted.add(group.number)

    def room_opened(self, number: int, room_id: RoomID) -> None:
        """The executor created the room (and stored it under `room_key`)."""
        self.rooms[room_id] = number

    def room_purged(self, number: int) -> None:
        self.rooms = {r: n for r, n in self.rooms.items() if n != number}
        self.shown.pop(number, None)

    def owns_room(self, room_id: RoomID) -> bool:
        return room_id in self.rooms

    def holds_room(self, room_id: RoomID, at: datetime) -> bool:
        """A seat's room, for a group not over yet: its invitation, a call-off or a removal
        is said there (`core.groups.seated_rooms`)."""
        return room_id in g.seated_rooms(self.book, at)

    def place(self, room_id: RoomID, language: Language) -> tuple[str, frozenset[str]] | None:
        number = self.rooms.get(room_id)
        if number is None:
            return None
        try:
            offices = self.book.get(number).offices
        except g.GroupRefused:
            offices = frozenset()
        return text("group.report_place", language, number=number), offices

    async def _commit(self, step: Change) -> None:
        step.sealed.append((BOOK_KEY, encode_book(self.book)))
        try:
            await self.conductor.commit(step)
        except BaseException:
            await self.load()  # the store is the truth
            raise
