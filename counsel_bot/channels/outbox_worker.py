"""When and in which order outbox effects are performed (the executor knows how).

Effects are grouped into lanes: one per conversation, one for the staff room, one per other
room, and one per conversation for the emergency numbers sent by mail (they need only the
relay, and must wait for nothing the homeserver holds up). Within a lane they run in the
order they were committed, because order matters there (remove the old counsellor before
inviting the new one, the transcript before "closed").
Lanes run side by side, so one youth's invitation never waits behind another conversation's
notices or a slow homeserver call. The worker runs beside the sync loop and is woken by every
commit, so effects start while the rest of a sync batch is still being handled.

Urgent effects (an invitation for a counsellor, a crisis alert, a page to a team lead) go
first: every other effect waits while one is pending. The homeserver handles requests one at
a time on a small machine, so a notice sent alongside an invitation only delays it. An
urgent effect committed while its lane is busy counts from the moment it is committed, and
that lane goes on with it instead of ending first. A lane that holds an urgent effect behind
ordinary ones waits less (priority inheritance): only for urgent effects being performed,
which wait for nobody, and for each at most INHERITED_WAIT_SECONDS, not for those queued
behind other lanes' ordinary effects. Without that, two lanes each holding a notice before
an urgent effect waited for each other for good, and every other send with them: reachable
when a kill or a failed send left two queued youths' "you are number 2" pending before their
invitations. Waiting for the ones being performed keeps a staff digest ahead of a freshly
committed alert from going out beside a youth's invitation (measured: the invitation took
99-144 ms instead of 75-77 in bench.latency when it did). The price, taken on purpose: a
slow send ahead of an alert in its lane holds every lane that holds nothing urgent until the
alert is out (not a mail: a hung relay takes nothing from the homeserver, and would hold them
for a minute at each try). Other effects also wait a moment (URGENT_SETTLE_SECONDS) after the
last urgent one was answered: Synapse wakes the invited counsellor's sync only as it answers,
and a send right then (the youth's "you are with ..." needs a new room key, so several calls)
competed with building that sync (measured: the invitation reached the counsellor 11 ms after the
answer instead of 6 ms, 2 cores under load).

What holds after a crash: effects are performed at least once; a crash loses none (only an
effect refused MAX_ATTEMPTS times is dropped, with a log line). Each effect (a staff digest:
all the notices in it) is marked done in its own transaction as soon as it completed, so a
kill repeats at most the one effect that was in flight in each lane, never what its lane had
finished before. Whether that repeat is visible depends on the effect: Matrix sends carry a
transaction id derived from the key (Synapse answers a repeat with the event it already
made, as long as it remembers the id; each part of a long transcript has its own),
invitations and kicks check membership first, and a mail reply carries a Message-ID derived
from the key that the mail channel records right after sending and checks before
(`MailChannel.send_reply`). What remains: a kill (or a takeover by a standby) after the mail
server accepted a reply and before the channel recorded it sends that reply twice; a kill
after a staff digest was sent and before its mark can send the digest again, formed anew,
possibly with more notices (its key, and so its transaction id, then differs).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import hashlib
import logging
import math
from collections.abc import Awaitable, Callable, Iterable

from counsel_bot.channels.failures import EFFECTS, SET_ASIDE_AFTER, Failures
from counsel_bot.core.clock import Clock
from counsel_bot.core.effects import (
    ABOUT_ONE_CONVERSATION,
    Effect,
    EndChat,
    MailCode,
    MailToYouth,
    PostText,
    SayInRoom,
    SayPrivately,
    SayToStaff,
    SendMail,
    StaffDigest,
    Transcript,
    decode_effect,
    quotes_youths,
)
from counsel_bot.core.group_effects import GROUP_EFFECTS, group_lane, group_urgent
from counsel_bot.core.routing import Assign
from counsel_bot.store import Store

log = logging.getLogger(__name__)

# A permanent refusal (the room is gone, the bot was removed) is retried this often, then
# dropped with a warning so one broken room cannot stall every other conversation.
MAX_ATTEMPTS = 5
# Lanes performed at the same time: enough to hide the homeserver's round trips, few enough
# not to flood it (its rate limits exempt the bot, its CPU does not).
PARALLEL_LANES = 8
# Mails sent at the same time, in slots of their own: the relay is another server, and one
# that takes the connection and never answers holds each send for its timeout (a minute). In
# the homeserver's slots, mail conversations enough to fill them held every crisis alert,
# invitation and chat text as long.
PARALLEL_MAILS = 2
# The mails with the emergency numbers a mail youth is sent after crisis words
# (crisis_flags.py) take slots of their own: in the routine ones they waited behind every
# reply, code and appointment mail queued before them, at a hung relay a minute per pair.
CRISIS_MAIL_TEXTS = frozenset({"safety_info", "safety_offer"})
PARALLEL_CRISIS_MAILS = 2
# Without a wake-up, pending effects (after a transient failure) are retried this often.
IDLE_SECONDS = 5.0
# On a graceful stop, pending effects are performed for at most this long; then the ones
# being performed get at most FINISH_SECONDS more (see `_drain_within`).
SHUTDOWN_GRACE_SECONDS = 10.0
FINISH_SECONDS = 3.0

URGENT_STAFF_NOTICES = frozenset({"staff_crisis_alert", "staff_crisis_elsewhere",
                                  "staff_lead_page", "staff_lead_page_elsewhere",
                                  "staff_lead_page_waiting", "staff_lead_page_closed",
                                  "group.staff_crisis_alert", "staff_message_set_aside",
                                  "staff_effect_set_aside", "staff_effect_refused",
                                  "staff_crisis_unmoved", "staff_move_refused"})

# How long other effects wait after an urgent one was answered, so the homeserver can bring
# it to its recipient first (see above). Too short to notice in a chat.
URGENT_SETTLE_SECONDS = 0.02
# Staff notices waiting together are sent as one message of at most this many.
DIGEST_MOST = 20
# How long an ordinary effect on the way to its own lane's urgent effect waits for another
# lane's urgent effect being performed (a staff digest ahead of a crisis alert, while a
# youth's invitation is sent): long enough for an answer on a small machine (about 20 ms),
# short enough that a homeserver slow to answer one cannot hold up the other.
INHERITED_WAIT_SECONDS = 0.1
# How long a youth's crisis check waits for the invitation committed before it to be answered
# (`urgent_answered`): the check's model competed with sending it (measured, bench/RESULTS.md),
# and a homeserver that answers slowly must not hold the check up for long.
URGENT_ANSWER_WAIT_SECONDS = 0.05

Perform = Callable[[Effect | StaffDigest, str], Awaitable[None]]
Work = list[tuple[Effect, str]]
# What is performed: an effect or a digest, its key, and the outbox keys it completes.
Item = tuple[Effect | StaffDigest, str, tuple[str, ...]]


class EffectFailed(Exception):
    """A Matrix call failed; ``permanent`` if retrying cannot help. ``waiting``: nothing
    failed, the effect waits for a person (a staff member to accept the bot's direct room),
    retried as quietly as it may take hours."""

    def __init__(self, what: str, *, permanent: bool, waiting: bool = False) -> None:
        super().__init__(what)
        self.permanent = permanent
        self.waiting = waiting


def lane_of(effect: Effect) -> str:
    """Effects that must keep their order share a lane; the lane names no id in logs."""
    if isinstance(effect, SayToStaff):
        return f"staff:{effect.office}" if effect.office else "staff"
    if isinstance(effect, SayInRoom):
        return f"room:{effect.room_id}"
    if isinstance(effect, Transcript) and effect.privately:
        return f"private:{effect.counsellor}"
    if isinstance(effect, SayPrivately) or (isinstance(effect, PostText)
                                            and effect.to is not None):
        # Not the conversation's: a direct room just opened (nio learns of it with the next
        # sync), or one whose invitation waits to be accepted, holds up none of the youth's
        # (the counsellor's replies by mail among them).
        return f"private:{effect.to}"
    if isinstance(effect, EndChat):
        # Whoever came in with the case code leaves now, not after what waits in the
        # conversation's lane (a transcript for the counsellor alone, waiting for them).
        return f"end-chat:{effect.conversation}"
    if isinstance(effect, GROUP_EFFECTS):
        return group_lane(effect)
    if is_crisis_mail(effect):
        # Needs only the relay: behind the youth's mail posted for the counsellor in its
        # conversation's lane, a homeserver away held the emergency numbers until it was back.
        return f"crisis-mail:{effect.conversation}"
    return f"conversation:{effect.conversation}"


def is_mail(effect: Effect | StaffDigest) -> bool:
    """Performed by the mail relay, not the homeserver."""
    return isinstance(effect, SendMail | MailToYouth | MailCode)


def is_crisis_mail(effect: Effect | StaffDigest) -> bool:
    """The emergency numbers sent by mail after a crisis flag."""
    return isinstance(effect, MailToYouth) and effect.key in CRISIS_MAIL_TEXTS


def is_urgent(effect: Effect) -> bool:
    """What a person is waiting for right now: a counsellor for a youth, staff for a crisis."""
    if isinstance(effect, SayToStaff):
        return effect.key in URGENT_STAFF_NOTICES
    if isinstance(effect, GROUP_EFFECTS):
        return group_urgent(effect)
    return isinstance(effect, Assign)


def coalesce(work: Work, alone: Callable[[str], bool] = lambda key: False) -> list[Item]:
    """Runs of ordinary staff notices become digests; everything else stays as it is, and so
    does a notice ``alone`` names (one a digest failed with: alone, a bug in it stops only
    itself, see failures.py).

    A digest's key is made from all its notices' keys. After a crash it may be formed with
    more notices than before and be sent again: a repeated notice, never a lost one."""
    items: list[Item] = []
    run: list[tuple[SayToStaff, str]] = []

    def flush() -> None:
        if len(run) == 1:
            items.append((run[0][0], run[0][1], (run[0][1],)))
        elif run:
            keys = tuple(key for _, key in run)
            digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
            items.append((StaffDigest(tuple(n for n, _ in run)), f"digest:{digest}", keys))
        run.clear()

    for effect, key in work:
        # A youth's words about one conversation go alone: taken back at its erasure, they
        # would take a digest's other notices along.
        if isinstance(effect, SayToStaff) and not is_urgent(effect) and not alone(key) \
                and effect.key not in ABOUT_ONE_CONVERSATION:
            if run and run[0][0].office != effect.office:
                flush()  # a digest goes to one staff room
            run.append((effect, key))
            if len(run) == DIGEST_MOST:
                flush()
        else:
            flush()
            items.append((effect, key, (key,)))
    flush()
    return items


class OutboxWorker:
    def __init__(
        self, perform: Perform, store: Store, clock: Clock, *, parallel: int = PARALLEL_LANES,
        settle: float = URGENT_SETTLE_SECONDS,
    ) -> None:
        self._perform = perform
        # Told of each effect dropped for good, whether it was urgent (the bot counts them:
        # a dropped crisis alert must show on the team lead's dashboard, not only in a log).
        self.on_dropped: Callable[[bool], None] | None = None
        # Told of each effect set aside after it made the bot fail twice (failures.py).
        self.on_set_aside: Callable[[Effect | StaffDigest], Awaitable[None]] | None = None
        # Told of each effect given up after MAX_ATTEMPTS refusals (the staff must learn
        # which conversation misses what: the counter and the log do not say).
        self.on_given_up: Callable[[Effect | StaffDigest], Awaitable[None]] | None = None
        self._settle = settle
        self._settled_at = 0.0  # event-loop time before which other effects wait
        self._store = store
        self._clock = clock
        self._slots = asyncio.Semaphore(parallel)
        self._mail_slots = asyncio.Semaphore(PARALLEL_MAILS)
        self._crisis_mail_slots = asyncio.Semaphore(PARALLEL_CRISIS_MAILS)
        self._wake = asyncio.Event()
        # Held from reading the outbox until its lanes are started, and while a lane marks
        # its effects done: a lane can never be started twice from a stale read.
        self._dispatching = asyncio.Lock()
        self._lanes: dict[str, asyncio.Task[bool]] = {}
        self._work_keys: dict[str, frozenset[str]] = {}  # per running lane, its work
        self._attempts: dict[str, int] = {}
        self._failures = Failures(store, EFFECTS)  # bugs met, across stops
        self._crash: BaseException | None = None
        self._closing = False  # a stop's grace is over: no lane starts another effect
        # Per running lane: urgent effects in its work not yet attempted, and urgent effects
        # committed to it since it took that work (it goes on with them).
        self._urgent_left: dict[str, int] = {}
        self._urgent_queued: dict[str, int] = {}
        # Lanes performing an urgent effect (or at one), and since when (event-loop time).
        self._urgent_now: dict[str, float] = {}
        # Lanes at a mail (waiting for a mail slot or the relay): an urgent effect behind it
        # holds up no other lane, the relay may take a minute and takes nothing from the
        # homeserver.
        self._mailing: set[str] = set()
        # Dispatches that began reading the outbox, and that finished (they run one at a
        # time), and an event set as each finishes: for `urgent_answered`.
        self._reads_begun = 0
        self._reads_done = 0
        self._dispatched = asyncio.Event()
        self._answers_until = 0.0  # event-loop time: see `renew_answer_budget`
        self._urgent_changed = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, grace: float = SHUTDOWN_GRACE_SECONDS,
                  finish: float = FINISH_SECONDS) -> None:
        """Perform effects as they are committed until ``stop``, then what is still pending
        for at most ``grace`` seconds (the rest waits in the outbox for the next start).
        A bug in performing an effect is raised here, so the process stops loudly instead
        of silently losing effects."""
        try:
            while not stop.is_set():
                self._wake.clear()
                await self.dispatch()
                with contextlib.suppress(TimeoutError):
                    # asyncio.timeout, not wait_for: wait_for in Python 3.11 can swallow a
                    # cancel that comes just as the wait ends.
                    async with asyncio.timeout(IDLE_SECONDS):
                        await self._wake.wait()
                if self._crash is not None:
                    raise self._crash
            await self._drain_within(grace, finish)
        finally:
            await self.cancel()

    async def _drain_within(self, grace: float, finish: float) -> None:
        """The drain for at most ``grace`` seconds; then the lanes finish the effect they are
        performing (for at most ``finish`` seconds) and start no other. Cancelling an effect
        halfway would do what a kill does: a mail reply sent but not recorded goes out
        twice at the next start, a new room is made twice."""
        # Shielded: a timeout here must not cancel the drain's lanes under their effects.
        draining = asyncio.ensure_future(self.drain())
        try:
            await asyncio.wait_for(asyncio.shield(draining), grace)
            return
        except TimeoutError:
            self._closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(draining), finish)
        if not draining.done():
            draining.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await draining

    async def drain(self, *, mails: bool = True) -> None:
        """Perform every pending effect, and what is committed while they run, until only
        effects this drain already tried are left (those wait for the next start). Without
        ``mails``, a lane at a mail is not waited for (the relay may hang for a minute at
        each): the lanes go on with it after the drain.

        One round is not enough: a lane that is running takes up only urgent effects
        committed to it meanwhile, so a youth's emergency numbers committed behind their
        invitation were left for the next start."""
        tried: set[str] = set()
        while not self._closing:
            await self.dispatch()
            tried.update(*self._work_keys.values())
            if mails:
                await asyncio.gather(*self._lanes.values(), return_exceptions=True)
            else:
                while any(lane not in self._mailing for lane in self._lanes):
                    await self._urgent_changed.wait()  # also set as a lane ends
            if self._crash is not None:
                raise self._crash
            pending = await self._store.pending_outbox()
            # Without mails, what a lane still at a mail holds goes on after the drain: it
            # takes up what was queued behind the mail only once the relay has answered.
            left = {entry.key for entry in pending
                    if mails or lane_of(decode_effect(entry.payload)) not in self._lanes}
            if left <= tried:
                return

    async def cancel(self) -> None:
        lanes = list(self._lanes.values())
        for task in lanes:
            task.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)

    async def dispatch(self) -> None:
        """Start a lane for each group of pending effects whose lane is not running."""
        await self._failures.load()
        async with self._dispatching:
            self._reads_begun += 1
            for lane, work in (await self._pending()).items():
                if lane not in self._lanes:
                    self._start(lane, work)
                else:
                    started = self._work_keys[lane]
                    self._urgent_queued[lane] = _count_urgent(
                        (effect, key) for effect, key in work if key not in started)
            self._urgent_changed_now()
            self._reads_done += 1
            dispatched, self._dispatched = self._dispatched, asyncio.Event()
            dispatched.set()

    def renew_answer_budget(self, seconds: float = URGENT_ANSWER_WAIT_SECONDS) -> None:
        """A new sync batch: the waits of `answered_within_budget` in it take at most this
        long together, so a batch of many new youths does not hold back a crisis later in
        it by one wait per youth."""
        self._answers_until = asyncio.get_running_loop().time() + seconds

    async def answered_within_budget(self) -> None:
        """`urgent_answered` for what is left of the batch's budget (nothing outside one)."""
        left = self._answers_until - asyncio.get_running_loop().time()
        if left > 0:
            await self.urgent_answered(left)

    async def urgent_answered(self, within: float = URGENT_ANSWER_WAIT_SECONDS) -> None:
        """Wait until the homeserver has answered every urgent effect committed so far, for
        at most ``within`` seconds: what may compete with them (a youth's crisis check right
        after their invitation) waits. Only a wait: nothing is performed here."""
        # A dispatch that reads the outbox from now on sees what was committed before this
        # call (the commit woke the worker for one).
        before = self._reads_begun

        async def answered() -> None:
            while self._reads_done <= before:
                await self._dispatched.wait()
            while any(map(self._holds_urgent, self._lanes)):
                await self._urgent_changed.wait()

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await answered()

    async def _pending(self) -> dict[str, Work]:
        lanes: dict[str, Work] = {}
        for entry in await self._store.pending_outbox():
            effect = decode_effect(entry.payload)
            lanes.setdefault(lane_of(effect), []).append((effect, entry.key))
        return lanes

    def _take(self, lane: str, work: Work, *, taken: frozenset[str] = frozenset()) -> None:
        """What a lane is about to perform (under the dispatch lock); ``taken``: the keys it
        had before, which dispatch must not count as queued either."""
        self._urgent_left[lane] = _count_urgent(work)
        self._urgent_queued[lane] = 0
        self._work_keys[lane] = taken | {key for _, key in work}

    def _start(self, lane: str, work: Work) -> None:
        self._take(lane, work)
        task = asyncio.create_task(self._run_lane(lane, work))
        self._lanes[lane] = task
        # A callback, not a finally: it also runs for a lane cancelled before it started.
        task.add_done_callback(functools.partial(self._lane_ended, lane))

    def _retire(self, lane: str) -> None:
        del self._lanes[lane], self._work_keys[lane]
        # Urgent effects this lane did not get to (it failed, or was cancelled) no longer hold
        # up the others.
        del self._urgent_left[lane], self._urgent_queued[lane]
        self._urgent_changed_now()

    def _lane_ended(self, lane: str, task: asyncio.Task[bool]) -> None:
        if self._lanes.get(lane) is task:  # cancelled or a bug: not retired by itself
            self._retire(lane)
        if task.cancelled():
            return
        if task.exception() is not None:
            self._crash = task.exception()  # raised by run()
            self._wake.set()
        elif task.result():
            self._wake.set()  # ordinary effects may have been committed to this lane meanwhile

    def _urgent_changed_now(self) -> None:
        # Everyone waiting holds the old event: set it, and later waits use a fresh one.
        changed, self._urgent_changed = self._urgent_changed, asyncio.Event()
        changed.set()

    def _holds_urgent(self, lane: str) -> bool:
        return self._urgent_left[lane] + self._urgent_queued[lane] > 0

    def _must_wait(self, lane: str) -> float | None:
        """None if an ordinary effect of ``lane`` may start now; else how long at most to
        wait before asking again (inf: until the urgent effects change)."""
        if self._holds_urgent(lane):
            # On the way to its own urgent effect: it waits only for urgent effects being
            # performed (those never wait for anyone, so this makes no cycle), not for ones
            # queued behind other lanes' ordinary effects (that could be waiting for itself);
            # and for each only so long: an invitation the homeserver is slow to answer must
            # not hold a crisis alert behind it for as long.
            now = asyncio.get_running_loop().time()
            left = [started + INHERITED_WAIT_SECONDS - now
                    for other, started in self._urgent_now.items() if other != lane]
            return min((x for x in left if x > 0), default=None)
        return math.inf if any(self._holds_urgent(other) for other in self._lanes
                               if other not in self._mailing) else None

    async def _others_urgent_done(self, lane: str) -> None:
        """Wait until the urgent effects this effect must let go first are out (see
        ``_must_wait``), and the last answered one has settled."""
        # Checked anew after every wait: an urgent effect may be committed meanwhile, to this
        # lane (then wait less) or to another (then wait for it too).
        while True:
            while (wait := self._must_wait(lane)) is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(None if wait == math.inf else wait):
                        await self._urgent_changed.wait()
            # The event loop's monotonic time, not the clock: a pause of milliseconds
            # between homeserver calls, which no test's fake clock should have to drive.
            left = self._settled_at - asyncio.get_running_loop().time()
            if left <= 0:
                return
            await asyncio.sleep(left)

    async def _run_lane(self, lane: str, work: Work) -> bool:
        """Perform a lane's effects. If an urgent effect was committed to the lane meanwhile,
        go on with what was committed (ending and being started again would let other lanes
        slip past it); True if nothing was left for later. The lane ends under the dispatch
        lock, so a dispatch sees it either running (and counts what it queued) or ended
        (and starts it anew), never ended but counted as running."""
        refused = False
        while True:
            outcome = await self._run_work(lane, work)
            refused |= outcome is _Outcome.REFUSED
            async with self._dispatching:
                if outcome is _Outcome.STOPPED or not self._urgent_queued[lane]:
                    self._retire(lane)
                    return outcome is _Outcome.DONE and not refused
                taken = self._work_keys[lane]
                # Not what was refused and kept: that is retried when the lane starts anew.
                work = [(effect, key) for effect, key in (await self._pending()).get(lane, [])
                        if key not in taken]
                self._take(lane, work, taken=taken)

    async def _run_work(self, lane: str, work: Work) -> _Outcome:
        outcome = _Outcome.DONE
        for effect, key, completes in coalesce(work, self._failures.failed_before):
            if self._closing:
                return _Outcome.STOPPED  # kept, in order, for the next start
            urgent = not isinstance(effect, StaffDigest) and is_urgent(effect)
            if urgent:
                self._urgent_now[lane] = asyncio.get_running_loop().time()
            try:
                if self._failures.to_set_aside(key):
                    await self._set_aside(effect, key, urgent=urgent)
                else:
                    if not await self._perform_in_slot(lane, effect, key, completes,
                                                       urgent=urgent):
                        return _Outcome.STOPPED
                    if urgent:
                        self._settled_at = asyncio.get_running_loop().time() + self._settle
            except EffectFailed as failure:
                if not self._may_go_on(key, failure, urgent=urgent):
                    return _Outcome.STOPPED
                if key in self._attempts:
                    outcome = _Outcome.REFUSED
                    continue
                if self.on_given_up is not None:
                    await self.on_given_up(effect)
            finally:
                if urgent:
                    self._urgent_now.pop(lane, None)
                    self._urgent_left[lane] -= 1
                    self._urgent_changed_now()
            # At once, not when the lane ends: a kill later in the lane must not repeat it.
            await self._mark_done(completes, forget_on_disk=quotes_youths(effect))
            self._attempts.pop(key, None)
            await self._failures.forget(key)
        return outcome

    async def _perform_in_slot(self, lane: str, effect: Effect | StaffDigest, key: str,
                               completes: tuple[str, ...], *, urgent: bool) -> bool:
        """Perform the effect in one of the slots; False if the stop's grace ran out while
        it waited for one. A bug is written down before it stops the bot (failures.py): for
        a digest, for each of its notices, which the next start sends alone."""
        mail = is_mail(effect)
        if mail:
            self._mailing.add(lane)
            self._urgent_changed_now()
        try:
            crisis_mail = is_crisis_mail(effect)
            slots = (self._crisis_mail_slots if crisis_mail
                     else self._mail_slots if mail else self._slots)
            # The emergency numbers by mail take nothing from the homeserver: they do not
            # wait for its urgent effects, which a homeserver that does not answer holds
            # until nio's timeout, again at each retry.
            await self._take_slot(lane, slots, urgent=urgent or crisis_mail)
            if self._closing:
                slots.release()
                return False
            try:
                await self._perform(effect, key)
            except EffectFailed:
                raise
            except Exception as exc:
                await self._failures.failed(completes, exc)
                raise
            finally:
                slots.release()
            return True
        finally:
            if mail:
                self._mailing.discard(lane)
                self._urgent_changed_now()

    async def _set_aside(self, effect: Effect | StaffDigest, key: str, *,
                         urgent: bool) -> None:
        """It made the bot fail twice: dropped, counted like an effect the homeserver
        refused for good, and the staff told (something a youth was to read may be
        missing, the emergency numbers even)."""
        log.critical("effect %s set aside: performing it failed %d times (a bug; see the "
                     "errors before the last stops)", _kind(key), SET_ASIDE_AFTER)
        if self.on_dropped is not None:
            self.on_dropped(urgent)
        if self.on_set_aside is not None:
            await self.on_set_aside(effect)

    async def _take_slot(self, lane: str, slots: asyncio.Semaphore, *, urgent: bool) -> None:
        """One of the parallel slots; an ordinary effect also checks, once it has one, that
        no urgent effect was committed while it queued for it (the slots are first come,
        first served)."""
        while True:
            if not urgent:
                await self._others_urgent_done(lane)
            await slots.acquire()
            if urgent or self._must_wait(lane) is None:
                return
            slots.release()

    async def _mark_done(self, keys: tuple[str, ...], *, forget_on_disk: bool = False) -> None:
        """Under the dispatch lock, so no dispatch reads the outbox between this mark and
        the lane's end; finished even when the lane is cancelled meanwhile (a stop)."""
        async def mark() -> None:
            async with self._dispatching:
                await self._store.mark_outbox_done(keys, at=self._clock.now(),
                                                   forget_on_disk=forget_on_disk)

        marking = asyncio.ensure_future(mark())
        try:
            await asyncio.shield(marking)
        except asyncio.CancelledError:
            await marking
            raise

    def _may_go_on(self, key: str, failure: EffectFailed, *, urgent: bool = False) -> bool:
        """Count a refusal; False if the lane must stop (the homeserver is away). An effect
        still in ``_attempts`` afterwards is retried later, one not in it is dropped."""
        if not failure.permanent:
            # Keep the order: try again on the next wake-up. Not counted: a homeserver away
            # for a while must not use up an effect's refusals (the first one after it
            # would drop the effect, a crisis alert even).
            (log.debug if failure.waiting else log.warning)(
                "effect %s failed (%s); will retry", _kind(key), failure)
            return False
        attempts = self._attempts.get(key, 0) + 1
        self._attempts[key] = attempts
        if attempts < MAX_ATTEMPTS:
            # Refused for this room only: the other conversations go on meanwhile.
            log.warning("effect %s refused (%s); will retry", _kind(key), failure)
            return True
        if urgent:
            log.critical("a crisis alert or lead page (%s) could not be sent after %d attempts "
                         "(%s): check that the bot is in the staff room", _kind(key), attempts,
                         failure)
        else:
            log.error("effect %s dropped after %d attempts (%s)", _kind(key), attempts, failure)
        del self._attempts[key]
        if self.on_dropped is not None:
            self.on_dropped(urgent)
        return True


class _Outcome(enum.Enum):
    DONE = enum.auto()  # every effect performed (or dropped for good)
    REFUSED = enum.auto()  # some refused for their room, kept to retry later
    STOPPED = enum.auto()  # the homeserver is away: the lane stops, its order kept


def _count_urgent(work: Iterable[tuple[Effect, str]]) -> int:
    return sum(is_urgent(effect) for effect, _ in work)


def _kind(key: str) -> str:
    """The effect's kind for logs: the key's first part, never the ids after it."""
    return key.split(":", 1)[0]
