"""A vault rotation that stops halfway (an error, a kill) leaves a vault the admin can still
open the way they opened it before, and every sealed file readable. No homeserver, no
database: the sealed files beside the store are enough to show it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from counsel_bot.channels.matrix.session import SESSION_CONTEXT
from counsel_bot.runtime.vault_rotation import rotate
from e2e.errors import VaultError
from e2e.vault import KdfParams, Vault

OLD = "the passphrase in the config"
NEW = "the passphrase the admin asked for"
FAST = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


def _bot_dir(tmp_path: Path) -> tuple[Path, Vault]:
    bot_dir = tmp_path / "bot"
    (bot_dir / "nio").mkdir(parents=True)
    vault = Vault.create(bot_dir / "vault.json", OLD, FAST)
    (bot_dir / "nio" / "session.sealed").write_bytes(
        vault.seal(b'{"token": "t"}', context=SESSION_CONTEXT))
    return bot_dir, vault


def test_a_rotation_that_fails_keeps_the_old_passphrase(tmp_path: Path) -> None:
    """The rotation stopped (here: a sealed file it does not know, so it retires nothing)
    and said "nothing was retired"; the admin keeps the configured passphrase, so the bot
    must still open with it. Before, the passphrase had already been changed: the next start
    failed with "wrong passphrase", and the new one had never been reported as in force."""
    bot_dir, vault = _bot_dir(tmp_path)
    (bot_dir / "stray.sealed").write_bytes(vault.seal(b"x", context=b"stray"))

    with pytest.raises(VaultError, match="nothing was retired"):
        asyncio.run(rotate(bot_dir, vault, NEW))

    reopened = Vault.open(bot_dir / "vault.json", OLD)
    assert reopened.open_sealed((bot_dir / "nio" / "session.sealed").read_bytes(),
                                context=SESSION_CONTEXT) == b'{"token": "t"}'


def test_resealed_files_reach_the_disk_before_the_old_key_is_retired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retiring the old key writes the vault file durably. A power cut after that must not
    bring back a sealed file as it was before the rotation (sealed under the retired key) or
    empty: its new bytes and its rename must be fsynced first (a rename alone is not)."""
    bot_dir, vault = _bot_dir(tmp_path)
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    asyncio.run(rotate(bot_dir, vault, None))

    session = (bot_dir / "nio" / "session.sealed").stat().st_ino
    directory = (bot_dir / "nio").stat().st_ino
    vault_file = (bot_dir / "vault.json").stat().st_ino
    assert session in synced, "the resealed session file was never fsynced"
    assert directory in synced, "the rename of the resealed session file was never fsynced"
    assert synced.index(session) < synced.index(vault_file)
    assert synced.index(directory) < synced.index(vault_file)
