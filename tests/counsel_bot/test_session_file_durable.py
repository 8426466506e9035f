"""The saved login (nio/session.sealed) survives a power cut once the bot acts as its device.

With PostgreSQL the store remembers the office's device (`bot:device`) right after the login
is saved, durably; a bot whose data directory then holds no login, or the one the new login
replaced, refuses to act (runner.refuse_another_device). A rename whose directory entry was
never fsynced can be undone by a power cut: the office would be left without any bot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from counsel_bot.channels.matrix.session import SavedSession, SessionFile
from e2e.vault import KdfParams, Vault

FAST = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


def test_a_saved_login_is_durable_rename_included(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nio_dir = tmp_path / "nio"
    nio_dir.mkdir()
    vault = Vault.create(tmp_path / "vault.json", "a passphrase", FAST)
    sessions = SessionFile(nio_dir / "session.sealed", vault)
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    sessions.save(SavedSession("@bot:example.org", "NEWDEVICE", "token", replaces="OLD"))

    assert (nio_dir / "session.sealed").stat().st_ino in synced, "the login was never fsynced"
    assert nio_dir.stat().st_ino in synced, (
        "the rename of the saved login was never fsynced: a power cut can bring back the "
        "login it replaced, or none")
    assert sessions.load() == SavedSession("@bot:example.org", "NEWDEVICE", "token", "OLD")
    assert [p.name for p in nio_dir.iterdir()] == ["session.sealed"]
