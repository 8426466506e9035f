"""An office renamed or taken out of the configuration, the bot restarted: its open
conversations are the fallback office's (rule 2 of core/routing/offices.py), whose
counsellors take them in its hours. The youth must hear that office's hours and numbers,
not the installation's: before, `OfficeBook.desk` gave a removed office's youth the
[opening_hours] (always open here) and the [crisis] numbers, so a youth waiting when the
fallback office closed was never told, and "hilfe" named another region's line. A memory
store, the real detector."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToYouth
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_crisis_paths import T0, conversation_of, pending, youth
from tests.store.conftest import AeadSealer

LOCAL = "Jugendnotruf Oberland 0800 100 2000"
_JUGEND = {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
           "counsellors": ["@cem:x"], "emergency_de": LOCAL,
           "hours": {"tue": ["09:00-16:00"]}}  # T0 is a Tuesday, 15:00 in Berlin


def _config(family_id: str | None) -> dict[str, Any]:
    offices: list[dict[str, Any]] = [_JUGEND]
    if family_id is not None:
        offices.insert(0, {"id": family_id, "name": "Familienberatung", "topics": ["family"],
                           "postcodes": ["89"], "counsellors": ["@anna:x"]})
    return {"routing": {"fallback_office": "jugend"}, "offices": offices}


async def _restarted(family_id: str | None) -> Conductor:
    """A youth of "familie" waits (nobody on duty); the bot restarts with the office
    renamed to ``family_id`` (None: taken out)."""
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    first = await Conductor.open(MemoryStore(AeadSealer()), detector,
                                 policy_from(settings_from_mapping(_config("familie"))), T0)
    await first.sync_roster(T0)
    await youth(first, "Stress mit meinen Eltern, 89073", T0)
    current = first.router.conversation(await conversation_of(first))
    assert current is not None
    assert current.office == "familie"
    again = await Conductor.open(first.store, detector,
                                 policy_from(settings_from_mapping(_config(family_id))),
                                 T0 + timedelta(minutes=1))
    await again.sync_roster(T0 + timedelta(minutes=1))
    await again.tick(T0 + timedelta(minutes=1))
    return again


async def _said(c: Conductor, key: str) -> list[dict[str, object]]:
    return [dict(e.params) for e in await pending(c) if isinstance(e, SayToYouth)
            and e.key == key]


async def test_a_removed_offices_youth_hears_the_fallback_offices_numbers() -> None:
    for family_id in ("eltern", None):
        c = await _restarted(family_id)
        await youth(c, "hilfe", T0 + timedelta(minutes=2))
        [help_text] = await _said(c, "youth_help")
        assert help_text["emergency"] == LOCAL, family_id


async def test_a_removed_offices_youth_is_told_when_the_fallback_office_closes() -> None:
    for family_id in ("eltern", None):
        c = await _restarted(family_id)
        assert not await _said(c, "out_of_hours")
        await c.tick(T0 + timedelta(hours=1, minutes=5))  # 16:05 in Berlin: jugend closed
        [closed] = await _said(c, "out_of_hours")
        assert closed["emergency"] == LOCAL, family_id
