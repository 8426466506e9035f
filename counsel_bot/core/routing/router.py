"""The routing state machine: events in, actions out. No I/O, no clock.

Rules it keeps (the property tests in tests/routing/ check each):

1. Queue order: crisis before normal; within a priority the longest wait first (FIFO by the
   time the conversation was first enqueued, then by opening order). A conversation handed
   back keeps its original enqueued_at and priority, so it lands at the front of its priority.
2. Auto-assignment (config.auto_assign, the default) runs after every event: each waiting
   conversation, in queue order, goes to the least loaded on-duty counsellor with free
   capacity whose languages match, else to any on-duty counsellor with free capacity, else
   it waits. Within that choice, counsellors whose devices are all cross-signed go first
   (`Router.unsigned` names the others; Element's strict mode cannot read them). Ties go
   to whoever was assigned least recently. The counsellor who handed a conversation back
   is not chosen for it automatically (going off duty is no such choice: back on duty,
   they may get it again).
3. Nobody off duty is ever assigned. Automatic assignment never exceeds capacity.
4. Manual take (!next, !take) needs the counsellor on duty and with free capacity; a team
   lead may exceed their own capacity (crisis support), and anyone on duty may, to take a
   youth in crisis (the alert rang them, full or not); never a counsellor's capacity by
   another's hand: a transfer to a full colleague is refused for everyone. !next takes the
   queue head. !take of a normal conversation while a crisis waits is refused for
   counsellors, allowed for team leads.
   Lowering capacity never unassigns; it only stops new assignments.
5. Going off duty, being removed, or leaving a conversation's room hands each open
   conversation back to the queue front with an `Unassign` (reason code) for the youth; the
   auto-assigner then gives it to a colleague with capacity in the same event, if any.
   One handed back (`!transfer … queue`) that nobody else on duty may take is said to whoever
   handed it back (`TRANSFER_QUEUE_NOBODY_LEFT`), as the last one going off duty is told.
6. Authorisation: staff events from someone not on the roster are refused. Counsellors may
   transfer, close, confirm or dismiss only conversations assigned to them; team leads may
   act on any. Closing a waiting conversation and dismissing a waiting crisis flag are for
   team leads. Every refusal is a `Reply` with a refusal key, sent to the issuer only.
7. A waiting chat youth is told position and ETA per `policy.should_notify`: first time,
   whenever the position drops below the one last told, and on an ETA bucket change at
   most every config.notice_min_interval. Mail conversations queue the same way but get
   no position notices (their promise is a reply deadline, not a wait).
8. Closed conversations leave the router; the store keeps their record.
9. `handle` is atomic: if it raises, the state is as before the call.
10. Offices (config.offices, see offices.py): a conversation goes only to staff of its
    office, or, a crisis whose office has nobody on duty, to the on-call office's staff;
    staff see and act only on their offices' conversations. An undecided office waits
    silently (no position notices) until the youth's answer sets it (`OfficeChosen`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.actions import (
    Action,
    QueuePositionChanged,
)
from counsel_bot.core.routing.model import (
    Channel,
    ConversationSnapshot,
    ConversationState,
    CounsellorSnapshot,
    CrisisStatus,
    Notice,
    RouterConfig,
    RouterSnapshot,
    UnassignReason,
)
from counsel_bot.core.routing.offices import UNDECIDED
from counsel_bot.core.routing.policy import (
    can_take_more,
    estimate_wait,
    eta_bucket,
    pick_counsellor,
    should_notify,
)
from counsel_bot.core.routing.staff import StaffHandlers


class SnapshotError(ValueError):
    """A snapshot contradicts itself; the store holds inconsistent routing data."""


class Router(StaffHandlers):
    def __init__(self, config: RouterConfig | None = None) -> None:
        super().__init__(config if config is not None else RouterConfig())
        # Staff with a device they have not cross-signed (the bot's device check sets it):
        # input to the choice, not routing state. It is a fact about the homeserver, which
        # the bot checks again after a restart, so it is neither in snapshots nor replayed.
        self.unsigned: frozenset[UserID] = frozenset()

    # --- snapshots -------------------------------------------------------------------------

    @classmethod
    def from_snapshot(cls, snapshot: RouterSnapshot, config: RouterConfig | None = None) -> Router:
        router = cls(config)
        router._counsellors = {c.user: c for c in snapshot.counsellors}
        for conv in snapshot.conversations:
            _check_restorable(conv, router._counsellors)
            router._conversations[conv.conversation] = conv
        if len(router._conversations) != len(snapshot.conversations):
            raise SnapshotError("routing snapshot lists a conversation twice; restore from backup")
        router._handling = snapshot.handling_seconds[-router._config.handling_window :]
        seqs = [c.seq for c in snapshot.conversations]
        router._next_seq = max([snapshot.next_seq, *(s + 1 for s in seqs)])
        router._version = snapshot.version
        return router

    def snapshot(self) -> RouterSnapshot:
        return RouterSnapshot(
            conversations=tuple(sorted(self._conversations.values(), key=lambda c: c.seq)),
            counsellors=tuple(sorted(self._counsellors.values(), key=lambda c: c.user)),
            handling_seconds=self._handling,
            next_seq=self._next_seq,
            version=self._version,
        )

    # --- read-only views -------------------------------------------------------------------

    @property
    def version(self) -> int:
        return self._version

    @property
    def config(self) -> RouterConfig:
        return self._config

    def conversation(self, conversation: ConversationID) -> ConversationSnapshot | None:
        return self._conversations.get(conversation)

    def counsellor(self, user: UserID) -> CounsellorSnapshot | None:
        return self._counsellors.get(user)

    def queue(self) -> list[ConversationID]:
        return [c.conversation for c in self._waiting()]

    def load(self, user: UserID) -> int:
        return self._loads().get(user, 0)

    # --- the one entry point ---------------------------------------------------------------

    def handle(self, event: ev.Event) -> list[Action]:
        saved = (
            dict(self._conversations),
            dict(self._counsellors),
            self._handling,
            self._next_seq,
        )
        try:
            actions = self._dispatch(event)
            if self._config.auto_assign:
                actions.extend(self._drain(event.at))
            actions.extend(self._notices(event.at))
        except BaseException:
            self._conversations, self._counsellors, self._handling, self._next_seq = saved
            raise
        self._version += 1
        return actions

    def _dispatch(self, event: ev.Event) -> list[Action]:
        match event:
            case ev.ConversationOpened():
                return self._opened(event)
            case ev.OfficeChosen():
                return self._office_chosen(event)
            case ev.LanguageTold():
                conv = self._conversations.get(event.conversation)
                if conv is not None:
                    language = event.language.strip().lower()
                    self._conversations[conv.conversation] = replace(conv, language=language)
                return []
            case ev.CrisisRaised():
                return self._crisis_raised(event)
            case ev.ChannelChanged():
                return self._channel_changed(event)
            case ev.YouthEnded():
                conv = self._conversations.get(event.conversation)
                return [] if conv is None else [self._close(conv, event.at, None)]
            case ev.CounsellorLeftRoom():
                conv = self._conversations.get(event.conversation)
                if conv is None or conv.assigned_to != event.counsellor:
                    return []
                return [self._hand_back(conv, UnassignReason.LEFT_ROOM, event.at)]
            case ev.StaffAdded():
                return self._staff_added(event)
            case ev.StaffRemoved():
                return self._staff_removed(event)
            case ev.Tick():
                return []
            case _:
                return self._staff_event(event)

    # --- system events ---------------------------------------------------------------------

    def _opened(self, event: ev.ConversationOpened) -> list[Action]:
        if event.conversation in self._conversations:
            return []
        self._conversations[event.conversation] = ConversationSnapshot(
            conversation=event.conversation,
            state=ConversationState.WAITING,
            channel=event.channel,
            language=event.language.strip().lower(),
            enqueued_at=event.at,
            seq=self._next_seq,
            office=event.office,
            assignments=event.assignments,
        )
        self._next_seq += 1
        return []

    def _office_chosen(self, event: ev.OfficeChosen) -> list[Action]:
        conv = self._conversations.get(event.conversation)
        if conv is None or conv.office == event.office:
            return []
        actions: list[Action] = []
        rules = self._config.offices
        settled = replace(conv, office=event.office)
        # Taken by hand while undecided (the fallback office's staff may): it stays with its
        # counsellor if the office is theirs; only another office's goes to that queue.
        keeps = conv.assigned_to is not None and (
            not rules.enabled or rules.office_of(settled) in rules.offices_of(conv.assigned_to))
        if conv.assigned_to is not None and not keeps:
            actions.append(self._hand_back(conv, UnassignReason.TRANSFERRED, event.at))
            conv = self._conversations[event.conversation]
        self._put(replace(conv, office=event.office, returned_by=None, last_notice=None))
        return actions

    def _crisis_raised(self, event: ev.CrisisRaised) -> list[Action]:
        conv = self._conversations.get(event.conversation)
        if conv is None:
            return []
        if conv.crisis is CrisisStatus.DISMISSED and event.severity <= conv.severity \
                and not event.outright:
            # A human looked and dismissed it; only a stronger signal reopens the flag, or
            # the youth saying outright what the model alone had guessed.
            return []
        confirmed = conv.crisis is CrisisStatus.CONFIRMED
        crisis = CrisisStatus.CONFIRMED if confirmed else CrisisStatus.RAISED
        self._put(replace(conv, crisis=crisis, severity=max(conv.severity, event.severity)))
        return []

    def _channel_changed(self, event: ev.ChannelChanged) -> list[Action]:
        conv = self._conversations.get(event.conversation)
        if conv is not None:
            self._put(replace(conv, channel=event.channel, last_notice=None))
        return []

    def _staff_added(self, event: ev.StaffAdded) -> list[Action]:
        existing = self._counsellors.get(event.user)
        if existing is not None:
            self._counsellors[event.user] = replace(existing, role=event.role)
            return []
        self._counsellors[event.user] = CounsellorSnapshot(
            user=event.user,
            role=event.role,
            capacity=self._config.default_capacity,
            languages=self._config.default_languages,
        )
        return []

    def _staff_removed(self, event: ev.StaffRemoved) -> list[Action]:
        if event.user not in self._counsellors:
            return []
        actions = self._hand_back_all(event.user, UnassignReason.STAFF_REMOVED, event.at)
        del self._counsellors[event.user]
        return actions

    # --- after every event -----------------------------------------------------------------

    def _drain(self, at: datetime) -> list[Action]:
        loads = self._loads()
        actions: list[Action] = []
        rules = self._config.offices
        staffed = rules.staffed(self._counsellors.values())
        for conv in self._waiting():
            if not any(can_take_more(c, loads.get(c.user, 0)) for c in self._counsellors.values()):
                break
            pool: Iterable[CounsellorSnapshot] = self._counsellors.values()
            if rules.enabled:
                pool = [c for c in pool if rules.may_assign(c.user, conv, staffed)]
            chosen = pick_counsellor(conv, pool, loads, self.unsigned)
            if chosen is not None:
                actions.append(self._assign(conv, chosen.user, at, manual=False))
                loads[chosen.user] = loads.get(chosen.user, 0) + 1
        return actions

    def _notices(self, at: datetime) -> list[Action]:
        handling = self.average_handling_time()
        actions: list[Action] = []
        rules = self._config.offices
        positions: dict[str, int] = {}
        for conv in self._waiting():
            if conv.office == UNDECIDED:
                continue
            # With offices, the place in one's own office's queue is what one waits for.
            office = rules.office_of(conv)
            position = positions[office] = positions.get(office, 0) + 1
            if conv.channel is not Channel.CHAT:
                continue
            eta = estimate_wait(position, handling, self._slots(office))
            bucket = eta_bucket(eta)
            if should_notify(
                conv.last_notice, position, bucket, at, self._config.notice_min_interval
            ):
                self._put(replace(conv, last_notice=Notice(position, bucket, at)))
                actions.append(QueuePositionChanged(conv.conversation, position, eta))
        return actions

    def _slots(self, office: str) -> int:
        rules = self._config.offices
        return sum(
            c.capacity for c in self._counsellors.values()
            if c.on_duty and (not rules.enabled or office in rules.offices_of(c.user))
        )


def _check_restorable(
    conv: ConversationSnapshot, counsellors: dict[UserID, CounsellorSnapshot]
) -> None:
    if conv.state is ConversationState.CLOSED:
        raise SnapshotError(f"conversation {conv.conversation} is closed but in the live "
                            "state; restore the database from a backup")
    assigned = conv.state is ConversationState.ASSIGNED
    if assigned != (conv.assigned_to is not None) or (assigned and conv.assigned_at is None):
        raise SnapshotError(
            f"conversation {conv.conversation} is {conv.state} but its assignee fields "
            "disagree; restore the database from a backup"
        )
    if conv.assigned_to is not None and conv.assigned_to not in counsellors:
        raise SnapshotError(
            f"conversation {conv.conversation} is assigned to someone not on the roster; "
            "add them back to the roster or close the conversation in the store"
        )
