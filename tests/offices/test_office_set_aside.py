"""What the staff are told about a closed conversation goes to its office's staff room. An
effect the homeserver refused for good (the youth's last message, say) or a youth's message
the bot failed on twice, after the close, was told in the main staff room, which every
office reads, naming the conversation; its own office's staff, who may be the only ones
reading their room, were not told. Memory store, fake clock, no server."""

from __future__ import annotations

import pytest

from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import EventID, RoomID, UserID
from tests.offices.test_office_workday import T0, offices, outbox, youth_in


@pytest.mark.parametrize("what", ["refused", "set aside", "message set aside"])
async def test_a_closed_conversations_set_aside_is_told_to_its_office(what: str) -> None:
    c, _ = await offices()
    school = await youth_in(c, "schule", 1)
    await c.youth_wrote(RoomID("!room1:x"), UserID("@youth1:x"), None, EventID("$end"),
                        "ende", T0)
    assert c.router.conversation(school) is None
    before = len(await outbox(c))
    if what == "message set aside":
        await c.set_aside(RoomID("!room1:x"), UserID("@youth1:x"), EventID("$bad"), T0,
                          ("failed:$bad", ""))
    else:
        await c.effect_set_aside("SayToYouth closed_for_youth", school, T0,
                                 refused=what == "refused")
    [told] = [e for e in (await outbox(c))[before:] if isinstance(e, SayToStaff)]
    assert dict(told.params)["conversation"] == school
    assert told.office == "schule", "told in the staff room of every office"
