"""The active bot restores its device (nio's store) while it holds the active role.

The role is a lock session to PostgreSQL that the bot's event loop pings every second; the
server ends it after 5 s of silence (store/leadership.py). nio loads its whole store when a
saved login is restored, synchronously: every Megolm session the bot ever received, one
query each. An office collects thousands of them (each youth's and counsellor's device, in
each room, rotated every week or 100 messages), so the load outlasted the silence limit:
the bot lost the role it had just won, and so did every standby after it, for good.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nio import AsyncClient
from nio.crypto import InboundGroupSession, OutboundGroupSession

from counsel_bot.channels.matrix import session
from counsel_bot.channels.matrix.session import SavedSession, connect
from counsel_bot.config import StoreSettings
from counsel_bot.runtime.standby import run_when_active
from counsel_bot.store.leadership import SESSION_SILENCE_LIMIT_SECONDS, Term
from e2e.vault import KdfParams, Vault
from tests.conftest import SynapseHandle, UserFactory
from tests.support.postgres import PostgresServer

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
# Megolm sessions in the device's store: a busy office's year or so.
ROOM_KEYS = 12_000
# Devices the bot has met (youths' and staff's, each with its keys and trust state).
DEVICES_MET = 3_000
# The longest the event loop may stand still while a device is restored in the worker
# thread, as a share of how long the same restore held it on the loop, measured in the same
# test: a bound in seconds failed under load (0.29 s once past 0.25, CI 81; 0.67 s past 0.5
# with three workers, CI 85), when the machine, not the restore, held the loop.
PAUSE_SHARE_AT_MOST = 0.5
# Room keys for that test: enough that the restore on the loop (about 1 s idle) stands well
# above the machine's own stalls, which the worker thread's restore shares (0.19 s against
# 0.30 s once with 12,000 keys under the unit tests' load; 0.09 s against 1.1 s with these).
LOOP_ROOM_KEYS = 36_000
T = TypeVar("T")


async def _logged_in_device(synapse: SynapseHandle, user_factory: UserFactory,
                            store_dir: Path, vault: Vault) -> tuple[str, str, Path]:
    """A bot device logged in once: its user id, password and nio database."""
    user = await user_factory("bot")
    client = await connect(synapse.base_url, user.user_id, user.password, store_dir, vault)
    try:
        assert client.olm is not None
        key = client.olm.account.identity_keys["ed25519"]
        client.store.save_inbound_group_session(InboundGroupSession(
            OutboundGroupSession().session_key, key, "sender", "!room:x"))
        database = store_dir / f"{user.user_id}_{client.device_id}.db"
    finally:
        await client.close()
    return user.user_id, user.password, database


async def _device_with_room_keys(synapse: SynapseHandle, user_factory: UserFactory,
                                 store_dir: Path, vault: Vault,
                                 room_keys: int = ROOM_KEYS) -> tuple[str, str]:
    """A logged-in bot device whose nio store holds ``room_keys`` Megolm sessions."""
    user_id, password, database = await _logged_in_device(synapse, user_factory, store_dir,
                                                           vault)
    # Copies of that row under other ids: restoring reads each row alike.
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT sender_key, account_id, fp_key, room_id, session "
                         "FROM megolminboundsessions").fetchone()
        db.executemany("INSERT INTO megolminboundsessions (sender_key, account_id, fp_key, "
                       "room_id, session, session_id) VALUES (?, ?, ?, ?, ?, ?)",
                       [(*row, f"copy-{n}") for n in range(room_keys)])
    return user_id, password


async def test_restoring_a_device_with_many_room_keys_keeps_the_active_role(
    synapse: SynapseHandle, user_factory: UserFactory, postgres: PostgresServer,
    tmp_path: Path,
) -> None:
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    vault = Vault.create(bot_dir / "vault.json", "passphrase", CHEAP)
    user_id, password = await _device_with_room_keys(synapse, user_factory, bot_dir / "nio",
                                                     vault)
    lost = asyncio.Event()
    took: list[float] = []

    async def run(_term: Term) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        client = await connect(synapse.base_url, user_id, password, bot_dir / "nio", vault)
        took.append(loop.time() - started)
        try:
            await asyncio.sleep(2)  # the next pings tell whether the role is still held
        finally:
            await client.close()

    await run_when_active(StoreSettings(url=postgres.new_database()), tmp_path, bot_dir,
                          asyncio.Event(), run, on_lost=lost.set, poll_seconds=0.2)
    assert took, "the device was not restored"
    assert not lost.is_set(), (
        f"restoring the device took {took[0]:.1f} s (silence limit "
        f"{SESSION_SILENCE_LIMIT_SECONDS} s) and cost the active role")


async def _device_that_met_many_devices(synapse: SynapseHandle, user_factory: UserFactory,
                                        store_dir: Path, vault: Vault) -> tuple[str, str]:
    """A logged-in bot device whose nio store knows DEVICES_MET other devices."""
    user_id, password, database = await _logged_in_device(synapse, user_factory, store_dir,
                                                           vault)
    with sqlite3.connect(database) as db:
        (account,) = db.execute("SELECT id FROM accounts").fetchone()
        first = 1 + (db.execute("SELECT coalesce(max(id), 0) FROM devicekeys").fetchone()[0])
        ids = range(first, first + DEVICES_MET)
        db.executemany("INSERT INTO devicekeys (id, device_id, user_id, display_name, deleted, "
                       "account_id) VALUES (?, ?, ?, '', 0, ?)",
                       [(i, f"DEVICE{i}", f"@youth-{i}:x", account) for i in ids])
        db.executemany("INSERT INTO keys (key_type, key, device_id) VALUES (?, ?, ?)",
                       [(kind, f"{kind}-key-{i}", i) for i in ids
                        for kind in ("ed25519", "curve25519")])
        db.executemany("INSERT INTO devicetruststate (state, device_id) VALUES (0, ?)",
                       [(i,) for i in ids])
    return user_id, password


async def test_restoring_a_device_that_met_many_devices_keeps_the_active_role(
    synapse: SynapseHandle, user_factory: UserFactory, postgres: PostgresServer,
    tmp_path: Path,
) -> None:
    """The same with the devices the bot has met: nio read each one's keys and trust state
    with two more queries."""
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    vault = Vault.create(bot_dir / "vault.json", "passphrase", CHEAP)
    user_id, password = await _device_that_met_many_devices(synapse, user_factory,
                                                            bot_dir / "nio", vault)
    lost = asyncio.Event()
    took: list[float] = []

    async def run(_term: Term) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        client = await connect(synapse.base_url, user_id, password, bot_dir / "nio", vault)
        took.append(loop.time() - started)
        try:
            assert client.olm is not None
            assert len(list(client.olm.device_store)) >= DEVICES_MET  # all of them came back
            await asyncio.sleep(2)  # the next pings tell whether the role is still held
        finally:
            await client.close()

    await run_when_active(StoreSettings(url=postgres.new_database()), tmp_path, bot_dir,
                          asyncio.Event(), run, on_lost=lost.set, poll_seconds=0.2)
    assert took, "the device was not restored"
    assert not lost.is_set(), (
        f"restoring the device took {took[0]:.1f} s (silence limit "
        f"{SESSION_SILENCE_LIMIT_SECONDS} s) and cost the active role")


async def test_restoring_a_device_lets_the_event_loop_go_on(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Quicker loaders shortened the restore, but it still ran on the event loop in one
    piece: under load (2 cores shared, another bot's first sync) it held the loop 5.4 s
    once, past the silence limit, and the role was lost all the same. Read in a worker
    thread, the loop goes on pinging however long the store takes."""
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    vault = Vault.create(bot_dir / "vault.json", "passphrase", CHEAP)
    user_id, password = await _device_with_room_keys(synapse, user_factory, bot_dir / "nio",
                                                     vault, LOOP_ROOM_KEYS)
    client, paused = await _longest_pause(
        connect(synapse.base_url, user_id, password, bot_dir / "nio", vault))
    try:
        assert client.olm is not None
        assert list(client.olm.inbound_group_store), "the room keys did not come back"
        # The store still works on the loop's own thread, as the sync loop uses it.
        client.store.save_sync_token("s1_2")
        assert client.store.load_sync_token() == "s1_2"
    finally:
        await client.close()
    # The yardstick: the same restore on the loop, as it was before.
    monkeypatch.setattr(session, "restore_off_the_loop", _restore_on_the_loop)
    client, on_the_loop = await _longest_pause(
        connect(synapse.base_url, user_id, password, bot_dir / "nio", vault))
    await client.close()
    assert paused < PAUSE_SHARE_AT_MOST * on_the_loop, (
        f"the event loop stood still for {paused:.2f} s while the device was restored, "
        f"{on_the_loop:.2f} s with the restore on the loop")


async def _restore_on_the_loop(client: AsyncClient, saved: SavedSession) -> None:
    client.restore_login(saved.user_id, saved.device_id, saved.access_token)


async def _longest_pause(work: Coroutine[Any, Any, T]) -> tuple[T, float]:
    """``work``'s result, and the longest the event loop went without a turn meanwhile."""
    loop = asyncio.get_running_loop()
    longest, last = 0.0, loop.time()

    async def tick() -> None:
        nonlocal longest, last
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            longest, last = max(longest, now - last), now

    ticker = asyncio.create_task(tick())
    try:
        await asyncio.sleep(0)
        last = loop.time()
        result = await work
    finally:
        ticker.cancel()
    return result, max(longest, loop.time() - last)
