"""A youth's invitation starts before the sync loop's bookkeeping after the batch (issue 16's
routing figure): the sync token's fsync'd write no longer sits in front of it."""

from __future__ import annotations

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
