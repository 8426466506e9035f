"""Retention: closed conversations are deleted once they have been closed for the set period.

Deleting one conversation takes two steps, always in this order:

1. the room is shut down and purged through the homeserver's admin API (and we wait until the
   homeserver reports the purge complete);
2. only then are the bot's records erased (`Store.erase_conversation`).

The store row is the bot's only note of which room belongs to an expired conversation, so it
must outlive the purge: a crash between the two steps leaves the row, and the next run purges
again. Purging a room the homeserver no longer knows completes at once (or answers 404), so
repeating a run is harmless.

A closed conversation with an appointment still to come (proposed or confirmed, not yet over)
is kept until the appointment has ended (`core.appointments.held`): the youth answers, is
reminded and gets the call link in its room. So is one whose room a youth signed up from
for a group not over yet (`core.groups.seated_rooms`): the youth asked for the group, and its
invitation goes to that room. Then its normal period applies, counted from its close as
always. A youth's own erasure does not wait (`deletion.py`): it cancels the
appointment and erases at once.

A youth's room where no conversation ever opened (a forum post, a group sign-up, a greeting
never answered) has no record here: the bot's schedule purges it once idle as long
(`idle_rooms.py`).

`plan_retention` decides (pure, time passed in); `run_retention` acts. Reports and logs name
conversation ids and counts only: never room ids, user ids or anything written in a room.
Homeserver error texts are not logged either, because some quote the room id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from counsel_bot.conversation.appointments import PREFIX as APPOINTMENTS
from counsel_bot.conversation.group_keys import BOOK_KEY
from counsel_bot.core import appointments as ap
from counsel_bot.core import groups as g
from counsel_bot.core.group_book_codec import decode_book
from counsel_bot.core.ids import ConversationID
from counsel_bot.store import ConversationRecord, Store, StoreError
from homeserver_bridge.errors import AdminApiError, NotFound

log = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 3
DEFAULT_RETRY_DELAY = 2.0
# In `keep_by_office`: the period of a conversation whose office is not in the mapping
# (removed from the configuration since, so the fallback office's now). No office id
# can be "*".
OTHER_OFFICES = "*"


class RetentionError(ValueError):
    """Retention was asked to run with inputs it cannot use (a bug in the caller)."""


@dataclass(frozen=True)
class RetentionSettings:
    # Days a closed conversation is kept before its room and records are deleted.
    closed_days: int = 30
    # Hours between two retention runs.
    run_every_hours: float = 24.0
    # Days done effects and handled event ids are kept (each run forgets older ones): long
    # enough to recognise a mail the sender's server delivers again (SMTP retries for up
    # to five days), short enough that neither table grows without bound.
    done_days: int = 7

    def __post_init__(self) -> None:
        if isinstance(self.closed_days, bool) or not isinstance(self.closed_days, int):
            raise ValueError("closed_days must be a whole number of days")
        if not 1 <= self.closed_days <= 3650:
            raise ValueError("closed_days must be between 1 and 3650")
        if isinstance(self.done_days, bool) or not isinstance(self.done_days, int):
            raise ValueError("done_days must be a whole number of days")
        if not 6 <= self.done_days <= 365:
            raise ValueError("done_days must be between 6 and 365")
        hours = self.run_every_hours
        if isinstance(hours, bool) or not isinstance(hours, int | float):
            raise ValueError("run_every_hours must be a number")
        if not (math.isfinite(hours) and 0.1 <= hours <= 24 * 30):
            raise ValueError("run_every_hours must be between 0.1 and 720")

    @property
    def keep(self) -> timedelta:
        return timedelta(days=self.closed_days)

    @property
    def keep_done(self) -> timedelta:
        return timedelta(days=self.done_days)

    @property
    def run_every(self) -> timedelta:
        return timedelta(hours=self.run_every_hours)


class RoomPurger(Protocol):
    """The part of `homeserver_bridge.admin_api.AdminClient` retention needs."""

    async def delete_room_and_wait(self, room_id: str) -> object:
        """Delete and purge the room; return once the homeserver reports it complete.

        Raise `AdminApiError` if it refused or did not finish (`NotFound`/404: no such room).
        """
        ...


@dataclass(frozen=True)
class RetentionReport:
    """What one run deleted, or in a dry run would delete. Conversation ids only."""

    dry_run: bool
    cutoff: datetime
    planned: tuple[ConversationID, ...]
    deleted: tuple[ConversationID, ...] = ()
    failed: tuple[ConversationID, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        closed = "closed before " + self.cutoff.isoformat(timespec="minutes")
        if self.dry_run:
            return (f"retention (dry run): {len(self.planned)} conversation(s) {closed} "
                    f"would be deleted{_listed(self.planned)}")
        text = (f"retention: {len(self.deleted)} of {len(self.planned)} conversation(s) "
                f"{closed} deleted{_listed(self.deleted)}")
        if self.failed:
            text += (f"; {len(self.failed)} failed and will be retried on the next run"
                     f"{_listed(self.failed)}")
        return text


def _listed(ids: Iterable[ConversationID]) -> str:
    shown = list(ids)
    return f": {', '.join(shown)}" if shown else ""


def _check_time(now: datetime, keep: timedelta) -> None:
    if now.tzinfo is None:
        raise RetentionError("retention needs a timezone-aware 'now' (the store keeps UTC)")
    if keep < timedelta(0):
        raise RetentionError("the retention period cannot be negative")


def plan_retention(
    closed: Iterable[tuple[ConversationID, datetime]], now: datetime, keep: timedelta
) -> list[ConversationID]:
    """The conversations closed longer than `keep` before `now`, the longest closed first."""
    _check_time(now, keep)
    cutoff = now - keep
    oldest: dict[ConversationID, datetime] = {}
    for cid, closed_at in closed:
        if closed_at < cutoff and (cid not in oldest or closed_at < oldest[cid]):
            oldest[cid] = closed_at
    return sorted(oldest, key=lambda cid: (oldest[cid], cid))


def is_due(last_run: datetime | None, now: datetime, every: timedelta) -> bool:
    """Whether a run is due: never ran, or the last run is at least `every` ago."""
    return last_run is None or now - last_run >= every


Pause = Callable[[float], Awaitable[None]]
# Called with the record after the purge and before the erasure (see `Conductor.forget_traces`).
BeforeErase = Callable[[ConversationRecord], Awaitable[None]]
# Held around the last look and the erasure: in the bot, its conductor's step lock, so that
# no step opens the conversation again between the two (`Conductor.steps`).
Serial = Callable[[], AbstractAsyncContextManager[None]]


async def prune_bookkeeping(store: Store, now: datetime, keep_done: timedelta) -> tuple[int, int]:
    """Forget done outbox entries and handled event ids older than `keep_done`: neither
    table may grow for ever, nor keep sealed texts longer than needed. Returns how many
    entries and ids were forgotten."""
    _check_time(now, keep_done)
    cutoff = now - keep_done
    entries = await store.prune_outbox(cutoff)
    events = await store.prune_processed(cutoff)
    log.info("retention: %d done effect(s) and %d handled event id(s) forgotten",
             entries, events)
    return entries, events


async def run_retention(
    store: Store,
    admin: RoomPurger,
    now: datetime,
    keep: timedelta,
    *,
    dry_run: bool,
    attempts: int = DEFAULT_ATTEMPTS,
    retry_delay: float = DEFAULT_RETRY_DELAY,
    pause: Pause = asyncio.sleep,
    keep_by_office: Mapping[str, timedelta] | None = None,
    before_erase: BeforeErase | None = None,
    serial: Serial | None = None,
) -> RetentionReport:
    """Delete every conversation closed longer than `keep` before `now` (see module doc).

    With offices, `keep_by_office` gives an office's own period (its conversations' office
    id, "" for those from before offices, `OTHER_OFFICES` for any office it does not name);
    the others keep `keep`. A conversation that fails
    `attempts` times is left as it is and listed in `failed`; the others go on. `pause` waits
    between attempts (injected so tests need not sleep). `before_erase` lets the parts that
    name youths outside the conversation's rows (group book, forum) forget it first;
    `serial` is held from the last look at the conversation to its erasure.
    """
    _check_time(now, keep)
    default_keep = keep
    if attempts < 1:
        raise RetentionError("retention needs at least one attempt per conversation")
    own = dict(keep_by_office or {})
    for period in own.values():
        _check_time(now, period)
    keep = min([keep, *own.values()])  # the shortest period finds every candidate
    cutoff = now - keep
    closed: list[tuple[ConversationID, datetime]] = []
    records: dict[ConversationID, ConversationRecord] = {}
    held = ap.held((ap.Appointment.decode(raw)
                    for _, raw in await store.sealed_settings(APPOINTMENTS)), now)
    book = await store.get_sealed_setting(BOOK_KEY)
    seated = g.seated_rooms(decode_book(book), now) if book is not None else frozenset()
    for cid in await store.closed_before(cutoff):
        record = await store.conversation(cid)
        if record is None or record.closed_at is None:
            continue  # erased meanwhile (youth-initiated deletion): nothing left to do
        if record.closed_at >= now - own.get(record.office,
                                             own.get(OTHER_OFFICES, default_keep)):
            continue  # its office keeps conversations longer
        if cid in held:
            continue  # an appointment of it is still to come (see the module doc)
        if record.room_id in seated:
            continue  # a seat signed up from its room, in a group still to come (ditto)
        closed.append((cid, record.closed_at))
        records[cid] = record
    planned = tuple(plan_retention(closed, now, keep))
    if dry_run:
        report = RetentionReport(True, cutoff, planned)
        log.info("%s", report.summary())
        return report
    deleted: list[ConversationID] = []
    failed: list[ConversationID] = []
    for cid in planned:
        if not await _still_closed(store, records[cid]):
            continue  # opened again by crisis words while earlier rooms were purged
        done = await _delete_with_retries(store, admin, records[cid], attempts,
                                          retry_delay, pause, before_erase, serial)
        if done is not None:  # None: opened again during its purge, kept
            (deleted if done else failed).append(cid)
    report = RetentionReport(False, cutoff, planned, tuple(deleted), tuple(failed))
    if failed:
        log.warning("%s", report.summary())
    else:
        log.info("%s", report.summary())
    return report


async def _still_closed(store: Store, planned: ConversationRecord) -> bool:
    """Read again just before its purge: each purge takes seconds, and meanwhile the bot
    may have opened a planned conversation again (crisis words after its close)."""
    now = await store.conversation(planned.conversation)
    return now is not None and now.closed_at == planned.closed_at


async def _delete_with_retries(
    store: Store, admin: RoomPurger, record: ConversationRecord,
    attempts: int, retry_delay: float, pause: Pause, before_erase: BeforeErase | None,
    serial: Serial | None,
) -> bool | None:
    """True: deleted; False: failed every attempt; None: opened again, kept."""
    cid = record.conversation
    for attempt in range(1, attempts + 1):
        try:
            if not await _delete_one(store, admin, record, before_erase, serial):
                return None
        except (AdminApiError, StoreError) as exc:
            # The type, status and errcode only: the homeserver's text may quote the room id.
            log.warning(
                "retention: deleting conversation %s failed (attempt %d of %d): %s %s %s",
                cid, attempt, attempts, type(exc).__name__,
                getattr(exc, "status", ""), getattr(exc, "errcode", ""),
            )
            if attempt < attempts:
                await pause(retry_delay * 2 ** (attempt - 1))
            continue
        return True
    return False


async def _delete_one(
    store: Store, admin: RoomPurger, record: ConversationRecord, before_erase: BeforeErase | None,
    serial: Serial | None,
) -> bool:
    """False if the conversation was opened again meanwhile (kept, room purged or not)."""
    cid = record.conversation
    try:
        await admin.delete_room_and_wait(record.room_id)
    except AdminApiError as exc:
        if not (isinstance(exc, NotFound) or exc.status == 404):
            raise
        log.info("retention: the room of conversation %s was already gone", cid)
    # Only after the purge: until here the row is the only way back to the room. The group
    # book and forum forget the youth before the row goes: the row is how they find them,
    # so a crash in between repeats both on the next run.
    async with serial() if serial is not None else contextlib.nullcontext():
        # Read again: crisis words written into the room while it was purged (seconds)
        # open it again; erasing it then would take an open, flagged conversation's
        # records from under the router. Its lost room ends it; a later run erases it.
        if not await _still_closed(store, record):
            log.info("retention: conversation %s was opened again during its purge; kept",
                     cid)
            return False
        if before_erase is not None:
            await before_erase(record)
        await store.erase_conversation(cid)
    log.info("retention: conversation %s deleted", cid)
    return True
