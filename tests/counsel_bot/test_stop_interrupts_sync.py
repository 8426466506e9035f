"""A stop is taken at once, not after the sync loop's long poll ends: a failover's standby
waits for the lock the stopping bot frees, and an admin's restart should not hang."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SynapseHandle
from tests.support.bot_harness import provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_stop_drops_the_waiting_long_poll_and_loses_nothing(
        synapse: SynapseHandle, tmp_path: Path) -> None:
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    bot = await process.start()
    polls: list[asyncio.Task[Any]] = []
    real_sync = bot.client.sync

    async def watched_sync(**kwargs: Any) -> Any:
        task = asyncio.current_task()
        assert task is not None
        polls.append(task)
        return await real_sync(**kwargs)

    bot.client.sync = watched_sync  # type: ignore[method-assign]

    async def waiting() -> bool:
        return bool(polls) and not polls[-1].done()

    await until(waiting, within=10, what="the bot's next long poll")
    await asyncio.sleep(0.2)  # well inside the 5 s the server holds it
    poll = polls[-1]
    assert not poll.done()  # and stop() sets the stop before it yields
    await process.stop()
    # Without the change the stop waited for the server to answer the poll (up to 5 s).
    assert poll.cancelled()
    # The unanswered batch was neither handled nor its token saved, so a restart syncs on
    # from the saved token (test_intake shows messages sent meanwhile arrive then).
    await process.start()
    await process.stop()
