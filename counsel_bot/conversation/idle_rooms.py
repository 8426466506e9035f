"""Rooms that never held a conversation, purged some time after their last activity.

A youth who only posted in the forum or signed up for a group writes from their chat with
the bot without a conversation opening there; one greeted in a new room may never write at
all; a room shared by several youths is told once to write one to one. Retention works per
conversation (`retention.py`), so no run ever found such a room: it stayed on the homeserver
for good, the forum post the youth wrote there included, and the store and nio's store
named it. Here each is purged once ``keep`` (``[retention] closed_days``) has passed since
its last activity, as a closed conversation's room is after its close.

The activity is noted in a sealed setting (`seen_key`: keyed by a digest of the room, the
room and the time sealed, so that the note itself names no room on disk): when the bot
greets the youth or tells a shared room to write one to one, and when the youth's words
there are taken by the forum or the groups (`note_seen`). A room marked greeted or told by
an older version, with no such note, starts counting at the first run. A room still
needed is not purged, and its period starts again at that run: a seat's room for a group not
over yet, the room a waiting forum post came from, a group or forum room, a staff room, the
first room of a pending move (``needed``, which the bot answers from its parts), and one
where a 1:1 offered after a group's crisis still stands (`_offer_stands`, up to a day after
the group). A room a conversation opened in is left to that conversation's retention; its
note goes at the first run after its erasure (the room is purged by then: a purge of a room
already gone completes at once).

Deleting one room takes two steps, in this order: the room is purged through the admin API;
only then do its keys in nio's store (``forget``) and every setting keyed by it go, the
note last, as it is the only way back to the room after a crash. Purging a room
the homeserver no longer knows completes at once (or answers 404), so a repeat is harmless.

`plan_idle_rooms` decides (pure, time passed in); `run_idle_rooms` acts. Reports and logs
give counts only: never room ids.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from counsel_bot.conversation.forum import PENDING_KEY, post_key
from counsel_bot.conversation.group_crisis import offer_key, offered_flag
from counsel_bot.conversation.group_keys import BOOK_KEY
from counsel_bot.conversation.retention import RoomPurger, Serial, _check_time
from counsel_bot.conversation.youth_traces import from_room
from counsel_bot.core import groups as g
from counsel_bot.core.group_book_codec import decode_book
from counsel_bot.core.ids import RoomID
from counsel_bot.store import Store, StoreError
from homeserver_bridge.errors import AdminApiError, NotFound

log = logging.getLogger(__name__)

SEEN_PREFIX = "room_seen:"
# What older versions noted of a youth's room without a conversation, without a time.
MARK_PREFIXES = ("greeted:", "shared_told:")

# The settings naming the rooms of the staff, the groups and the forum topics (the staff
# room's key, "staff_room:<office>", ``group_room:<n>``, ``forum_room:<topic>``).
OWN_ROOM_PREFIXES = ("staff_room", "group_room:", "forum_room:")

Needed = Callable[[RoomID, datetime], Awaitable[bool]]
Forget = Callable[[RoomID], None]


def needed_by_records(store: Store, in_use: Callable[[RoomID], Awaitable[bool]]) -> Needed:
    """``needed`` for when no bot runs (`counsel retention` by hand), read from the store: a
    room ``in_use`` (the first room of a pending move), a seat's for a group not over yet (the
    stored book), one a waiting forum post came from (the stored queue), a staff, group or
    forum room (the settings that name them)."""

    async def needed(room: RoomID, at: datetime) -> bool:
        if await in_use(room):
            return True
        book = await store.get_sealed_setting(BOOK_KEY)
        if book is not None and room in g.seated_rooms(decode_book(book), at):
            return True
        for post in (await store.get_setting(PENDING_KEY) or "").split(","):
            stored = await store.get_sealed_setting(post_key(post)) if post else None
            if stored is not None and from_room(stored, room):
                return True
        return any(value == room and key.startswith(OWN_ROOM_PREFIXES)
                   for key, value in await store.settings(""))

    return needed


async def _offer_stands(store: Store, room: RoomID, at: datetime) -> bool:
    """A 1:1 offered in ``room`` after a group's crisis still stands: the youth's answer
    comes there (`group_crisis.offer_key`), up to a day after the group is over, when no
    seat holds the room any more."""
    offered = await store.get_setting(offer_key(room))
    return offered is not None and offered_flag(offered, at) is not None


def seen_key(room: RoomID) -> str:
    """The sealed setting noting ``room``'s last activity: a digest, not the room's id."""
    return f"{SEEN_PREFIX}{hashlib.sha256(room.encode()).hexdigest()[:32]}"


def _seen_value(room: RoomID, at: datetime) -> bytes:
    return f"{at.isoformat()}|{room}".encode()


async def _note(store: Store, room: RoomID, at: datetime) -> None:
    await store.set_sealed_setting(seen_key(room), _seen_value(room, at))


async def note_seen(store: Store, room: RoomID, at: datetime) -> None:
    """Activity in ``room``: its period starts again. Only for a room without a
    conversation (one with a conversation is that conversation's retention's)."""
    if await store.conversation_by_room(room) is None:
        await _note(store, room, at)


async def last_seen(store: Store, room: RoomID) -> datetime | None:
    """When ``room`` was last noted active; None if it is not noted."""
    value = await store.get_sealed_setting(seen_key(room))
    return None if value is None else _parsed(value)[0]


def plan_idle_rooms(seen: Iterable[tuple[RoomID, datetime]], now: datetime,
                    keep: timedelta) -> list[RoomID]:
    """The rooms last active longer than ``keep`` before ``now``, the longest idle first."""
    _check_time(now, keep)
    cutoff = now - keep
    last: dict[RoomID, datetime] = {}
    for room, at in seen:
        if at < cutoff and (room not in last or at > last[room]):
            last[room] = at
    return sorted(last, key=lambda room: (last[room], room))


@dataclass(frozen=True)
class IdleRoomsReport:
    """What one run purged, or in a dry run would purge. Counts only: no room ids."""

    dry_run: bool
    cutoff: datetime
    planned: int
    purged: int = 0
    failed: int = 0

    def summary(self) -> str:
        idle = ("room(s) without a conversation idle since before "
                + self.cutoff.isoformat(timespec="minutes"))
        if self.dry_run:
            return f"retention (dry run): {self.planned} {idle} would be purged"
        text = f"retention: {self.purged} of {self.planned} {idle} purged"
        if self.failed:
            text += f"; {self.failed} failed and will be retried on the next run"
        return text


def _parsed(value: bytes) -> tuple[datetime | None, RoomID]:
    when, _, room = value.decode().partition("|")
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None, RoomID(room)
    return (at if at.tzinfo is not None else None), RoomID(room)


async def _last_seen(store: Store, now: datetime, *, dry_run: bool,
                     ) -> list[tuple[RoomID, datetime]]:
    """Every noted room with its last activity; a room only marked (by an older version),
    or noted unreadably, is noted now (in a dry run only counted from now)."""
    seen: dict[RoomID, datetime] = {}
    for _key, value in await store.sealed_settings(SEEN_PREFIX):
        at, room = _parsed(value)
        if room:
            seen[room] = now if at is None else at
    for prefix in MARK_PREFIXES:
        for key, _value in await store.settings(prefix):
            room = RoomID(key.removeprefix(prefix))
            if room in seen or await store.conversation_by_room(room) is not None:
                continue
            seen[room] = now
            if not dry_run:
                await _note(store, room, now)
    return sorted(seen.items())


async def forget_settings_of_room(store: Store, room: RoomID) -> None:
    """Every setting keyed by ``room`` (``<kind>:<room>``) or whose value is it (a new room
    opened for a group's notice, ``new_home:<digest>``; the erasure's rule, for ``room|...``
    too), then its note."""
    for key, value in await store.settings(""):
        if key.endswith(f":{room}") or value == room or value.startswith(f"{room}|"):
            await store.move_to_sealed(key, None)  # None: only deleted, and gone on disk
    await store.set_sealed_setting(seen_key(room), None)


async def run_idle_rooms(
    store: Store, admin: RoomPurger, now: datetime, keep: timedelta, *, dry_run: bool,
    needed: Needed, forget: Forget | None = None, serial: Serial | None = None,
) -> IdleRoomsReport:
    """Purge every room without a conversation idle longer than ``keep`` (see module doc).
    A room whose purge fails is left as it is and counted in ``failed``; the next run tries
    again. ``serial`` is held from the last look at the room to the deletion of its
    settings: no conversation opens there meanwhile (`Conductor.steps`)."""
    _check_time(now, keep)
    cutoff = now - keep
    planned: list[RoomID] = []
    for room in plan_idle_rooms(await _last_seen(store, now, dry_run=dry_run), now, keep):
        if await store.conversation_by_room(room) is not None:
            continue  # a conversation opened there: its retention's
        if await needed(room, now) or await _offer_stands(store, room, now):
            if not dry_run:
                await _note(store, room, now)  # counts again from now
            continue
        planned.append(room)
    if dry_run:
        report = IdleRoomsReport(True, cutoff, len(planned))
        log.info("%s", report.summary())
        return report
    purged = failed = 0
    for room in planned:
        try:
            await admin.delete_room_and_wait(room)
        except AdminApiError as exc:
            if not (isinstance(exc, NotFound) or exc.status == 404):
                # The type, status and errcode only: the homeserver's text may quote the room.
                log.warning("retention: purging a room without a conversation failed: %s %s %s",
                            type(exc).__name__, exc.status, exc.errcode)
                failed += 1
                continue
        try:
            async with serial() if serial is not None else contextlib.nullcontext():
                if await store.conversation_by_room(room) is not None:
                    continue  # the youth wrote during the purge: that conversation's now
                if forget is not None:
                    forget(room)
                await forget_settings_of_room(store, room)
        except StoreError as exc:
            log.warning("retention: forgetting a purged room failed (%s); tried again on the "
                        "next run", type(exc).__name__)
            failed += 1
            continue
        purged += 1
    report = IdleRoomsReport(False, cutoff, len(planned), purged, failed)
    (log.warning if failed else log.info)("%s", report.summary())
    return report
