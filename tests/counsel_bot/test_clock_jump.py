"""The wall clock set back (an NTP step after a drift, a host restored from a snapshot): the
bot's periodic work (crisis escalation, response reminders, requeues, mail deadlines) runs on
from the new time. It waited until the clock had caught up with the last tick's time: set
back an hour, a crisis flagged meanwhile paged nobody for that hour.

The bot on fakes (tests/counsel_bot/test_welcome_after_stop.py), its clock a FakeClock."""

from __future__ import annotations

from datetime import datetime, timedelta

from counsel_bot.channels.matrix.bot import TICK_INTERVAL
from counsel_bot.core.clock import FakeClock
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import AT, FakeClient, _bot
from tests.store.conftest import AeadSealer


async def test_ticks_go_on_after_the_clock_was_set_back() -> None:
    bot = await _bot(MemoryStore(AeadSealer()), FakeClient(), [])
    clock = bot.clock
    assert isinstance(clock, FakeClock)
    ticks: list[datetime] = []

    async def tick(now: datetime) -> None:
        ticks.append(now)

    bot.conductor.tick = tick  # type: ignore[method-assign]
    await bot._tick()
    assert ticks == [AT]
    clock.set(AT - timedelta(hours=1))  # the clock is stepped back
    for _ in range(3):
        clock.advance(TICK_INTERVAL)
        await bot._tick()
    assert len(ticks) == 4, "no tick until the clock is back at the last tick's time"
    assert ticks[-1] == AT - timedelta(hours=1) + 3 * TICK_INTERVAL
