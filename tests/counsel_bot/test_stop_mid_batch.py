"""A stop that comes while the bot handles a sync batch: what the batch commits after the
stop is still performed before the bot exits, not left in the outbox for the next start.

A youth's first message is committed twice (the invitation, then the crisis check with its
alert and the youth's emergency numbers). The outbox worker used to take the stop itself and
drain at its next wake, maybe before or between those commits; and the drain performed only
what was pending when it began, not what was committed behind it in a running lane. The
alert or the numbers then waited until someone started the bot again (CI's kill-and-restart
test caught the youth's numbers left so)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from nio import MegolmEvent, RoomMessageText

from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import PASSPHRASE, goes_on_duty, login, provision_bot

pytestmark = pytest.mark.integration

CRISIS = "ich will nicht mehr leben, ich bring mich heute um"


async def test_what_a_batch_commits_after_a_stop_is_still_sent(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    data = tmp_path / "bot"
    process = await provision_bot(synapse, data, staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        staff_room = await counsellor.accept_invite(within=60)
        await goes_on_duty(counsellor, staff_room, process.user_id)
        room = await youth.open_chat(process.user_id)

        real_handle = bot.handle_sync
        stopped = asyncio.Event()

        async def stop_while_handling(response: Any) -> None:
            joined = getattr(getattr(response, "rooms", None), "join", {})
            timeline = joined.get(room).timeline.events if room in joined else []
            if any(isinstance(e, RoomMessageText | MegolmEvent) for e in timeline) \
                    and not stopped.is_set():
                stopped.set()
                process._stop.set()  # as SIGTERM does, while the batch is being handled
                # An earlier event of the batch committed something: its commit wakes the
                # worker, which sees the stop before this message's commits.
                bot.outbox.wake()
                await asyncio.sleep(0.3)
            await real_handle(response)

        bot.handle_sync = stop_while_handling  # type: ignore[method-assign]
        await youth.send(room, CRISIS)
        await asyncio.wait_for(stopped.wait(), 60)
        await process.stop()
    finally:
        await youth.close()
        await counsellor.close()

    vault = Vault.open(data / "bot" / "vault.json", PASSPHRASE)
    store = await SqliteStore.open(data / "bot" / "counsel.db", vault)
    try:
        left = [entry.key for entry in await store.pending_outbox()]
        assert left == [], f"left for the next start: {left}"
        assert len(await store.read_intake(
            (await store.conversation_by_room(room)).conversation)) == 1  # type: ignore[union-attr,arg-type]
    finally:
        await store.close()
