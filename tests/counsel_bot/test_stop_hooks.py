"""The parts that end at a stop before the outbox's last drain (`CounselBot.on_stop`: the
mail server, retention) cannot cost that drain, and retention outlives a failed round.

A second review found both: the retention task ended quietly at its first error (a busy
database while pruning), so retention stopped until the next restart, and at the stop its
hook re-raised that error, which skipped the last drain (a crisis alert committed by the
last batch then waited for the next start). The bot on fakes, no server."""

from __future__ import annotations

import asyncio
from datetime import datetime

from counsel_bot.config import Settings
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import SayToStaff, encode_effect
from counsel_bot.runtime.runner import LAST_RETENTION_KEY, retention_loop
from counsel_bot.store import MemoryStore, OutboxEntry, StoreBusyError, Transition
from tests.counsel_bot.test_welcome_after_stop import AT, FakeClient, _bot
from tests.store.conftest import AeadSealer


class BusyOncePruning(MemoryStore):
    def __init__(self) -> None:
        super().__init__(AeadSealer())
        self.refused = 0

    async def prune_outbox(self, before: datetime) -> int:
        if not self.refused:
            self.refused += 1
            raise StoreBusyError("database is locked")
        return await super().prune_outbox(before)


async def test_a_failed_hook_does_not_skip_the_last_drain() -> None:
    store = MemoryStore(AeadSealer())
    bot = await _bot(store, FakeClient(), [])
    performed: list[str] = []

    async def perform(_effect: object, key: str) -> None:
        performed.append(key)

    bot.outbox._perform = perform

    async def last_batch_then_stop(stop: asyncio.Event, _worker: object) -> None:
        # The last batch before SIGTERM commits a crisis alert; then the loop ends.
        alert = SayToStaff("staff_crisis_alert", (("conversation", "C-1"),))
        await store.commit_transition(Transition(
            AT, bot.conductor.router.snapshot(),
            outbox=(OutboxEntry("alert:C-1", encode_effect(alert), AT),)))
        stop.set()

    async def failing() -> None:
        raise StoreBusyError("database is locked")

    bot._sync_until = last_batch_then_stop  # type: ignore[method-assign]
    bot.on_stop.append(failing)
    await asyncio.wait_for(bot.run(asyncio.Event()), 20)
    assert performed == ["alert:C-1"]


async def test_retention_goes_on_after_a_failed_round() -> None:
    store = BusyOncePruning()
    stop = asyncio.Event()
    loop = asyncio.create_task(retention_loop(Settings(), store, None, FakeClock(AT), stop,
                                              check_every=0.01))
    try:
        for _ in range(200):
            if await store.get_setting(LAST_RETENTION_KEY):
                break
            await asyncio.sleep(0.01)
        assert store.refused == 1
        assert not loop.done(), "retention ended at its first error"
        assert await store.get_setting(LAST_RETENTION_KEY) == AT.isoformat()
    finally:
        stop.set()
        await asyncio.wait_for(loop, 5)
