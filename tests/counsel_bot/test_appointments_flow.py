"""Appointments through the conductor: propose, answer, file, reminders, cancel; no server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import (
    Effect,
    PutWidget,
    SayInRoom,
    SayToStaff,
    SayToYouth,
    SendCalendar,
    decode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ROOM, YOUTH, STAFF_ROOM = RoomID("!room:x"), UserID("@sunflower:x"), RoomID("!staff:x")
ANNA = UserID("@anna:x")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # default hours: always open
START = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # 16:00 Berlin


async def office() -> tuple[Conductor, ConversationID, FakeClock]:
    policy = replace(policy_from(Settings(staff=StaffSettings(counsellors=(str(ANNA),)),
                                          video=VideoSettings(base_url="https://meet.x"))),
                     appointments=AppointmentSettings(office_address="Musterstr. 1"))
    clock = FakeClock(NOW)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, NOW)
    c.appointments.new_id = lambda: "T-00000A"
    await c.sync_roster(NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo", NOW)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    return c, record.conversation, clock


async def outbox(c: Conductor) -> list[Effect]:
    return [decode_effect(e.payload) for e in await c.store.pending_outbox()]


async def youth_keys(c: Conductor) -> list[str]:
    return [e.key for e in await outbox(c) if isinstance(e, SayToYouth)]


async def test_propose_confirm_remind_with_the_call_link_and_cancel() -> None:
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    assert "appointments.proposed_video" in await youth_keys(c)
    staff = [e for e in await outbox(c) if isinstance(e, SayToStaff)
             and e.key == "appointments.proposed_staff"]
    assert len(staff) == 1  # the reply to a command in the youth's room goes to staff

    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", clock.now())
    assert "appointments.confirmed" in await youth_keys(c)
    [calendar] = [e for e in await outbox(c) if isinstance(e, SendCalendar)]
    assert "DTSTART:20261210T150000Z" in calendar.ics
    assert calendar.filename == "termin-t-00000a.ics"
    # "ja" was an answer, not a message the routing parser saw as a command.
    assert "youth_help" not in await youth_keys(c)

    clock.set(START - timedelta(hours=23))
    await c.tick(clock.now())
    assert (await youth_keys(c)).count("appointments.reminder_day_before") == 1
    await c.tick(clock.advance(timedelta(minutes=5)))
    assert (await youth_keys(c)).count("appointments.reminder_day_before") == 1

    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    keys = await youth_keys(c)
    assert "appointments.reminder_soon" in keys
    assert "video.link" in keys
    assert any(isinstance(e, PutWidget) for e in await outbox(c))

    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a2"), "!appointments", clock.now())
    [listing] = [e for e in await outbox(c) if isinstance(e, SayInRoom)
                 and e.key == "appointments.list"]
    assert "T-00000A" in str(listing.params)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a3"), "!appointment cancel T-00000A",
                        clock.now())
    assert "appointments.cancelled" in await youth_keys(c)
    assert c.appointments.known["T-00000A"].status.value == "cancelled"


async def test_refusals_reach_the_counsellor_only_and_a_no_asks_for_another_time() -> None:
    c, conversation, _ = await office()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a1"),
                        f"!appointment {conversation} 2026-11-30 16:00 45min video", NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a2"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min phone", NOW)
    replies = [e.key for e in await outbox(c) if isinstance(e, SayInRoom)]
    assert replies[-2:] == ["appointments.past", "appointments.no_phone"]
    assert not any(k.startswith("appointments.") for k in await youth_keys(c))

    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a3"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min inperson", NOW)
    [proposal] = [e for e in await outbox(c) if isinstance(e, SayToYouth)
                  and e.key == "appointments.proposed_inperson"]
    assert dict(proposal.params)["address"] == "Musterstr. 1"
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "anderer Termin", NOW)
    assert "appointments.declined" in await youth_keys(c)
    assert not any(isinstance(e, SendCalendar) for e in await outbox(c))


async def test_appointments_survive_a_restart_and_go_with_the_conversation() -> None:
    c, conversation, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    again = await Conductor.open(c.store, c.detector, c.policy, NOW)
    assert list(again.appointments.known) == ["T-00000A"]
    await c.store.erase_conversation(conversation)
    assert await c.store.sealed_settings("appt:") == []


async def test_a_failed_write_leaves_no_appointment_in_memory() -> None:
    c, _, _ = await office()

    async def failing(transition: object) -> bool:
        raise OSError("disk full")
    c.store.commit_transition = failing  # type: ignore[method-assign,assignment]
    with pytest.raises(OSError, match="disk full"):
        await c.staff_wrote(ROOM, ANNA, EventID("$a1"),
                            "!appointment 2026-12-10 16:00 45min video", NOW)
    assert c.appointments.known == {}


async def test_after_the_chat_closes_the_bot_stays_for_the_appointments_reminders() -> None:
    from counsel_bot.core.effects import Leave

    c, conversation, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "5", NOW)
    assert not any(isinstance(e, Leave) for e in await outbox(c))
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    assert "appointments.reminder_soon" in await youth_keys(c)
