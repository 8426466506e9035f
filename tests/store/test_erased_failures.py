"""Erased means erased for the failure counters too (`channels/failures.py`): an effect the
bot failed on is written down by its outbox key, and many keys name their conversation
(``transcript:C-…:1``, ``assign:C-…:@anna:x:1``, ``safety:C-…:…``). Erasing the
conversation must take those counters with it, in every store and on disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from counsel_bot.channels.failures import EFFECTS, EVENTS, Failures
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Router
from counsel_bot.store import (
    MemoryStore,
    NewConversation,
    OutboxEntry,
    SqliteStore,
    Store,
    Transition,
)
from tests.store.conftest import AeadSealer
from tests.support.raw_scan import assert_not_on_disk

AT = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
CID, OTHER = ConversationID("C-0BADF00D"), ConversationID("C-0C0FFEE0")
KEYS = (f"transcript:{CID}:1", f"assign:{CID}:@anna:x:1",
        f"safety:{CID}:2026-12-09T12:00:00+00:00")


async def _failed(store: Store) -> None:
    """Two conversations; effects of both failed, one of them twice and set aside."""
    router = Router()
    new = []
    for cid, room in ((CID, RoomID("!erased:x")), (OTHER, RoomID("!kept:x"))):
        router.handle(ConversationOpened(AT, cid))
        new.append(NewConversation(cid, room, UserID(f"@youth-{cid.lower()}:x")))
    await store.commit_transition(Transition(AT, router.snapshot(), EventID("$open"),
                                             new_conversations=tuple(new)))
    failures = Failures(store, EFFECTS)
    for _ in range(2):
        await failures.failed([*KEYS, f"transcript:{OTHER}:1"], RuntimeError("a bug"))
    await store.set_setting(*failures.forgotten(KEYS[0]))  # set aside: its count forgotten


async def _settings_naming(store: Store, cid: str) -> list[str]:
    return [key for key, _ in await store.settings("") if cid in key]


async def test_memory_store_erases_the_failures_of_a_conversation() -> None:
    store = MemoryStore(AeadSealer())
    await _failed(store)
    assert await _settings_naming(store, CID)
    await store.erase_conversation(CID)
    assert await _settings_naming(store, CID) == []
    assert await _settings_naming(store, OTHER) == [f"failed_effect:transcript:{OTHER}:1"]


async def test_sqlite_store_erases_the_failures_of_a_conversation(tmp_path: Path) -> None:
    path = tmp_path / "counsel.db"
    store = await SqliteStore.open(path, AeadSealer())
    try:
        await _failed(store)
        await store.erase_conversation(CID)
        assert await _settings_naming(store, OTHER) == [f"failed_effect:transcript:{OTHER}:1"]
        assert_not_on_disk(path, [CID])  # the store still open: its log is on disk
    finally:
        await store.close()
    assert_not_on_disk(path, [CID])


async def test_erasure_takes_the_failures_of_effects_whose_key_does_not_name_it(
    store: Store,
) -> None:
    """An effect caused by a message is keyed by that event (``saytoyouth:$event:0``,
    ``sendmail:mail:…:0``) and names its conversation only in its row: its failure counter
    stayed for good after the erasure, in every store (and a passed failure's "" too)."""
    router = Router()
    new = []
    for cid, room in ((CID, RoomID("!erased:x")), (OTHER, RoomID("!kept:x"))):
        router.handle(ConversationOpened(AT, cid))
        new.append(NewConversation(cid, room, UserID(f"@youth-{cid.lower()}:x")))
    effects = (OutboxEntry("saytoyouth:$y1:0", b"sealed", AT, CID),
               OutboxEntry("sendmail:mail:0badf00d:0", b"sealed", AT, CID),
               OutboxEntry("saytoyouth:$y2:0", b"sealed", AT, OTHER))
    await store.commit_transition(Transition(AT, router.snapshot(), EventID("$open"), effects,
                                             new_conversations=tuple(new)))
    failures = Failures(store, EFFECTS)
    await failures.failed([e.key for e in effects], RuntimeError("a bug"))
    await failures.forget(effects[1].key)  # performed the second time: "" left
    await store.erase_conversation(CID)
    assert [key for key, _ in await store.settings(EFFECTS[0])] == [
        f"{EFFECTS[0]}saytoyouth:$y2:0"]


async def test_a_failure_counter_goes_with_its_effect_when_that_is_pruned(store: Store) -> None:
    """Done effects are pruned after [retention] done_days, long before the conversation is
    erased after closed_days: by then no row named the effect keyed by its cause, and its
    counter ("" once performed, "2" once set aside) stayed for good, in every store."""
    router = Router()
    router.handle(ConversationOpened(AT, CID))
    effect = OutboxEntry("saytoyouth:$y1:0", b"sealed", AT, CID)
    await store.commit_transition(Transition(
        AT, router.snapshot(), EventID("$open"), (effect,),
        new_conversations=(NewConversation(CID, RoomID("!erased:x"), UserID("@youth:x")),)))
    failures = Failures(store, EFFECTS)
    await failures.failed([effect.key], RuntimeError("a bug"))
    await failures.forget(effect.key)  # performed at the next start
    await store.mark_outbox_done([effect.key], at=AT)
    await store.set_setting("failed_effect:kept", "1")  # no entry of that key was pruned
    assert await store.prune_outbox(AT + timedelta(days=7)) == 1
    await store.erase_conversation(CID)
    assert await store.settings(EFFECTS[0]) == [("failed_effect:kept", "1")]


async def test_a_failure_counter_of_an_event_goes_with_its_handled_id(store: Store) -> None:
    """The same for the events the bot failed on (a youth's message that stopped it once):
    their counters ("1" once handled at the next start, "" once set aside) are keyed by the
    message's event id and named no conversation, so nothing ever deleted them. They go
    when the handled id is forgotten, after [retention] done_days."""
    failures = Failures(store, EVENTS)
    for event in ("$handled", "$set-aside", "$still-failing"):
        await failures.failed([event], RuntimeError("a bug"))
    await store.mark_processed(EventID("$handled"), at=AT)  # handled at the next start
    await store.set_setting(*failures.forgotten("$set-aside"))
    await store.mark_processed(EventID("$set-aside"), at=AT)
    assert await store.prune_processed(AT + timedelta(days=7)) == 2
    assert await store.settings(EVENTS[0]) == [("failed_event:$still-failing", "1")]
