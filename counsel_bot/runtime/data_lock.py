"""One process per data directory, held with an OS lock (flock) that dies with its holder.

Two locks, one pattern: `counsel up` holds the data directory's `up.lock` (two services on
one directory would run two Synapses on one database and rewrite each other's accounts), and
the bot holds `bot/lock` (two bots on one device store corrupt its keys, BAD_MESSAGE_KEY_ID,
and a key rotation must not run beside a bot). The holder writes its pid into the file, so
the one refused can say which process to stop, and a bot the database it is active on.

A standby bot (PostgreSQL store, same data directory) does not refuse: once it has won the
active role it waits here for the former active process to let go (it is dying or dead)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from counsel_bot.core.errors import BotError

log = logging.getLogger(__name__)

BOT_LOCK = "lock"  # in the bot's directory
UP_LOCK = "up.lock"  # in the data directory itself
BACKUP_LOCK = "backup.lock"  # in the data directory itself, held by `counsel backup`


class DataDirInUse(BotError):
    """Another counsel process holds the lock this one needs."""


class StoppedWaiting(Exception):
    """Told to stop while waiting for the data directory (`exclusive_when_free`)."""


def _open(lock_file: Path) -> int:
    lock_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Not inherited (PEP 446): a child that outlives us must not keep the directory locked.
    return os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _claim(fd: int, store: str = "", office: str = "") -> None:
    """Write our pid, the database a bot is active on, and the store the office's
    conversations were last confirmed in (`confirm_store`); only the lock's holder writes,
    so readers see the holder's."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n{store}\n{office}\n".encode(), 0)


def _lines(fd: int) -> list[str]:
    return [line.strip() for line in os.pread(fd, 256, 0).decode("ascii", "replace")
            .splitlines()]


def _holder(fd: int) -> tuple[str, str]:
    """The holder's pid as it wrote it, or "unknown" (it has the lock but not yet written),
    and its database ("": not a bot, or an older version that did not write it)."""
    lines = _lines(fd)
    pid = lines[0] if lines else ""
    return (pid if pid.isdecimal() else "unknown"), (lines[1] if len(lines) > 1 else "")


def _office_store(fd: int) -> str:
    """The store the last bot that passed its checks ran on; a file of an older version
    (two lines) names the store of the bot that held it, which ran."""
    lines = _lines(fd)
    if len(lines) > 2:
        return lines[2]
    return lines[1] if len(lines) > 1 else ""


