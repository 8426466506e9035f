"""Response timers in the conductor: a memory store and a fake clock, no server, no sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import Assign, Unassign
from counsel_bot.core.routing.model import ConversationState
from counsel_bot.metrics import CounselMetrics
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ROOM, YOUTH = RoomID("!room:x"), UserID("@sunflower:x")
STAFF_ROOM = RoomID("!staff:x")
ANNA, BEN = "@anna:x", "@ben:x"
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


async def on_duty(*staff: str) -> tuple[Conductor, FakeClock, CounselMetrics]:
    """Anna and Ben are staff; those named go on duty at T0."""
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA, BEN))))
    clock = FakeClock(T0)
    metrics = CounselMetrics(clock)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, T0, metrics)
    await c.sync_roster(T0)
    for i, user in enumerate(staff):
        await c.staff_wrote(STAFF_ROOM, UserID(user), EventID(f"$duty{i}"), "!duty on", T0)
    return c, clock, metrics


async def staff_notices(c: Conductor, key: str) -> list[SayToStaff]:
    effects = [decode_effect(e.payload) for e in await c.store.pending_outbox()]
    return [e for e in effects if isinstance(e, SayToStaff) and e.key == key]


async def open_assigned(c: Conductor) -> ConversationID:
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo, ich brauche hilfe", T0)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.assigned_to == UserID(ANNA)
    return record.conversation


def overdue(metrics: CounselMetrics) -> float | None:
    return metrics.registry.get_sample_value("counsel_replies_overdue")


async def test_an_unanswered_youth_reminds_then_goes_to_a_colleague() -> None:
    c, clock, metrics = await on_duty(ANNA)
    conversation = await open_assigned(c)
    await c.tick(clock.advance(timedelta(minutes=4)))
    assert await staff_notices(c, "timers.remind_first") == []
    assert c.overdue_replies(clock.now()) == 0

    await c.tick(clock.advance(timedelta(minutes=2)))
    [reminder] = await staff_notices(c, "timers.remind_first")
    assert reminder.mentions == (UserID(ANNA),)
    assert dict(reminder.params)["conversation"] == conversation
    assert c.overdue_replies(clock.now()) == 1
    c.refresh_metrics(clock.now())
    assert overdue(metrics) == 1

    await c.tick(clock.advance(timedelta(minutes=10)))
    assert len(await staff_notices(c, "timers.remind_first")) == 1  # once per wait

    # Ben comes on duty meanwhile; at the second limit the conversation goes to him.
    await c.staff_wrote(STAFF_ROOM, UserID(BEN), EventID("$dutyb"), "!duty on", clock.now())
    await c.tick(clock.advance(timedelta(minutes=15)))
    assert len(await staff_notices(c, "timers.requeued")) == 1
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to == UserID(BEN)
    effects = [decode_effect(e.payload) for e in await c.store.pending_outbox()]
    assert any(isinstance(e, Unassign) and e.counsellor == UserID(ANNA) for e in effects)
    assert any(isinstance(e, Assign) and e.counsellor == UserID(BEN) for e in effects)
    assert metrics.registry.get_sample_value("counsel_requeued_unanswered_total") == 1


async def test_an_answer_stops_the_timer_and_the_next_message_starts_the_next_target() -> None:
    c, clock, _ = await on_duty(ANNA)
    conversation = await open_assigned(c)
    clock.advance(timedelta(minutes=3))
    await c.staff_wrote(ROOM, UserID(ANNA), EventID("$a1"), "hallo, ich bin anna", clock.now())
    await c.tick(clock.advance(timedelta(minutes=40)))
    assert await staff_notices(c, "timers.remind_first") == []
    assert c.router.conversation(conversation).assigned_to == UserID(ANNA)  # type: ignore[union-attr]

    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "bist du noch da?", clock.now())
    await c.tick(clock.advance(timedelta(minutes=14)))
    assert await staff_notices(c, "timers.remind_next") == []
    await c.tick(clock.advance(timedelta(minutes=2)))
    assert len(await staff_notices(c, "timers.remind_next")) == 1


async def test_alone_on_duty_the_conversation_waits_in_the_queue_at_the_front() -> None:
    c, clock, _ = await on_duty(ANNA)
    conversation = await open_assigned(c)
    await c.tick(clock.advance(timedelta(minutes=31)))
    current = c.router.conversation(conversation)
    # Not given straight back to the counsellor who let it wait.
    assert current is not None
    assert current.state is ConversationState.WAITING
    assert c.router.queue() == [conversation]


async def test_timers_survive_a_restart() -> None:
    c, clock, _ = await on_duty(ANNA)
    await open_assigned(c)
    again = await Conductor.open(c.store, c.detector, c.policy, clock.now())
    await again.tick(clock.advance(timedelta(minutes=6)))
    assert len(await staff_notices(again, "timers.remind_first")) == 1


async def test_a_youth_who_switched_to_mail_is_not_held_to_the_chat_targets() -> None:
    """Review (workflow) finding 4: the chat's timer went on after the youth switched to
    mail ("mail", then their address, before the counsellor's first word): the counsellor
    writing a mail answer was reminded after 5 minutes, and after 30 the conversation was
    taken from them and put back in the queue, though a mail's promise is its deadline."""
    from counsel_bot.conversation.change import Change
    from counsel_bot.core.routing import events as ev
    from counsel_bot.core.routing.model import Channel

    c, clock, _ = await on_duty(ANNA)

    async def switch(step: Change, conversation: ConversationID, _address: str) -> None:
        c.handle(step, [ev.ChannelChanged(step.at, conversation, Channel.MAIL)],
                 reply_room=None)  # what the mail channel's switch does to the router

    c.mail_switch = switch
    conversation = await open_assigned(c)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "mail", clock.now())
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "sunflower@example.org",
                        clock.now())
    assert c.router.conversation(conversation).channel is Channel.MAIL  # type: ignore[union-attr]
    await c.tick(clock.advance(timedelta(minutes=6)))
    assert c.overdue_replies(clock.now()) == 0
    await c.tick(clock.advance(timedelta(minutes=30)))
    assert await staff_notices(c, "timers.remind_first") == []
    assert await staff_notices(c, "timers.requeued") == []
    assert c.router.conversation(conversation).assigned_to == UserID(ANNA)  # type: ignore[union-attr]
    # Back in the chat, the wait begins with the words that brought the youth back.
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y4"), "bin wieder im chat", clock.now())
    assert c.router.conversation(conversation).channel is Channel.CHAT  # type: ignore[union-attr]
    await c.tick(clock.advance(timedelta(minutes=4)))
    assert await staff_notices(c, "timers.requeued") == []
    assert await staff_notices(c, "timers.remind_first") == []
    await c.tick(clock.advance(timedelta(minutes=2)))
    assert len(await staff_notices(c, "timers.remind_first")) == 1


