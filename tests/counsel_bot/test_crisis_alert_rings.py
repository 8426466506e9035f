"""A crisis alert for a youth nobody has yet must ring the people who can take them now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.config import OpeningHoursSettings, Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ANNA, BEN, STAFF_ROOM = UserID("@anna:x"), UserID("@ben:x"), RoomID("!staff:x")
AT = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday, 15:00 in Berlin: open
HOURS = OpeningHoursSettings(weekly={"mon": ("08:00-22:00",)})


async def _anna_and_ben_on_duty(capacity: int | None = None) -> Conductor:
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA, BEN)),
                                  opening_hours=HOURS))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, AT)
    await c.sync_roster(AT)
    for who in (ANNA, BEN):
        await c.staff_wrote(STAFF_ROOM, who, EventID(f"$on{who[1]}"), "!duty on", AT)
        if capacity is not None:
            await c.staff_wrote(STAFF_ROOM, who, EventID(f"$cap{who[1]}"),
                                f"!capacity {capacity}", AT)
    return c


async def _alerts(c: Conductor) -> list[SayToStaff]:
    return [e for e in (decode_effect(o.payload) for o in await c.store.pending_outbox())
            if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]


async def test_a_waiting_youths_crisis_alert_rings_the_counsellors_on_duty() -> None:
    """Anna and Ben are on duty and full; a youth whose first words are a crisis waits.
    The alert was a notice naming nobody, and the default push rules silence every notice:
    on a night shift nobody's phone rang until a lead was paged, minutes later. The
    counsellors on duty who may take the youth (over their capacity, by hand) are rung."""
    c = await _anna_and_ben_on_duty(capacity=1)
    for n in (1, 2):
        await c.youth_wrote(RoomID(f"!r{n}:x"), UserID(f"@y{n}:x"), None, EventID(f"$y{n}"),
                            "hallo, ist jemand da?", AT + timedelta(seconds=n))
    assert not await _alerts(c)
    await c.youth_wrote(RoomID("!r3:x"), UserID("@y3:x"), None, EventID("$y3"),
                        "ich will mich umbringen", AT + timedelta(seconds=5))
    record = await c.store.conversation_by_room(RoomID("!r3:x"))
    assert record is not None
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.assigned_to is None  # both are full: the youth waits
    [alert] = await _alerts(c)
    assert set(alert.mentions) == {ANNA, BEN}


async def test_an_assigned_youths_crisis_alert_rings_their_counsellor_alone() -> None:
    c = await _anna_and_ben_on_duty()
    await c.youth_wrote(RoomID("!r1:x"), UserID("@y1:x"), None, EventID("$y1"),
                        "ich will mich umbringen", AT)
    record = await c.store.conversation_by_room(RoomID("!r1:x"))
    assert record is not None
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.assigned_to is not None
    alerts = await _alerts(c)
    assert alerts
    assert all(alert.mentions == (current.assigned_to,) for alert in alerts)
