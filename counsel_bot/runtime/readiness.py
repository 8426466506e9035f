"""How the bot tells `counsel up` it has started: one line on a pipe `counsel up` hands it.

`counsel up` prints its banner (the accounts, "counsel is running.") only after this line,
so a bot that fails on start (its data directory locked, a wrong vault passphrase) is
reported as a failure, not after a banner that claims success. A bot that ends before it
has written the line closes the pipe by ending, so the waiting side never hangs on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

READY_LINE = b"ready\n"


def announcer(fd: int) -> Callable[[object], None]:
    """The bot's on_ready: write the line to `fd` (inherited from counsel up)."""

    def announce(_bot: object) -> None:
        # counsel up gone or no longer listening: there is no one to tell.
        with contextlib.suppress(OSError):
            os.write(fd, READY_LINE)

    return announce


async def announced(read_end: int) -> bool:
    """Wait for the line on the pipe's read end (closed here); False if the pipe ends first."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    pipe = os.fdopen(read_end, "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        return await reader.readline() == READY_LINE
    finally:
        transport.close()
