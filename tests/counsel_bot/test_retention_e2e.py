"""Issue 8 (retention) as the office runs it: the dry-run command lists, the bot deletes on
its schedule. The conversation is closed at a fake time long ago."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from homeserver_bridge.paths import write_private
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot, until

pytestmark = pytest.mark.integration

LONG_AGO = datetime(2026, 1, 12, 16, 0, tzinfo=UTC)



async def test_dry_run_lists_and_the_bot_deletes_on_schedule(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(LONG_AGO)
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    data = tmp_path / "bot"
    process = await provision_bot(synapse, data, staff=[counsellor.client.user_id], clock=clock)
    write_private(process.layout.admin_token_file, synapse.admin.access_token)
    try:
        bot = await process.start()
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "danke für alles")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        await counsellor.accept_invite()
        await counsellor.send(room, "!close")
        await youth.wait_for(room, process.user_id, "beendet")
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        assert record.closed_at is not None
        await process.stop()

        config = data / "counsel.toml"
        config.write_text(
            f'[homeserver]\nserver_name = "{synapse.server_name}"\n'
            f"port = {synapse.embedded.settings.port}\n"
            '[vault]\npassphrase_env = "COUNSEL_TEST_NONE"\n'
            'passphrase_file = "vault.passphrase"\n')
        listed = subprocess.run(
            [sys.executable, "-m", "counsel_bot.cli", "retention", "--dry-run",
             "--data", str(data), "--config", str(config)],
            capture_output=True, text=True, timeout=60, env=dict(os.environ))
        assert listed.returncode == 0, listed.stderr
        assert "would be deleted" in listed.stdout
        assert record.conversation in listed.stdout
        assert room not in listed.stdout + listed.stderr
        assert await synapse.admin.room_exists(room)

        # Back in the present: the bot's first retention run deletes it.
        clock.set(LONG_AGO + timedelta(days=31))
        bot = await process.start()

        async def gone() -> bool:
            return not await synapse.admin.room_exists(room)
        await until(gone, within=60, what="the room to be purged")
        await until(lambda: _erased(bot, room), within=30, what="the records to be erased")
    finally:
        await process.stop()
        await youth.close()
        await counsellor.close()


async def _erased(bot: object, room: str) -> bool:
    return await bot.store.conversation_by_room(RoomID(room)) is None  # type: ignore[attr-defined, no-any-return]
