"""A youth whose chat is with one office signs up for a group of another (the youth's list
shows every office's groups). A crisis in the group offered the youth, in their own chat,
the group's office's emergency numbers: another region's lines, while the welcome and every
other text of their chat name their own office's (`offices.emergency_of`). Memory store,
fake clock, no server."""

from __future__ import annotations

from dataclasses import replace

from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import UserID
from tests.groups.test_group_desk import ANNA, Parts, notices
from tests.groups.test_group_offices import LEA, TOM, two_offices

ULM = "Krisendienst Ulm 0731 000 000"
MUNICH = "Krisendienst München 089 000 000"


async def test_a_crisis_in_another_offices_group_offers_the_youths_own_offices_numbers(
) -> None:
    settings = two_offices()
    familie, schule = settings.offices
    p = Parts()
    await p.start(settings=replace(settings, offices=(replace(familie, emergency_de=ULM),
                                                      replace(schule, emergency_de=MUNICH))))
    await p.youth(1, "stelle:schule ich hab stress in der schule")
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    assert p.desk.book.get(1).offices == {"familie"}
    await p.new()
    await p.in_group(UserID("@y1:x"), "ich will nicht mehr leben")
    [offer] = notices(await p.new(), "group.crisis_offer")  # type: ignore[arg-type]
    assert dict(offer.params)["emergency"] == MUNICH, "another office's emergency lines"


async def test_a_crisis_in_another_offices_group_calls_the_youths_own_offices_leads(
) -> None:
    """The alert asks the leads to look after the 1:1 the youth is offered; that 1:1 is
    in the youth's own office, whose queue the group's office's leads do not see. Its leads
    were not called at all."""
    p = Parts()
    await p.start(settings=two_offices())
    await p.youth(1, "stelle:schule ich hab stress in der schule")
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.in_group(UserID("@y1:x"), "ich will nicht mehr leben")
    [alert] = [e for e in await p.new() if isinstance(e, SayToStaff)
               and e.key == "group.staff_crisis_alert"]
    assert TOM in alert.mentions, "the youth's own office's lead was not called"
    assert LEA in alert.mentions
