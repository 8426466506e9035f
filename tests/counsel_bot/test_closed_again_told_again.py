"""A youth who wrote after closing waits through a whole opening day (everyone on duty
busy) and is still waiting when the chat closes again: they hear when it opens next.

Their first "we open on Monday at 14:00" (the welcome's) shared its outbox key with every
later "closed, we open again on …" of their first time in the queue, and the outbox keeps
the first of equal keys: at Monday's close the last thing they had read was that it opens
on Monday at 14:00, and nobody came that night.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToYouth, decode_effect
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ANNA = UserID("@anna:x")
STAFF_ROOM = RoomID("!staff:x")
# Sunday evening in Berlin (CET): the office (weekdays 14-20) is closed.
SUNDAY = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
MONDAY_OPEN = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 14:00 in Berlin
MONDAY_CLOSED = datetime(2026, 11, 23, 19, 5, tzinfo=UTC)  # 20:05 in Berlin


async def told_out_of_hours(c: Conductor, room: RoomID) -> list[str]:
    record = await c.store.conversation_by_room(room)
    assert record is not None
    effects = [decode_effect(e.payload) for e in await c.store.pending_outbox()]
    return [str(dict(e.params)["next_opening"]) for e in effects
            if isinstance(e, SayToYouth) and e.conversation == record.conversation
            and e.key == "out_of_hours"]


async def test_still_waiting_at_the_next_close_the_youth_hears_the_next_opening() -> None:
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,),
                                                      default_capacity=1)))
    hours = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {
        day: ["14:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri")}})
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector,
                             replace(policy, hours=hours), SUNDAY)
    await c.sync_roster(SUNDAY)
    first, second = RoomID("!first:x"), RoomID("!second:x")
    await c.youth_wrote(first, UserID("@first:x"), None, EventID("$1"), "hallo", SUNDAY)
    await c.youth_wrote(second, UserID("@second:x"), None, EventID("$2"), "hallo", SUNDAY)
    assert await told_out_of_hours(c, second) == ["23.11. 14:00"]
    # Monday: Anna is on duty all afternoon with the first youth; the second waits.
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$on"), "!duty on", MONDAY_OPEN)
    assert len(c.router.queue()) == 1
    await c.staff_wrote(first, ANNA, EventID("$hi"), "Hallo, ich bin Anna.", MONDAY_OPEN)
    await c.tick(MONDAY_CLOSED - timedelta(minutes=10))
    await c.tick(MONDAY_CLOSED)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$off"), "!duty off", MONDAY_CLOSED)
    assert len(c.router.queue()) == 2
    assert await told_out_of_hours(c, first) == ["23.11. 14:00", "24.11. 14:00"]
    assert await told_out_of_hours(c, second) == ["23.11. 14:00", "24.11. 14:00"]


async def test_a_close_while_the_bot_restarted_is_told_to_the_youth_still_waiting() -> None:
    """The chat closes while the bot restarts (an upgrade at 19:58): the first tick after
    the start had no tick before it to compare with, so the youth who waits with nobody on
    duty never heard that it is closed now, nor when it opens."""
    policy = replace(policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,)))),
                     hours=OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {
                         day: ["14:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri")}}))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    store = MemoryStore(AeadSealer())
    before = MONDAY_CLOSED - timedelta(minutes=15)  # 19:50 in Berlin: open, nobody on duty
    c = await Conductor.open(store, detector, policy, before)
    await c.sync_roster(before)
    room = RoomID("!late:x")
    await c.youth_wrote(room, UserID("@late:x"), None, EventID("$1"), "hallo", before)
    await c.tick(before + timedelta(minutes=5))
    assert await told_out_of_hours(c, room) == []
    restarted = await Conductor.open(store, detector, policy, MONDAY_CLOSED)
    await restarted.tick(MONDAY_CLOSED)
    assert await told_out_of_hours(restarted, room) == ["24.11. 14:00"]
    # Told once: another start that night tells them nothing new.
    again = await Conductor.open(store, detector, policy, MONDAY_CLOSED + timedelta(hours=1))
    await again.tick(MONDAY_CLOSED + timedelta(hours=1))
    assert await told_out_of_hours(again, room) == ["24.11. 14:00"]
