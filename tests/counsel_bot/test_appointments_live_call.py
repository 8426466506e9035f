"""An appointment's call while the chat's own call is live: no server, a memory store, a
fake clock.

Fifteen minutes before a video appointment the bot opens its call (`VideoCalls.start`),
which ended whatever call the room showed: Ben, who took the chat over from Anna, talking to
the youth by video, saw his call vanish mid-sentence and a new one appear, and nobody told
him why; the youth was sent a new link in the middle of the call. A live call is not cut:
the appointment's call waits until it is over (ended, handed over, or its links run out),
then starts, if the appointment may still run; those concerned are told. Anna's own call
with the youth serves her appointment the same way."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import PutWidget, SayInRoom, SayPrivately, SayToStaff
from counsel_bot.core.ids import ConversationID, EventID
from tests.counsel_bot.test_appointments_flow import (
    ANNA,
    ROOM,
    STAFF_ROOM,
    START,
    outbox,
    youth_keys,
)
from tests.counsel_bot.test_appointments_handover import BEN, booked_with_anna


async def ben_in_a_call() -> tuple[Conductor, ConversationID, FakeClock]:
    """Anna's video appointment with the youth, whose chat Ben took over; 20 minutes
    before it, Ben talks to the youth by video."""
    c, conversation, clock = await booked_with_anna(BEN)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$b0"), "!duty on", START - timedelta(hours=1))
    await c.staff_wrote(ROOM, ANNA, EventID("$t"), "!transfer @ben:x", START - timedelta(hours=1))
    await c.staff_wrote(ROOM, BEN, EventID("$v"), "!video", START - timedelta(minutes=20))
    return c, conversation, clock


async def test_an_appointments_call_waits_for_the_chats_live_call_and_then_starts() -> None:
    c, conversation, clock = await ben_in_a_call()
    [ours] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    assert (await youth_keys(c)).count("video.link") == 1

    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())  # the appointment's reminder: its call is due
    widgets = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    assert widgets == [ours], "Ben's live call with the youth was cut for the appointment's"
    assert c.video.widgets == {conversation: ours.widget_id}
    assert (await youth_keys(c)).count("video.link") == 1, (
        "the youth was sent a second link in the middle of a call")
    told = [e for e in await outbox(c) if isinstance(e, SayToStaff)
            and e.key == "video.appointment_waits"]
    assert [set(e.mentions) for e in told] == [{ANNA, BEN}], (
        "neither Ben nor Anna learnt what happens with the appointment's call")

    await c.staff_wrote(ROOM, BEN, EventID("$e"), "!video end",
                        clock.advance(timedelta(minutes=6)))
    await c.tick(clock.advance(timedelta(seconds=30)))  # the live call is over
    widgets = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    assert len(widgets) == 3, widgets
    assert widgets[1] == PutWidget(conversation, ours.widget_id)
    assert widgets[2].content, "the appointment's call never started"
    assert (await youth_keys(c)).count("video.link") == 2
    assert [e.to for e in await outbox(c) if isinstance(e, SayPrivately)
            and dict(e.params)["conversation"] == conversation][-1] == ANNA


async def test_the_counsellors_own_live_call_serves_her_appointment() -> None:
    c, _, clock = await booked_with_anna()
    await c.staff_wrote(ROOM, ANNA, EventID("$v"), "!video", START - timedelta(minutes=20))
    [ours] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    assert [e for e in await outbox(c) if isinstance(e, PutWidget)] == [ours]
    assert (await youth_keys(c)).count("video.link") == 1
    for _ in range(30):  # the appointment runs; the call goes on
        await c.tick(clock.advance(timedelta(minutes=1)))
    assert [e for e in await outbox(c) if isinstance(e, PutWidget)] == [ours]


async def test_a_waiting_appointments_call_starts_after_a_restart_too() -> None:
    c, _, clock = await ben_in_a_call()
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    c = await Conductor.open(c.store, c.detector, c.policy, clock.now())
    await c.staff_wrote(ROOM, BEN, EventID("$e"), "!video end", clock.advance(timedelta(minutes=6)))
    await c.tick(clock.advance(timedelta(seconds=30)))
    widgets = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    assert widgets[-1].content, "after a restart the appointment's call never started"


async def test_a_waiting_appointments_call_does_not_start_after_the_appointment() -> None:
    c, _, clock = await ben_in_a_call()
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    late = START + timedelta(hours=3)  # Ben's call ran out long after the appointment
    await c.staff_wrote(ROOM, BEN, EventID("$e"), "!video end", late)
    await c.tick(late + timedelta(seconds=30))
    widgets = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    assert not widgets[-1].content
    assert (await youth_keys(c)).count("video.link") == 1


async def test_the_chats_counsellor_does_not_cut_a_running_appointments_call() -> None:
    """The other way round: Anna meets the youth in her appointment's call; Ben, who has
    the chat now, types `!video` (or `!video end`). The appointment's call vanished
    mid-appointment, Anna in it and not told why; Ben is told that the call is the
    appointment's, and the room keeps it."""
    for command in ("!video", "!video end"):
        c, conversation, clock = await booked_with_anna(BEN)
        await c.staff_wrote(STAFF_ROOM, BEN, EventID("$b0"), "!duty on",
                            START - timedelta(hours=1))
        await c.staff_wrote(ROOM, ANNA, EventID("$t"), "!transfer @ben:x",
                            START - timedelta(hours=1))
        await c.staff_wrote(ROOM, BEN, EventID("$b1"), "Hallo, ich bin Ben.",
                            START - timedelta(minutes=15))
        clock.set(START - timedelta(minutes=14))
        await c.tick(clock.now())
        [appointments] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
        await c.staff_wrote(ROOM, BEN, EventID("$v"), command, START + timedelta(minutes=10))
        widgets = [e for e in await outbox(c) if isinstance(e, PutWidget)]
        assert widgets == [appointments], f"{command}: the appointment's call was cut"
        assert c.video.widgets == {conversation: appointments.widget_id}
        told = [e for e in await outbox(c) if isinstance(e, SayInRoom | SayToStaff)
                and e.key == "video.appointment_running"]
        assert len(told) == 1, f"{command}: Ben was not told why nothing happened"
        assert BEN in (told[0].to if isinstance(told[0], SayInRoom) else told[0].mentions)