async def test_a_youth_nobody_else_can_take_calls_the_team_leads() -> None:
    """Anna alone on duty, her youth unanswered for 30 minutes: the conversation goes back
    to the queue, but the router never gives it to the counsellor who handed it back, and
    nobody else is there. The staff room said "so someone else can take it" to nobody, and
    the youth waited for no one (a suspicion of the workflow review). Now the team leads
    are called, as for a crisis nobody took."""
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA, BEN),
                                                      team_leads=("@lea:x",))))
    clock = FakeClock(T0)
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, T0)
    await c.sync_roster(T0)
    await c.staff_wrote(STAFF_ROOM, UserID(ANNA), EventID("$duty"), "!duty on", T0)
    conversation = await open_assigned(c)
    await c.tick(clock.advance(timedelta(minutes=31)))
    assert await staff_notices(c, "timers.requeued") == []
    [called] = await staff_notices(c, "timers.requeued_nobody")
    assert called.mentions == (UserID(ANNA), UserID("@lea:x"))
    assert dict(called.params)["conversation"] == conversation
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to is None


async def test_the_clock_set_back_does_not_silence_the_reminder_and_the_requeue() -> None:
    """An NTP step back of an hour: the youth's wait and Anna's assignment lie "in the
    future", and the timers stayed quiet until the clock caught up, an hour in which an
    unanswered youth was neither reminded about nor handed to someone else (the crisis
    escalation already counts such a wait from now)."""
    c, clock, _ = await on_duty(ANNA)
    conversation = await open_assigned(c)
    await c.tick(clock.advance(timedelta(minutes=1)))
    clock.set(T0 - timedelta(hours=1))  # the clock is stepped back
    await c.tick(clock.now())
    await c.tick(clock.advance(timedelta(minutes=6)))
    [reminder] = await staff_notices(c, "timers.remind_first")
    assert dict(reminder.params)["conversation"] == conversation
    await c.tick(clock.advance(timedelta(minutes=30)))
    assert len(await staff_notices(c, "timers.requeued_nobody")) == 1
