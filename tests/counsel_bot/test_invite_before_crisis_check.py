"""A counsellor's invitation does not wait for the crisis check, and a crash between the two
cannot skip the check: a memory store, the real rules, no server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation import crisis_flags
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import Assessment, CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, SayToYouth, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import Assign
from counsel_bot.core.routing.model import ConversationState, CrisisStatus
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore, SqliteStore, Store
from tests.store.conftest import AeadSealer

ROOM, YOUTH, STAFF_ROOM = RoomID("!room:x"), UserID("@sunflower:x"), RoomID("!staff:x")
ANNA = "@anna:x"
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CRISIS = "ich will nicht mehr leben, ich bring mich heute um"


class Crash(Exception):
    """The process died here."""


@pytest_asyncio.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The bot's own store too: the note is a sealed setting, written and erased in SQL."""
    opened: Store = (MemoryStore(AeadSealer()) if request.param == "memory"
                     else await SqliteStore.open(tmp_path / "counsel.sqlite3", AeadSealer()))
    yield opened
    await opened.close()


async def opened(store: Store, judge: crisis_flags.Judge | None = None, *,
                 on_duty: bool = True) -> Conductor:
    rules = CrisisDetector.from_directory(default_lexicon_dir())
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,))))
    c = await Conductor.open(store, rules, policy, T0, judge=judge)
    await c.sync_roster(T0)
    if on_duty:
        await c.staff_wrote(STAFF_ROOM, UserID(ANNA), EventID("$duty"), "!duty on", T0)
    return c


async def pending(store: Store) -> list[object]:
    return [decode_effect(e.payload) for e in await store.pending_outbox()]


async def alerted(store: Store) -> bool:
    return any(isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"
               for e in await pending(store))


async def the_conversation(c: Conductor) -> ConversationID:
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    return record.conversation


async def dies(texts: Sequence[str]) -> list[Assessment]:
    raise Crash


async def crashed_while_judging(store: Store) -> tuple[Conductor, ConversationID]:
    """A youth's crisis message brought Anna; the process died while judging it."""
    c = await opened(store, dies)
    with pytest.raises(Crash):
        await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), CRISIS, T0)
    return c, await the_conversation(c)


def judge_watching(store: Store) -> tuple[crisis_flags.Judge, list[list[object]]]:
    """The rules as judge, noting what the outbox held each time a message was judged."""
    rules = CrisisDetector.from_directory(default_lexicon_dir())
    seen: list[list[object]] = []

    async def judge(texts: Sequence[str]) -> list[Assessment]:
        seen.append(await pending(store))
        return rules.assess_many(texts)

    return judge, seen


async def test_the_invitation_is_committed_before_the_message_is_judged() -> None:
    store = MemoryStore(AeadSealer())
    judge, seen_when_judged = judge_watching(store)
    c = await opened(store, judge)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), CRISIS, T0)

    [waiting] = seen_when_judged
    assert any(isinstance(e, Assign) and e.counsellor == UserID(ANNA) for e in waiting)
    assert not any(isinstance(e, SayToStaff) and e.key == "staff_crisis_alert" for e in waiting)
    assert await alerted(store)
    assert any(isinstance(e, SayToYouth) and e.key == "safety_info" for e in await pending(store))
    current = c.router.conversation(await the_conversation(c))
    assert current is not None
    assert current.crisis is CrisisStatus.RAISED
    assert current.state is ConversationState.ASSIGNED
    assert await store.sealed_settings(crisis_flags.DUE_PREFIX) == []


async def test_the_check_waits_until_the_invitation_is_answered() -> None:
    # The model competed with sending the invitation (bench.office_latency: the bot's part
    # 38 ms with it beside, 29 ms after it); the bot wires its outbox worker's wait here.
    store = MemoryStore(AeadSealer())
    judge, seen_when_judged = judge_watching(store)
    c = await opened(store, judge)
    order: list[str] = []

    async def answered() -> None:
        assert any(isinstance(e, Assign) for e in await pending(store))  # committed first
        assert seen_when_judged == []
        order.append("answered")

    c.urgent_answered = answered
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), CRISIS, T0)
    assert order == ["answered"]
    assert len(seen_when_judged) == 1
    assert await alerted(store)


async def test_a_crash_before_the_check_is_made_good_at_the_next_start(store: Store) -> None:
    _, conversation = await crashed_while_judging(store)
    # The invitation is durable, the check is noted as due, and the event counts as handled.
    assert any(isinstance(e, Assign) for e in await pending(store))
    assert not await alerted(store)
    assert [key for key, _ in await store.sealed_settings(crisis_flags.DUE_PREFIX)] == [
        crisis_flags.due_key(conversation)]
    assert await store.is_processed(EventID("$1"))

    again = await opened(store, on_duty=False)
    assert await alerted(store)
    current = again.router.conversation(conversation)
    assert current is not None
    assert current.crisis is CrisisStatus.RAISED
    assert await store.sealed_settings(crisis_flags.DUE_PREFIX) == []
    # Once done, a further start does not alert again.
    before = len(await pending(store))
    await opened(store, on_duty=False)
    assert len(await pending(store)) == before


async def test_the_note_goes_with_its_conversation(store: Store) -> None:
    """Erased means erased: the note names the conversation, so erasure removes it."""
    _, conversation = await crashed_while_judging(store)
    await store.erase_conversation(conversation)
    assert await store.sealed_settings(crisis_flags.DUE_PREFIX) == []
    await opened(store, on_duty=False)
    assert not await alerted(store)


