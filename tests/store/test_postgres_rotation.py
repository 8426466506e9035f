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
from tests.store.test_leadership import Blackhole
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


class SlowLink(Blackhole):
    """A relay to PostgreSQL that delays everything it forwards: the database across a slow
    network, where each of the rotation's statements takes a round trip."""

    delay = 0.02
    writers: list[asyncio.StreamWriter]

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers = [*getattr(self, "writers", []), client_w, server_w]

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                await asyncio.sleep(self.delay)
                dst.write(data)
                await dst.drain()

        await asyncio.gather(pump(client_r, server_w), pump(server_r, client_w),
                             return_exceptions=True)

    async def stop(self) -> None:
        for writer in getattr(self, "writers", []):
            writer.close()
        await super().stop()


async def test_a_rotation_longer_than_the_silence_limit_keeps_a_standby_out(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """The rotation took the active role and then let its lock session fall silent: past 5 s
    (many sealed values, a database across the network) the server ended the session, and a
    standby (a second machine's bot the admin forgot, or one its supervisor restarted) took
    over while the values it reads were still being re-encrypted, beside writes of the
    rotation that no epoch fenced."""
    url = postgres.new_database()
    link = SlowLink(postgres.port)
    await link.start()
    settings = StoreSettings(url=url.replace(f":{postgres.port}/", f":{link.port}/"))
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    vault = Vault.open_or_create(bot_dir / "vault.json", PASSPHRASE)
    store = await PostgresStore.open(url, vault)
    try:
        for n in range(150):
            await store.set_sealed_setting(f"notes:{n}", b"a case note")
    finally:
        await store.close()

    standby = Leadership(url, None, poll_seconds=0.2)
    loop = asyncio.get_running_loop()
    try:
        rotation = asyncio.create_task(rotate(bot_dir, vault, None, settings, tmp_path))
        await asyncio.sleep(1)  # the rotation holds the role by now
        taking_over = asyncio.create_task(standby.acquire(asyncio.Event()))
        taken: list[float] = []
        taking_over.add_done_callback(lambda _: taken.append(loop.time()))
        report = await asyncio.wait_for(rotation, 60)
        rotated_at = loop.time()
        assert report.resealed_values == 150
        term = await asyncio.wait_for(taking_over, 15)
        assert term is not None
        assert taken[0] >= rotated_at, (
            f"a standby took over {rotated_at - taken[0]:.1f} s before the rotation ended")
    finally:
        await standby.close()
        await link.stop()
