"""Issue 3: key rotation keeps everything readable, with the same device; never beside a bot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from counsel_bot.core.errors import BotError
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.data_lock import exclusive
from e2e.errors import WrongPassphrase
from e2e.vault import Vault
from homeserver_bridge.paths import write_private
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import PASSPHRASE, NioYouth, provision_bot, until

pytestmark = pytest.mark.integration


async def test_rotation_reencrypts_everything_and_the_bot_carries_on(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    data = tmp_path / "bot"
    process = await provision_bot(synapse, data, staff=[])
    bot = await process.start()
    device = bot.client.device_id
    user = await user_factory("youth")
    youth = await NioYouth.login(synapse.base_url, user.user_id, user.password, tmp_path / "y")
    youth.start()
    try:
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "vor der rotation geschrieben")

        async def kept() -> bool:
            record = await bot.store.conversation_by_room(RoomID(room))
            return record is not None and bool(await bot.store.read_intake(record.conversation))
        await until(kept, what="the intake")

        # Never beside a running bot.
        with (pytest.raises(BotError, match="stop it before rotating"),
              exclusive(process.layout.bot_dir, "rotating the vault")):
            pass
        await process.stop()

        config = data / "counsel.toml"
        config.write_text('[vault]\npassphrase_env = "COUNSEL_TEST_NONE"\n'
                          'passphrase_file = "vault.passphrase"\n')
        result = subprocess.run(
            [sys.executable, "-m", "counsel_bot.cli", "vault", "rotate", "--data", str(data),
             "--config", str(config), "--new-passphrase-env", "NEW_PASSPHRASE"],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "NEW_PASSPHRASE": "a brand new passphrase"},
        )
        assert result.returncode == 0, result.stderr
        assert "re-encrypted" in result.stdout

        vault_file = process.layout.bot_dir / "vault.json"
        with pytest.raises(WrongPassphrase):
            Vault.open(vault_file, PASSPHRASE)
        assert len(Vault.open(vault_file, "a brand new passphrase").key_ids) == 1

        write_private(data / "vault.passphrase", "a brand new passphrase")
        bot = await process.start()
        assert bot.client.device_id == device
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        assert record.youth_user_id == user.user_id
        intake = await bot.store.read_intake(record.conversation)
        assert [i.body for i in intake] == [b"vor der rotation geschrieben"]
    finally:
        await process.stop()
        await youth.close()
