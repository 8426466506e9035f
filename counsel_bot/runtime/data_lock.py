"""One process per bot data directory: two bots on one device store corrupt its keys
(BAD_MESSAGE_KEY_ID), and a key rotation must not run beside a bot.

A standby bot (PostgreSQL store, same data directory) does not refuse: once it has won the
active role it waits here for the former active process to let go (it is dying or dead)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from counsel_bot.core.errors import BotError


def _open(bot_dir: Path) -> int:
    bot_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return os.open(bot_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def exclusive(bot_dir: Path, purpose: str) -> Iterator[None]:
    """Hold the data directory's lock; fail at once, clearly, if another process has it."""
    fd = _open(bot_dir)
    try:
        if not _try_lock(fd):
            raise BotError(
                f"another counsel process uses {bot_dir} (a running bot?); stop it before "
                f"{purpose}"
            )
        yield
    finally:
        os.close(fd)


@contextlib.asynccontextmanager
async def exclusive_when_free(
    bot_dir: Path, *, within: float, poll: float = 0.1
) -> AsyncIterator[None]:
    """Hold the data directory's lock, waiting up to `within` seconds for its holder to end."""
    fd = _open(bot_dir)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not _try_lock(fd):
            if loop.time() >= deadline:
                raise BotError(
                    f"won the active role, but another counsel process still uses {bot_dir} "
                    f"after {within:.0f} s; stop it (a hung former active bot?) and restart"
                )
            await asyncio.sleep(poll)
        yield
    finally:
        os.close(fd)
