"""`counsel vault rotate` with the PostgreSQL store: it re-encrypts the database's values, and
it refuses while a bot (on any machine) holds the active role."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.config import StoreSettings
from counsel_bot.core.routing.model import RouterSnapshot
from counsel_bot.runtime.vault_rotation import rotate
from counsel_bot.store import OutboxEntry, PostgresStore, StoreError, Transition
from counsel_bot.store.leadership import Leadership
from e2e.errors import VaultError
from e2e.vault import Vault
from tests.support.postgres import PostgresServer

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"


async def test_rotation_reseals_the_database_and_never_beside_a_bot(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    settings = StoreSettings(url=postgres.new_database())
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    vault = Vault.open_or_create(bot_dir / "vault.json", PASSPHRASE)
    store = await PostgresStore.open(settings.url, vault)
    await store.commit_transition(Transition(
        at=T0, snapshot=RouterSnapshot(), outbox=(OutboxEntry("k1", b"invite anna", T0),)))
    await store.close()
    old_keys = vault.key_ids

    bot = Leadership(settings.url, None)
    assert await bot.acquire(asyncio.Event()) is not None
    with pytest.raises(VaultError, match="stop every bot"):
        await rotate(bot_dir, vault, None, settings, tmp_path)
    await bot.close()

    report = await rotate(bot_dir, vault, None, settings, tmp_path)
    assert report.resealed_values == 1
    assert set(report.retired_key_ids) == set(old_keys)
    reopened = Vault.open(bot_dir / "vault.json", PASSPHRASE)
    store = await PostgresStore.open(settings.url, reopened)
    try:
        [entry] = await store.pending_outbox()  # readable under the new key alone
        assert entry.payload == b"invite anna"
    finally:
        await store.close()


async def test_rotation_with_the_database_away_says_so_not_that_a_bot_is_active(
    tmp_path: Path,
) -> None:
    """PostgreSQL down, or [store] url naming the wrong host or port: the rotation told the
    admin that a bot was active and to stop every bot (all stopped already), not what was
    wrong."""
    settings = StoreSettings(url="postgresql://counsel@127.0.0.1:1/counsel")
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    vault = Vault.open_or_create(bot_dir / "vault.json", PASSPHRASE)
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL.*server is running"):
        await rotate(bot_dir, vault, None, settings, tmp_path)
    assert Vault.open(bot_dir / "vault.json", PASSPHRASE).key_ids == vault.key_ids == (1,)
