"""A youth's invitation starts before the sync loop's bookkeeping after the batch (issue 16's
routing figure): neither the sync token's fsync'd write nor the metrics refresh sits in front
of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import goes_on_duty, login, provision_bot, until

pytestmark = pytest.mark.integration
FIRST_WORDS = "Hallo, ich brauche jemanden zum Reden."


@asynccontextmanager
async def a_youth_about_to_write(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
) -> AsyncIterator[tuple[Any, Any, str, list[str]]]:
    """The bot, a youth in their room (welcomed), that room, and the order of what the bot
    does next: every invitation is noted as "invite" and the sync batch's start as "batch"."""
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot",
                                  staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        staff_room = await counsellor.accept_invite()
        await goes_on_duty(counsellor, staff_room, process.user_id)
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")

        order: list[str] = []
        invite, handle_sync = bot.executor.client.room_invite, bot.handle_sync

        async def invited(room_id: str, user_id: str) -> Any:
            order.append("invite")
            return await invite(room_id, user_id)

        async def handling(response: Any) -> None:
            order.append("batch")
            await handle_sync(response)

        bot.executor.client.room_invite = invited
        bot.handle_sync = handling
        yield bot, youth, room, order
    finally:
        await youth.close()
        await counsellor.close()
        await process.stop()


async def since_the_batch_before_the_invitation(youth: Any, room: str,
                                                order: list[str]) -> list[str]:
    await youth.send(room, FIRST_WORDS)
    await until(lambda: "invite" in order, what="the counsellor's invitation")
    at = order.index("invite")
    batch = max(i for i in range(at) if order[i] == "batch")
    return order[batch:at]


async def test_the_invitation_goes_out_before_the_sync_token_is_saved(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with a_youth_about_to_write(synapse, user_factory, tmp_path) as (bot, youth, room,
                                                                          order):
        set_setting = bot.store.set_setting

        async def setting(key: str, value: str) -> None:
            await set_setting(key, value)
            if key == SYNC_TOKEN_KEY:
                order.append("token saved")

        bot.store.set_setting = setting
        before = await since_the_batch_before_the_invitation(youth, room, order)
        assert "token saved" not in before, before


async def test_the_metrics_are_refreshed_after_the_invitation_went_out(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with a_youth_about_to_write(synapse, user_factory, tmp_path) as (bot, youth, room,
                                                                          order):
        refresh = bot.conductor.refresh_metrics

        def refreshed(now: datetime) -> None:
            order.append("metrics")
            refresh(now)

        bot.conductor.refresh_metrics = refreshed
        before = await since_the_batch_before_the_invitation(youth, room, order)
        assert "metrics" not in before, before
        # And the gauges are still refreshed: after the batch, once.
        at = order.index("invite")
        await until(lambda: "metrics" in order[at:], what="the metrics refresh")
        assert bot.conductor.metrics is not None
