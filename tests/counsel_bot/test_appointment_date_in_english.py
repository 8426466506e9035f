"""An appointment is told to a youth who writes in English with an English date.

"Your counsellor suggests a video call: 10.12.2026 16:00 (45 min)" was what an
English-speaking youth read, and "Reminder: your appointment is tomorrow, 10.12.2026 16:00":
the German day.month.year, no day of the week, in every appointment text (proposal,
confirmation, reminders, cancellation). The German texts keep their format. Memory store,
fake clock, the real conductor.
"""

from __future__ import annotations

from dataclasses import replace

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import EventID
from counsel_bot.core.messages import text
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_appointments_flow import ANNA, NOW, ROOM, STAFF_ROOM, YOUTH, outbox
from tests.store.conftest import AeadSealer


async def _proposed(first: str) -> tuple[Conductor, SayToYouth]:
    policy = replace(policy_from(Settings(staff=StaffSettings(counsellors=(str(ANNA),)),
                                          video=VideoSettings(base_url="https://meet.x"))),
                     appointments=AppointmentSettings(office_address="Musterstr. 1"))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, NOW)
    await c.sync_roster(NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), first, NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    [proposal] = [e for e in await outbox(c) if isinstance(e, SayToYouth)
                  and e.key == "appointments.proposed_video"]
    return c, proposal


async def test_an_english_youth_reads_the_appointment_in_english() -> None:
    c, proposal = await _proposed("hello, I have a lot of stress at school")
    shown = text(proposal.key, "en", **dict(proposal.params))
    assert "Thu 10 Dec 2026, 16:00" in shown
    assert "10.12.2026" not in shown
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "yes", NOW)
    [confirmed] = [e for e in await outbox(c) if isinstance(e, SayToYouth)
                   and e.key == "appointments.confirmed"]
    assert "Thu 10 Dec 2026, 16:00" in text(confirmed.key, "en", **dict(confirmed.params))


async def test_a_german_youth_keeps_the_german_date() -> None:
    _, proposal = await _proposed("hallo, ich habe stress in der schule")
    assert "10.12.2026 16:00" in text(proposal.key, "de", **dict(proposal.params))
