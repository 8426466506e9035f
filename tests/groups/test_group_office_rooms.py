"""What the bot tells the staff about a group goes to the staff room of the group's office.
The opening, a moderator's refused command and a crisis flag of one office's group were
told in the main staff room, which every office's staff read: another office learnt of the
group's youths (by nickname) and their crises. Memory store, fake clock, no server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from counsel_bot.config import RoutingSettings
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import OpenGroupRoom
from counsel_bot.core.ids import UserID
from tests.groups.test_group_desk import ANNA, BEN, GROUP_ROOM, Parts
from tests.groups.test_group_offices import MIA, TOM, evening, two_offices


def told(effects: list[object], key: str) -> SayToStaff:
    [notice] = [e for e in effects if isinstance(e, SayToStaff) and e.key == key]
    return notice


async def test_the_groups_opening_refusals_and_crisis_go_to_its_offices_room() -> None:
    p = Parts()
    await p.start(settings=two_offices())
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    p.clock.set(datetime(2026, 12, 10, 17, 0, tzinfo=UTC))
    await p.c.tick(p.clock.now())
    effects = await p.new()
    assert told(effects, "group.staff_opened").office == "familie"
    [(_, nick)] = next(e for e in effects if isinstance(e, OpenGroupRoom)).members
    p.desk.room_opened(1, GROUP_ROOM)

    await p.in_group(MIA, f"!mute {nick}")  # counsels in "familie", hosts nothing
    assert told(await p.new(), "group.not_host").office == "familie"

    await p.in_group(UserID("@y1:x"), "ich will nicht mehr leben")
    alert = told(await p.new(), "group.staff_crisis_alert")
    assert alert.office == "familie", "a group's crisis was told to every office"


async def test_a_group_of_two_offices_is_told_where_both_read() -> None:
    p, _ = await evening(MIA)
    assert p.desk.book.get(1).offices == {"familie", "schule"}
    await p.in_group(UserID("@y1:x"), "ich will nicht mehr leben")
    assert told(await p.new(), "group.staff_crisis_alert").office == ""


async def test_a_crisis_the_on_call_office_is_called_for_is_told_where_it_reads() -> None:
    """Nobody of the group's office works tonight: the on-call office's lead is called,
    so the alert goes where they read it too."""
    settings = replace(two_offices(), routing=RoutingSettings(fallback_office="familie",
                                                              on_call_office="schule"))
    p = Parts()
    await p.start(settings=settings)
    await p.staff(BEN, "!duty on")
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.in_group(UserID("@y1:x"), "ich will nicht mehr leben")
    alert = told(await p.new(), "group.staff_crisis_alert")
    assert TOM in alert.mentions
    assert alert.office in ("", "schule")
