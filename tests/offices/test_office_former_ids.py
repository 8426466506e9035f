"""An office renamed ("familie" → "eltern") or two merged into one: the configuration names
the ids it had before (`former_ids`), and what was theirs stays with it after the restart:
the youths waiting in its queue (not in the fallback office's, whose staff then had them and
whose own staff lost sight of them), its closed conversations (their case notes, their
retention period), its hours and its staff room. Without `former_ids` a removed office's
are the fallback office's (rule 2 of core/routing/offices.py). A memory store, the real
detector."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from counsel_bot.config import ConfigError, settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayInRoom
from counsel_bot.core.ids import UserID
from counsel_bot.runtime.offices import retention_by_office
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_crisis_paths import T0, conversation_of, pending, staff, youth
from tests.store.conftest import AeadSealer

ANNA, CEM = UserID("@anna:x"), UserID("@cem:x")
JUGEND = {"id": "jugend", "topics": ["general"], "counsellors": [CEM]}


def _config(family: dict[str, Any]) -> dict[str, Any]:
    return {"routing": {"fallback_office": "jugend"},
            "offices": [{"topics": ["family"], "postcodes": ["89"], "counsellors": [ANNA],
                         **family}, JUGEND]}


async def _renamed() -> Conductor:
    """A youth of "familie" waits; the bot restarts with it renamed "eltern"."""
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    first = await Conductor.open(MemoryStore(AeadSealer()), detector,
                                 policy_from(settings_from_mapping(_config({"id": "familie"}))),
                                 T0)
    await first.sync_roster(T0)
    await youth(first, "Stress mit meinen Eltern, 89073", T0)
    settings = settings_from_mapping(_config({"id": "eltern", "former_ids": ["familie"]}))
    again = await Conductor.open(first.store, detector, policy_from(settings),
                                 T0 + timedelta(minutes=1))
    await again.sync_roster(T0 + timedelta(minutes=1))
    return again


async def test_a_renamed_offices_waiting_youth_stays_with_it() -> None:
    c = await _renamed()
    cid = await conversation_of(c)
    await staff(c, CEM, "!duty on", T0 + timedelta(minutes=2))
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to is None, "the fallback office's counsellor was given it"
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=3))
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to == ANNA


async def test_a_renamed_offices_closed_conversation_is_its_staffs_to_read() -> None:
    c = await _renamed()
    cid = await conversation_of(c)
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=2))
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=30))
    before = len(await pending(c))
    await staff(c, ANNA, f"!notes {cid}", T0 + timedelta(minutes=31))
    replies = [e.key for e in (await pending(c))[before:] if isinstance(e, SayInRoom)]
    assert replies
    assert not any("unknown" in key for key in replies)


def test_a_renamed_offices_closed_conversations_keep_its_retention() -> None:
    settings = settings_from_mapping({"retention": {"closed_days": 30}, **_config(
        {"id": "eltern", "former_ids": ["familie"], "retention_days": 7})})
    assert retention_by_office(settings)["familie"] == timedelta(days=7)


@pytest.mark.parametrize(("former", "message"), [
    (["jugend"], "former_ids: 'jugend' is an office's id now"),
    (["Familie"], "former_ids: 'Familie' is no office id"),
])
def test_former_ids_that_cannot_be_are_refused_naming_the_key(
        former: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping(_config({"id": "eltern", "former_ids": former}))


def test_one_former_id_for_two_offices_is_refused() -> None:
    with pytest.raises(ConfigError, match="former_ids: 'familie' is given to 'eltern' and"):
        settings_from_mapping({"routing": {"fallback_office": "jugend"}, "offices": [
            {"id": "eltern", "former_ids": ["familie"], "counsellors": [ANNA]},
            {**JUGEND, "former_ids": ["familie"]}]})


async def test_a_renamed_offices_stored_snippets_stay_its_own() -> None:
    """`!snippet add` keeps a snippet under its office's id: after the rename the office's
    counsellors found none of theirs ("unknown snippet"), and could not remove them."""
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    first = await Conductor.open(MemoryStore(AeadSealer()), detector,
                                 policy_from(settings_from_mapping(_config({"id": "familie"}))),
                                 T0)
    await first.sync_roster(T0)
    await staff(first, ANNA, "!snippet add abend Magst du erzählen, wie dein Abend war?", T0)
    settings = settings_from_mapping(_config({"id": "eltern", "former_ids": ["familie"]}))
    c = await Conductor.open(first.store, detector, policy_from(settings), T0)
    await c.sync_roster(T0)

    async def said(body: str) -> list[str]:
        before = len(await pending(c))
        await staff(c, ANNA, body, T0)
        return [e.key for e in (await pending(c))[before:] if isinstance(e, SayInRoom)]

    assert await said("!s abend") == ["snippets.copy"]
    assert await said("!snippet remove abend") == ["snippets.removed"]
    assert await said("!s abend") == ["snippets.unknown"]
