"""A bot whose [store] names another store than the one the office's conversations are in.

Both are refused before the login, saying what to do: a bot on the wrong store starts without
every open chat, queue place and crisis flag, and with no sync position and no handled
event ids it reads each room's latest messages again as new."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from counsel_bot.config import Settings, StoreSettings, VaultSettings, WebConfig
from counsel_bot.core.errors import BotError
from counsel_bot.runtime.data_lock import confirm_store, exclusive, exclusive_when_free
from counsel_bot.runtime.runner import run_bot
from counsel_bot.runtime.stores import DATABASE_FILE
from counsel_bot.store import SqliteStore
from e2e.vault import KdfParams, Vault
from homeserver_bridge.paths import DataLayout, write_private
from tests.support.postgres import PostgresServer

PASSPHRASE = "the office's passphrase, which is right"


def _office(tmp_path: Path) -> tuple[DataLayout, Vault]:
    layout = DataLayout(tmp_path / "data")
    layout.prepare()
    vault = Vault.create(layout.bot_dir / "vault.json", PASSPHRASE,
                         KdfParams(time_cost=1, memory_kib=8, parallelism=1))
    write_private(tmp_path / "vault.passphrase", PASSPHRASE)
    return layout, vault


def _settings(store: StoreSettings) -> Settings:
    return Settings(store=store, web=WebConfig(enabled=False),
                    vault=VaultSettings(passphrase_env="COUNSEL_TEST_NO_SUCH_VARIABLE",
                                        passphrase_file="vault.passphrase"))


async def _refusal(settings: Settings, layout: DataLayout, config_dir: Path) -> BaseException:
    """The bot's error, the same at its next start (its supervisor starts it again)."""
    errors = []
    for _ in range(2):
        bot = asyncio.create_task(run_bot(settings, layout, config_dir, asyncio.Event()))
        done, _ = await asyncio.wait({bot}, timeout=20)
        assert bot in done, "the bot started on the wrong store"
        error = bot.exception()
        assert error is not None
        errors.append(error)
    assert str(errors[1]) == str(errors[0]), "refused once, then let through"
    return errors[0]


async def _office_bot_ran(layout: DataLayout, store: str) -> None:
    """The office's active bot of PostgreSQL (database ``store``) held the directory, and
    ran: it passed its checks (`confirm_store`)."""
    async with exclusive_when_free(layout.bot_dir, within=1, store=store):
        confirm_store(layout.bot_dir)


async def test_an_office_on_sqlite_given_a_postgresql_store_is_refused(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """The README's way to a standby: put the store into PostgreSQL and start two bots. An
    office that ran for months on the SQLite store did just that, and its bot started on the
    empty database: no open chat, no queue, no crisis flag, every room read again."""
    layout, vault = _office(tmp_path)
    with exclusive(layout.bot_dir, "testing", store="sqlite"):  # as the SQLite bot holds it
        confirm_store(layout.bot_dir)
        store = await SqliteStore.open(layout.bot_dir / DATABASE_FILE, vault)
        await store.set_setting("sync_token", "s72_0")
        await store.close()
    error = await _refusal(_settings(StoreSettings(url=postgres.new_database())), layout,
                           tmp_path)
    assert isinstance(error, BotError)
    assert "counsel.db" in str(error)
    assert "[store] url" in str(error)


async def test_a_bot_without_the_postgresql_store_of_its_office_is_refused(
    tmp_path: Path,
) -> None:
    """One machine of an active/standby pair whose counsel.toml lost its [store] section ran
    on the SQLite store whenever no bot of PostgreSQL held the data directory (PostgreSQL
    down for a minute is enough): an empty store, and the office's bots, back, refused to
    start beside it."""
    layout, _vault = _office(tmp_path)
    await _office_bot_ran(layout, "5f3c9a0e1b2d4c6e")
    error = await _refusal(_settings(StoreSettings()), layout, tmp_path)
    assert isinstance(error, BotError)
    assert "PostgreSQL" in str(error)
    assert "[store] url" in str(error)
    assert not (layout.bot_dir / DATABASE_FILE).exists()


@pytest.mark.parametrize("store", ["sqlite", ""])
async def test_an_office_that_stays_on_its_store_is_not_refused_for_it(
    tmp_path: Path, store: str
) -> None:
    """The other side: a bot of SQLite after one of SQLite (or an older version that wrote
    no store) goes on to its login (here: no account, which is the next refusal)."""
    layout, _vault = _office(tmp_path)
    with exclusive(layout.bot_dir, "testing", store=store):
        confirm_store(layout.bot_dir)
    error = await _refusal(_settings(StoreSettings()), layout, tmp_path)
    assert isinstance(error, BotError)
    assert "no password for the bot's account" in str(error)


async def test_a_bot_on_another_postgresql_database_than_its_office_is_refused(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """One machine's [store] url names another database (a typo that exists, a test
    database) and it starts first, while the office's bots are down: it became the active
    bot of an empty database on the office's data directory, and the office's bots, back,
    refused to start beside it."""
    layout, _vault = _office(tmp_path)
    await _office_bot_ran(layout, "5f3c9a0e1b2d4c6e")  # on the office's database
    error = await _refusal(_settings(StoreSettings(url=postgres.new_database())), layout,
                           tmp_path)
    assert isinstance(error, BotError)
    assert "another database" in str(error)
    assert "[store] url" in str(error)
