""""Can anyone on duty take this youth?" has one answer. The counsellor signing off hears it
from the router (`StaffHandlers._off_duty_reply`), the youth left waiting from the hand-back
notice (`Transitions._handed_back`). A youth who has not yet said what it is about (office
undecided) is the fallback office's to take: the counsellor was told "handed over" while
the youth was told nobody is on duty, though the fallback office's counsellor on duty sees
them in the queue and may take them. A memory store, the real detector."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.config import settings_from_mapping
from counsel_bot.core.effects import SayInRoom, SayToYouth
from counsel_bot.core.ids import UserID
from counsel_bot.core.routing.model import Priority
from tests.counsel_bot.test_crisis_paths import T0, conversation_of, office, pending, staff, youth

CEM, DORA = UserID("@cem:x"), UserID("@dora:x")
SETTINGS_OFFICES = [
    {"id": "familie", "name": "Familienberatung", "topics": ["family"],
     "postcodes": ["89"], "counsellors": ["@anna:x"]},
    {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
     "counsellors": ["@cem:x", "@dora:x"]},
]
SETTINGS = settings_from_mapping({
    "routing": {"fallback_office": "jugend", "on_call_office": "jugend"},
    "offices": SETTINGS_OFFICES,
})


async def test_an_undecided_youth_is_not_told_nobody_is_on_duty_while_the_fallback_is() -> None:
    c = await office(SETTINGS)
    await staff(c, CEM, "!duty on", T0)
    await staff(c, CEM, "!capacity 1", T0)
    await staff(c, DORA, "!duty on", T0)
    await youth(c, "hallo", T0 + timedelta(seconds=5))  # asked what it is about: undecided
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.assigned_to is None
    await staff(c, DORA, "!duty off", T0 + timedelta(minutes=1))

    said = await pending(c)
    [reply] = [e for e in said if isinstance(e, SayInRoom) and e.to == DORA
               and e.key.startswith("duty.off")]
    told_youth = [e.key for e in said if isinstance(e, SayToYouth)]
    nobody = "nobody_on_duty" in told_youth or "out_of_hours" in told_youth
    # Cem, of the fallback office, is on duty with room and may `!take` the youth.
    assert reply.key == "duty.off"
    assert not nobody, "the youth was told nobody is on duty; the counsellor, 'handed over'"


async def test_a_youth_whose_first_words_are_a_crisis_is_given_to_the_fallback_office() -> None:
    """Crisis words as the first message leave the office undecided (the youth is asked
    what it is about). The auto-assigner gave such a crisis to the on-call office only: with
    on-call and fallback offices apart, the youth waited, unassigned, for their answer or
    the question's timeout, while the fallback office's counsellor on duty, who sees them
    in the queue, was free."""
    settings = settings_from_mapping({
        "routing": {"fallback_office": "jugend", "on_call_office": "familie"},
        "offices": SETTINGS_OFFICES,
    })
    c = await office(settings)
    await staff(c, CEM, "!duty on", T0)  # the fallback office's; nobody on call on duty
    await youth(c, "ich will mich umbringen", T0 + timedelta(seconds=5))
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.priority is Priority.CRISIS
    assert current.assigned_to == CEM, "a crisis waits while a counsellor who sees it is free"