async def test_a_check_that_fails_at_the_start_does_not_stop_the_start(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    _, conversation = await crashed_while_judging(store)
    await opened(store, dies, on_duty=False)  # the model still fails
    assert any(isinstance(e, Assign) for e in await pending(store))
    assert len(await store.sealed_settings(crisis_flags.DUE_PREFIX)) == 1
    assert f"crisis check of {conversation} failed (Crash)" in caplog.text
    assert "bring mich" not in caplog.text
    await opened(store, on_duty=False)
    assert await alerted(store)
    assert await store.sealed_settings(crisis_flags.DUE_PREFIX) == []


async def test_a_check_the_model_fails_on_again_at_the_start_alerts_the_staff(
        store: Store) -> None:
    """The model fails on this one message every time: the bot stopped on it once, and each
    start only logged it. Nobody was told that a message nobody checked may be a crisis
    (had it waited in the queue, failures.py would have set it aside with an alert)."""
    _, conversation = await crashed_while_judging(store)
    await opened(store, dies, on_duty=False)

    def set_aside(effects: list[object]) -> list[SayToStaff]:
        return [e for e in effects if isinstance(e, SayToStaff)
                and e.key == "staff_message_set_aside"]

    [alert] = set_aside(await pending(store))
    assert dict(alert.params)["conversation"] == conversation
    await opened(store, dies, on_duty=False)  # and again: one alert, not one per start
    assert len(set_aside(await pending(store))) == 1


async def test_only_the_youth_who_gets_a_counsellor_waits_for_a_second_commit() -> None:
    """A youth's "ende" frees Anna, who is given the next youth at once: the closing
    conversation's message is judged before its step is committed, whole."""
    store = MemoryStore(AeadSealer())
    judge, seen_when_judged = judge_watching(store)
    c = await opened(store, judge)
    await c.staff_wrote(STAFF_ROOM, UserID(ANNA), EventID("$cap"), "!capacity 1", T0)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), "hallo", T0)
    await c.youth_wrote(RoomID("!b:x"), UserID("@moon:x"), None, EventID("$2"), "hallo", T0)
    assert len(c.router.queue()) == 1
    seen_when_judged.clear()
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$3"), "ende", T0)
    assert len(c.router.queue()) == 0
    [waiting] = seen_when_judged
    assigned_before = sum(isinstance(e, Assign) for e in waiting)
    assert sum(isinstance(e, Assign) for e in await pending(store)) == assigned_before + 1
    assert await store.sealed_settings(crisis_flags.DUE_PREFIX) == []


async def test_a_youth_who_waits_in_the_queue_is_judged_in_the_one_commit() -> None:
    store = MemoryStore(AeadSealer())
    c = await opened(store, on_duty=False)
    commits: list[int] = []
    c.committed = lambda: commits.append(1)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), CRISIS, T0)
    assert commits == [1]
    assert await alerted(store)
    assert await store.sealed_settings(crisis_flags.DUE_PREFIX) == []


class ForgetfulStore(MemoryStore):
    """Answers the early reads as if nothing had happened yet, as a store written meanwhile
    by another instance might; only the commit itself knows the event was handled."""

    async def is_processed(self, event_id: EventID) -> bool:
        return False

    async def conversation_by_room(self, room_id: RoomID) -> None:
        return None


async def test_an_event_handled_before_is_not_judged_again() -> None:
    store = ForgetfulStore(AeadSealer())
    judge, judged = judge_watching(store)
    c = await opened(store, judge)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), CRISIS, T0)
    judged.clear()
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$1"), CRISIS, T0)
    assert judged == []


async def test_a_note_left_by_a_failed_start_is_not_overwritten_by_later_messages(
        store: Store) -> None:
    """The note is kept per conversation, not per message (`due_key`): a later note of the
    same conversation would overwrite one a failed start left. A later note needs the
    youth's own message to bring a counsellor to a conversation that already had one: its
    next messages are judged in their own commit and leave the earlier note alone, and a
    counsellor who comes back comes with a staff command, which writes no note. (Only a
    conversation that closed and opened again gets a new note, and the close took the
    earlier message's words with it.)"""
    rules = CrisisDetector.from_directory(default_lexicon_dir())

    async def fails_on_the_crisis(texts: Sequence[str]) -> list[Assessment]:
        if any("bring mich" in t for t in texts):
            raise Crash
        return rules.assess_many(texts)

    _, conversation = await crashed_while_judging(store)
    running = await opened(store, fails_on_the_crisis, on_duty=False)  # the check fails again
    note = await store.sealed_settings(crisis_flags.DUE_PREFIX)
    assert [key for key, _ in note] == [crisis_flags.due_key(conversation)]
    await running.youth_wrote(ROOM, YOUTH, None, EventID("$4"), "bist du noch da?", T0)
    await running.staff_wrote(STAFF_ROOM, UserID(ANNA), EventID("$off"), "!duty off", T0)
    current = running.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to is None
    await running.staff_wrote(STAFF_ROOM, UserID(ANNA), EventID("$on"), "!duty on", T0)
    current = running.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to == UserID(ANNA)  # assigned again, by her command
    await running.youth_wrote(ROOM, YOUTH, None, EventID("$5"), "hallo?", T0)
    assert await store.sealed_settings(crisis_flags.DUE_PREFIX) == note
    assert not await alerted(store)
    await opened(store, on_duty=False)  # a start that can judge it raises the flag
    assert await alerted(store)
    assert await store.sealed_settings(crisis_flags.DUE_PREFIX) == []