def confirm_store(bot_dir: Path) -> None:
    """Called by the bot holding the directory once it has found its store to be the
    office's (`runtime/store_choice.py`): from now on its store is the office's. Until then
    the one before stays, so a bot refused for its store is refused again at its next start."""
    fd = os.open(bot_dir / BOT_LOCK, os.O_RDWR)
    try:
        pid, store = _holder(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{pid}\n{store}\n{store}\n".encode(), 0)
    finally:
        os.close(fd)


def _holder_pid(fd: int) -> str:
    return _holder(fd)[0]


@contextlib.contextmanager
def _holding(lock_file: Path, refusal: Callable[[str], str], store: str = "") -> Iterator[str]:
    """Hold `lock_file`; if another process has it, raise DataDirInUse with the message
    `refusal` gives for the holder's pid. Yields the store its last holder named."""
    fd = _open(lock_file)
    try:
        if not _try_lock(fd):
            raise DataDirInUse(refusal(_holder_pid(fd)))
        before, office = _holder(fd)[1], _office_store(fd)
        # A command (no store of its own) leaves the last bot's: the next bot checks it.
        _claim(fd, store or before, office)
        yield office
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive(bot_dir: Path, purpose: str, *, store: str = "") -> Iterator[str]:
    """Hold the bot data directory's lock; fail at once, clearly, if another process has it.
    A bot names its `store` (see `exclusive_when_free`); yields the store the office's
    conversations were last confirmed in ("sqlite", a PostgreSQL store's id, or "": none
    said; see `confirm_store`)."""
    with _holding(bot_dir / BOT_LOCK,
                  lambda pid: f"another counsel process (pid {pid}) uses {bot_dir} (a running "
                              f"bot?); stop it before {purpose}", store) as before:
        yield before


def held(bot_dir: Path) -> bool:
    """Whether another process holds the bot data directory's lock (a running bot); asked
    only, the lock is let go at once."""
    fd = _open(bot_dir / BOT_LOCK)
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def service_exclusive(root: Path) -> Iterator[None]:
    """Hold the whole data directory for `counsel up`; fail at once if another one runs."""
    with _holding(root / UP_LOCK,
                  lambda pid: f"counsel is already running on the data directory "
                              f"{root.resolve()} (pid {pid}); stop that process first (Ctrl-C "
                              "in its terminal, or kill it). Another port does not help: a "
                              "second service needs a data directory of its own (--data DIR)"):
        yield


@contextlib.contextmanager
def backup_exclusive(root: Path) -> Iterator[None]:
    """Hold the data directory for `counsel backup`: two at once (the timer's and one by
    hand) would make their databases' copies in the same scratch directory."""
    with _holding(root / BACKUP_LOCK,
                  lambda pid: f"another backup of {root} is being made (pid {pid}); wait "
                              "for it to finish and run this one again"):
        yield


def _local_bot_holding(fd: int) -> int | None:
    """The pid of a `counsel bot` process on this machine holding `fd`'s file, if any.

    Read from the kernel's own list (/proc/locks), not from the pid in the file: on shared
    storage the holder may run on another machine, where that pid names someone else. The
    list names the file by the device of its filesystem, which is not always the one stat()
    gives (btrfs: every subvolume its own): matched by the inode alone, then confirmed by
    the candidate's open files, which stat() sees as we do."""
    own = os.fstat(fd)
    try:
        locks = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in locks.splitlines():
        fields = line.split()  # "1: FLOCK ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF"
        if len(fields) < 6 or fields[1] != "FLOCK" \
                or fields[5].rpartition(":")[2] != str(own.st_ino):
            continue
        pid = int(fields[4]) if fields[4].isdecimal() else 0
        if pid == os.getpid() or not _has_open(pid, own):
            continue  # the same inode number on another filesystem
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        # Only the bot itself (`counsel bot`, or `python -m counsel_bot.cli bot` as
        # counsel up starts it): a command run by hand (retention) is left to finish.
        is_bot = any(program.endswith((b"counsel", b"counsel_bot.cli")) and command == b"bot"
                     for program, command in itertools.pairwise(args))
        return pid if is_bot else None
    return None


def _has_open(pid: int, file: os.stat_result) -> bool:
    """Whether process ``pid`` has ``file`` open."""
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            other = os.stat(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (file.st_dev, file.st_ino):
            return True
    return False


@contextlib.asynccontextmanager
async def exclusive_when_free(
    bot_dir: Path, *, within: float, poll: float = 0.1, end_holder_after: float | None = None,
    store: str = "", stop: asyncio.Event | None = None,
) -> AsyncIterator[str]:
    """Hold the data directory's lock, waiting up to `within` seconds for its holder to end;
    yields the store the office's conversations were last confirmed in (see `exclusive`).

    With `end_holder_after`, a bot on this machine still holding it after that many seconds
    is killed: the caller has won the active role, so the holder has lost it and is hung (a
    live one ends itself within seconds). It is built to survive a SIGKILL at any point.
    A holder active on another database than `store` has lost nothing: it is refused at once,
    never ended (each bot would end the other in turn, for good). Once `stop` is set the wait
    ends with StoppedWaiting: a bot told to stop must not end the holder and start acting."""
    fd = _open(bot_dir / BOT_LOCK)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + within
        ended = end_holder_after is None
        while not _try_lock(fd):
            if stop is not None and stop.is_set():
                raise StoppedWaiting  # nothing held, nothing done: the caller just ends
            pid, holder_store = _holder(fd)
            if store and holder_store and holder_store != store:
                raise DataDirInUse(
                    f"another counsel bot (pid {pid}) is active on another database with the "
                    f"data directory {bot_dir}; the bots of one office share one [store] url "
                    "and one data directory: give this bot a data directory of its own, or "
                    "the other's [store] url")
            if not ended and loop.time() - started >= (end_holder_after or 0.0):
                ended = True
                holder = _local_bot_holding(fd)
                if holder is not None:
                    log.warning("the former active bot (pid %d) still holds %s; ending it",
                                holder, bot_dir)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(holder, signal.SIGKILL)
            if loop.time() >= deadline:
                raise DataDirInUse(
                    f"won the active role, but another counsel process (pid {_holder_pid(fd)}) "
                    f"still uses {bot_dir} after {within:.0f} s; stop it (a hung former active "
                    "bot?) and restart"
                )
            await asyncio.sleep(poll)
        office = _office_store(fd)
        _claim(fd, store, office)
        yield office
    finally:
        os.close(fd)
