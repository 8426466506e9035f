"""Issue 19 with offices (issue 16): each office's own response targets and text snippets,
the [timers] and [[snippets]] values as defaults. Memory store, fake clock, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from counsel_bot.config import ConfigError, settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.workday import snippet_key
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import Effect, SayInRoom, SayToStaff, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import ConversationState
from counsel_bot.core.timers import TimerSettings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ANNA, BEN, LEA = UserID("@anna:x"), UserID("@ben:x"), UserID("@lea:x")
STAFF_ROOM = RoomID("!staff:x")
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday afternoon: open by default

CONFIG: dict[str, Any] = {
    "timers": {"first_response_minutes": 5, "next_response_minutes": 15,
               "requeue_after_minutes": 30},
    "snippets": [{"name": "hallo", "text": "Hallo, schön dass du schreibst."},
                 {"name": "zeit", "text": "Ich habe heute bis 18 Uhr Zeit."}],
    "offices": [
        {"id": "familie", "topics": ["family"], "counsellors": [str(ANNA)],
         "team_leads": [str(LEA)],
         "timers": {"first_response_minutes": 2, "next_response_minutes": 5,
                    "requeue_after_minutes": 10},
         "snippets": [{"name": "hallo", "text": "Hallo aus der Familienberatung."},
                      {"name": "eltern", "text": "Magst du von deinen Eltern erzählen?"}]},
        {"id": "schule", "topics": ["school"], "counsellors": [str(BEN)],
         "team_leads": [str(LEA)]},
    ],
}


async def offices() -> tuple[Conductor, FakeClock]:
    policy = policy_from(settings_from_mapping(CONFIG))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, T0)
    await c.sync_roster(T0)
    return c, FakeClock(T0)


async def outbox(c: Conductor) -> list[Effect]:
    return [decode_effect(e.payload) for e in await c.store.pending_outbox()]


async def replies(c: Conductor, to: UserID) -> list[SayInRoom]:
    return [e for e in await outbox(c) if isinstance(e, SayInRoom) and e.to == to]


async def youth_in(c: Conductor, office: str, n: int) -> ConversationID:
    room = RoomID(f"!room{n}:x")
    await c.youth_wrote(room, UserID(f"@youth{n}:x"), None, EventID(f"$y{n}"),
                        f"stelle:{office} hallo", T0)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    return record.conversation


# -- configuration -------------------------------------------------------------------------


def test_an_office_takes_the_timers_it_sets_and_the_global_ones_for_the_rest() -> None:
    settings = settings_from_mapping({
        "timers": {"next_response_minutes": 12},
        "offices": [{"id": "a", "timers": {"first_response_minutes": 3}}, {"id": "b"}]})
    minute = timedelta(minutes=1)
    assert settings.office_timers("a") == TimerSettings(3 * minute, 12 * minute, 30 * minute)
    assert settings.office_timers("b") == TimerSettings(5 * minute, 12 * minute, 30 * minute)


@pytest.mark.parametrize(("office", "message"), [
    ({"timers": {"requeue_after_minutes": 10}},
     r"office 'a': timers: requeue_after_minutes must be longer .* next_response_minutes 15 "
     r"\(from \[timers\]\), requeue_after_minutes 10"),
    ({"timers": {"first_response_minutes": -1}},
     r"offices\[0\].timers: timers.first_response_minutes must be between 0"),
    ({"timers": {"first_minutes": 3}}, r"offices\[0\].timers.first_minutes: unknown option"),
    ({"timers": {"first_response_minutes": "5"}},
     r"offices\[0\].timers.first_response_minutes: expected a number"),
    ({"snippets": [{"name": "hi", "text": "a"}, {"name": "HI", "text": "b"}]},
     r"office 'a': the snippet 'hi' is defined twice"),
    ({"snippets": [{"name": "hi there", "text": "a"}]},
     r"offices\[0\].snippets\[0\]: snippet name 'hi there'"),
])
def test_bad_office_timers_and_snippets_name_the_office_and_the_fix(
    office: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping({"offices": [{"id": "a", **office}]})


# -- timers --------------------------------------------------------------------------------


async def test_each_conversation_goes_back_to_the_queue_at_its_own_offices_limit() -> None:
    c, clock = await offices()
    for i, user in enumerate((ANNA, BEN)):
        await c.staff_wrote(STAFF_ROOM, user, EventID(f"$duty{i}"), "!duty on", T0)
    family, school = await youth_in(c, "familie", 1), await youth_in(c, "schule", 2)
    assert [c.router.conversation(x).assigned_to for x in (family, school)] == [ANNA, BEN]  # type: ignore[union-attr]

    await c.tick(clock.advance(timedelta(minutes=3)))  # past familie's 2, within schule's 5
    reminded = [e for e in await outbox(c) if isinstance(e, SayToStaff)
                and e.key == "timers.remind_first"]
    assert [dict(e.params)["conversation"] for e in reminded] == [family]
    assert dict(reminded[0].params)["requeue"] == 10  # its office's limit, in the text too

    await c.tick(clock.advance(timedelta(minutes=8)))  # 11 min: past familie's 10
    assert c.router.conversation(family).state is ConversationState.WAITING  # type: ignore[union-attr]
    assert c.router.conversation(school).state is ConversationState.ASSIGNED  # type: ignore[union-attr]
    assert c.overdue_replies(clock.now()) == 1  # schule's, past its 5 minutes

    await c.tick(clock.advance(timedelta(minutes=20)))  # 31 min: past schule's 30
    assert c.router.conversation(school).state is ConversationState.WAITING  # type: ignore[union-attr]


async def test_without_offices_the_global_targets_hold_as_before() -> None:
    policy = policy_from(settings_from_mapping({"timers": {"first_response_minutes": 4,
                                                           "requeue_after_minutes": 20}}))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, T0)
    current = c.router.snapshot().conversations
    assert current == ()
    assert c.timers.settings == TimerSettings(timedelta(minutes=4), timedelta(minutes=15),
                                              timedelta(minutes=20))


# -- snippets ------------------------------------------------------------------------------


async def test_each_office_has_its_own_snippets_over_the_shared_ones() -> None:
    c, _ = await offices()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$s1"), "!s hallo", T0)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$s2"), "!s hallo", T0)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$s3"), "!s eltern", T0)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$s4"), "!s zeit", T0)
    [anna_hallo] = await replies(c, ANNA)
    assert dict(anna_hallo.params)["text"] == "Hallo aus der Familienberatung."
    ben = await replies(c, BEN)
    assert dict(ben[0].params)["text"] == "Hallo, schön dass du schreibst."
    assert ben[1].key == "snippets.unknown"  # familie's snippet is not schule's
    assert "eltern" not in str(dict(ben[1].params)["names"])
    assert dict(ben[2].params)["text"] == "Ich habe heute bis 18 Uhr Zeit."


async def test_snippet_add_goes_to_the_counsellors_office_only() -> None:
    c, _ = await offices()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a1"), "!snippet add termin Wann passt es "
                        "dir?", T0)
    assert await c.store.get_sealed_setting(snippet_key("termin", "familie")) == \
        b"Wann passt es dir?"
    assert await c.store.get_sealed_setting(snippet_key("termin")) is None
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$a2"), "!s termin", T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a3"), "!s termin", T0)
    assert (await replies(c, BEN))[-1].key == "snippets.unknown"
    assert dict((await replies(c, ANNA))[-1].params)["text"] == "Wann passt es dir?"

    # Lea leads both offices: in the main staff room it is not clear which office she means.
    await c.staff_wrote(STAFF_ROOM, LEA, EventID("$a4"), "!snippet add ferien Schöne Ferien!",
                        T0)
    assert (await replies(c, LEA))[-1].key == "snippets.which_office"
    assert await c.store.sealed_settings("snippet@") == [
        (snippet_key("termin", "familie"), b"Wann passt es dir?")]
    # In schule's staff room she means schule; in a familie conversation's room, familie.
    schule_room = RoomID("!schule-staff:x")
    c.office_of_room = lambda room: "schule" if room == schule_room else None
    await c.staff_wrote(schule_room, LEA, EventID("$a5"), "!snippet add ferien Schöne Ferien!",
                        T0)
    assert await c.store.get_sealed_setting(snippet_key("ferien", "schule")) is not None
    family = await youth_in(c, "familie", 1)
    record = await c.store.conversation(family)
    assert record is not None
    await c.staff_wrote(record.room_id, LEA, EventID("$a6"), "!snippet add hi Hi!", T0)
    assert await c.store.get_sealed_setting(snippet_key("hi", "familie")) is not None
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$a7"), "!snippet remove termin", T0)
    assert (await replies(c, BEN))[-1].key == "snippets.unknown"  # not schule's to remove
    assert await c.store.get_sealed_setting(snippet_key("termin", "familie")) is not None


async def test_an_on_call_counsellor_adds_snippets_to_their_own_office_not_the_crisis_one(
) -> None:
    """An on-call counsellor (familie) holding schule's crisis typed "!snippet add" in its
    room: it went into schule's set, an office they do not work for, whose staff then got
    it offered as their own."""
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()),
                             policy_from(settings_from_mapping(
                                 {**CONFIG, "routing": {"on_call_office": "familie"}})), T0)
    await c.sync_roster(T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$on"), "!duty on", T0)
    room = RoomID("!room1:x")
    await c.youth_wrote(room, UserID("@youth1:x"), None, EventID("$y1"),
                        "stelle:schule ich will mich umbringen", T0)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.assigned_to == ANNA  # schule has nobody on duty: the on-call office's
    await c.staff_wrote(room, ANNA, EventID("$a1"), "!snippet add nummern Ruf 116 111 an.",
                        T0)
    assert await c.store.get_sealed_setting(snippet_key("nummern", "schule")) is None
    assert await c.store.get_sealed_setting(snippet_key("nummern", "familie")) == \
        b"Ruf 116 111 an."
