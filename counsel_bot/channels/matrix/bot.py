"""The bot's Matrix adapter: one sync loop that turns sync responses into conductor calls.

Why our own loop instead of nio's ``sync_forever`` and callbacks: nio saves the sync token
*before* callbacks have handled the events, so a crash in between loses them. Here every event
is committed (or recognised as processed) by the conductor first, and the sync token is saved
only after the batch was handled, so each message takes effect exactly once across crashes
and homeserver restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from nio import (
    AsyncClient,
    BadEvent,
    CallInviteEvent,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomMemberEvent,
    RoomMessage,
    RoomMessageText,
    RoomNameEvent,
    RoomTopicEvent,
    RoomUpgradeEvent,
    StickerEvent,
    SyncError,
    SyncResponse,
    Timeline,
    UnknownBadEvent,
    UnknownEvent,
)

from counsel_bot.channels.failures import EVENTS, Failures
from counsel_bot.channels.matrix import left_room_words
from counsel_bot.channels.matrix.addon_events import AddonEvents
from counsel_bot.channels.matrix.event_words import (
    CALL_RINGS,
    POLL_TYPES,
    held_words,
)
from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.matrix.held_events import HeldEvents
from counsel_bot.channels.matrix.invitations import Invitations
from counsel_bot.channels.matrix.membership import SeenInvitations
from counsel_bot.channels.matrix.missed_leaves import MissedLeaves
from counsel_bot.channels.matrix.office_rooms import OfficeStaffRooms
from counsel_bot.channels.matrix.private_rooms import PrivateRooms
from counsel_bot.channels.matrix.room_history import GapUnavailable, events_between
from counsel_bot.channels.matrix.room_moves import RoomMoves
from counsel_bot.channels.matrix.room_settings import ENCRYPTION, counselling_power_levels
from counsel_bot.channels.matrix.room_upgrades import RoomUpgrades
from counsel_bot.channels.matrix.room_youth import RoomYouth, matrix_youth
from counsel_bot.channels.matrix.session import LOGIN_GONE, LoginRevoked
from counsel_bot.channels.matrix.staff_devices import StaffDevices
from counsel_bot.channels.matrix.staff_room import StaffRoom
from counsel_bot.channels.matrix.staff_told import StaffTold
from counsel_bot.channels.matrix.staff_words import StaffWords
from counsel_bot.channels.matrix.strangers import Strangers
from counsel_bot.channels.matrix.sync_requests import (
    SYNC_TIMELINE_LIMIT,
    housekeeping,
    sync_or_stop,
)
from counsel_bot.channels.matrix.waiting_keys import WaitingKeys
from counsel_bot.channels.matrix.welcomes import Welcomes
from counsel_bot.channels.matrix.youth_moves import YouthMoves
from counsel_bot.channels.matrix.youth_words import YouthWords
from counsel_bot.channels.outbox_worker import OutboxWorker
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.messages import Language
from counsel_bot.core.reactions import one_emoji
from counsel_bot.core.routing.model import Channel
from counsel_bot.core.undecryptable import UndecryptableBuffer

if TYPE_CHECKING:
    from counsel_bot.channels.mail.mail_channel import MailChannel

log = logging.getLogger(__name__)

SYNC_TOKEN_KEY = "sync_token"  # noqa: S105 (a settings key)
# Each part that takes in work beside the sync loop gets this long to end at a stop (the
# mail server's grace is 5 s); the runner's whole stop has 25 s.
INTAKE_STOP_SECONDS = 7.0
TICK_INTERVAL = timedelta(seconds=5)
# Bad-request answers in a row before a saved sync position is given up (see _sync_until).
TOKEN_REFUSALS = 3


class CounselBot:
    def __init__(
        self,
        client: AsyncClient,
        conductor: Conductor,
        executor: Executor,
        clock: Clock,
        *,
        default_language: Language,
        undecryptable_grace: timedelta,
    ) -> None:
        self.client = client
        self.conductor = conductor
        self.store = conductor.store
        self.executor = executor
        self.outbox = OutboxWorker(executor.perform, conductor.store, clock)
        self.staff_told = StaffTold(conductor, clock)
        if conductor.metrics is not None:
            self.outbox.on_dropped = conductor.metrics.effect_dropped
        self.outbox.on_set_aside = self.staff_told.effect_set_aside
        self.outbox.on_given_up = self.staff_told.effect_given_up
        self.clock = clock
        self.default_language = default_language
        self.undecryptable: UndecryptableBuffer[MegolmEvent] = UndecryptableBuffer(
            undecryptable_grace
        )
        self.invitations = Invitations(client, conductor.store, clock, self.is_staff)
        self.room_youth = RoomYouth(client, conductor.store, self.is_staff)
        self.strangers = Strangers(client, conductor, executor, clock, default_language)
        # What takes in work beside the sync loop (the mail server, retention): ended after
        # the loop and before the outbox's last drain, which then performs what they committed.
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        # What a youth wrote in a room whose move the homeserver refused, meanwhile.
        self.held = HeldEvents(client, conductor.store)
        self.moves = RoomMoves(conductor.store)
        self.failing = Failures(conductor.store, EVENTS)
        self.moving = YouthMoves(client, conductor, executor, clock, default_language,
                                 self.moves)
        executor.waiting_in = self.moves.first_of
        self.upgrades = RoomUpgrades(client, conductor, clock, self.moving)
        executor.declined_in = self.moving.declined_in
        conductor.counted_room = self.moving.counted_room
        self._last_tick = clock.now() - TICK_INTERVAL
        self.waiting_keys = WaitingKeys(
            client, conductor, executor, clock, default_language, self.undecryptable,
            counted_room=self.moving.counted_room, handle=self._on_room_event_once,
            is_staff=self.is_staff, is_staff_room=self._is_staff_room)
        self.staff_devices = StaffDevices(client, conductor, clock, self.is_staff)
        self.staff_words = StaffWords(conductor, clock, self.staff_devices, self._is_staff_room)
        self.addon_events = AddonEvents(client, clock, self.undecryptable, self.is_staff)
        self.welcomes = Welcomes(
            client, conductor.store, executor, clock, default_language,
            invitations=self.invitations, held=self.held, moving=self.moving,
            strangers=self.strangers, room_youth=self.room_youth,
            is_staff_room=self._is_staff_room, replay=self._on_room_event_once)
        self.youth_words = YouthWords(
            client, conductor, clock, room_youth=self.room_youth, moving=self.moving,
            held=self.held, strangers=self.strangers, is_staff_room=self._is_staff_room,
            held_position=self._held_position, welcome_later=self.welcomes.later,
            replaying=self.welcomes.replaying)
        self.missed_leaves = MissedLeaves(client, clock, self._rooms_to_be_in,
                                          lambda room: self._room_left(room, []))
        self.ready = asyncio.Event()
        self.staff_rooms = StaffRoom(client, conductor.store, conductor.policy.staff,
                                     default_language)
        self.staff_rooms.announce = self.staff_told.room_replaced
        self.staff_rooms.not_invited = self.staff_told.not_invited
        invitations = SeenInvitations(client)
        self.staff_rooms.invitations = invitations
        executor.invitations_unseen = invitations.unseen
        executor.staff_room_lost = self._staff_room_lost
        self._batch_since: str | None = None  # the token the batch being handled began at
        # Each room's position before its events in the batch (its timeline's prev_batch):
        # where its held words are found again after a batch synced from no position.
        self._room_before: dict[RoomID, str] = {}
        # Made (or checked) on the first sync, beside the staff room (the runner wires it).
        self.forum_rooms: Callable[[], Awaitable[object]] | None = None
        conductor.committed = self.outbox.wake
        conductor.urgent_answered = self.outbox.answered_within_budget
        # Youth-initiated deletion needs the executor's admin access, and never touches staff.
        conductor.can_delete = lambda: executor.admin is not None
        executor.protected = frozenset(conductor.policy.staff)
        # With several offices, each office's notices go to its own staff room.
        self.office_rooms = OfficeStaffRooms(
            client, conductor.store, conductor.policy.offices, default_language,
            initial_state=[ENCRYPTION], power_levels=counselling_power_levels())
        self.office_rooms.announce = self.staff_told.room_replaced
        self.office_rooms.not_invited = self.staff_told.not_invited
        self.office_rooms.invitations = invitations
        # What is for one staff member alone (a video call's link) goes to them directly.
        self.private_rooms = PrivateRooms(client, conductor.store, conductor.policy.staff,
                                          clock)
        executor.private_rooms = self.private_rooms
        executor.leads_for = conductor.leads_to_call
        executor.zone_of = conductor.zone_of
        if conductor.policy.offices.enabled:
            executor.office_staff_room = self.office_rooms.room_for_notice
            # A snippet added in an office's staff room is that office's.
            conductor.office_of_room = self.office_rooms.office_of

    @property
    def mail(self) -> MailChannel | None:
        """The mail channel (the runner sets it when mail is on): a counsellor's answer to a
        youth counselled by mail goes out by it."""
        return self.staff_words.mail

    @mail.setter
    def mail(self, channel: MailChannel | None) -> None:
        self.staff_words.mail = channel

    @property
    def user_id(self) -> UserID:
        return UserID(self.client.user_id)

    def is_staff(self, user: str) -> bool:
        return UserID(user) in self.conductor.policy.staff

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Sync until ``stop``, with the outbox worker performing effects beside the loop;
        on a stop the worker first performs what is pending (bounded by its grace)."""
        # The worker's own stop is set when the loop has ended, not at ``stop``: a stop that
        # comes while a batch is handled must not drain the outbox between two of its
        # commits (a first message's invitation, then its crisis alert and the numbers).
        loop_ended = asyncio.Event()
        worker = asyncio.create_task(self.outbox.run(loop_ended))
        try:
            await self._sync_until(stop, worker)
            await self._end_intakes()
            loop_ended.set()
            self.outbox.wake()  # it sees the stop now, not after its idle wait
            await worker
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _end_intakes(self) -> None:
        """The `on_stop` hooks, each bounded; one that fails (a retention task that ended
        with an error hours ago re-raises it here) must not cost the last drain."""
        for intake in self.on_stop:
            try:
                await asyncio.wait_for(intake(), INTAKE_STOP_SECONDS)
            except Exception as exc:
                log.error("ending %s at the stop failed (%s)", getattr(intake, "__name__",
                          "a part"), type(exc).__name__)

    async def _sync_until(self, stop: asyncio.Event, worker: asyncio.Task[None]) -> None:
        since = await self.store.get_setting(SYNC_TOKEN_KEY)
        await self.failing.load()
        await self.conductor.sync_roster(self.clock.now())
        first = True
        refused = 0  # syncs in a row the homeserver refused as a bad request
        while not stop.is_set():
            if worker.done():
                worker.result()  # performing an effect crashed: stop loudly, lose nothing
            response = await self._sync_or_stop(stop, since, first)
            if response is None:
                break
            if isinstance(response, SyncError):
                if response.status_code in LOGIN_GONE:
                    raise LoginRevoked  # retrying cannot help; a new start logs in anew
                http = getattr(response.transport_response, "status", None)
                refused = refused + 1 if http == HTTPStatus.BAD_REQUEST else 0
                if since is not None and refused >= TOKEN_REFUSALS:
                    # A position this homeserver never gave (its database restored from a
                    # backup, the token damaged): asking again cannot help, and a bot that
                    # never syncs reads no youth at all. Syncing from now takes each room's
                    # latest events; handled ones are known by their ids.
                    log.error("the homeserver refuses the saved sync position (400, %d times); "
                              "syncing from now: events older than each room's latest %d "
                              "may be missed", refused, SYNC_TIMELINE_LIMIT)
                    since, first, refused = None, True, 0
                    continue
                log.warning("sync failed (%s); retrying", response.status_code)
                await asyncio.sleep(1)
                continue
            refused = 0
            if first:
                self.executor.rooms_known()
            await self._housekeeping()
            if first:
                await self.ensure_staff_room()
                if self.forum_rooms is not None:
                    await self.forum_rooms()
                if self.conductor.policy.offices.enabled:
                    await self.office_rooms.ensure()
                await self.private_rooms.ensure()
                # Devices may have changed while the bot was away; on-duty staff matter now.
                await self.staff_devices.check(
                    c.user for c in self.conductor.router.snapshot().counsellors if c.on_duty)
            self._batch_since = since
            self.outbox.renew_answer_budget()
            # The gauges are refreshed once, after the batch's effects and bookkeeping.
            self.conductor.defer_metrics = True
            try:
                try:
                    await self.handle_sync(response)
                except GapUnavailable as exc:
                    # The token is not saved: the same batch comes again, handled events skipped.
                    log.warning("%s", exc)
                    await asyncio.sleep(1)
                    continue
                await self._start_effects()
                await self._learn_staff_nicknames()
                since = response.next_batch
                await self._save_sync_token(since)
                await self._tick()
                await self.missed_leaves.look()
            finally:
                self.conductor.defer_metrics = False
                self.conductor.refresh_due_metrics()
            if first:
                # Ready means caught up: what the missed events caused has been performed.
                # Not its mails: a hung relay held every one for a minute, and the bot read
                # nothing meanwhile (a youth's crisis words neither).
                await self.outbox.drain(mails=False)
                first = False
                self.ready.set()
            self.outbox.wake()  # retries what failed before, even if nothing new came

    async def _sync_or_stop(self, stop: asyncio.Event, since: str | None,
                            first: bool) -> SyncResponse | SyncError | None:
        return await sync_or_stop(self.client, stop, since, first=first)

    async def _start_effects(self) -> None:
        """Start the batch's effects before the bookkeeping after it. The worker would
        otherwise wait until this loop next yields, and its first store reads (the outbox,
        the conversation's room) would queue behind the sync token's fsync'd write on the
        one store connection: a youth's invitation waited for both. Crash safety is as
        before: the effects were committed with their events, the token is saved after."""
        await self.outbox.dispatch()
        # Let the lanes just started make their first store read before the token write.
        await asyncio.sleep(0)

    async def _save_sync_token(self, latest: str) -> None:
        """Resume after a restart from ``latest`` unless a message still waits for its key:
        then from before it, so it is fetched again (events already handled are recognised
        by their ids and skipped), or a youth's words are held for a move (`HeldEvents`)."""
        if not await self.held.keep_positions(self.moving.refused_for_good):
            return
        token = self.undecryptable.resume_token() if self.undecryptable.holds_back() \
            else latest
        if token is not None:
            await self.store.set_setting(SYNC_TOKEN_KEY, token)

    async def _housekeeping(self) -> None:
        await housekeeping(self.client)

    async def _tick(self) -> None:
        now = self.clock.now()
        # A clock set back (an NTP step) ticks at once: waiting until it caught up with the
        # last tick would leave crisis pages and reminders undone for as long as it jumped.
        if now - self._last_tick >= TICK_INTERVAL or now < self._last_tick:
            self._last_tick = now
            await self.conductor.tick(now)
            if self.mail is not None:
                await self.mail.tick(now)

    async def handle_sync(self, response: SyncResponse) -> None:
        # A staff member logged in somewhere, or verified a session: check before their
        # messages in this batch are handled, so routing already knows.
        # Left too: a deactivated account loses its devices and its rooms in one go.
        await self.staff_devices.check([*response.device_list.changed,
                                        *response.device_list.left])
        self._room_before = {RoomID(room_id): info.timeline.prev_batch
                             for room_id, info in response.rooms.join.items()
                             if info.timeline.prev_batch}
        for room_id, info in response.rooms.invite.items():
            await self.invitations.invited(RoomID(room_id), info.invite_state)
        await self.invitations.due(response)
        # Before the rooms' events: the first sync after a join carries what the youth
        # wrote before it (Element makes a direct chat with its first message), and in a
        # room the youth is moved out of, those words count only once the move is made.
        await self.welcomes.joined(response)
        await self.moving.undo_abandoned(response.rooms.join)
        for room_id, info in response.rooms.join.items():
            for event in [*await self._gap(RoomID(room_id), info.timeline),
                          *info.timeline.events]:
                await self._on_room_event_once(RoomID(room_id), event)
        await self.waiting_keys.retry()
        await self.upgrades.due()  # an upgrade's room the homeserver gave late
        for room_id, info in response.rooms.leave.items():
            left = RoomID(room_id)
            events = [*await self._left_gap(left, info.timeline), *info.timeline.events]
            with left_room_words.room_known(self.client, left, events):
                for event in left_room_words.before_leaving(self.client, left, events):
                    await self._on_room_event_once(left, event)
            await self._room_left(left, info.timeline.events)

    async def _room_left(self, room_id: RoomID, timeline: list[Any]) -> None:
        """The bot is out of ``room_id``: told by a sync, or found by `missed_leaves`."""
        await self._replace_left_staff_room(room_id)
        await self._lost_youth_room(room_id, timeline)

    async def _rooms_to_be_in(self) -> list[RoomID]:
        """The staff rooms and every open chat's room (`missed_leaves`)."""
        rooms = [room for room in [await self.staff_room(), *self.office_rooms.rooms()]
                 if room is not None]
        for conversation in self.conductor.router.snapshot().conversations:
            if conversation.channel is Channel.CHAT:
                room = await self.store.room_of(conversation.conversation)
                if room is not None:
                    rooms.append(room)
        return rooms

    async def _lost_youth_room(self, room_id: RoomID, timeline: list[Any]) -> None:
        """The bot is out of a youth's room it did not leave for a closed conversation (an
        admin deleted the room, which may remove the bot before the youth, or the youth
        removed it): nobody can counsel there any more, so the conversation ends as if the
        youth had left. Otherwise it held its counsellor's place, and as a flagged
        conversation stayed first in the queue for good."""
        record = await self.store.conversation_by_room(room_id)
        if record is None or self.conductor.router.conversation(record.conversation) is None:
            return
        own = next((e for e in timeline if isinstance(e, RoomMemberEvent)
                    and e.state_key == self.user_id), None)
        event_id = EventID(own.event_id if own is not None else f"$bot-left:{room_id}")
        await self.conductor.member_left(room_id, record.youth_user_id, event_id,
                                         self.clock.now())

    async def _replace_left_staff_room(self, room_id: RoomID) -> None:
        """The bot left a staff room (it was deleted, or the bot removed): replaced now, so
        the staff know before the next crisis alert needs the room."""
        if room_id == await self.staff_room():
            await self.staff_rooms.replace_if_lost(room_id)
        elif (office := self.office_rooms.office_of(room_id)) is not None:
            await self.office_rooms.replace_if_lost(office, room_id)

    def _held_position(self, room_id: RoomID) -> str | None:
        """Where words held in ``room_id`` in this batch are fetched again from: the batch's
        start, or, for a batch synced from no position (the very first, or one from now after
        the saved position was refused), the room's own position before its events in it.
        None then wrote no ``held_since:``, the saved position went past the words, and a
        restart lost them, crisis words included."""
        return self._batch_since if self._batch_since is not None \
            else self._room_before.get(room_id)

    async def _gap(self, room_id: RoomID, timeline: Timeline) -> list[Any]:
        """Events the server left out of a limited timeline, oldest first: without them, a
        youth who wrote more than a sync carries while the bot was away would lose words.
        Events handled before are recognised by their ids; a first sync has no gap to fill."""
        since = self._batch_since
        if not timeline.limited or since is None or not timeline.prev_batch:
            return []
        return await events_between(self.client, room_id, timeline.prev_batch, since)

    async def _left_gap(self, room_id: RoomID, timeline: Timeline) -> list[Any]:
        """The gap of a room the bot is out of, where the homeserver still gives it. It
        forgets a room for whoever leaves it (``forget_rooms_on_leave``): the sync, tried
        again, was refused again, for good, and every room's words waited with it. Read are
        then the events the sync carried, the last words among them."""
        try:
            return await self._gap(room_id, timeline)
        except GapUnavailable:
            log.warning("the earlier messages of a room the bot is out of are not to be had; "
                        "reading those the sync carried")
            return []

    # -- room events --------------------------------------------------------------------------

    async def _on_room_event_once(self, room_id: RoomID, event: Any) -> None:
        """Handle the event, unless it made the bot fail before (channels/failures.py)."""
        event_id = getattr(event, "event_id", None)
        sender = getattr(event, "sender", None)
        if not isinstance(event_id, str) or sender == self.user_id:
            await self._on_room_event(room_id, event)
            return
        if self.failing.to_set_aside(event_id):
            await self.conductor.set_aside(room_id, UserID(str(sender)), EventID(event_id),
                                           self.clock.now(), self.failing.forgotten(event_id))
            return
        try:
            await self._on_room_event(room_id, event)
        except Exception as exc:
            await self.failing.failed([event_id], exc)
            raise

    async def _on_room_event(self, room_id: RoomID, event: Any) -> None:
        sender = getattr(event, "sender", None)
        if sender == self.user_id:
            return
        addon = next((a for a in self.conductor.addons if a.owns_room(room_id)), None)
        if addon is not None:
            await self.addon_events.handle(addon, room_id, event, resume=self._batch_since)
            return
        if room_id in self.welcomes.again and sender is not None \
                and not self.is_staff(str(sender)) and (isinstance(
                    event, RoomMessage | BadEvent | UnknownBadEvent | UnknownEvent
                    | StickerEvent | RedactionEvent)
                    or (isinstance(event, ReactionEvent) and not one_emoji(event.key))) \
                and (room := self.client.rooms.get(room_id)) is not None \
                and (not room.encrypted or room_id in self.moving.pending):
            # An encrypted room is held for too while its move waits for the new room (the
            # bot cannot moderate it): read there, the words opened a conversation in the
            # room the bot leaves once the youth is over.
            self.held.hold(room_id, event, self._held_position(room_id))
            if isinstance(event.event_id, str) and await self.room_youth.is_youth(room, sender):
                await self.moving.held(room_id, UserID(sender), EventID(event.event_id),
                                       held_words(event))
            return
        if isinstance(event, MegolmEvent):
            self.undecryptable.add(EventID(event.event_id), room_id, event, self.clock.now(),
                                   resume=self._batch_since)
            room = self.client.rooms.get(room_id)
            # Not in a room waiting for its move: the conversation opened in the room the
            # youth is moved out of (decrypted, the words are held for the move, above).
            if room is not None and room.encrypted and room_id not in self.moving.pending \
                    and await self.room_youth.is_youth(room, event.sender) \
                    and not await self._is_staff_room(room_id):
                await self.conductor.youth_reached_out(
                    await self.moving.words_room(room, UserID(event.sender)),
                    UserID(event.sender), room.user_name(event.sender), self.clock.now())
        elif isinstance(event, RoomMessageText):
            await self._on_text(room_id, event)
        elif (isinstance(event, RoomMessage | StickerEvent)
              or (isinstance(event, UnknownEvent) and event.type in POLL_TYPES)) \
                and sender is not None and self.is_staff(str(sender)):
            await self.staff_words.other(room_id, event)
        elif isinstance(event, RoomMessage | BadEvent | UnknownBadEvent) \
                and sender is not None and not self.is_staff(str(sender)):
            await self.youth_words.other_message(room_id, event)
        elif (isinstance(event, CallInviteEvent)
              or (isinstance(event, UnknownEvent) and event.type in CALL_RINGS)) \
                and sender is not None and not self.is_staff(str(sender)):
            await self.youth_words.call(room_id, event)
        elif isinstance(event, UnknownEvent | StickerEvent) and sender is not None \
                and not self.is_staff(str(sender)):
            await self.youth_words.poll_or_sticker(room_id, event)
        elif isinstance(event, ReactionEvent) and sender is not None \
                and not self.is_staff(str(sender)):
            await self.youth_words.reaction(room_id, event)
        elif isinstance(event, RoomNameEvent | RoomTopicEvent) and sender is not None \
                and not self.is_staff(str(sender)):
            await self.youth_words.room_named(room_id, event)
        elif isinstance(event, RoomMemberEvent):
            await self._on_membership(room_id, event)
        elif isinstance(event, RoomUpgradeEvent):
            await self.upgrades.tombstoned(room_id, event)
        elif isinstance(event, RedactionEvent) and sender is not None \
                and not self.is_staff(str(sender)):
            await self.youth_words.redaction(room_id, event)
        elif isinstance(event, RedactionEvent) and sender is not None:
            await self.staff_words.deleted(room_id, event)

    async def _on_text(self, room_id: RoomID, event: RoomMessageText) -> None:
        if self.is_staff(event.sender):
            await self.staff_words.text(room_id, event)
        else:
            await self.youth_words.text(room_id, event)

    async def _on_membership(self, room_id: RoomID, event: RoomMemberEvent) -> None:
        user, at = UserID(event.state_key), self.clock.now()
        if event.membership == "join" and event.prev_membership != "join":
            if self.is_staff(user):
                await self.conductor.member_joined(room_id, user, EventID(event.event_id), at)
            elif user != self.user_id:
                record = await self.store.conversation_by_room(room_id)
                if record is not None and matrix_youth(record) not in (None, user):
                    await self.strangers.joined(room_id, user, record, EventID(event.event_id))
                    return
                await self.moving.youth_joined(room_id)
                if not await self.welcomes.welcome(room_id):
                    await self.welcomes.refused(room_id, at)
        elif event.membership == "join" and user == event.sender and user != self.user_id \
                and not self.is_staff(user):
            await self.youth_words.renamed(room_id, event)
        elif event.membership == "invite" and event.prev_membership not in ("invite", "join") \
                and user != self.user_id and not self.is_staff(user):
            record = await self.store.conversation_by_room(room_id)
            if record is not None and matrix_youth(record) not in (None, user):
                await self.strangers.joined(room_id, user, record, EventID(event.event_id),
                                            invited=True)
        # From an invitation too: a counsellor who declines, or whose invitation the youth
        # withdraws, must not hold the youth until the response timer hands them back.
        elif event.membership in ("leave", "ban") and event.prev_membership in ("join",
                                                                                 "invite"):
            room = self.client.rooms.get(room_id)
            # The youth is gone only if nobody else not on staff is left (nio's members are
            # those at the end of the sync): a friend they let in (or one the bot took out)
            # leaving ends no move and no second chat.
            if user != self.user_id and not self.is_staff(user) \
                    and (room is None or not self.room_youth.others(room)):
                await self.moving.youth_left(room_id, declined=event.prev_membership == "invite")
            await self.conductor.member_left(room_id, user, EventID(event.event_id), at)

    # -- staff room -------------------------------------------------------------------------

    async def _learn_staff_nicknames(self) -> None:
        """Staff display names from the staff room: the team-lead view labels by these."""
        room_id = await self.staff_room()
        room = self.client.rooms.get(room_id) if room_id else None
        if room is None:
            return
        for user in self.conductor.policy.staff:
            if user in room.users:
                self.conductor.nicknames[user] = room.user_name(user) or user

    async def staff_room(self) -> RoomID | None:
        return await self.staff_rooms.current()

    async def _is_staff_room(self, room_id: RoomID) -> bool:
        return room_id == await self.staff_room() or self.office_rooms.contains(room_id)

    async def room_needed(self, room_id: RoomID, at: datetime) -> bool:
        """Whether a room without a conversation is still needed, and so not purged once
        idle (`idle_rooms`): a staff room, a group's or forum's own, a seat's for a group
        not over yet, one a waiting forum post came from, the first room of a pending move."""
        if await self._is_staff_room(room_id):
            return True
        if any(addon.owns_room(room_id) or addon.holds_room(room_id, at)
               for addon in self.conductor.addons):
            return True
        return await self.moving.in_use(room_id)

    async def ensure_staff_room(self) -> RoomID | None:
        """An encrypted room for counsellors and team leads; created once, staff invited."""
        return await self.staff_rooms.ensure()

    async def _staff_room_lost(self, room_id: RoomID, office: str) -> bool:
        """A staff room refused a notice: True if the bot lost it (the notice waits for the
        new room)."""
        if office and self.conductor.policy.offices.enabled:
            return await self.office_rooms.replace_if_lost(office, room_id)
        return await self.staff_rooms.replace_if_lost(room_id)
