"""Active/standby: several bots on one PostgreSQL database, exactly one of them acting.

Each bot process waits here until it wins the active role (`store/leadership.py`: an
advisory lock on a dedicated connection, tried every second), then takes the data directory
(the nio device store is shared: the former active process must have let go) and runs. When
it loses the role it stops acting at once: the process ends as if killed (the bot is built to
survive a SIGKILL at any point), and its supervisor starts it again as a standby.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from counsel_bot.config import StoreSettings
from counsel_bot.runtime.data_lock import StoppedWaiting, exclusive_when_free
from counsel_bot.runtime.stores import store_password
from counsel_bot.store.leadership import Leadership, Term

log = logging.getLogger(__name__)

# The exit status of a bot that lost the active role (EX_TEMPFAIL: start it again; counsel
# up does, runtime/service.BOT_LOST_ROLE).
EXIT_LOST_ROLE = os.EX_TEMPFAIL
# How long a new active bot waits for the former one to let go of the data directory.
DATA_DIR_WAIT_SECONDS = 30.0
# After this long a former one still holding it is hung (a live one notices its loss within
# its poll and ping timeout, about 4 s, and ends itself): the new one ends it.
FORMER_HOLDER_GRACE_SECONDS = 10.0


def exit_now() -> None:
    """Fencing: stop acting this instant, no graceful shutdown that could still send."""
    logging.shutdown()
    os._exit(EXIT_LOST_ROLE)


async def run_when_active(
    store: StoreSettings, config_dir: Path, bot_dir: Path, stop: asyncio.Event,
    run: Callable[[Term], Awaitable[None]], *, on_lost: Callable[[], None] = exit_now,
    poll_seconds: float = 1.0,
) -> None:
    leadership = Leadership(store.url, store_password(store, config_dir),
                            poll_seconds=poll_seconds)
    try:
        term = await leadership.acquire(stop)
        if term is None:
            return
        log.info("this bot is now the active one (epoch %d%s)", term.epoch,
                 ", took over from a standby wait" if term.took_over else "")
        # Pinging starts at once: a silent lock session ends after a few seconds, and the
        # wait for the data directory below may take longer than that.
        holder = asyncio.create_task(leadership.hold(on_lost))
        try:
            async with exclusive_when_free(bot_dir, within=DATA_DIR_WAIT_SECONDS,
                                           end_holder_after=FORMER_HOLDER_GRACE_SECONDS,
                                           store=term.store, stop=stop) as last_store:
                await run(dataclasses.replace(term, last_store=last_store))
        except StoppedWaiting:
            log.info("told to stop while waiting for the data directory; stopping")
        finally:
            holder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder
    finally:
        await leadership.close()
