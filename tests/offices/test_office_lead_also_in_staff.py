"""An office's team lead whom `[staff] counsellors` names as well (the list kept from before
the installation had offices; with offices, everyone there must be in an office, so it stays
full) was only a counsellor: `[staff]` overrode the office's role. Paged for her office's
crisis, she was refused the lead's decisions on it ("not yours"), as if she were not its
lead. The stronger role wins; she leads only the office that names her (rule 7). A memory
store, the real detector."""

from __future__ import annotations

import pytest

from counsel_bot.config import settings_from_mapping
from counsel_bot.core.effects import SayInRoom
from counsel_bot.core.ids import UserID
from counsel_bot.core.routing.model import CrisisStatus
from tests.counsel_bot.test_crisis_paths import (
    CRISIS,
    T0,
    conversation_of,
    office,
    pending,
    staff,
    youth,
)

ANNA, LEA = UserID("@anna:x"), UserID("@lea:x")
OFFICES = [{"id": "familie", "topics": ["family"], "postcodes": ["89"],
            "counsellors": [ANNA], "team_leads": [LEA]},
           {"id": "jugend", "topics": ["general"], "counsellors": ["@cem:x"]}]


@pytest.mark.parametrize("staff_section", [
    {}, {"counsellors": [LEA, ANNA, "@cem:x"]},
])
async def test_an_offices_lead_named_in_staff_counsellors_too_still_leads_it(
        staff_section: dict[str, list[str]]) -> None:
    c = await office(settings_from_mapping({"staff": staff_section,
                                            "routing": {"fallback_office": "jugend"},
                                            "offices": OFFICES}))
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "Stress mit meinen Eltern, 89073. " + CRISIS, T0)
    cid = await conversation_of(c)
    before = len(await pending(c))
    await staff(c, LEA, f"!dismiss {cid}", T0)
    said = [e.key for e in (await pending(c))[before:] if isinstance(e, SayInRoom)]
    assert said == ["crisis.dismissed"]
    current = c.router.conversation(cid)
    assert current is not None
    assert current.crisis is CrisisStatus.DISMISSED
