"""`counsel status`: which bot is active, and how many wait, read off PostgreSQL.

An admin with two machines had no way to ask which one was acting: the role showed only in
each bot's log (and in the active bot's metrics; a standby serves none). The lock itself says
it: the session holding it (since when, from which address), the leadership sessions waiting
beside it, and the leader row's epoch and takeovers.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from counsel_bot.store.leadership import Leadership, role_report
from tests.support.postgres import PostgresServer


@pytest.fixture
def url(postgres: PostgresServer) -> str:
    return postgres.new_database()


async def test_the_report_names_the_active_bot_and_counts_the_standbys(url: str) -> None:
    assert (await role_report(url, None)).active_since is None  # nobody yet, no tables yet
    first, second = Leadership(url, None, poll_seconds=0.1), Leadership(url, None, poll_seconds=0.1)
    stop = asyncio.Event()
    try:
        assert await first.acquire(stop) is not None
        waiting = asyncio.create_task(second.acquire(stop))
        await asyncio.sleep(0.5)
        report = await role_report(url, None)
        assert report.active_since is not None
        assert report.standbys == 1
        assert (report.epoch, report.failovers) == (1, 0)
        await first.close()
        assert await asyncio.wait_for(waiting, 10) is not None
        report = await role_report(url, None)
        assert report.active_since is not None
        assert (report.standbys, report.epoch, report.failovers) == (0, 2, 1)
    finally:
        stop.set()
        await first.close()
        await second.close()


def _status(tmp_path: Path, toml: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "counsel.toml"
    config.write_text(toml)
    return subprocess.run([sys.executable, "-m", "counsel_bot.cli", "status", "--config",
                           str(config)], capture_output=True, text=True, timeout=60)


async def test_counsel_status_says_whether_a_bot_is_active(url: str, tmp_path: Path) -> None:
    toml = f'[store]\nurl = "{url}"\n'
    nobody = await asyncio.to_thread(_status, tmp_path, toml)
    assert nobody.returncode == 1, nobody.stderr
    assert "no bot is active" in nobody.stdout
    holder = Leadership(url, None)
    try:
        assert await holder.acquire(asyncio.Event()) is not None
        active = await asyncio.to_thread(_status, tmp_path, toml)
        assert active.returncode == 0, active.stderr
        assert "Active bot:" in active.stdout
        assert "Standby bots:    0" in active.stdout
    finally:
        await holder.close()


def test_on_sqlite_there_is_one_bot_and_no_standby(tmp_path: Path) -> None:
    answer = _status(tmp_path, "")
    assert answer.returncode == 0, answer.stderr
    assert "SQLite" in answer.stdout
    assert "no standby" in answer.stdout
