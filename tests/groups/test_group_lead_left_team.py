"""A team lead steps into a group for its missing host (`!group join N`: invited, with the
power to delete messages), then leaves the team, or stops leading (the roster changed, the
bot restarted on it). A host who left the team is removed from the room; the lead stayed
in it, reading along among the youths, with the moderator's power. Now whoever stepped in
and may no longer moderate is removed as the host is. Memory store, fake clock, no
server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.core.group_effects import InviteToGroup, KickFromGroup
from counsel_bot.core.ids import UserID
from tests.groups.test_group_desk import ANNA, BEN, GROUP_ROOM, LEAD, Parts

KIM = UserID("@kim:x")
ROSTERS = {
    "left the team": Settings(staff=StaffSettings(counsellors=(ANNA, BEN), team_leads=(LEAD,))),
    "leads no longer": Settings(staff=StaffSettings(counsellors=(ANNA, BEN, KIM),
                                                    team_leads=(LEAD,))),
}


@pytest.mark.parametrize("change", sorted(ROSTERS))
async def test_a_lead_who_stepped_in_and_may_no_longer_moderate_is_removed(change: str) -> None:
    p = Parts()
    await p.start(settings=Settings(staff=StaffSettings(counsellors=(ANNA, BEN),
                                                        team_leads=(LEAD, KIM))))
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.staff(KIM, "!group join 1")
    assert InviteToGroup(1, KIM, "") in await p.new()

    seen = p.seen
    await p.start(settings=ROSTERS[change])
    p.seen = seen
    p.desk.room_opened(1, GROUP_ROOM)
    await p.c.tick(p.clock.advance(timedelta(minutes=1)))
    assert KickFromGroup(1, KIM) in await p.new(), (
        "the lead who stepped in stays among the youths, with the moderator's power")
    await p.c.tick(p.clock.advance(timedelta(minutes=1)))
    assert KickFromGroup(1, KIM) not in await p.new(), "removed again at every tick"


async def test_a_lead_who_stepped_in_and_still_leads_stays() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.staff(LEAD, "!group join 1")
    await p.new()
    seen = p.seen
    await p.start()
    p.seen = seen
    p.desk.room_opened(1, GROUP_ROOM)
    await p.c.tick(p.clock.advance(timedelta(minutes=1)))
    assert not [e for e in await p.new() if isinstance(e, KickFromGroup)]
