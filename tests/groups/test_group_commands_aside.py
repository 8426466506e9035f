"""A group command a counsellor types in a youth's room is answered in the staff room (the
youth must not read about other youths' groups), and with offices in the staff room of the
conversation's office, as every other command's answer there (`StaffCommands._aside`). The
group list (topics, evenings, hosts, how many signed up) went to the main staff room, read
by every office. Memory store, fake clock, no server."""

from __future__ import annotations

from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import RoomID
from tests.groups.test_group_desk import BEN, Parts
from tests.groups.test_group_offices import two_offices


async def test_a_group_command_in_a_youths_room_is_answered_in_its_offices_room() -> None:
    p = Parts()
    await p.start(settings=two_offices())
    await p.staff(BEN, "!duty on")
    await p.youth(1, "stelle:schule ich hab stress in der schule")
    record = await p.store.conversation_by_room(RoomID("!home1:x"))
    assert record is not None
    assert p.c.router.conversation(record.conversation).office == "schule"  # type: ignore[union-attr]
    await p.new()
    await p.staff(BEN, '!group new "Schulstress" 2026-12-11 18:00 60min max 4',
                  RoomID("!home1:x"))
    await p.staff(BEN, "!group list", RoomID("!home1:x"))
    answers = [e for e in await p.new() if isinstance(e, SayToStaff)]
    assert [a.key for a in answers] == ["group.announced", "group.list_staff"]
    assert [a.office for a in answers] == ["schule", "schule"], \
        "told in the staff room of every office"
