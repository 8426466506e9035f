"""What the bot failed on, set aside after the second failure.

A bug met while handling an event or performing an effect stops the bot, loudly: memory and
store may disagree halfway through a step, and a restart gives the memory back from the
store. But the restarted bot meets the same event again (its sync token was not saved), or
the same effect (still pending in the outbox): one youth's odd message, or one mail that
cannot be built, would keep the service down for everyone, crisis alerts included. So each
failure is written down before the stop, and what failed ``SET_ASIDE_AFTER`` times is set
aside at the next start instead of being tried again (the caller says what that means: the
youth asked to write again and the staff alerted, or the effect dropped and counted). A
failure that passes (a database busy for a moment) costs a restart, not the message.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable

import aiohttp

from counsel_bot.store import Store, StoreConsistencyError, StoreError
from counsel_bot.store.contract import FAILED_EFFECT_PREFIX, FAILED_EVENT_PREFIX

log = logging.getLogger(__name__)

SET_ASIDE_AFTER = 2
# Not a bug in what is handled but the world around it (the homeserver, the mail relay, the
# database away for a moment): never counted, so never a reason to set a message aside;
# the bot stops and tries again as before.
PASSING = (OSError, aiohttp.ClientError, StoreError)
# Except the store refusing a write as impossible: a bug asked for it, and it comes again with
# the same event at every start.
A_BUG_THOUGH = (StoreConsistencyError,)
# SQLite's answers for a disk that is full or failing (nio's store, through peewee, raises
# them in its own class: the SQLite error is its context): the world, not the effect.
_DISK_TROUBLE = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR})
# The settings' prefixes, and what failed, for the log.
EVENTS = (FAILED_EVENT_PREFIX, "handling an event")
EFFECTS = (FAILED_EFFECT_PREFIX, "performing an effect")


class Failures:
    """Failures per key (an event id, an outbox key: never content), kept in the store."""

    def __init__(self, store: Store, kind: tuple[str, str]) -> None:
        self._store = store
        self._prefix, self._what = kind
        self._counts: dict[str, int] | None = None

    async def load(self) -> None:
        """The failures written before the last stops (few: each one was a stop)."""
        if self._counts is None:
            self._counts = {key.removeprefix(self._prefix): int(value)
                            for key, value in await self._store.settings(self._prefix)
                            if value.isdecimal()}

    def failed_before(self, key: str) -> bool:
        return bool(self._counts and self._counts.get(key, 0))

    def to_set_aside(self, key: str) -> bool:
        return bool(self._counts and self._counts.get(key, 0) >= SET_ASIDE_AFTER)

    async def failed(self, keys: Iterable[str], error: BaseException) -> None:
        """Written down before the error stops the bot; logged by kind, never its message
        (it may quote a youth's words)."""
        if (isinstance(error, PASSING) and not isinstance(error, A_BUG_THOUGH)) \
                or _disk_trouble(error):
            return
        await self.load()
        assert self._counts is not None
        for key in keys:
            count = self._counts[key] = self._counts.get(key, 0) + 1
            log.error("%s failed (%s), %d of %d times; %s", self._what, type(error).__name__,
                      count, SET_ASIDE_AFTER,
                      "it is set aside at the next start" if count >= SET_ASIDE_AFTER
                      else "the bot stops and tries it again at the next start")
            try:
                await self._store.set_setting(f"{self._prefix}{key}", str(count))
            except Exception as exc:
                # The store may be what failed: then it is simply tried again.
                log.error("the failure could not be written down (%s)", type(exc).__name__)

    def forgotten(self, key: str) -> tuple[str, str]:
        """The setting that forgets ``key``'s failures, for the step that sets it aside."""
        if self._counts is not None:
            self._counts.pop(key, None)
        return (f"{self._prefix}{key}", "")

    async def forget(self, key: str) -> None:
        if self.failed_before(key):
            await self._store.set_setting(*self.forgotten(key))


def _disk_trouble(error: BaseException) -> bool:
    """Whether SQLite failed for the disk under it (full, or failing), here or underneath."""
    seen: BaseException | None = error
    for _ in range(8):  # a chain of causes is short; never a loop
        if seen is None:
            return False
        code = getattr(seen, "sqlite_errorcode", None)
        if isinstance(seen, sqlite3.Error) and isinstance(code, int) \
                and code & 0xFF in _DISK_TROUBLE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
