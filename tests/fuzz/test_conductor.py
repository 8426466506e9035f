"""Fuzzing the event handlers: arbitrary sequences of Matrix events through a real Conductor.

The conductor is built as `counsel bot` builds it (settings -> policy_from -> Conductor.open,
the real crisis detector) on the memory store. Events come in any order, with hostile
bodies, from a few youths, staff members and strangers in a few rooms; event ids are often
repeated (a sync replayed after a restart). After every step:

- nothing raised (the memory store cannot be busy or full, so no error is expected at all);
- a repeated event id changes nothing: router, store, outbox and intake stay as they were;
- a fresh message from the youth of an open conversation is kept exactly once (nothing lost);
- nobody off duty holds a conversation; an assignment never goes over capacity unless a
  team lead takes for themselves; the queue is in rank order;
- the store's routing state is the conductor's, and one room never has two conversations.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    CrisisStatus,
    Role,
    RouterSnapshot,
)
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.fuzz.hostile import LINEAR_UNITS, WORDS, hostile_text, huge
from tests.store.conftest import AeadSealer

CONDUCTOR_EXAMPLES = 1500

T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # a Monday
ANNA, BEN, LEA = UserID("@anna:x"), UserID("@ben:x"), UserID("@lea:x")
YOUTHS = [UserID(f"@youth{i}:x") for i in range(3)]
STRANGER = UserID("@stranger:x")
STAFF = [ANNA, BEN, LEA]
ROOMS = [RoomID(f"!room{i}:x") for i in range(3)]
STAFF_ROOM, UNKNOWN_ROOM = RoomID("!staff:x"), RoomID("!unknown:x")
EVENT_POOL = [EventID(f"$e{i}") for i in range(6)]


@cache
def detector() -> CrisisDetector:
    return CrisisDetector.from_directory(default_lexicon_dir())


# --- operations --------------------------------------------------------------------------


@dataclass(frozen=True)
class YouthWrote:
    room: int
    impostor: int | None  # another youth than the room's own (the adapter prevents it)
    event: EventID | None  # None: a fresh id
    body: str
    seconds: int


@dataclass(frozen=True)
class StaffWrote:
    room: RoomID | int
    sender: UserID
    event: EventID | None
    template: str
    conversation: int  # which known conversation "{c}" names; past the end: an unknown id
    user: UserID
    number: int
    seconds: int


@dataclass(frozen=True)
class Membership:
    joined: bool
    room: RoomID | int
    user: UserID
    event: EventID | None
    seconds: int


@dataclass(frozen=True)
class TickOp:
    seconds: int


Op = YouthWrote | StaffWrote | Membership | TickOp

STAFF_TEMPLATES = [
    "!duty on", "!duty off", "!duty off planned", "!duty off unplanned", "!capacity {n}",
    "!next", "!take {c}", "!transfer {c} {u}", "!transfer {u}", "!transfer queue",
    "!transfer {c} queue", "!close", "!close {c}", "!confirm", "!confirm {c}", "!dismiss",
    "!dismiss {c}", "!status", "!queue", "!video", "!help", "!help take", "!languages de en",
    "!languages tr", "!topics", "!topics schule familie", "!bogus", "! ", "{c}",
]

seconds = st.one_of(st.integers(0, 120), st.integers(0, 4 * 3600), st.just(3 * 86_400))
event_ids = st.one_of(st.none(), st.sampled_from(EVENT_POOL))
rooms = st.one_of(st.integers(0, len(ROOMS) - 1), st.sampled_from([STAFF_ROOM, UNKNOWN_ROOM]))
youth_words = st.sampled_from([w for w in WORDS if not w.startswith("!")])


@st.composite
def youth_bodies(draw: st.DrawFn) -> str:
    # 64 KB bodies cost the crisis detector ~30 ms each: one message in twenty.
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(huge(LINEAR_UNITS))
    if kind < 6:
        return draw(youth_words)
    return draw(hostile_text(big=False))


youth_wrote = st.builds(
    YouthWrote,
    room=st.integers(0, len(ROOMS) - 1),
    impostor=st.one_of(st.none(), st.none(), st.none(), st.integers(0, len(YOUTHS) - 1)),
    event=event_ids,
    body=youth_bodies(),
    seconds=seconds,
)
staff_wrote = st.builds(
    StaffWrote,
    room=rooms,
    sender=st.sampled_from([*STAFF, *STAFF, YOUTHS[0], STRANGER]),
    event=event_ids,
    template=st.one_of(st.sampled_from(STAFF_TEMPLATES), st.sampled_from(STAFF_TEMPLATES),
                       hostile_text(big=False)),
    conversation=st.integers(0, 4),
    user=st.sampled_from([*STAFF, YOUTHS[1], STRANGER]),
    number=st.sampled_from([0, 1, 2, 3, 99]),
    seconds=seconds,
)
membership = st.builds(
    Membership,
    joined=st.booleans(),
    room=rooms,
    user=st.sampled_from([*STAFF, *YOUTHS, STRANGER]),
    event=event_ids,
    seconds=seconds,
)
ops = st.lists(
    st.one_of(youth_wrote, youth_wrote, staff_wrote, staff_wrote, membership,
              st.builds(TickOp, seconds=seconds)),
    max_size=25,
)


# --- the model around the conductor ------------------------------------------------------


@dataclass
class World:
    conductor: Conductor
    store: MemoryStore
    now: datetime = T0
    fresh: Iterator[int] = field(default_factory=itertools.count)
    known: list[ConversationID] = field(default_factory=list)

    def room(self, ref: RoomID | int) -> RoomID:
        return ROOMS[ref] if isinstance(ref, int) else ref

    def event(self, ref: EventID | None) -> EventID:
        return ref if ref is not None else EventID(f"$fresh{next(self.fresh)}")

    def body(self, op: StaffWrote) -> str:
        target = (self.known[op.conversation] if op.conversation < len(self.known)
                  else "C-FFFFFFFF")
        return (op.template.replace("{c}", target).replace("{u}", op.user)
                .replace("{n}", str(op.number)))


@dataclass(frozen=True)
class Observed:
    """Everything an event may change, to show that a repeated one changed nothing."""

    router: RouterSnapshot
    stored: RouterSnapshot
    outbox: list[tuple[str, bytes]]
    intake: dict[ConversationID, list[tuple[int, EventID, bytes]]]


async def observe(world: World) -> Observed:
    stored = await world.store.load_router_snapshot()
    intake = {cid: [(i.ordinal, i.event_id, i.body) for i in await world.store.read_intake(cid)]
              for cid in world.known}
    return Observed(world.conductor.router.snapshot(), stored,
                    [(e.key, e.payload) for e in await world.store.pending_outbox()], intake)


async def perform(world: World, op: Op) -> EventID | None:
    world.now += timedelta(seconds=op.seconds)
    at, conductor = world.now, world.conductor
    match op:
        case YouthWrote():
            event = world.event(op.event)
            youth = YOUTHS[op.room if op.impostor is None else op.impostor]
            await conductor.youth_wrote(ROOMS[op.room], youth, "Nick", event, op.body, at)
            return event
        case StaffWrote():
            event = world.event(op.event)
            await conductor.staff_wrote(world.room(op.room), op.sender, event, world.body(op),
                                        at)
            return event
        case Membership(joined=True):
            event = world.event(op.event)
            await conductor.member_joined(world.room(op.room), op.user, event, at)
            return event
        case Membership(joined=False):
            event = world.event(op.event)
            await conductor.member_left(world.room(op.room), op.user, event, at)
            return event
        case TickOp():
            await conductor.tick(at)
    return None


def rank(conv: ConversationSnapshot) -> tuple[int, datetime, int]:
    crisis = conv.crisis in (CrisisStatus.RAISED, CrisisStatus.CONFIRMED)
    return (0 if crisis else 1, conv.enqueued_at, conv.seq)


def check_routing(world: World, op: Op, before: RouterSnapshot) -> None:
    router = world.conductor.router
    snapshot = router.snapshot()
    held_before = {c.conversation: c.assigned_to for c in before.conversations}
    for conv in snapshot.conversations:
        if conv.assigned_to is None:
            assert conv.state is ConversationState.WAITING
            continue
        who = router.counsellor(conv.assigned_to)
        assert who is not None, "assigned to someone not on the roster"
        assert who.on_duty, "assigned to someone off duty"
        assert conv.state is ConversationState.ASSIGNED
        if held_before.get(conv.conversation) != conv.assigned_to:
            lead_for_self = (who.role is Role.TEAM_LEAD and isinstance(op, StaffWrote)
                             and op.sender == who.user)
            if not lead_for_self:
                assert router.load(who.user) <= who.capacity, "capacity exceeded"
    waiting = [router.conversation(cid) for cid in router.queue()]
    assert all(w is not None for w in waiting)
    assert waiting == sorted(waiting, key=lambda c: rank(c) if c else (2, T0, 0))


async def check_store(world: World) -> None:
    snapshot = world.conductor.router.snapshot()
    stored = await world.store.load_router_snapshot()
    assert stored.conversations == snapshot.conversations, "store and conductor disagree"
    assert stored.counsellors == snapshot.counsellors, "store and conductor disagree"
    for conv in snapshot.conversations:
        if conv.conversation not in world.known:
            world.known.append(conv.conversation)
    rooms: dict[RoomID, ConversationID] = {}
    for cid in world.known:
        record = await world.store.conversation(cid)
        assert record is not None, "a conversation's record was lost"
        assert rooms.setdefault(record.room_id, cid) == cid, "two conversations in one room"


async def step(world: World, op: Op) -> None:
    event = None if isinstance(op, TickOp) else getattr(op, "event", None)
    repeated = event is not None and await world.store.is_processed(event)
    before = await observe(world)
    room_record = (await world.store.conversation_by_room(ROOMS[op.room])
                   if isinstance(op, YouthWrote) else None)
    handled = await perform(world, op)
    if repeated:
        assert await observe(world) == before, f"event {event} took effect twice"
    check_routing(world, op, before.router)
    await check_store(world)
    own_youth = isinstance(op, YouthWrote) and op.impostor in (None, op.room)
    open_room = room_record is None or room_record.state is not ConversationState.CLOSED
    if own_youth and open_room and not repeated:
        assert handled is not None
        assert await world.store.is_processed(handled), "a youth's message was not recorded"
        record = await world.store.conversation_by_room(ROOMS[op.room])
        assert record is not None
        kept = [i.event_id for i in await world.store.read_intake(record.conversation)]
        assert kept.count(handled) == 1, "a youth's message was lost or kept twice"


async def run(script: list[Op], auto_assign: bool, office_hours: bool) -> None:
    weekly = ({day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
              if office_hours else {})
    loaded = settings_from_mapping({
        "staff": {"counsellors": [ANNA, BEN], "team_leads": [LEA], "default_capacity": 1},
        "routing": {"auto_assign": auto_assign},
        **({"opening_hours": {"weekly": weekly}} if office_hours else {}),
    })
    store = MemoryStore(AeadSealer())
    conductor = await Conductor.open(store, detector(), policy_from(loaded), T0)
    await conductor.sync_roster(T0)
    world = World(conductor, store)
    for op in script:
        await step(world, op)


def sequential_ids() -> Iterator[ConversationID]:
    # Random ids would make a failing example impossible to replay.
    return (ConversationID(f"C-{n:08X}") for n in itertools.count(1))


@settings(max_examples=CONDUCTOR_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(script=ops, auto_assign=st.booleans(), office_hours=st.booleans())
def test_event_handlers_survive_any_sequence(
    script: list[Op], auto_assign: bool, office_hours: bool
) -> None:
    ids = sequential_ids()
    with mock.patch(
        "counsel_bot.conversation.youth_side.new_conversation_id", side_effect=ids.__next__
    ):
        asyncio.run(run(script, auto_assign, office_hours))
