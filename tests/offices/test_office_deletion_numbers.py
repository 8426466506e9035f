"""A youth of an office with its own emergency numbers (another region's crisis line) who
deletes their chat: the last words they read, "if you are in a bad way: …", must name their
office's numbers, as their welcome, the safety text and the pointer after the close do. The
youth-side review found the deletion's goodbye gave the installation's [crisis] numbers,
in an open conversation and in one already closed. A memory store, the real detector."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import UserID
from tests.counsel_bot.test_crisis_paths import T0, conversation_of, office, pending, staff, youth

ANNA = UserID("@anna:x")
LOCAL = "Krisendienst Schwaben 0800 655 3000"
SETTINGS = settings_from_mapping({
    "routing": {"fallback_office": "jugend", "on_call_office": "jugend"},
    "offices": [
        {"id": "familie", "name": "Familienberatung", "topics": ["family"],
         "postcodes": ["89"], "counsellors": ["@anna:x"], "emergency_de": LOCAL},
        {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
         "counsellors": ["@cem:x"]},
    ],
})


async def _goodbye(c: Conductor) -> str:
    [said] = [e for e in await pending(c) if isinstance(e, SayToYouth)
              and e.key in ("delete.now", "delete.by_retention")]
    return str(dict(said.params)["emergency"])


async def _family_youth() -> Conductor:
    c = await office(SETTINGS)
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.office == "familie"
    return c


@pytest.mark.parametrize("can_delete", [True, False])
async def test_deleting_an_open_chat_names_the_offices_numbers(can_delete: bool) -> None:
    c = await _family_youth()
    c.can_delete = lambda: can_delete
    await youth(c, "löschen", T0 + timedelta(minutes=1))
    await youth(c, "ja löschen", T0 + timedelta(minutes=2))
    assert await _goodbye(c) == LOCAL


async def test_deleting_a_closed_chat_names_the_offices_numbers() -> None:
    c = await _family_youth()
    cid = await conversation_of(c)
    await staff(c, ANNA, "!duty on", T0)
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=20))
    assert c.router.conversation(cid) is None
    await youth(c, "löschen", T0 + timedelta(minutes=21))
    await youth(c, "ja löschen", T0 + timedelta(minutes=22))
    assert await _goodbye(c) == LOCAL
