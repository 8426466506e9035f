"""Stateful property tests of the routing core: every rule in router.py's docstring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import (
    Action,
    Assign,
    CapacitySet,
    Channel,
    Close,
    Closed,
    ConversationOpened,
    ConversationSnapshot,
    ConversationState,
    CounsellorLeftRoom,
    CounsellorOffDuty,
    CounsellorOnDuty,
    CrisisConfirmed,
    CrisisDismissed,
    CrisisRaised,
    CrisisStatus,
    Event,
    HandoverReason,
    LanguagesSet,
    QueuePositionChanged,
    QueueRequested,
    Role,
    Router,
    RouterConfig,
    StaffAdded,
    StaffRemoved,
    StatusRequested,
    Take,
    TakeNext,
    Tick,
    Transfer,
    Unassign,
    YouthEnded,
    decode_action,
    encode_action,
)
from counsel_bot.core.routing.policy import eta_bucket


def rank(conv: ConversationSnapshot) -> tuple[int, datetime, int]:
    """The intended order, written independently of the implementation."""
    crisis = conv.crisis in (CrisisStatus.RAISED, CrisisStatus.CONFIRMED)
    return (0 if crisis else 1, conv.enqueued_at, conv.seq)


COUNSELLORS = [UserID("@anna:x"), UserID("@ben:x"), UserID("@cem:x")]
LEAD = UserID("@lea:x")
STRANGER = UserID("@stranger:x")
STAFF = [*COUNSELLORS, LEAD]
ACTORS = [*STAFF, STRANGER]
LANGS = ["de", "en", "tr"]

actors = st.sampled_from(ACTORS)
staff_members = st.sampled_from(STAFF)


@dataclass
class Told:
    position: int
    bucket: int
    at: datetime


class RouterMachine(RuleBasedStateMachine):
    # Capacity 1 by default, so queues form within a few steps.
    config = RouterConfig(auto_assign=True, max_capacity=4, default_capacity=1)

    def __init__(self) -> None:
        super().__init__()
        self.router = Router(self.config)
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.opened: list[ConversationID] = []
        self.live: set[ConversationID] = set()
        self.holder: dict[ConversationID, UserID | None] = {}
        self.told: dict[ConversationID, Told] = {}

    @initialize()
    def roster(self) -> None:
        for user in COUNSELLORS:
            self.step(StaffAdded(self.now, user, Role.COUNSELLOR))
        self.step(StaffAdded(self.now, LEAD, Role.TEAM_LEAD))

    # --- the oracle: run one event and check everything about it ---------------------------

    def step(self, event: Event) -> list[Action]:
        twin = Router.from_snapshot(self.router.snapshot(), self.config)
        queue_before = [self.conv(cid) for cid in self.router.queue()]
        actions = self.router.handle(event)
        # Snapshot -> restore -> the same decisions and the same resulting state.
        assert twin.handle(event) == actions
        assert twin.snapshot() == self.router.snapshot()
        for action in actions:
            assert decode_action(encode_action(action)) == action
        self.check_actions(event, actions, queue_before)
        return actions

    def check_actions(
        self, event: Event, actions: list[Action], queue_before: list[ConversationSnapshot]
    ) -> None:
        notified: set[ConversationID] = set()
        for action in actions:
            match action:
                case Assign():
                    assert self.holder.get(action.conversation) is None, "assigned twice"
                    assert action.conversation in self.live
                    self.holder[action.conversation] = action.counsellor
                    self.told.pop(action.conversation, None)
                    self.check_assign(event, action, queue_before)
                case Unassign():
                    assert self.holder.get(action.conversation) == action.counsellor
                    self.holder[action.conversation] = None
                    self.told.pop(action.conversation, None)
                case Closed():
                    assert action.conversation in self.live
                    assert self.holder.get(action.conversation) == action.counsellor
                    self.live.discard(action.conversation)
                    self.holder.pop(action.conversation, None)
                case QueuePositionChanged():
                    assert action.conversation not in notified, "two notices in one event"
                    notified.add(action.conversation)
                    self.check_notice(event.at, action)
        for cid in self.live:
            conv = self.router.conversation(cid)
            assert conv is not None, "conversation lost"
            assert conv.assigned_to == self.holder.get(cid), "adapter view drifted"

    def check_assign(
        self, event: Event, action: Assign, queue_before: list[ConversationSnapshot]
    ) -> None:
        who = self.router.counsellor(action.counsellor)
        assert who is not None
        assert who.on_duty, "assigned to someone off duty"
        load = self.router.load(action.counsellor)
        conv = self.router.conversation(action.conversation)
        assert conv is not None
        # Only a team lead taking for themselves, or anyone on duty taking a youth in crisis
        # by hand (their alert rang them, full or not), may go over capacity.
        lead_for_self = who.role is Role.TEAM_LEAD and getattr(event, "by", None) == who.user
        in_crisis = conv.crisis in (CrisisStatus.RAISED, CrisisStatus.CONFIRMED)
        if not action.manual or not (lead_for_self or in_crisis):
            assert load <= who.capacity, "capacity exceeded"
        if isinstance(event, TakeNext) and action.manual:
            head = min(queue_before, key=rank)
            assert action.conversation == head.conversation, "!next skipped the queue head"
        if action.manual:
            return
        # Nothing still waiting that this counsellor could have had ranks ahead of it:
        # crisis before normal, FIFO within a priority.
        for cid in self.router.queue():
            waiting = self.conv(cid)
            if waiting.returned_by != action.counsellor:
                assert rank(waiting) > rank(conv), "queue order violated"

    def check_notice(self, at: datetime, action: QueuePositionChanged) -> None:
        bucket = eta_bucket(action.eta)
        last = self.told.get(action.conversation)
        if last is not None:
            progressed = action.position < last.position
            eta_news = bucket != last.bucket and at - last.at >= self.config.notice_min_interval
            assert progressed or eta_news, "spam: nothing new to tell"
        self.told[action.conversation] = Told(action.position, bucket, at)
        assert action.position == self.router.queue().index(action.conversation) + 1

    def conv(self, cid: str) -> ConversationSnapshot:
        conv = self.router.conversation(ConversationID(cid))
        assert conv is not None
        return conv

    # --- rules -----------------------------------------------------------------------------

    @rule(minutes=st.integers(0, 90))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        self.step(Tick(self.now))

    @rule(language=st.sampled_from(LANGS), mail=st.booleans())
    def youth_opens(self, language: str, mail: bool) -> None:
        self.now += timedelta(seconds=30)
        cid = ConversationID(f"c{len(self.opened)}")
        self.opened.append(cid)
        self.live.add(cid)
        self.holder[cid] = None
        channel = Channel.MAIL if mail else Channel.CHAT
        self.step(ConversationOpened(self.now, cid, language, channel))

    def some_live(self, data: st.DataObject) -> ConversationID:
        return data.draw(st.sampled_from(sorted(self.live)))

    @precondition(lambda self: self.live)
    @rule(data=st.data(), severity=st.integers(1, 3))
    def crisis(self, data: st.DataObject, severity: int) -> None:
        self.step(CrisisRaised(self.now, self.some_live(data), severity))

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def youth_ends(self, data: st.DataObject) -> None:
        self.step(YouthEnded(self.now, self.some_live(data)))

    @rule(by=actors)
    def on_duty(self, by: UserID) -> None:
        self.step(CounsellorOnDuty(self.now, by))

    @rule(by=actors, unplanned=st.booleans())
    def off_duty(self, by: UserID, unplanned: bool) -> None:
        reason = HandoverReason.UNPLANNED if unplanned else HandoverReason.PLANNED
        self.step(CounsellorOffDuty(self.now, by, reason))

    @rule(by=actors, capacity=st.integers(-1, 5))
    def capacity(self, by: UserID, capacity: int) -> None:
        self.step(CapacitySet(self.now, by, capacity))

    @rule(by=actors, languages=st.lists(st.sampled_from([*LANGS, "x!"]), max_size=3))
    def languages(self, by: UserID, languages: list[str]) -> None:
        self.step(LanguagesSet(self.now, by, tuple(languages)))

    @rule(by=actors)
    def take_next(self, by: UserID) -> None:
        self.step(TakeNext(self.now, by))

    @precondition(lambda self: self.opened)
    @rule(by=actors, data=st.data())
    def take(self, by: UserID, data: st.DataObject) -> None:
        self.step(Take(self.now, by, data.draw(st.sampled_from(self.opened))))

    @precondition(lambda self: self.opened)
    @rule(by=actors, data=st.data(), to=st.one_of(st.none(), actors))
    def transfer(self, by: UserID, data: st.DataObject, to: UserID | None) -> None:
        self.step(Transfer(self.now, by, data.draw(st.sampled_from(self.opened)), to))

    @precondition(lambda self: self.opened)
    @rule(by=actors, data=st.data(), minutes=st.integers(0, 60))
    def close(self, by: UserID, data: st.DataObject, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        self.step(Close(self.now, by, data.draw(st.sampled_from(self.opened))))

    @precondition(lambda self: self.live)
    @rule(data=st.data(), who=staff_members)
    def leaves_room(self, data: st.DataObject, who: UserID) -> None:
        self.step(CounsellorLeftRoom(self.now, self.some_live(data), who))

    @precondition(lambda self: self.opened)
    @rule(by=actors, data=st.data(), confirm=st.booleans())
    def crisis_decision(self, by: UserID, data: st.DataObject, confirm: bool) -> None:
        cid = data.draw(st.sampled_from(self.opened))
        kind = CrisisConfirmed if confirm else CrisisDismissed
        self.step(kind(self.now, by, cid))

    @rule(who=st.sampled_from(COUNSELLORS))
    def removed(self, who: UserID) -> None:
        self.step(StaffRemoved(self.now, who))

    @rule(who=st.sampled_from(COUNSELLORS), lead=st.booleans())
    def added(self, who: UserID, lead: bool) -> None:
        self.step(StaffAdded(self.now, who, Role.TEAM_LEAD if lead else Role.COUNSELLOR))

    @rule(by=actors, overview=st.booleans())
    def ask(self, by: UserID, overview: bool) -> None:
        actions = self.step(
            QueueRequested(self.now, by) if overview else StatusRequested(self.now, by)
        )
        assert len(actions) == 1

    # --- invariants over the whole state ---------------------------------------------------

    @invariant()
    def nobody_off_duty_holds_a_conversation(self) -> None:
        for cid in self.live:
            conv = self.router.conversation(cid)
            assert conv is not None
            if conv.assigned_to is not None:
                who = self.router.counsellor(conv.assigned_to)
                assert who is not None
                assert who.on_duty
                assert conv.state is ConversationState.ASSIGNED

    @invariant()
    def queue_is_in_rank_order(self) -> None:
        waiting = [self.conv(cid) for cid in self.router.queue()]
        assert waiting == sorted(waiting, key=rank)

    @invariant()
    def nothing_lost(self) -> None:
        assert (
            set(self.router.queue()) | {c for c in self.live if self.holder.get(c) is not None}
            == self.live
        )

    @invariant()
    def free_capacity_is_used(self) -> None:
        """Queued chats are picked up as soon as capacity frees (auto mode)."""
        if not self.config.auto_assign:
            return
        for user in STAFF:
            who = self.router.counsellor(user)
            if who is None or not who.on_duty or self.router.load(user) >= who.capacity:
                continue
            for cid in self.router.queue():
                conv = self.router.conversation(ConversationID(cid))
                assert conv is not None
                assert conv.returned_by == user, f"{cid} waits while {user} has room"


class ManualRouterMachine(RouterMachine):
    config = RouterConfig(auto_assign=False, max_capacity=4, default_capacity=1)


SETTINGS = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouterAuto = RouterMachine.TestCase
TestRouterAuto.settings = SETTINGS
TestRouterManual = ManualRouterMachine.TestCase
TestRouterManual.settings = SETTINGS
