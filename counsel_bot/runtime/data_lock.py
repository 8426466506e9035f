"""One process per bot data directory: two bots on one device store corrupt its keys
(BAD_MESSAGE_KEY_ID), and a key rotation must not run beside a bot."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from counsel_bot.core.errors import BotError


@contextlib.contextmanager
def exclusive(bot_dir: Path, purpose: str) -> Iterator[None]:
    """Hold the data directory's lock; fail at once, clearly, if another process has it."""
    bot_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(bot_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BotError(
                f"another counsel process uses {bot_dir} (a running bot?); stop it before "
                f"{purpose}"
            ) from None
        yield
    finally:
        os.close(fd)
