"""A youth's invitation starts before the sync loop's bookkeeping after the batch (issue 16's
routing figure): neither the sync token's fsync'd write nor the metrics refresh sits in front
of it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_the_invitation_goes_out_before_the_sync_token_is_saved(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot",
                                  staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        await counsellor.wait_for(staff_room, process.user_id, "im Dienst")
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")

        order: list[str] = []
        invite, set_setting, handle_sync = (bot.executor.client.room_invite,
                                            bot.store.set_setting, bot.handle_sync)

        async def invited(room_id: str, user_id: str) -> Any:
            order.append("invite")
            return await invite(room_id, user_id)

        async def setting(key: str, value: str) -> None:
            await set_setting(key, value)
            if key == SYNC_TOKEN_KEY:
                order.append("token saved")

        async def handled(response: Any) -> None:
            await handle_sync(response)
            order.append("batch handled")

        bot.executor.client.room_invite = invited  # type: ignore[method-assign]
        bot.store.set_setting = setting  # type: ignore[method-assign]
        bot.handle_sync = handled  # type: ignore[method-assign]

        await youth.send(room, "Hallo, ich brauche jemanden zum Reden.")
        await until(lambda: "invite" in order, what="the counsellor's invitation")
        at = order.index("invite")
        batch = max(i for i in range(at) if order[i] == "batch handled")
        assert "token saved" not in order[batch:at], order[batch:]
    finally:
        await youth.close()
        await counsellor.close()
        await process.stop()


async def test_the_metrics_are_refreshed_after_the_invitation_went_out(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot",
                                  staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        await counsellor.wait_for(staff_room, process.user_id, "im Dienst")
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")

        order: list[str] = []
        invite, refresh, handle_sync = (bot.executor.client.room_invite,
                                        bot.conductor.refresh_metrics, bot.handle_sync)

        async def invited(room_id: str, user_id: str) -> Any:
            order.append("invite")
            return await invite(room_id, user_id)

        def refreshed(now: datetime) -> None:
            order.append("metrics")
            refresh(now)

        async def handling(response: Any) -> None:
            order.append("batch")
            await handle_sync(response)

        bot.executor.client.room_invite = invited  # type: ignore[method-assign]
        bot.conductor.refresh_metrics = refreshed  # type: ignore[method-assign]
        bot.handle_sync = handling  # type: ignore[method-assign]

        await youth.send(room, "Hallo, ich brauche jemanden zum Reden.")
        await until(lambda: "invite" in order, what="the counsellor's invitation")
        at = order.index("invite")
        batch = max(i for i in range(at) if order[i] == "batch")
        assert "metrics" not in order[batch:at], order[batch:]
        # And the gauges are still refreshed: after the batch, once.
        await until(lambda: "metrics" in order[at:], what="the metrics refresh")
        assert bot.conductor.metrics is not None
    finally:
        await youth.close()
        await counsellor.close()
        await process.stop()
