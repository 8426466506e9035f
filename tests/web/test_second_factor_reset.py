"""`counsel web reset-second-factor @lead:server`: a team lead who lost both the phone and
the recovery codes gets back in. Before, the README told the administrator to delete the
sealed setting `totp:<lead>` from the store by hand, which no tool of ours did (a leftover
of the web review). A real data directory, vault and SQLite store, as `counsel up` makes
them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from counsel_bot import cli
from counsel_bot.runtime.data_lock import exclusive
from counsel_bot.runtime.runner import open_vault
from counsel_bot.runtime.service import resolve_settings
from counsel_bot.runtime.stores import DATABASE_FILE, open_store
from counsel_bot.store import MIGRATIONS, SCHEMA_VERSION, migrate
from counsel_bot.web.second_factor import StoreSecondFactors, enrol, new_recovery_codes, new_secret
from homeserver_bridge.paths import DataLayout

LEA = "@lea:counsel.example"


async def _enrolment(data: Path, user: str, record: bytes | None = None) -> bytes | None:
    layout = DataLayout(data)
    settings, config_dir = resolve_settings(layout, None)
    store = await open_store(settings.store, layout.bot_dir, config_dir,
                             open_vault(settings, layout, config_dir))
    try:
        factors = StoreSecondFactors(store)
        if record is not None:
            await factors.save(user, record)
        return await factors.load(user)
    finally:
        await store.close()


def test_a_leads_second_factor_is_removed_and_only_theirs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data"
    record = enrol(new_secret(), new_recovery_codes()).encode()
    asyncio.run(_enrolment(data, LEA, record))
    asyncio.run(_enrolment(data, "@max:counsel.example", record))

    assert cli.main(["web", "reset-second-factor", LEA, "--data", str(data)]) == 0
    assert "two-factor sign-in is removed" in capsys.readouterr().out
    assert asyncio.run(_enrolment(data, LEA)) is None
    assert asyncio.run(_enrolment(data, "@max:counsel.example")) == record

    assert cli.main(["web", "reset-second-factor", LEA, "--data", str(data)]) == 1
    assert "has no two-factor sign-in" in capsys.readouterr().err


@pytest.mark.parametrize("user", ["lea", "@lea", "@lea: x"])
def test_a_malformed_id_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], user: str,
) -> None:
    assert cli.main(["web", "reset-second-factor", user, "--data", str(tmp_path)]) == 1
    assert "is not a Matrix id" in capsys.readouterr().err


def test_a_wrong_data_directory_is_said_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "typo"
    assert cli.main(["web", "reset-second-factor", LEA, "--data", str(missing)]) == 1
    assert "no bot data in" in capsys.readouterr().err
    assert not missing.exists()


async def _older_database(path: Path) -> None:
    """The database as the previous counsel left it (one migration less)."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        path.with_name(name).unlink(missing_ok=True)
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute("PRAGMA journal_mode = WAL")
        await migrate(db, MIGRATIONS[:SCHEMA_VERSION - 1])


def _schema_version(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        return int(raw.execute("PRAGMA user_version").fetchone()[0])


def test_beside_a_running_older_bot_the_schema_is_left_to_the_bot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The admin installs the newer counsel and runs the command, said to be safe beside the
    running bot, before restarting it: the tables the older bot was writing by its schema
    were changed under it. (PostgreSQL: the same, fixed in postgres_sql.py.)"""
    data = tmp_path / "data"
    asyncio.run(_enrolment(data, LEA))
    layout = DataLayout(data)
    database = layout.bot_dir / DATABASE_FILE
    asyncio.run(_older_database(database))

    with exclusive(layout.bot_dir, "running"):  # the older bot
        assert cli.main(["web", "reset-second-factor", LEA, "--data", str(data)]) == 1
    assert "restart the bot" in capsys.readouterr().err
    assert _schema_version(database) == SCHEMA_VERSION - 1

    # With no bot running, the command upgrades it, as before.
    assert cli.main(["web", "reset-second-factor", LEA, "--data", str(data)]) == 1
    assert "has no two-factor sign-in" in capsys.readouterr().err
    assert _schema_version(database) == SCHEMA_VERSION
