"""Two bots of one office share one data directory: one Matrix device, one set of keys."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.config import StoreSettings
from counsel_bot.core.errors import BotError
from counsel_bot.runtime import runner
from counsel_bot.runtime.runner import run_bot
from homeserver_bridge.paths import DataLayout, write_private
from tests.conftest import SynapseHandle
from tests.support.bot_harness import PASSPHRASE, provision_bot
from tests.support.postgres import PostgresServer


async def _devices(synapse: SynapseHandle, user_id: str) -> list[str]:
    answer: Any = await synapse.admin.request("GET", f"/_synapse/admin/v2/users/{user_id}/devices")
    return sorted(d["device_id"] for d in answer["devices"])


async def test_a_bot_on_a_data_directory_of_its_own_leaves_the_office_device_alone(
    synapse: SynapseHandle, postgres: PostgresServer, tmp_path: Path
) -> None:
    """A second bot of the office given a data directory of its own (a second machine
    without shared storage, a second compose volume) took over on the office's store, logged
    in as a new device of the bot account and, with the account's password, replaced the
    bot's cross-signing identity: every youth's app then warns that the bot's identity was
    reset, and what they encrypted for the office's device cannot be read by this one. It
    must refuse before it logs in."""
    first = await provision_bot(synapse, tmp_path / "first", [])
    first.settings = replace(first.settings, store=StoreSettings(url=postgres.new_database()))
    await first.start()
    await first.stop()
    devices = await _devices(synapse, first.user_id)

    own = DataLayout(tmp_path / "own")
    own.prepare()
    accounts = (first.layout.bridge_dir / "accounts.json").read_text(encoding="utf-8")
    write_private(own.bridge_dir / "accounts.json", accounts)
    write_private(own.root / "vault.passphrase", PASSPHRASE)
    stop = asyncio.Event()
    second = asyncio.create_task(run_bot(first.settings, own, own.root, stop))
    try:
        await asyncio.wait({second}, timeout=30)
        assert await _devices(synapse, first.user_id) == devices  # no second device
        assert second.done(), "the bot on a directory of its own is running as the office's"
        with pytest.raises(BotError, match="data directory"):
            second.result()
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(second, 30)


class _KilledAfterLogin(Exception):
    """Stands for a SIGKILL (or a database gone) just after the bot logged in anew."""


async def test_a_new_login_after_a_revoked_one_survives_a_kill_before_it_is_remembered(
    synapse: SynapseHandle, postgres: PostgresServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an admin revoked the office device's login, the next start logs in as a new
    device and saves that login in the data directory; the office's device (bot:device) is
    remembered in the store only afterwards. A bot killed in between (the bot is built to
    survive a SIGKILL at any point) was refused on every later start, in its own office's
    data directory ("holds another"): an office without a bot until an admin edited the
    store's settings table."""
    bot = await provision_bot(synapse, tmp_path / "office", [])
    bot.settings = replace(bot.settings, store=StoreSettings(url=postgres.new_database()))
    old = (await bot.start()).client.device_id
    await bot.stop()
    await synapse.admin.request(
        "DELETE", f"/_synapse/admin/v2/users/{bot.user_id}/devices/{old}")

    real_connect = runner.connect

    async def killed_after_login(*args: Any, **kwargs: Any) -> Any:
        client = await real_connect(*args, **kwargs)
        await client.close()
        raise _KilledAfterLogin

    monkeypatch.setattr(runner, "connect", killed_after_login)
    with pytest.raises(_KilledAfterLogin):
        await bot.start()
    monkeypatch.setattr(runner, "connect", real_connect)

    await bot.start()  # the same data directory, the office's device anew: it acts
    await bot.stop()
