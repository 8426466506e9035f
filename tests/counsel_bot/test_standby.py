"""runtime/standby.py on a real PostgreSQL: one runs, the other waits, then takes over."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from counsel_bot.config import Settings, StoreSettings, VaultSettings, WebConfig
from counsel_bot.core.errors import BotError
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.data_lock import exclusive, exclusive_when_free
from counsel_bot.runtime.runner import run_bot
from counsel_bot.runtime.standby import run_when_active
from counsel_bot.store.leadership import LEADER_LOCK, Leadership, Term
from e2e.errors import WrongPassphrase
from e2e.vault import KdfParams, Vault
from homeserver_bridge.paths import DataLayout, write_private
from tests.support.postgres import PostgresServer


async def test_the_second_bot_runs_only_after_the_first(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    store = StoreSettings(url=postgres.new_database())
    ran: list[tuple[str, Term]] = []
    release = asyncio.Event()

    def runner(name: str) -> Callable[[Term], Awaitable[None]]:
        async def run(term: Term) -> None:
            ran.append((name, term))
            if name == "first":
                await release.wait()
        return run

    stop = asyncio.Event()
    first = asyncio.create_task(run_when_active(
        store, tmp_path, tmp_path / "bot", stop, runner("first"),
        poll_seconds=0.1))
    await asyncio.sleep(0.5)
    second = asyncio.create_task(run_when_active(
        store, tmp_path, tmp_path / "bot", stop, runner("second"),
        poll_seconds=0.1))
    await asyncio.sleep(0.5)
    assert [name for name, _ in ran] == ["first"]  # the second waits: no refusal, no run
    release.set()
    await asyncio.wait_for(first, 5)
    await asyncio.wait_for(second, 5)
    assert [name for name, _ in ran] == ["first", "second"]
    assert ran[1][1].took_over
    assert ran[1][1].epoch == ran[0][1].epoch + 1


async def test_losing_the_lock_stops_the_active_bot(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.new_database()
    lost = asyncio.Event()

    async def run(_term: Term) -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks "
                          "WHERE locktype = 'advisory' AND objid = %s", (LEADER_LOCK,))
        await asyncio.wait_for(lost.wait(), 5)  # instead of os._exit: the test goes on

    await run_when_active(StoreSettings(url=url), tmp_path, tmp_path / "bot", asyncio.Event(),
                          run, on_lost=lost.set, poll_seconds=0.1)
    assert lost.is_set()


async def test_a_standby_with_another_vault_passphrase_says_so_at_its_start(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """A standby opened the vault only once it had taken over: one given a passphrase that
    does not open the office's vault waited quietly as the spare, for days, and failed the
    moment the active bot died, leaving the office with no bot at all."""
    url = postgres.new_database()
    layout = DataLayout(tmp_path / "data")
    layout.prepare()
    Vault.create(layout.bot_dir / "vault.json", "the office's passphrase, which is right",
                 KdfParams(time_cost=1, memory_kib=8, parallelism=1))
    write_private(tmp_path / "vault.passphrase", "a passphrase that opens nothing here")
    settings = Settings(store=StoreSettings(url=url),
                        vault=VaultSettings(passphrase_env="COUNSEL_TEST_NO_SUCH_VARIABLE",
                                            passphrase_file="vault.passphrase"),
                        web=WebConfig(enabled=False))
    active = Leadership(url, None)
    assert await active.acquire(asyncio.Event()) is not None  # the office's running bot
    holding = asyncio.create_task(active.hold(lambda: None))
    stop = asyncio.Event()
    standby = asyncio.create_task(run_bot(settings, layout, tmp_path, stop))
    try:
        done, _ = await asyncio.wait({standby}, timeout=10)
        assert standby in done, "the standby waited with a passphrase that opens nothing"
        with pytest.raises(WrongPassphrase):
            standby.result()
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(standby, 10)
        holding.cancel()
        await active.close()


async def test_a_standby_with_an_unreadable_secret_file_says_so_at_its_start(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """The same for the configuration read when the bot starts acting: a standby (a second
    machine, its own counsel.toml) whose Jitsi secret file is not there waited as the spare
    and failed only at the takeover."""
    url = postgres.new_database()
    layout = DataLayout(tmp_path / "data")
    layout.prepare()
    settings = Settings(store=StoreSettings(url=url),
                        video=VideoSettings(jitsi_app_id="counsel",
                                            jitsi_app_secret_file=str(tmp_path / "missing")),
                        web=WebConfig(enabled=False))
    active = Leadership(url, None)
    assert await active.acquire(asyncio.Event()) is not None  # the office's running bot
    holding = asyncio.create_task(active.hold(lambda: None))
    stop = asyncio.Event()
    standby = asyncio.create_task(run_bot(settings, layout, tmp_path, stop))
    try:
        done, _ = await asyncio.wait({standby}, timeout=10)
        assert standby in done, "the standby waited with a secret file it cannot read"
        with pytest.raises(BotError, match="secret file"):
            standby.result()
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(standby, 10)
        holding.cancel()
        await active.close()


# A former active bot that hangs holding the data directory (SIGSTOP stands in for a loop
# stuck in a synchronous call): its arguments make it `counsel bot` by its command line.
_HANG_HOLDING = """
import fcntl, os, signal, sys
fd = os.open(sys.argv[3], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.pwrite(fd, f"{os.getpid()}\\n".encode(), 0)
print("held", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""


async def test_a_hung_former_active_bot_does_not_keep_the_office_without_a_bot(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """A hung active bot loses its lock session within 5 s and a standby wins the role, but
    the hung process still holds the data directory: the standby gave up after 30 s, was
    restarted, won and gave up again, for as long as the hang lasted (docs/scaling.md said
    6-7 s). The new active bot ends the former one, as its own fencing would have."""
    bot_dir = tmp_path / "bot"
    async with _hung_bot(bot_dir) as hung:
        ran: list[Term] = []

        async def run(term: Term) -> None:
            ran.append(term)

        await asyncio.wait_for(run_when_active(
            StoreSettings(url=postgres.new_database()), tmp_path, bot_dir, asyncio.Event(),
            run, poll_seconds=0.2), 20)
        assert ran, "the new active bot never ran"
        assert await asyncio.wait_for(hung.wait(), 5) == -signal.SIGKILL


@contextlib.asynccontextmanager
async def _hung_bot(bot_dir: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """A `counsel bot` that holds ``bot_dir`` and hangs; killed afterwards if still there."""
    bot_dir.mkdir()
    hung = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HANG_HOLDING, "counsel_bot.cli", "bot", str(bot_dir / "lock"),
        stdout=asyncio.subprocess.PIPE)
    try:
        assert hung.stdout is not None
        assert await hung.stdout.readline() == b"held\n"
        yield hung
    finally:
        if hung.returncode is None:
            hung.kill()
            await hung.wait()


async def test_a_command_run_by_hand_holding_the_data_directory_is_left_alone(
    tmp_path: Path,
) -> None:
    """Only a former bot is ended: `counsel retention --data bot` holding the directory (a
    standby was left running meanwhile) finishes its work; the new active bot says so."""
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    by_hand = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HANG_HOLDING, "counsel", "retention", str(bot_dir / "lock"),
        "--data", "bot", stdout=asyncio.subprocess.PIPE)
    try:
        assert by_hand.stdout is not None
        assert await by_hand.stdout.readline() == b"held\n"
        with pytest.raises(BotError, match="still uses"):
            async with exclusive_when_free(bot_dir, within=1.0, end_holder_after=0.2):
                pass
        assert by_hand.returncode is None
    finally:
        by_hand.kill()
        await by_hand.wait()


@pytest.fixture
def btrfs_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on btrfs (a loop-mounted image): Fedora's and openSUSE's default, where
    stat() names another device than the kernel's list of locks does."""
    if os.geteuid() != 0 or shutil.which("mkfs.btrfs") is None:
        pytest.skip("needs root and mkfs.btrfs (apt-get install btrfs-progs)")
    image, mount = tmp_path / "btrfs.img", tmp_path / "btrfs"
    with image.open("wb") as file:
        file.truncate(128 * 1024 * 1024)
    mount.mkdir()
    made = subprocess.run(["mkfs.btrfs", "-q", str(image)], capture_output=True, check=False)
    mounted = made.returncode == 0 and subprocess.run(
        ["mount", "-o", "loop", str(image), str(mount)], capture_output=True,
        check=False).returncode == 0
    if not mounted:
        pytest.skip("cannot mount a btrfs image here (no loop devices?)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


async def test_a_hung_former_active_bot_on_btrfs_is_ended_too(btrfs_dir: Path) -> None:
    """The former holder was looked up in /proc/locks by the device stat() gives, which on
    btrfs is another than the one the kernel lists the lock under: the hung bot was never
    found, never ended, and the new active bot gave up after 30 s, again at each restart,
    for as long as the hang lasted."""
    bot_dir = btrfs_dir / "bot"
    async with _hung_bot(bot_dir) as hung:
        async with exclusive_when_free(bot_dir, within=5.0, end_holder_after=0.2):
            pass
        assert await asyncio.wait_for(hung.wait(), 5) == -signal.SIGKILL


# The active bot of another database (its own office, or a test set-up) on the same data
# directory, by its command line `counsel bot`.
_ACTIVE_ELSEWHERE = """
import asyncio, sys
from pathlib import Path
from counsel_bot.config import StoreSettings
from counsel_bot.runtime.standby import run_when_active

async def main():
    async def run(term):
        print("active", flush=True)
        await asyncio.Event().wait()
    bot_dir = Path(sys.argv[4])
    await run_when_active(StoreSettings(url=sys.argv[3]), bot_dir, bot_dir, asyncio.Event(), run)

asyncio.run(main())
"""


async def test_a_bot_of_another_database_on_the_data_directory_is_not_ended(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Two bots given one data directory but each its own database: each won its own role,
    waited for the directory and ended the other as a hung former active bot; restarted, the
    other did the same, in turn, for good. Only a bot of the same database is ended; this
    one says what is wrong instead."""
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _ACTIVE_ELSEWHERE, "counsel_bot.cli", "bot",
        postgres.new_database(), str(bot_dir), stdout=asyncio.subprocess.PIPE)
    try:
        assert other.stdout is not None
        assert await asyncio.wait_for(other.stdout.readline(), 30) == b"active\n"
        ran: list[Term] = []

        async def run(term: Term) -> None:
            ran.append(term)

        with pytest.raises(BotError, match="another database"):
            await asyncio.wait_for(run_when_active(
                StoreSettings(url=postgres.new_database()), tmp_path, bot_dir,
                asyncio.Event(), run, poll_seconds=0.2), 20)
        assert not ran
        assert other.returncode is None, "the other office's bot was ended"
    finally:
        if other.returncode is None:
            other.kill()
            await other.wait()


async def test_a_bot_told_to_stop_while_it_waits_for_the_data_directory_stops(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Having won the role, a bot waits up to 30 s for the former holder of the data
    directory to let go. Told to stop meanwhile (systemctl stop, Ctrl-C in counsel up) it
    waited on: it ended a hung former bot after 10 s, then started acting (its login, what
    was pending in the outbox) before it looked at the stop, or it failed after 30 s."""
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    ran: list[Term] = []

    async def run(term: Term) -> None:
        ran.append(term)

    stop = asyncio.Event()
    with exclusive(bot_dir, "testing"):  # the former holder, not yet gone
        waiting = asyncio.create_task(run_when_active(
            StoreSettings(url=postgres.new_database()), tmp_path, bot_dir, stop, run,
            poll_seconds=0.2))
        await asyncio.sleep(1.0)
        assert not waiting.done()
        stop.set()
        done, _ = await asyncio.wait({waiting}, timeout=3)
        assert waiting in done, "the stop waited for the data directory"
    assert waiting.exception() is None
    assert not ran
