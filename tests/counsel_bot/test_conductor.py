"""The conductor without a server: a memory store, the real detector, an injected time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToYouth, decode_effect
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing import QueuePositionChanged
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ROOM, YOUTH = RoomID("!room:x"), UserID("@sunflower:x")
# Sunday evening in Berlin: the office (weekdays 14-20) is closed.
SUNDAY = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)


async def conductor(weekly: dict[str, list[str]] | None = None) -> Conductor:
    policy = policy_from(Settings())
    if weekly is not None:
        hours = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": weekly})
        policy = replace(policy, hours=hours)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    return await Conductor.open(MemoryStore(AeadSealer()), detector, policy, SUNDAY)


async def said_to_youth(c: Conductor) -> list[SayToYouth]:
    effects = [decode_effect(e.payload) for e in await c.store.pending_outbox()]
    return [e for e in effects if isinstance(e, SayToYouth)]


async def test_out_of_hours_the_youth_learns_when_and_where_else_and_stays_queued() -> None:
    c = await conductor({day: ["14:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri")})
    await c.youth_wrote(ROOM, YOUTH, "Sonnenblume", EventID("$1"), "hallo, ist wer da?", SUNDAY)
    [notice] = [e for e in await said_to_youth(c) if e.key == "out_of_hours"]
    params = dict(notice.params)
    assert params["next_opening"] == "23.11. 14:00"
    assert "116 111" in str(params["emergency"])
    assert len(c.router.queue()) == 1


async def test_the_same_reply_twice_is_sent_twice() -> None:
    c = await conductor()
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), "hallo", SUNDAY)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$2"), "hilfe", SUNDAY)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$3"), "hilfe", SUNDAY)
    assert [e.key for e in await said_to_youth(c)].count("youth_help") == 2


@pytest.mark.parametrize(("first", "said"), [
    ("ende", "nobody_on_duty"), ("End.", "nobody_on_duty"),
    # The "hilfe" the greeting invites is answered, its numbers first (welcome tests).
    ("hilfe", "youth_help"),
])
async def test_a_first_message_is_never_a_command(first: str, said: str) -> None:
    c = await conductor()
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), first, SUNDAY)
    assert len(c.router.queue()) == 1
    # Nobody is on duty here: the numbers are given, and no other command is answered.
    assert [e.key for e in await said_to_youth(c)] == [said]


async def test_a_youth_who_ends_is_told_and_asked_for_the_score() -> None:
    """Found on a fresh install: "ende" closed the conversation in silence, so the youth
    could not tell whether it had worked, and was never asked the optional 1-5."""
    c = await conductor()
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), "hallo", SUNDAY)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$2"), "ende", SUNDAY)
    assert c.router.queue() == []
    assert [e.key for e in await said_to_youth(c)].count("closed_for_youth") == 1


async def test_lone_surrogates_are_kept_as_replacement_characters() -> None:
    c = await conductor()
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), "kaputt \ud800 text", SUNDAY)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    [item] = await c.store.read_intake(record.conversation)
    assert item.body.decode() == "kaputt \ufffd text"


async def test_a_commit_with_effects_wakes_whoever_performs_them() -> None:
    c = await conductor()
    wakes: list[int] = []
    c.committed = lambda: wakes.append(1)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), "hallo", SUNDAY)
    assert wakes == [1]  # the staff notice of a new conversation is waiting
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), "hallo", SUNDAY)
    assert wakes == [1]  # a replay commits nothing


async def test_a_first_message_in_crisis_tells_the_youth_their_place_at_the_front() -> None:
    """Opening the conversation and raising its flag are two router events of one step:
    each told the youth their place, under one outbox key, and the first (the place behind
    everyone waiting) was the one kept. A youth in crisis read that they were fourth, with
    forty minutes to wait, while they were next."""
    tuesday = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    anna = UserID("@anna:x")
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(anna,))))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, tuesday)
    await c.sync_roster(tuesday)
    await c.staff_wrote(RoomID("!staff:x"), anna, EventID("$duty"), "!duty on", tuesday)
    for n in range(5):  # two with Anna, three waiting
        await c.youth_wrote(RoomID(f"!y{n}:x"), UserID(f"@y{n}:x"), None, EventID(f"$y{n}"),
                            "hallo", tuesday)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$crisis"), "ich will mich umbringen",
                        tuesday)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    assert c.router.queue()[0] == record.conversation
    effects = [decode_effect(e.payload) for e in await c.store.pending_outbox()]
    told = [e.position for e in effects
            if isinstance(e, QueuePositionChanged) and e.conversation == record.conversation]
    assert told == [1]
