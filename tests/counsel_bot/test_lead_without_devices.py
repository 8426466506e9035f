"""A team lead with no device left (logged out everywhere, or the account deactivated,
which deletes every device) cannot be rung: a crisis page that names only them rings
nobody's phone. The page falls back to the other leads, then to the counsellors on duty.
Memory store, the real rules detector, injected time, checks made by hand (the bot makes
them from keys/query when a staff member's device list changes)."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.config import Settings, StaffSettings, settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.device_trust_check import DeviceTrustCheck
from counsel_bot.core.ids import RoomID, UserID
from tests.counsel_bot.test_crisis_paths import (
    ANNA,
    BEN,
    CRISIS,
    LEA,
    OFFICES,
    T0,
    conversation_of,
    office,
    staff,
    staff_notices,
    ticks,
    youth,
)

IDA = UserID("@ida:x")
OTHER_ROOM, OTHER_YOUTH = RoomID("!other:x"), UserID("@moon:x")


def no_devices(user: UserID) -> DeviceTrustCheck:
    return DeviceTrustCheck(user, has_identity=False, unsigned_devices=(), devices=0)


async def test_a_page_rings_the_counsellor_on_duty_when_the_only_lead_has_no_device() -> None:
    c = await office(Settings(staff=StaffSettings(counsellors=(ANNA, BEN), team_leads=(LEA,))))
    await c.devices_checked(no_devices(LEA), T0)  # Lea's account was closed
    await staff(c, ANNA, "!duty on", T0)
    await staff(c, ANNA, "!capacity 1", T0)
    await c.youth_wrote(OTHER_ROOM, OTHER_YOUTH, None, "$o1", "hallo", T0)  # Anna is busy
    await youth(c, "hallo", T0 + timedelta(seconds=5))
    await youth(c, CRISIS, T0 + timedelta(seconds=10))  # waits in the queue
    await ticks(c, 3, 10, 30)
    pages = [e for e in await staff_notices(c) if e.key == "staff_lead_page"]
    assert [p.mentions for p in pages] == [(ANNA,)]

    # Kept over a restart (leads are not checked at a start), until she has a device again.
    again = await Conductor.open(c.store, CrisisDetector.from_directory(default_lexicon_dir()),
                                 c.policy, T0 + timedelta(hours=1))
    assert LEA not in again.every_lead()
    await again.devices_checked(DeviceTrustCheck(LEA, True, (), devices=1),
                                T0 + timedelta(hours=2))
    assert again.every_lead() == (LEA,)


async def test_a_page_of_an_office_whose_lead_has_no_device_rings_another_lead() -> None:
    c = await office(settings_from_mapping(OFFICES))
    await c.devices_checked(no_devices(LEA), T0)
    await staff(c, ANNA, "!duty on", T0)
    await staff(c, ANNA, "!capacity 1", T0)
    await c.youth_wrote(OTHER_ROOM, OTHER_YOUTH, None, "$o1", "Streit mit Eltern, 89073", T0)
    await youth(c, "Stress mit meinen Eltern, 89073", T0 + timedelta(seconds=5))
    cid = await conversation_of(c)
    current = c.router.conversation(cid)
    assert current is not None
    assert (current.office, current.assigned_to) == ("familie", None)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await ticks(c, 3, 10, 60)
    pages = [e for e in await staff_notices(c) if e.key == "staff_lead_page"]
    assert [p.mentions for p in pages] == [(IDA,)]


async def test_a_page_for_another_offices_lead_goes_to_a_room_she_is_in() -> None:
    """The lead named instead (the on-call office's) is rung only where she is a member: an
    office's staff room holds its own staff alone. Named in the room of the office whose
    lead has no device left, she was told nothing, and the page rang nobody's phone again."""
    c = await office(settings_from_mapping(OFFICES))
    await c.devices_checked(no_devices(LEA), T0)
    await staff(c, ANNA, "!duty on", T0)
    await staff(c, ANNA, "!capacity 1", T0)
    await c.youth_wrote(OTHER_ROOM, OTHER_YOUTH, None, "$o1", "Streit mit Eltern, 89073", T0)
    await youth(c, "Stress mit meinen Eltern, 89073", T0 + timedelta(seconds=5))
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await ticks(c, 3, 10, 60)
    pages = [e for e in await staff_notices(c) if e.key == "staff_lead_page"]
    assert [p.mentions for p in pages] == [(IDA,)]
    book = c.policy.offices
    assert [IDA in book.desk(p.office).staff for p in pages] == [True], \
        [p.office for p in pages]
