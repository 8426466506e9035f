"""A bot restored from a backup reads youths whose app made a new room key after the
backup was made. That key went to the bot's device in a message the backup does not hold,
and the youth's app, which believes the device has it, never sends it again: the restored
bot could read none of the youth's words until the app made another (Element: about weekly).
Restored, the bot logs in as a new device, which every youth's app gives its current key.
Real Synapse, real E2E clients; the bot's data directory goes back to its backup, the
homeserver's does not (what matters here is the bot's end-to-end state)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nio import DeleteDevicesError

from counsel_bot.channels.matrix.session import (
    RESTORED_MARKER,
    CounselClient,
    SavedSession,
    SessionFile,
)
from e2e.vault import Vault
from tests.conftest import SynapseHandle, UserFactory
from tests.support.backups import backup_of, restore
from tests.support.bot_harness import PASSPHRASE, login, provision_bot
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration

async def test_a_restored_bot_reads_a_youths_new_room_key(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        old_device = bot.client.device_id
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "hallo")
        await process.stop()
        backup = backup_of(process, tmp_path)
        # The bot runs on after the backup; the youth's app makes a new room key, which
        # goes to the bot's device.
        bot = await process.start()
        youth.client.invalidate_outbound_session(room)
        await youth.send(room, "bist du da?")
        await process.stop()

        restore(backup, process, tmp_path)
        bot = await process.start()
        await youth.send(room, "hilfe")
        await youth.wait_for(room, process.user_id, "verstehe ich diese Wörter", within=25)
        assert bot.client.device_id != old_device
        # The old device's key store (every room key it held, erased conversations' keys
        # among them as the erasures go on) is of no use to anyone any more.
        nio = process.layout.bot_dir / "nio"
        assert not list(nio.glob(f"*{old_device}*")), sorted(p.name for p in nio.iterdir())
        # Nor the device itself: youths' apps would go on encrypting every message for it.
        answer = await bot.client.devices()
        assert old_device not in [d.id for d in answer.devices]
    finally:
        await process.stop()
        await youth.close()
        await counsellor.close()


async def test_a_replaced_device_whose_deletion_failed_is_deleted_at_the_next_start(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first start after a restore logs in as a new device and deletes the old one; the
    homeserver refuses that once (busy, a rate limit) or the bot is stopped right then. The
    old device stayed for good: every youth's app went on encrypting each message for a
    device whose keys are in every older backup, and nothing tried again."""
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    try:
        bot = await process.start()
        old_device = bot.client.device_id
        await process.stop()
        backup = backup_of(process, tmp_path)
        restore(backup, process, tmp_path)

        async def refused(self: CounselClient, *_args: object, **_kwargs: object) -> object:
            return DeleteDevicesError("the homeserver is busy", status_code="M_LIMIT_EXCEEDED")
        monkeypatch.setattr(CounselClient, "delete_devices", refused)
        bot = await process.start()
        assert bot.client.device_id != old_device
        await process.stop()
        monkeypatch.undo()

        bot = await process.start()
        answer = await bot.client.devices()
        assert old_device not in [d.id for d in answer.devices]
    finally:
        await process.stop()
        await counsellor.close()


async def test_a_restored_start_killed_before_it_forgot_the_backups_device_forgets_it_later(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
) -> None:
    """The first start after a restore logged in as a new device and saved that login,
    and was killed before it took the "restored" mark away (the save's fsync on a busy
    disk, a stop at that moment). The next start, still "restored", logged in once more
    and replaced the first new device only: the backup's device stayed on the homeserver,
    and its key store (every room key it held, those of conversations erased since
    among them) stayed in the data directory, for good."""
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    try:
        bot = await process.start()
        backups_device = bot.client.device_id
        await process.stop()
        backup = backup_of(process, tmp_path)
        restore(backup, process, tmp_path)
        nio = process.layout.bot_dir / "nio"
        assert list(nio.glob(f"*{backups_device}*"))

        # What the killed start left: its new login saved, the mark still there.
        accounts = json.loads((process.layout.bridge_dir / "accounts.json").read_text())
        http = MatrixHttp(synapse.http, synapse.base_url)
        status, first = await http.login(process.user_id, accounts[0]["password"])
        assert status == 200, first
        vault = Vault.open(process.layout.bot_dir / "vault.json", PASSPHRASE)
        SessionFile(nio / "session.sealed", vault).save(SavedSession(
            process.user_id, first["device_id"], first["access_token"],
            replaces=backups_device))
        assert (nio / RESTORED_MARKER).exists()

        bot = await process.start()
        assert not list(nio.glob(f"*{backups_device}*")), sorted(p.name for p in nio.iterdir())
        answer = await bot.client.devices()
        assert backups_device not in [d.id for d in answer.devices]
    finally:
        await process.stop()
        await counsellor.close()
