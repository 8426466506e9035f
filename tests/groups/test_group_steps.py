"""Group rooms beside the conductor's other tasks: the sync loop hands a group room's
messages to the group desk, while retention (its own task) and the outbox worker (a youth's
deletion) make the desk forget youths, each holding the conductor's step lock
(step_lock.py). Every commit of the desk writes its whole book, so a group step must not
write a book it read before another task's step changed it. The interleaving is forced
with an event inside a store read, not with sleeps. Memory store, no server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.group_keys import BOOK_KEY
from counsel_bot.conversation.retention import run_retention
from counsel_bot.core import groups as g
from counsel_bot.core.group_book_codec import decode_book
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.store import ConversationRecord, MemoryStore
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, Parts
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer

HOME = RoomID("!home1:x")


class HeldRead(MemoryStore):
    """A store whose reads of a conversation wait while ``held`` is set (a slow disk)."""

    def __init__(self, sealer: AeadSealer) -> None:
        super().__init__(sealer)
        self.held: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def conversation(self, conversation: ConversationID) -> ConversationRecord | None:
        if self.held is not None:
            self.entered.set()
            await self.held.wait()
        return await super().conversation(conversation)


class PurgeThenHold(FakeAdmin):
    """The room is purged; retention's look at the record that follows (under the step
    lock) then waits until the test lets it go."""

    store: HeldRead | None = None
    gate: asyncio.Event | None = None

    async def delete_room_and_wait(self, room_id: str) -> object:
        assert self.store is not None
        self.store.held = self.gate
        return await super().delete_room_and_wait(room_id)


async def _let_others_run(task: asyncio.Task[Any]) -> None:
    for _ in range(200):
        if task.done():
            return
        await asyncio.sleep(0)


async def _stored_book(store: MemoryStore) -> g.GroupBook:
    raw = await store.get_sealed_setting(BOOK_KEY)
    assert raw is not None
    return decode_book(raw)


async def test_a_group_message_during_retention_does_not_write_an_erased_seat_back() -> None:
    """Retention forgot the seat signed up from the erased room and erased the record;
    the group message handled meanwhile had read the book before and wrote it back after:
    the sealed book named the erased room and its youth again (a restart seats them
    again), and nothing would ever find them to forget them a second time."""
    store = HeldRead(AeadSealer())
    p = Parts()
    p.store = store
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
    await p.youth(1, "hallo, ich brauche jemanden zum reden")  # a conversation in !home1:x
    await p.youth(1, "gruppe 1")
    await p.youth(2, "gruppe 1")
    await p.youth(1, "ende")
    record = await store.conversation_by_room(HOME)
    assert record is not None
    assert record.closed_at is not None
    await p.open_group()
    # Taken out of the group: the seat is kept only to judge late words, and retention
    # forgets it during the evening (a seat proper keeps its room until the group is over,
    # `core.groups.seated_rooms`).
    seat = p.desk.book.get(1).seat_of(UserID("@y1:x"))
    assert seat is not None
    await p.in_group(ANNA, f"!remove {seat.nickname}")
    assert [s.youth for s in p.desk.book.get(1).gone] == [UserID("@y1:x")]
    conductor: Conductor = p.c

    async def before_erase(record: ConversationRecord) -> None:
        await conductor.forget_traces(record, p.clock.now())

    admin = PurgeThenHold(rooms={HOME})
    admin.store, admin.gate = store, asyncio.Event()
    retention = asyncio.create_task(run_retention(
        store, admin, p.clock.now(), timedelta(hours=1), dry_run=False,
        before_erase=before_erase, serial=conductor.steps.held))
    await store.entered.wait()  # retention holds the step lock, reading the record
    message = asyncio.create_task(p.in_group(UserID("@y2:x"), "bis nächste woche"))
    await _let_others_run(message)
    store.held = None
    admin.gate.set()
    await asyncio.gather(retention, message)

    assert await store.conversation(record.conversation) is None, "retention erased it"
    assert [s.youth for s in p.desk.book.get(1).seats] == [UserID("@y2:x")]
    stored = await _stored_book(store)
    assert [s.youth for s in stored.get(1).seats] == [UserID("@y2:x")]
    assert stored.get(1).gone == (), "the group step wrote back the seat retention had forgotten"
    assert stored == p.desk.book
    assert GROUP_ROOM in p.desk.rooms
